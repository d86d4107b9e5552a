#include "image-json.h"

#include "ghost-file.pb-c.h"
#include "pipe-data.pb-c.h"
#include "sk-packet.pb-c.h"
#include "tcp-stream.pb-c.h"

namespace criu::crit {

namespace {

using img::Extra;

const ProtobufCMessageDescriptor *entry_desc(const img::KindInfo &k, size_t index)
{
	if (index == 0 && k.head_desc)
		return k.head_desc;
	if (k.extra == Extra::GhostFile && index > 0)
		return &ghost_chunk_entry__descriptor;
	return k.desc;
}

// Length of the raw payload that follows entry m, if any.
size_t extra_len(const img::KindInfo &k, const ProtobufCMessage &m)
{
	if (k.extra == Extra::PipeData)
		return reinterpret_cast<const PipeDataEntry &>(m).bytes;
	if (k.extra == Extra::SkPacket)
		return reinterpret_cast<const SkPacketEntry &>(m).length;
	if (k.extra == Extra::TcpStream) {
		const auto &t = reinterpret_cast<const TcpStreamEntry &>(m);
		return size_t(t.inq_len) + t.outq_len;
	}
	if (k.extra == Extra::GhostFile && m.descriptor == &ghost_chunk_entry__descriptor)
		return reinterpret_cast<const GhostChunkEntry &>(m).len;
	return 0;
}

bool ghost_without_chunks(const img::KindInfo &k, const ProtobufCMessage &m)
{
	return k.extra == Extra::GhostFile && m.descriptor == &ghost_file_entry__descriptor &&
	       !reinterpret_cast<const GhostFileEntry &>(m).chunks;
}

// The queues of a tcp-stream image as CRIU's crit shows them: {"inq": base64, "outq": base64}.
Result<Json> tcp_queues_to_json(ImageReader &r, const TcpStreamEntry &t)
{
	Bytes inq(t.inq_len), outq(t.outq_len);
	TRY(r.read_raw(inq));
	TRY(r.read_raw(outq));
	Json q = Json::object();
	q["inq"] = base64_encode(inq);
	q["outq"] = base64_encode(outq);
	return q;
}

// Back to one base64 string of both queues, as the other kinds' extra.
Result<std::string> tcp_queues_from_json(const Json &q)
{
	if (!q.contains("inq") || !q.contains("outq"))
		return fail(EINVAL, "extra of a tcp stream needs \"inq\" and \"outq\"");
	Bytes all = TRY(base64_decode(q["inq"].get<std::string>()));
	Bytes outq = TRY(base64_decode(q["outq"].get<std::string>()));
	all.insert(all.end(), outq.begin(), outq.end());
	return base64_encode(all);
}

} // namespace

Result<Json> decode_image(ImageReader &r)
{
	const img::KindInfo &k = r.kind();
	if (!k.desc)
		return fail(EINVAL, "{}: raw {} image, nothing to decode", r.name(), k.name);
	Json entries = Json::array();
	for (size_t i = 0;; i++) {
		auto msg = TRY(r.read(entry_desc(k, i)));
		if (!msg)
			break;
		Json e = message_to_json(**msg);
		if (k.extra == Extra::TcpStream) {
			e["extra"] = TRY(tcp_queues_to_json(r, reinterpret_cast<const TcpStreamEntry &>(**msg)));
		} else if (size_t n = extra_len(k, **msg)) {
			Bytes data(n);
			TRY(r.read_raw(data));
			e["extra"] = base64_encode(data);
		} else if (ghost_without_chunks(k, **msg)) {
			Bytes data;
			TRY(r.read_raw_to_end(data));
			e["extra"] = base64_encode(data);
			entries.push_back(std::move(e));
			break;
		}
		entries.push_back(std::move(e));
	}
	Json out = Json::object();
	out["magic"] = k.name;
	out["entries"] = std::move(entries);
	return out;
}

Result<size_t> count_entries(ImageReader &r)
{
	Json j = TRY(decode_image(r));
	return j["entries"].size();
}

Result<> encode_image(const Json &j, BorrowedFd dir, const std::string &name)
{
	if (!j.is_object() || !j.contains("magic") || !j["magic"].is_string())
		return fail(EINVAL, "{}: JSON has no \"magic\"", name);
	const img::KindInfo *k = img::find_by_name(j["magic"].get<std::string>());
	if (!k || !k->desc)
		return fail(EINVAL, "{}: unknown image magic {}", name, j["magic"].dump());
	if (!j.contains("entries") || !j["entries"].is_array())
		return fail(EINVAL, "{}: JSON has no \"entries\" array", name);

	ImageWriter w = TRY(create_image_at(dir, *k, name, make_plain_framing()));
	size_t i = 0;
	for (const Json &e : j["entries"]) {
		Json fields = e;
		std::string extra;
		if (fields.is_object() && fields.contains("extra") && fields["extra"].is_object()) {
			extra = TRY_CTX(tcp_queues_from_json(fields["extra"]), "{}: entry {}", name, i);
			fields.erase("extra");
		} else if (fields.is_object() && fields.contains("extra")) {
			extra = fields["extra"].get<std::string>();
			fields.erase("extra");
		}
		PbMsg msg = TRY_CTX(json_to_message(*entry_desc(*k, i++), fields), "{}: entry {}", name, i);
		TRY(w.write(*msg));
		if (!extra.empty() || extra_len(*k, *msg)) {
			Bytes data = TRY_CTX(base64_decode(extra), "{}: extra of entry {}", name, i);
			if (!ghost_without_chunks(*k, *msg) && data.size() != extra_len(*k, *msg))
				return fail(EINVAL, "{}: entry {} announces {} bytes of data but has {}", name, i,
					    extra_len(*k, *msg), data.size());
			TRY(w.write_raw(data));
		}
	}
	return w.close();
}

} // namespace criu::crit
