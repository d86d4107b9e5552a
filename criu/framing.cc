#include "framing.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/xio.h"
#include "crypto/record.h"

namespace criu {

Result<> OutBuffer::append(std::span<const uint8_t> data)
{
	if (buf_.size() + data.size() > kFlushAt && !buf_.empty())
		TRY(flush());
	if (data.size() >= kFlushAt) {
		TRY(xio::write_full(fd_.borrow(), std::as_bytes(data)));
		written_ += data.size();
		return {};
	}
	buf_.insert(buf_.end(), data.begin(), data.end());
	return {};
}

Result<> OutBuffer::flush()
{
	if (buf_.empty())
		return {};
	TRY(xio::write_full(fd_.borrow(), std::as_bytes(std::span(buf_))));
	written_ += buf_.size();
	buf_.clear();
	return {};
}

Result<> InBuffer::refill()
{
	static constexpr size_t kChunk = 256 * 1024;
	if (pos_ > 0) {
		buf_.erase(buf_.begin(), buf_.begin() + ptrdiff_t(pos_));
		pos_ = 0;
	}
	size_t have = buf_.size();
	buf_.resize(have + kChunk);
	auto n = xio::read_full(fd_.borrow(), std::as_writable_bytes(std::span(buf_).subspan(have)));
	if (!n) {
		buf_.resize(have);
		return std::unexpected(n.error());
	}
	buf_.resize(have + *n);
	if (*n < kChunk)
		eof_ = true;
	return {};
}

Result<bool> InBuffer::read_exact(std::span<uint8_t> out)
{
	size_t done = 0;
	while (done < out.size()) {
		if (pos_ == buf_.size()) {
			if (eof_) {
				if (done == 0)
					return false;
				return fail(EIO, "truncated: {} of {} bytes", done, out.size());
			}
			TRY(refill());
			continue;
		}
		size_t n = std::min(out.size() - done, buf_.size() - pos_);
		memcpy(out.data() + done, buf_.data() + pos_, n);
		pos_ += n;
		done += n;
	}
	return true;
}

Result<bool> InBuffer::at_eof()
{
	if (pos_ == buf_.size() && !eof_)
		TRY(refill());
	return pos_ == buf_.size() && eof_;
}

Result<std::span<const uint8_t>> InBuffer::peek(size_t n)
{
	while (buf_.size() - pos_ < n && !eof_)
		TRY(refill());
	return std::span<const uint8_t>(buf_).subspan(pos_, std::min(n, buf_.size() - pos_));
}

Result<> InBuffer::read_rest(Bytes &out)
{
	for (;;) {
		out.insert(out.end(), buf_.begin() + ptrdiff_t(pos_), buf_.end());
		pos_ = buf_.size();
		if (eof_)
			return {};
		TRY(refill());
	}
}

namespace {

uint32_t load_le32(const uint8_t *p)
{
	return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

void store_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = uint8_t(v >> (8 * i));
}

// CRIU's framing: u32 (host order, little-endian on x86_64) length, then the packed entry.
class PlainFraming final : public Framing {
public:
	bool sealed() const override { return false; }

	Result<> begin_write(OutBuffer &) override { return {}; }

	Result<> write_entry(OutBuffer &out, std::span<const uint8_t> payload) override
	{
		uint8_t len[4];
		store_le32(len, uint32_t(payload.size()));
		TRY(out.append(len));
		return out.append(payload);
	}

	Result<> write_raw(OutBuffer &out, std::span<const uint8_t> data) override { return out.append(data); }

	Result<> end_write(OutBuffer &) override { return {}; }

	Result<> begin_read(InBuffer &in) override
	{
		if (crypto::is_seal_header(TRY(in.peek(crypto::kSealHeaderSize))))
			return fail(EBADMSG, "sealed, but there is no cipher.img beside it");
		return {};
	}

	Result<std::optional<std::span<const uint8_t>>> read_entry(InBuffer &in) override
	{
		uint8_t len[4];
		if (!TRY(in.read_exact(len)))
			return std::nullopt;
		uint32_t n = load_le32(len);
		if (n > kMaxEntry)
			return fail(EINVAL, "entry of {} bytes is larger than any image entry", n);
		buf_.resize(n);
		if (!TRY(in.read_exact(buf_)) && n)
			return fail(EIO, "truncated: entry of {} bytes missing", n);
		return std::span<const uint8_t>(buf_);
	}

	Result<> read_raw(InBuffer &in, std::span<uint8_t> out) override
	{
		if (out.empty())
			return {};
		if (!TRY(in.read_exact(out)))
			return fail(EIO, "truncated: {} bytes of data missing", out.size());
		return {};
	}

	Result<> read_raw_rest(InBuffer &in, Bytes &out) override { return in.read_rest(out); }

private:
	static constexpr uint32_t kMaxEntry = 256u << 20;
	Bytes buf_;
};

// AEAD records (crypto/record.h): every entry and raw chunk sealed, closed by an End record.
class SealedFraming final : public Framing {
public:
	SealedFraming(const crypto::Keyring &kr, std::string name) : kr_(kr), name_(std::move(name)) {}

	bool sealed() const override { return true; }

	Result<> begin_write(OutBuffer &out) override
	{
		sealer_.emplace(TRY(crypto::RecordSealer::create(kr_, name_)));
		return out.append(sealer_->header());
	}

