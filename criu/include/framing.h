// The stage under an image's entry framing. Chosen once when the image is opened:
// PlainFraming writes CRIU's u32-length-prefixed entries; SealedFraming writes AEAD records.
// Image readers and writers talk to a Framing and never ask which one it is.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique-fd.h"

namespace criu::crypto {
class Keyring;
}

namespace criu {

using Bytes = std::vector<uint8_t>;

// Buffered sequential writes to an image file.
class OutBuffer {
public:
	explicit OutBuffer(UniqueFd fd) : fd_(std::move(fd)) {}
	[[nodiscard]] Result<> append(std::span<const uint8_t> data);
	[[nodiscard]] Result<> flush();
	int fd() const { return fd_.get(); }
	uint64_t bytes() const { return written_ + buf_.size(); }

private:
	static constexpr size_t kFlushAt = 256 * 1024;
	UniqueFd fd_;
	Bytes buf_;
	uint64_t written_ = 0;
};

// Buffered sequential reads from an image file.
class InBuffer {
public:
	explicit InBuffer(UniqueFd fd) : fd_(std::move(fd)) {}
	// Fills out completely; returns false at a clean EOF before the first byte,
	// fails (EIO, "truncated") when EOF comes in the middle.
	[[nodiscard]] Result<bool> read_exact(std::span<uint8_t> out);
	[[nodiscard]] Result<bool> at_eof();
	// The next n bytes without consuming them (fewer at EOF).
	[[nodiscard]] Result<std::span<const uint8_t>> peek(size_t n);
	// Appends everything up to EOF to out.
	[[nodiscard]] Result<> read_rest(Bytes &out);

private:
	[[nodiscard]] Result<> refill();
	UniqueFd fd_;
	Bytes buf_;
	size_t pos_ = 0;
	bool eof_ = false;
};

class Framing {
public:
	virtual ~Framing() = default;
	virtual bool sealed() const = 0;

	// Writing: the magic has been written already.
	[[nodiscard]] virtual Result<> begin_write(OutBuffer &out) = 0;
	[[nodiscard]] virtual Result<> write_entry(OutBuffer &out, std::span<const uint8_t> payload) = 0;
	[[nodiscard]] virtual Result<> write_raw(OutBuffer &out, std::span<const uint8_t> data) = 0;
	[[nodiscard]] virtual Result<> end_write(OutBuffer &out) = 0;

	// Reading: the magic has been read already.
	[[nodiscard]] virtual Result<> begin_read(InBuffer &in) = 0;
	// The next entry's payload, or nullopt at the (authenticated) end of the image.
	[[nodiscard]] virtual Result<std::optional<std::span<const uint8_t>>> read_entry(InBuffer &in) = 0;
	[[nodiscard]] virtual Result<> read_raw(InBuffer &in, std::span<uint8_t> out) = 0;
	// Reads all raw data up to the end of the image (a payload without a length).
	[[nodiscard]] virtual Result<> read_raw_rest(InBuffer &in, Bytes &out) = 0;
};

std::unique_ptr<Framing> make_plain_framing();
// name is the image's file name; it is bound into every record.
std::unique_ptr<Framing> make_sealed_framing(const crypto::Keyring &kr, std::string name);

} // namespace criu
