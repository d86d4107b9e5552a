#include "image.h"

#include <fcntl.h>

#include "common/xio.h"

namespace criu {

namespace {

void put_le32(Bytes &out, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		out.push_back(uint8_t(v >> (8 * i)));
}

Bytes magic_bytes(const img::KindInfo &k)
{
	Bytes out;
	if (k.magic == 0)
		return out;
	if (k.prefix == img::MagicPrefix::Common)
		put_le32(out, img::kImgCommonMagic);
	else if (k.prefix == img::MagicPrefix::Service)
		put_le32(out, img::kImgServiceMagic);
	put_le32(out, k.magic);
	return out;
}

} // namespace

ImageWriter::ImageWriter(const img::KindInfo &kind, std::string name, UniqueFd fd,
			 std::unique_ptr<Framing> framing)
	: kind_(&kind), name_(std::move(name)), out_(std::move(fd)), framing_(std::move(framing))
{
}

Result<> ImageWriter::begin()
{
	TRY_CTX(out_.append(magic_bytes(*kind_)), "{}", name_);
	TRY_CTX(framing_->begin_write(out_), "{}", name_);
	return {};
}

Result<> ImageWriter::write(const ProtobufCMessage &msg)
{
	pack_buf_.resize(protobuf_c_message_get_packed_size(&msg));
	protobuf_c_message_pack(&msg, pack_buf_.data());
	TRY_CTX(framing_->write_entry(out_, pack_buf_), "{}: write {}", name_, msg.descriptor->name);
	return {};
}

Result<> ImageWriter::write_raw(std::span<const uint8_t> data)
{
	TRY_CTX(framing_->write_raw(out_, data), "{}: write raw data", name_);
	return {};
}

Result<> ImageWriter::close()
{
	if (closed_)
		return {};
	TRY_CTX(framing_->end_write(out_), "{}", name_);
	TRY_CTX(out_.flush(), "{}", name_);
	closed_ = true;
	return {};
}

ImageReader::ImageReader(const img::KindInfo &kind, std::string name, UniqueFd fd,
			 std::unique_ptr<Framing> framing)
	: kind_(&kind), name_(std::move(name)), in_(std::move(fd)), framing_(std::move(framing))
{
}

Result<> ImageReader::begin()
{
	Bytes want = magic_bytes(*kind_);
	Bytes got(want.size());
	if (!want.empty()) {
		if (!TRY_CTX(in_.read_exact(got), "{}", name_))
			return fail(EIO, "{}: empty file, no magic", name_);
		if (got != want)
			return fail(EINVAL, "{}: bad magic, not a {} image", name_, kind_->name);
	}
	TRY_CTX(framing_->begin_read(in_), "{}", name_);
	return {};
}

Result<std::optional<PbMsg>> ImageReader::read(const ProtobufCMessageDescriptor *desc)
{
	if (!desc)
		desc = kind_->desc;
	auto payload = TRY_CTX(framing_->read_entry(in_), "{}", name_);
	if (!payload) {
		if (ledger_)
			ledger_->insert(name_);
		return std::nullopt;
	}
	ProtobufCMessage *m = protobuf_c_message_unpack(desc, nullptr, payload->size(), payload->data());
	if (!m)
		return fail(EBADMSG, "{}: corrupt {} entry", name_, desc->name);
	return PbMsg(m);
}

Result<> ImageReader::read_raw(std::span<uint8_t> out)
{
	TRY_CTX(framing_->read_raw(in_, out), "{}", name_);
	return {};
}

Result<> ImageReader::read_raw_to_end(Bytes &out)
{
	TRY_CTX(framing_->read_raw_rest(in_, out), "{}", name_);
	if (ledger_)
		ledger_->insert(name_);
	return {};
}

Result<ImageWriter> create_image_at(BorrowedFd dir, const img::KindInfo &kind, std::string name,
				   std::unique_ptr<Framing> framing)
{
	UniqueFd fd = TRY(xio::openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC, 0600));
	ImageWriter w(kind, std::move(name), std::move(fd), std::move(framing));
	TRY(w.begin());
	return w;
}

Result<ImageReader> open_image_at(BorrowedFd dir, const img::KindInfo &kind, std::string name,
				  std::unique_ptr<Framing> framing)
{
	UniqueFd fd = TRY(xio::openat(dir, name, O_RDONLY));
	ImageReader r(kind, std::move(name), std::move(fd), std::move(framing));
	TRY(r.begin());
	return r;
}

Result<const img::KindInfo *> identify_image(BorrowedFd fd, const std::string &name)
{
	uint8_t buf[8];
	size_t n = TRY_CTX(xio::pread_full(fd, xio::as_writable_bytes(buf, sizeof(buf)), 0), "{}", name);
	auto word = [&](int i) {
		return uint32_t(buf[4 * i]) | uint32_t(buf[4 * i + 1]) << 8 | uint32_t(buf[4 * i + 2]) << 16 |
		       uint32_t(buf[4 * i + 3]) << 24;
	};
	if (n < 4)
		return fail(EINVAL, "{}: too short for an image", name);
	uint32_t first = word(0);
	if (first == img::kImgCommonMagic || first == img::kImgServiceMagic) {
		if (n < 8)
			return fail(EINVAL, "{}: truncated magic", name);
		first = word(1);
	}
	const img::KindInfo *k = img::find_by_magic(first);
	if (!k)
		return fail(EINVAL, "{}: unknown magic {:#x}", name, first);
	return k;
}

} // namespace criu
