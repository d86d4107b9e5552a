// Private to crypto/ (and its tests and benchmark): the per-page tag on its own.
//
// AES-256-GMAC (NIST SP 800-38D: AES-256-GCM with an empty plaintext, the page as associated
// data) over one 4096-byte page, 16-byte tag, 12-byte nonce = the first 12 bytes of the page's
// XTS tweak (u64 LE page index, u32 LE pages id), which never repeats under one checkpoint's
// keys. GMAC was picked over UMAC-128, Poly1305 and nettle's GMAC because GnuTLS's accelerated
// AES-GCM (PCLMUL/AVX GHASH) is the fastest of them here; see the report of test/bench.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "common/result.h"
#include "crypto/page-cipher.h"
#include "keys.h"

namespace criu::crypto {

class PageTag {
public:
	[[nodiscard]] static Result<PageTag> create(std::span<const uint8_t, kPageTagKeySize> key,
						    PageCipherImpl impl = PageCipherImpl::Fastest);
	// The tag of one page; `tweak` is the page's 16-byte XTS tweak.
	[[nodiscard]] Result<> compute(std::span<const uint8_t, 16> tweak, const uint8_t *page,
				       std::span<uint8_t, kPageTagSize> out);

	PageTag(PageTag &&) noexcept;
	PageTag &operator=(PageTag &&) noexcept;
	~PageTag();

private:
	struct Impl;
	explicit PageTag(std::unique_ptr<Impl> impl);
	std::unique_ptr<Impl> impl_;
};

} // namespace criu::crypto
