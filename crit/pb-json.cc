#include "pb-json.h"

#include <cstdlib>
#include <limits>
#include <type_traits>
#include <cstring>

namespace criu::crit {

namespace {

const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t elem_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_BOOL:
	case PROTOBUF_C_TYPE_ENUM:
		return 4;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	}
	return 0;
}

template <typename T> T load(const void *p)
{
	T v;
	memcpy(&v, p, sizeof(T));
	return v;
}

Json value_to_json(const ProtobufCFieldDescriptor &f, const void *p)
{
	switch (f.type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return load<int32_t>(p);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return load<uint32_t>(p);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return load<int64_t>(p);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return load<uint64_t>(p);
	case PROTOBUF_C_TYPE_FLOAT:
		return load<float>(p);
	case PROTOBUF_C_TYPE_DOUBLE:
		return load<double>(p);
	case PROTOBUF_C_TYPE_BOOL:
		return load<protobuf_c_boolean>(p) != 0;
	case PROTOBUF_C_TYPE_ENUM: {
		int v = load<int>(p);
		auto *ed = static_cast<const ProtobufCEnumDescriptor *>(f.descriptor);
		const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(ed, v);
		if (ev)
			return ev->name;
		return v;
	}
	case PROTOBUF_C_TYPE_STRING:
		return std::string(load<const char *>(p));
	case PROTOBUF_C_TYPE_BYTES: {
		auto b = load<ProtobufCBinaryData>(p);
		return base64_encode({b.data, b.len});
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		return message_to_json(*load<const ProtobufCMessage *>(p));
	}
	return nullptr;
}

// Whether an optional field is present in msg.
bool present(const ProtobufCMessage &msg, const ProtobufCFieldDescriptor &f)
{
	const char *base = reinterpret_cast<const char *>(&msg);
	if (f.type == PROTOBUF_C_TYPE_STRING || f.type == PROTOBUF_C_TYPE_MESSAGE)
		return load<const void *>(base + f.offset) != nullptr;
	return load<protobuf_c_boolean>(base + f.quantifier_offset) != 0;
}

} // namespace

std::string base64_encode(std::span<const uint8_t> d)
{
	std::string out;
	out.reserve((d.size() + 2) / 3 * 4);
	for (size_t i = 0; i < d.size(); i += 3) {
		uint32_t v = uint32_t(d[i]) << 16;
		if (i + 1 < d.size())
			v |= uint32_t(d[i + 1]) << 8;
		if (i + 2 < d.size())
			v |= d[i + 2];
		out += kB64[v >> 18];
		out += kB64[(v >> 12) & 63];
		out += i + 1 < d.size() ? kB64[(v >> 6) & 63] : '=';
		out += i + 2 < d.size() ? kB64[v & 63] : '=';
	}
	return out;
}

Result<Bytes> base64_decode(std::string_view text)
{
	Bytes out;
	uint32_t acc = 0;
	int bits = 0;
	for (char c : text) {
		if (c == '=' || c == '\n' || c == '\r' || c == ' ')
			continue;
		const char *pos = strchr(kB64, c);
		if (!pos || !c)
			return fail(EINVAL, "bad base64 character '{}'", c);
		acc = acc << 6 | uint32_t(pos - kB64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out.push_back(uint8_t(acc >> bits));
		}
	}
	return out;
}

Json message_to_json(const ProtobufCMessage &msg)
{
	Json j = Json::object();
	const ProtobufCMessageDescriptor *d = msg.descriptor;
	const char *base = reinterpret_cast<const char *>(&msg);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor &f = d->fields[i];
		if (f.label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = load<size_t>(base + f.quantifier_offset);
			if (!n)
				continue;
			const char *arr = load<const char *>(base + f.offset);
			Json a = Json::array();
			for (size_t k = 0; k < n; k++)
				a.push_back(value_to_json(f, arr + k * elem_size(f.type)));
			j[f.name] = std::move(a);
		} else if (f.label == PROTOBUF_C_LABEL_REQUIRED || present(msg, f)) {
			j[f.name] = value_to_json(f, base + f.offset);
		}
	}
	return j;
}

