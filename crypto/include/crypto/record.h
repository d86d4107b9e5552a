// Sealed records: the AEAD under protobuf images and raw data streams.
//
// A sealed image is: its CRIU magic(s), a 16-byte seal header, then records. Each record is
// a clear u32 (little-endian: low 28 bits sealed length, high 4 bits RecordType) followed by
// ciphertext || 16-byte tag. The nonce is salt(8) || u32 record index; the associated data binds
// the seal header, the record type, the record index and the image's file name. An End record
// (plaintext: u64 count of records before it) closes the image, so reordering, dropping,
// truncating, renaming and swapping images are all detected.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "crypto/keyring.h"

namespace criu::crypto {

enum class RecordType : uint8_t {
	Entry = 1, // one protobuf entry
	Raw = 2,   // a chunk (at most kMaxRawChunk bytes) of raw data
	End = 3,   // authenticated end of image
};

constexpr size_t kSealHeaderSize = 16; // "CRSL", version u8, alg u8, 2 reserved, salt[8]
constexpr size_t kRecordTagSize = 16;
constexpr size_t kRecordHeaderSize = 4;
constexpr size_t kMaxRawChunk = 64 * 1024;
constexpr uint32_t kMaxRecordLen = (1u << 28) - 1;
constexpr uint32_t kSealMagic = 0x4c535243; // "CRSL" read as little-endian u32

struct RecordCtx;

class RecordSealer {
public:
	// A sealer for one image; picks a fresh random salt.
	[[nodiscard]] static Result<RecordSealer> create(const Keyring &kr, std::string_view image_name);

	// The seal header to write right after the magic(s).
	std::span<const uint8_t> header() const;

	// Seals the next record. `buf` holds the plaintext; on success it holds ciphertext || tag.
	[[nodiscard]] Result<> seal(RecordType type, Bytes &buf);

	uint64_t records() const;

	RecordSealer(RecordSealer &&) noexcept;
	RecordSealer &operator=(RecordSealer &&) noexcept;
	~RecordSealer();

private:
	explicit RecordSealer(std::unique_ptr<RecordCtx> ctx);
	std::unique_ptr<RecordCtx> ctx_;
};

class RecordOpener {
public:
	// An opener for one image, given the seal header read from it.
	[[nodiscard]] static Result<RecordOpener> create(const Keyring &kr, std::string_view image_name,
							 std::span<const uint8_t> header);

	// Opens the next record. `buf` holds ciphertext || tag; on success it holds the plaintext.
	// Fails (EBADMSG) when the record does not authenticate in this image at this position.
	[[nodiscard]] Result<> open(RecordType type, Bytes &buf);

	uint64_t records() const;

	RecordOpener(RecordOpener &&) noexcept;
	RecordOpener &operator=(RecordOpener &&) noexcept;
	~RecordOpener();

private:
	explicit RecordOpener(std::unique_ptr<RecordCtx> ctx);
	std::unique_ptr<RecordCtx> ctx_;
};

// Whether a seal header follows the magic: lets readers tell sealed from plain images.
bool is_seal_header(std::span<const uint8_t> first_bytes);

} // namespace criu::crypto
