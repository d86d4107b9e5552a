#include "sample.h"

#include <catch2/catch.hpp>

#include <set>

#include "ghost-file.pb-c.h"
#include "pipe-data.pb-c.h"
#include "sk-packet.pb-c.h"
#include "tcp-stream.pb-c.h"

namespace criu::test {

namespace {

// Fields of CRIU 4.x that Debian's crit (CRIU 3.17) drops when it re-encodes.
bool newer_than_criu317(const ProtobufCMessageDescriptor &d, const ProtobufCFieldDescriptor &f)
{
	static const std::set<std::string> newer = {
		"inventory_entry.plugins_entry",
		"inventory_entry.dump_criu_run_id",
		"task_core_entry.stop_signo",
		"thread_core_entry.cg_set",
		"creds_entry.no_new_privs",
		"creds_entry.cap_amb",
	};
	return newer.count(std::string(d.name) + "." + f.name) > 0;
}

crit::Json sample_value(const ProtobufCFieldDescriptor &f, uint32_t seed, bool only_criu317, int depth)
{
	switch (f.type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return -int32_t(seed % 1000) - 1;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return uint32_t(seed * 2654435761u);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return -int64_t(seed) * 1000003 - 7;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return uint64_t(seed) * 0x9e3779b97f4a7c15ull;
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 0.5 * seed;
	case PROTOBUF_C_TYPE_BOOL:
		return seed % 2 == 1;
	case PROTOBUF_C_TYPE_ENUM: {
		auto *ed = static_cast<const ProtobufCEnumDescriptor *>(f.descriptor);
		return ed->values[seed % ed->n_values].name;
	}
	case PROTOBUF_C_TYPE_STRING:
		return "s" + std::to_string(seed) + "/" + f.name;
	case PROTOBUF_C_TYPE_BYTES: {
		Bytes b(seed % 13 + 1);
		for (size_t i = 0; i < b.size(); i++)
			b[i] = uint8_t(seed + i * 31);
		return crit::base64_encode(b);
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		return sample_json(*static_cast<const ProtobufCMessageDescriptor *>(f.descriptor), seed + 1,
				   only_criu317, depth + 1);
	}
	return nullptr;
}

} // namespace

crit::Json sample_json(const ProtobufCMessageDescriptor &desc, uint32_t seed, bool only_criu317, int depth)
{
	crit::Json j = crit::Json::object();
	for (unsigned i = 0; i < desc.n_fields; i++) {
		const ProtobufCFieldDescriptor &f = desc.fields[i];
		bool nested = f.type == PROTOBUF_C_TYPE_MESSAGE;
		if (f.label != PROTOBUF_C_LABEL_REQUIRED && nested && depth >= 3)
			continue;
		if (only_criu317 && newer_than_criu317(desc, f))
			continue;
		if (f.label == PROTOBUF_C_LABEL_REPEATED) {
			crit::Json a = crit::Json::array();
			for (uint32_t k = 0; k < 2; k++)
				a.push_back(sample_value(f, seed + 7 * k + i, only_criu317, depth));
			j[f.name] = std::move(a);
		} else {
			j[f.name] = sample_value(f, seed + i, only_criu317, depth);
		}
	}
	return j;
}

PbMsg sample_message(const ProtobufCMessageDescriptor &desc, uint32_t seed, bool only_criu317)
{
	auto m = crit::json_to_message(desc, sample_json(desc, seed, only_criu317));
	if (!m)
		FAIL("sample of " << desc.name << ": " << m.error().describe());
	return std::move(*m);
}

Bytes packed(const ProtobufCMessage &m)
{
	Bytes b(protobuf_c_message_get_packed_size(&m));
	protobuf_c_message_pack(&m, b.data());
	return b;
}

namespace {

void put(ImageWriter &w, Written &out, const ProtobufCMessage &m)
{
	REQUIRE(w.write(m).has_value());
	out.entries.push_back(packed(m));
}

void put_raw(ImageWriter &w, Written &out, size_t n, uint32_t seed)
{
	Bytes data(n);
	for (size_t i = 0; i < n; i++)
		data[i] = uint8_t(seed * 7 + i * 13 + (i >> 8));
	REQUIRE(w.write_raw(data).has_value());
	out.raw.insert(out.raw.end(), data.begin(), data.end());
}

} // namespace

Written write_samples(ImageWriter &w, uint32_t seed, bool only_criu317)
{
	const img::KindInfo &k = w.kind();
	Written out;
	if (k.extra == img::Extra::GhostFile) {
		PbMsg head = sample_message(*k.desc, seed, only_criu317);
		auto *g = pb_cast<GhostFileEntry>(head);
		g->has_chunks = true;
		g->chunks = true;
		put(w, out, *head);
		for (uint32_t i = 0; i < 3; i++) {
			GhostChunkEntry c = GHOST_CHUNK_ENTRY__INIT;
			c.off = i * 100000;
			c.len = 70000 + i; // more than one raw record when sealed
			put(w, out, c.base);
			put_raw(w, out, c.len, seed + i);
		}
		REQUIRE(w.close().has_value());
		return out;
	}
	if (k.head_desc)
		put(w, out, *sample_message(*k.head_desc, seed, only_criu317));
	for (uint32_t i = 0; i < 3; i++) {
		PbMsg m = sample_message(*k.desc, seed + 100 * i, only_criu317);
		if (k.extra == img::Extra::PipeData)
			pb_cast<PipeDataEntry>(m)->bytes = 1000 + 40000 * i;
		if (k.extra == img::Extra::SkPacket)
			pb_cast<SkPacketEntry>(m)->length = 1000 + 40000 * i;
		if (k.extra == img::Extra::TcpStream) {
			pb_cast<TcpStreamEntry>(m)->inq_len = 300 + i;
			pb_cast<TcpStreamEntry>(m)->outq_len = 70000 * i;
		}
		put(w, out, *m);
		if (k.extra == img::Extra::PipeData)
			put_raw(w, out, pb_cast<PipeDataEntry>(m)->bytes, seed + i);
		if (k.extra == img::Extra::SkPacket)
			put_raw(w, out, pb_cast<SkPacketEntry>(m)->length, seed + i);
		if (k.extra == img::Extra::TcpStream)
			put_raw(w, out, 300 + 70001 * i, seed + i);
	}
	REQUIRE(w.close().has_value());
	return out;
}

void check_samples(ImageReader &r, const Written &want)
{
	const img::KindInfo &k = r.kind();
	Bytes raw;
	for (size_t i = 0; i < want.entries.size(); i++) {
		const ProtobufCMessageDescriptor *d = k.desc;
		if (i == 0 && k.head_desc)
			d = k.head_desc;
		if (i > 0 && k.extra == img::Extra::GhostFile)
			d = &ghost_chunk_entry__descriptor;
		auto m = r.read(d);
		INFO(r.name() << " entry " << i);
		REQUIRE(m.has_value());
		REQUIRE(m->has_value());
		CHECK(packed(***m) == want.entries[i]);
		size_t n = 0;
		if (k.extra == img::Extra::PipeData)
			n = pb_cast<PipeDataEntry>(**m)->bytes;
		if (k.extra == img::Extra::SkPacket)
			n = pb_cast<SkPacketEntry>(**m)->length;
		if (k.extra == img::Extra::TcpStream)
			n = size_t(pb_cast<TcpStreamEntry>(**m)->inq_len) + pb_cast<TcpStreamEntry>(**m)->outq_len;
		if (k.extra == img::Extra::GhostFile && i > 0)
			n = pb_cast<GhostChunkEntry>(**m)->len;
		if (n) {
			Bytes chunk(n);
			REQUIRE(r.read_raw(chunk).has_value());
			raw.insert(raw.end(), chunk.begin(), chunk.end());
		}
	}
	auto end = r.read(k.desc);
	REQUIRE(end.has_value());
	CHECK(!end->has_value());
	CHECK(raw == want.raw);
}

} // namespace criu::test
