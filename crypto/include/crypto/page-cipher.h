// Page cipher: AES-256-XTS with a 4096-byte data unit, plus a per-page tag.
//
// The tweak of page i of pages image N is (u64 LE i, u32 LE N, u32 0), so every page
// decrypts on its own and equal pages encrypt differently; ciphertext is as long as plaintext.
// Each page also gets a 16-byte AES-256-GMAC tag (separate key, nonce = the first 12 bytes of
// the tweak) over its ciphertext, stored outside the pages image and checked before the page is
// used.
// Sealing a page is deterministic: the same plaintext at the same (pages image, index) gives the
// same ciphertext and tag. So one checkpoint's keys must never seal two different contents at the
// same (pages_id, page index): that would reuse a GMAC nonce.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "common/result.h"
#include "crypto/keyring.h"

namespace criu::crypto {

constexpr size_t kPageSize = 4096;
constexpr size_t kPageTagSize = 16;

// Who computes the page cipher: GnuTLS, or this project's VAES/VPCLMULQDQ code where the CPU has
// those instructions (crypto/aes-x86.h; the same output, about twice as fast). Fastest picks the
// latter when it can; tests and the benchmark also ask for GnuTLS to compare the two.
enum class PageCipherImpl { Fastest, Gnutls };

// What Fastest means on this CPU, for reports: "VAES/VPCLMULQDQ" or "GnuTLS".
const char *fastest_page_cipher();

// The bare XTS-AES-256 primitive over one data unit of whole 16-byte blocks (at least one) with
// a raw tweak. Exposed for known-answer tests.
class Xts {
public:
	[[nodiscard]] static Result<Xts> create(std::span<const uint8_t, 64> key,
						PageCipherImpl impl = PageCipherImpl::Fastest);
	[[nodiscard]] Result<> encrypt(std::span<const uint8_t, 16> tweak, std::span<uint8_t> data);
	[[nodiscard]] Result<> decrypt(std::span<const uint8_t, 16> tweak, std::span<uint8_t> data);
	// Out of place: in and out are the same size.
	[[nodiscard]] Result<> decrypt(std::span<const uint8_t, 16> tweak, std::span<const uint8_t> in,
				       std::span<uint8_t> out);

	Xts(Xts &&) noexcept;
	Xts &operator=(Xts &&) noexcept;
	~Xts();

private:
	struct Impl;
	explicit Xts(std::unique_ptr<Impl> impl);
	std::unique_ptr<Impl> impl_;
};

// Not thread-safe: one PageCipher per thread.
class PageCipher {
public:
	[[nodiscard]] static Result<PageCipher> create(const Keyring &kr, PageCipherImpl impl = PageCipherImpl::Fastest);

	// Encrypts whole pages in place and writes one tag per page into tags
	// (tags.size() == pages.size() / kPageSize * kPageTagSize).
	[[nodiscard]] Result<> seal(uint32_t pages_id, uint64_t first_page, std::span<uint8_t> pages,
				    std::span<uint8_t> tags);
	// Verifies the pages' tags and decrypts them in place, eight pages at a time (so they are
	// decrypted while in cache). On a bad tag the error (EBADMSG) names the page index, and
	// neither that page nor any in its group of eight or after it has been decrypted.
	[[nodiscard]] Result<> open(uint32_t pages_id, uint64_t first_page, std::span<uint8_t> pages,
				    std::span<const uint8_t> tags);
	// The same from sealed into out (the same size; disjoint, or the same buffer): restore
	// reads the sealed pages into a small buffer that stays in cache and decrypts them
	// straight into the restored memory. Where each page is hashed and decrypted in one pass
	// (VAES), a page with a bad tag is zeroed in out and those after it are not written;
	// otherwise (GnuTLS) as the in-place open, its group of eight and those after are not
	// written. Either way out holds no plaintext of a page that failed.
	[[nodiscard]] Result<> open(uint32_t pages_id, uint64_t first_page, std::span<const uint8_t> sealed,
				    std::span<const uint8_t> tags, std::span<uint8_t> out);

	PageCipher(PageCipher &&) noexcept;
	PageCipher &operator=(PageCipher &&) noexcept;
	~PageCipher();

private:
	struct Impl;
	explicit PageCipher(std::unique_ptr<Impl> impl);
	// Checks the tags of pages [from, to) of sealed (EBADMSG naming the first bad one).
	[[nodiscard]] Result<> verify(uint32_t pages_id, uint64_t first_page, uint64_t from, uint64_t to,
				      std::span<const uint8_t> sealed, std::span<const uint8_t> tags);
	// Opens n pages a group of eight at a time: verified, then decrypted.
	[[nodiscard]] Result<> open_groups(uint32_t pages_id, uint64_t first_page, uint64_t n,
					   std::span<const uint8_t> sealed, std::span<const uint8_t> tags,
					   std::span<uint8_t> out);
	std::unique_ptr<Impl> impl_;
};

} // namespace criu::crypto