namespace {

// Everything json_to_message allocates is malloc'd, so protobuf_c_message_free_unpacked
// (with the default allocator) frees a partly built message too.
// Stores a JSON number as T, refusing other JSON types and values T cannot hold.
template <typename T> Result<> store_number(const ProtobufCFieldDescriptor &f, const Json &v, void *p)
{
	T x;
	if constexpr (std::is_floating_point_v<T>) {
		if (!v.is_number())
			return fail(EINVAL, "field {}: number expected, got {}", f.name, v.dump());
		x = v.get<T>();
	} else if (v.is_number_unsigned()) {
		uint64_t u = v.get<uint64_t>();
		if (u > uint64_t(std::numeric_limits<T>::max()))
			return fail(ERANGE, "field {}: {} out of range", f.name, u);
		x = T(u);
	} else if (v.is_number_integer()) {
		int64_t i = v.get<int64_t>();
		if (i < int64_t(std::numeric_limits<T>::min()) ||
		    (i > 0 && uint64_t(i) > uint64_t(std::numeric_limits<T>::max())))
			return fail(ERANGE, "field {}: {} out of range", f.name, i);
		x = T(i);
	} else {
		return fail(EINVAL, "field {}: integer expected, got {}", f.name, v.dump());
	}
	memcpy(p, &x, sizeof(x));
	return {};
}

Result<> json_to_value(const ProtobufCFieldDescriptor &f, const Json &v, void *p)
{
	switch (f.type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return store_number<int32_t>(f, v, p);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return store_number<uint32_t>(f, v, p);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return store_number<int64_t>(f, v, p);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return store_number<uint64_t>(f, v, p);
	case PROTOBUF_C_TYPE_FLOAT:
		return store_number<float>(f, v, p);
	case PROTOBUF_C_TYPE_DOUBLE:
		return store_number<double>(f, v, p);
	case PROTOBUF_C_TYPE_BOOL: {
		if (!v.is_boolean())
			return fail(EINVAL, "field {}: true or false expected", f.name);
		protobuf_c_boolean x = v.get<bool>();
		memcpy(p, &x, sizeof(x));
		return {};
	}
	case PROTOBUF_C_TYPE_ENUM: {
		int x;
		auto *ed = static_cast<const ProtobufCEnumDescriptor *>(f.descriptor);
		if (v.is_string()) {
			const ProtobufCEnumValue *ev =
				protobuf_c_enum_descriptor_get_value_by_name(ed, v.get<std::string>().c_str());
			if (!ev)
				return fail(EINVAL, "field {}: {} is not a value of {}", f.name, v.dump(), ed->name);
			x = ev->value;
		} else {
			TRY(store_number<int32_t>(f, v, &x));
		}
		memcpy(p, &x, sizeof(x));
		return {};
	}
	case PROTOBUF_C_TYPE_STRING: {
		if (!v.is_string())
			return fail(EINVAL, "field {}: string expected", f.name);
		char *s = strdup(v.get<std::string>().c_str());
		memcpy(p, &s, sizeof(s));
		return {};
	}
	case PROTOBUF_C_TYPE_BYTES: {
		if (!v.is_string())
			return fail(EINVAL, "field {}: base64 string expected", f.name);
		Bytes b = TRY_CTX(base64_decode(v.get<std::string>()), "field {}", f.name);
		ProtobufCBinaryData bd = {b.size(), static_cast<uint8_t *>(malloc(b.size() ? b.size() : 1))};
		if (!b.empty())
			memcpy(bd.data, b.data(), b.size());
		memcpy(p, &bd, sizeof(bd));
		return {};
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		auto *md = static_cast<const ProtobufCMessageDescriptor *>(f.descriptor);
		PbMsg sub = TRY_CTX(json_to_message(*md, v), "field {}", f.name);
		ProtobufCMessage *raw = sub.release();
		memcpy(p, &raw, sizeof(raw));
		return {};
	}
	}
	return fail(EINVAL, "field {}: unsupported type", f.name);
}

} // namespace

Result<PbMsg> json_to_message(const ProtobufCMessageDescriptor &desc, const Json &j)
{
	if (!j.is_object())
		return fail(EINVAL, "{}: JSON object expected", desc.name);
	auto *raw = static_cast<ProtobufCMessage *>(calloc(1, desc.sizeof_message));
	protobuf_c_message_init(&desc, raw);
	PbMsg msg(raw);
	char *base = reinterpret_cast<char *>(raw);
	for (const auto &[key, v] : j.items()) {
		const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(&desc, key.c_str());
		if (!f)
			return fail(EINVAL, "{} has no field '{}'", desc.name, key);
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			if (!v.is_array())
				return fail(EINVAL, "field {}: array expected", f->name);
			size_t es = elem_size(f->type);
			char *arr = static_cast<char *>(calloc(v.size() ? v.size() : 1, es));
			memcpy(base + f->offset, &arr, sizeof(arr));
			for (size_t k = 0; k < v.size(); k++) {
				TRY_CTX(json_to_value(*f, v[k], arr + k * es), "{}", desc.name);
				size_t n = k + 1; // keep the count right for a partial free on error
				memcpy(base + f->quantifier_offset, &n, sizeof(n));
			}
			continue;
		}
		TRY_CTX(json_to_value(*f, v, base + f->offset), "{}", desc.name);
		if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
		    f->type != PROTOBUF_C_TYPE_MESSAGE) {
			protobuf_c_boolean has = 1;
			memcpy(base + f->quantifier_offset, &has, sizeof(has));
		}
	}
	for (unsigned i = 0; i < desc.n_fields; i++)
		if (desc.fields[i].label == PROTOBUF_C_LABEL_REQUIRED && !j.contains(desc.fields[i].name))
			return fail(EINVAL, "{}: required field {} missing", desc.name, desc.fields[i].name);
	if (!protobuf_c_message_check(raw))
		return fail(EINVAL, "{}: required fields missing in {}", desc.name, j.dump());
	return msg;
}

} // namespace criu::crit