	Result<> write_entry(OutBuffer &out, std::span<const uint8_t> payload) override
	{
		return put(out, crypto::RecordType::Entry, payload);
	}

	Result<> write_raw(OutBuffer &out, std::span<const uint8_t> data) override
	{
		while (!data.empty()) {
			size_t n = std::min(data.size(), crypto::kMaxRawChunk);
			TRY(put(out, crypto::RecordType::Raw, data.first(n)));
			data = data.subspan(n);
		}
		return {};
	}

	Result<> end_write(OutBuffer &out) override
	{
		uint64_t count = sealer_->records();
		uint8_t le[8];
		for (int i = 0; i < 8; i++)
			le[i] = uint8_t(count >> (8 * i));
		return put(out, crypto::RecordType::End, le);
	}

	Result<> begin_read(InBuffer &in) override
	{
		uint8_t hdr[crypto::kSealHeaderSize];
		if (!TRY(in.read_exact(hdr)) || !crypto::is_seal_header(hdr))
			return fail(EBADMSG, "not sealed, but the images directory is encrypted (cipher.img)");
		opener_.emplace(TRY(crypto::RecordOpener::create(kr_, name_, hdr)));
		return {};
	}

	Result<std::optional<std::span<const uint8_t>>> read_entry(InBuffer &in) override
	{
		if (raw_pos_ < raw_.size())
			return fail(EBADMSG, "entry expected, {} bytes of raw data left unread",
				    raw_.size() - raw_pos_);
		auto type = TRY(next(in));
		if (type == crypto::RecordType::End)
			return std::nullopt;
		if (type != crypto::RecordType::Entry)
			return fail(EBADMSG, "record {} is raw data where an entry was expected",
				    opener_->records() - 1);
		return std::span<const uint8_t>(buf_);
	}

	Result<> read_raw(InBuffer &in, std::span<uint8_t> out) override
	{
		while (!out.empty()) {
			if (raw_pos_ == raw_.size()) {
				auto type = TRY(next(in));
				if (type != crypto::RecordType::Raw)
					return fail(EBADMSG, "{} bytes of raw data missing", out.size());
				raw_.swap(buf_);
				raw_pos_ = 0;
			}
			size_t n = std::min(out.size(), raw_.size() - raw_pos_);
			memcpy(out.data(), raw_.data() + raw_pos_, n);
			raw_pos_ += n;
			out = out.subspan(n);
		}
		return {};
	}

	Result<> read_raw_rest(InBuffer &in, Bytes &out) override
	{
		out.insert(out.end(), raw_.begin() + ptrdiff_t(raw_pos_), raw_.end());
		raw_pos_ = raw_.size();
		for (;;) {
			auto type = TRY(next(in));
			if (type == crypto::RecordType::End)
				return {};
			if (type != crypto::RecordType::Raw)
				return fail(EBADMSG, "entry where only raw data was expected");
			out.insert(out.end(), buf_.begin(), buf_.end());
		}
	}

private:
	Result<> put(OutBuffer &out, crypto::RecordType type, std::span<const uint8_t> plain)
	{
		buf_.assign(plain.begin(), plain.end());
		TRY(sealer_->seal(type, buf_));
		if (buf_.size() > crypto::kMaxRecordLen)
			return fail(EFBIG, "record of {} bytes is too large", buf_.size());
		uint8_t hdr[crypto::kRecordHeaderSize];
		store_le32(hdr, uint32_t(buf_.size()) | uint32_t(type) << 28);
		TRY(out.append(hdr));
		return out.append(buf_);
	}

	// Reads and opens the next record into buf_; End must be the last thing in the file.
	Result<crypto::RecordType> next(InBuffer &in)
	{
		if (ended_)
			return fail(EBADMSG, "read past the end record");
		uint8_t hdr[crypto::kRecordHeaderSize];
		if (!TRY(in.read_exact(hdr)))
			return fail(EBADMSG, "truncated: end record missing after {} records",
				    opener_->records());
		uint32_t word = load_le32(hdr);
		auto type = crypto::RecordType(word >> 28);
		buf_.resize(word & crypto::kMaxRecordLen);
		if (!TRY(in.read_exact(buf_)) && !buf_.empty())
			return fail(EBADMSG, "truncated in record {}", opener_->records());
		TRY(opener_->open(type, buf_));
		if (type == crypto::RecordType::End) {
			ended_ = true;
			uint64_t count = 0;
			for (size_t i = 0; i < buf_.size() && i < 8; i++)
				count |= uint64_t(buf_[i]) << (8 * i);
			if (buf_.size() != 8 || count != opener_->records() - 1)
				return fail(EBADMSG, "end record does not match the records read");
			if (!TRY(in.at_eof()))
				return fail(EBADMSG, "data after the end record");
		}
		return type;
	}

	const crypto::Keyring &kr_;
	std::string name_;
	std::optional<crypto::RecordSealer> sealer_;
	std::optional<crypto::RecordOpener> opener_;
	Bytes buf_, raw_;
	size_t raw_pos_ = 0;
	bool ended_ = false;
};

} // namespace

std::unique_ptr<Framing> make_plain_framing() { return std::make_unique<PlainFraming>(); }

std::unique_ptr<Framing> make_sealed_framing(const crypto::Keyring &kr, std::string name)
{
	return std::make_unique<SealedFraming>(kr, std::move(name));
}

} // namespace criu
