// Page cipher: AES-256-XTS per 4 KiB page, AES-256-GMAC tag per page.
#include "crypto/page-cipher.h"

#include <algorithm>
#include <optional>
#include <string.h>

#include "aes-x86.h"
#include "gnutls-util.h"
#include "keys.h"
#include "page-tag.h"

namespace criu::crypto {

namespace {

constexpr size_t kTweakSize = 16;
constexpr size_t kGmacNonceSize = 12;

// (u64 LE page index, u32 LE pages_id, u32 0). Its first 12 bytes are the page's GMAC nonce.
std::array<uint8_t, kTweakSize> page_tweak(uint32_t pages_id, uint64_t page)
{
	std::array<uint8_t, kTweakSize> t{};
	store_le64(t.data(), page);
	store_le32(t.data() + 8, pages_id);
	return t;
}

Result<uint64_t> count_pages(uint64_t first_page, size_t bytes, size_t tag_bytes)
{
	if (bytes % kPageSize)
		return fail(EINVAL, "{} bytes are not whole pages", bytes);
	uint64_t n = bytes / kPageSize;
	if (tag_bytes != n * kPageTagSize)
		return fail(EINVAL, "{} bytes of tags for {} pages", tag_bytes, n);
	if (first_page > UINT64_MAX - n)
		return fail(EINVAL, "page index {} + {} overflows", first_page, n);
	return n;
}

bool use_x86(PageCipherImpl impl)
{
	static const bool have = x86::have_vaes();
	return impl == PageCipherImpl::Fastest && have;
}

// XTS with key1 == key2 is not XTS (IEEE 1619 requires them apart).
Result<> check_xts_key(std::span<const uint8_t, 64> key)
{
	if (gnutls_memcmp(key.data(), key.data() + 32, 32) == 0)
		return fail(EINVAL, "XTS key has two equal halves");
	return {};
}

// Data units are whole 16-byte blocks (pages are): no ciphertext stealing.
Result<> check_unit(size_t bytes)
{
	if (bytes < 16)
		return fail(EINVAL, "XTS data unit of {} bytes is shorter than a block", bytes);
	if (bytes % 16)
		return fail(EINVAL, "XTS data unit of {} bytes is not whole 16-byte blocks", bytes);
	return {};
}

} // namespace

const char *fastest_page_cipher() { return use_x86(PageCipherImpl::Fastest) ? "VAES/VPCLMULQDQ" : "GnuTLS"; }

// One of the two: GnuTLS's handle, or this project's VAES code. Restore makes a cipher in every
// task it forks, so where VAES serves, GnuTLS is not touched there at all.
struct Xts::Impl {
	ScopedCipher h;
	std::unique_ptr<x86::XtsVaes> x86;
};

Xts::Xts(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Xts::Xts(Xts &&) noexcept = default;
Xts &Xts::operator=(Xts &&) noexcept = default;
Xts::~Xts() = default;

Result<Xts> Xts::create(std::span<const uint8_t, 64> key, PageCipherImpl impl_kind)
{
	TRY(check_xts_key(key));
	auto impl = std::make_unique<Impl>();
	if (use_x86(impl_kind)) {
		impl->x86 = std::make_unique<x86::XtsVaes>(key.data());
		return Xts(std::move(impl));
	}
	gnutls_datum_t k = datum(key.data(), key.size());
	int ret = gnutls_cipher_init(impl->h.out(), GNUTLS_CIPHER_AES_256_XTS, &k, nullptr);
	if (ret < 0)
		return fail_gnutls(ret, EINVAL, "AES-256-XTS setup");
	return Xts(std::move(impl));
}

Result<> Xts::encrypt(std::span<const uint8_t, 16> tweak, std::span<uint8_t> data)
{
	TRY(check_unit(data.size()));
	if (impl_->x86) {
		impl_->x86->encrypt(tweak.data(), data.data(), data.data(), data.size());
		return {};
	}
	gnutls_cipher_set_iv(impl_->h.get(), const_cast<uint8_t *>(tweak.data()), tweak.size());
	int ret = gnutls_cipher_encrypt(impl_->h.get(), data.data(), data.size());
	if (ret < 0)
		return fail_gnutls(ret, EIO, "AES-256-XTS encryption");
	return {};
}

Result<> Xts::decrypt(std::span<const uint8_t, 16> tweak, std::span<uint8_t> data)
{
	return decrypt(tweak, data, data);
}

Result<> Xts::decrypt(std::span<const uint8_t, 16> tweak, std::span<const uint8_t> in, std::span<uint8_t> out)
{
	if (in.size() != out.size())
		return fail(EINVAL, "XTS decryption of {} bytes into {}", in.size(), out.size());
	TRY(check_unit(in.size()));
	if (impl_->x86) {
		impl_->x86->decrypt(tweak.data(), in.data(), out.data(), in.size());
		return {};
	}
	gnutls_cipher_set_iv(impl_->h.get(), const_cast<uint8_t *>(tweak.data()), tweak.size());
	int ret = in.data() == out.data()
			  ? gnutls_cipher_decrypt(impl_->h.get(), out.data(), out.size())
			  : gnutls_cipher_decrypt2(impl_->h.get(), in.data(), in.size(), out.data(), out.size());
	if (ret < 0)
		return fail_gnutls(ret, EIO, "AES-256-XTS decryption");
	return {};
}

struct PageTag::Impl { // one of the two, as Xts::Impl
	ScopedAead gcm; // used with an empty plaintext: GMAC
	std::unique_ptr<x86::GmacVpclmul> x86;
};

PageTag::PageTag(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PageTag::PageTag(PageTag &&) noexcept = default;
PageTag &PageTag::operator=(PageTag &&) noexcept = default;
PageTag::~PageTag() = default;

Result<PageTag> PageTag::create(std::span<const uint8_t, kPageTagKeySize> key, PageCipherImpl impl_kind)
{
	auto impl = std::make_unique<Impl>();
	if (use_x86(impl_kind)) {
		impl->x86 = std::make_unique<x86::GmacVpclmul>(key.data());
		return PageTag(std::move(impl));
	}
	gnutls_datum_t k = datum(key.data(), key.size());
	int ret = gnutls_aead_cipher_init(impl->gcm.out(), GNUTLS_CIPHER_AES_256_GCM, &k);
	if (ret < 0)
		return fail_gnutls(ret, EINVAL, "AES-256-GMAC setup");
	return PageTag(std::move(impl));
}

Result<> PageTag::compute(std::span<const uint8_t, 16> tweak, const uint8_t *page, std::span<uint8_t, kPageTagSize> out)
{
	if (impl_->x86) {
		impl_->x86->tag(tweak.data(), page, kPageSize, out.data());
		return {};
	}
	size_t out_len = out.size();
	int ret = gnutls_aead_cipher_encrypt(impl_->gcm.get(), tweak.data(), kGmacNonceSize, page, kPageSize,
					     kPageTagSize, nullptr, 0, out.data(), &out_len);
	if (ret < 0)
		return fail_gnutls(ret, EIO, "page tag");
	return {};
}

// With VAES, XTS and the tag in one pass (x86::PagesVaes); without, GnuTLS's two.
struct PageCipher::Impl {
	std::unique_ptr<x86::PagesVaes> x86;
	std::optional<Xts> xts;
	std::optional<PageTag> tag;
};

PageCipher::PageCipher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PageCipher::PageCipher(PageCipher &&) noexcept = default;
PageCipher &PageCipher::operator=(PageCipher &&) noexcept = default;
PageCipher::~PageCipher() = default;

Result<PageCipher> PageCipher::create(const Keyring &kr, PageCipherImpl impl)
{
	const DerivedKeys &keys = kr.keys();
	auto i = std::make_unique<Impl>();
	if (use_x86(impl)) {
		TRY(check_xts_key(keys.xts));
		i->x86 = std::make_unique<x86::PagesVaes>(keys.xts.data(), keys.page_tag.data());
	} else {
		i->xts.emplace(TRY(Xts::create(keys.xts, impl)));
		i->tag.emplace(TRY(PageTag::create(keys.page_tag, impl)));
	}
	return PageCipher(std::move(i));
}

Result<> PageCipher::seal(uint32_t pages_id, uint64_t first_page, std::span<uint8_t> pages, std::span<uint8_t> tags)
{
	uint64_t n = TRY(count_pages(first_page, pages.size(), tags.size()));
	// Page by page: the tag reads the ciphertext while it is still in L1.
	for (uint64_t i = 0; i < n; i++) {
		auto tweak = page_tweak(pages_id, first_page + i);
		uint8_t *page = pages.data() + i * kPageSize, *tag = tags.data() + i * kPageTagSize;
		if (impl_->x86) {
			impl_->x86->seal(tweak.data(), page, page, kPageSize, tag);
			continue;
		}
		TRY(impl_->xts->encrypt(tweak, {page, kPageSize}));
		TRY(impl_->tag->compute(tweak, page, std::span<uint8_t, kPageTagSize>(tag, kPageTagSize)));
	}
	return {};
}

Result<> PageCipher::open(uint32_t pages_id, uint64_t first_page, std::span<uint8_t> pages,
			  std::span<const uint8_t> tags)
{
	uint64_t n = TRY(count_pages(first_page, pages.size(), tags.size()));
	return open_groups(pages_id, first_page, n, pages, tags, pages);
}

// Each group of eight pages is verified, then decrypted while it is still in the core's L1
// cache: a bad group (in place: stays as it was) and those after it are not written.
Result<> PageCipher::open_groups(uint32_t pages_id, uint64_t first_page, uint64_t n, std::span<const uint8_t> sealed,
				 std::span<const uint8_t> tags, std::span<uint8_t> out)
{
	constexpr uint64_t kGroup = 8;
	for (uint64_t g = 0; g < n; g += kGroup) {
		uint64_t end = std::min(n, g + kGroup);
		TRY(verify(pages_id, first_page, g, end, sealed, tags));
		for (uint64_t i = g; i < end; i++) {
			auto tweak = page_tweak(pages_id, first_page + i);
			auto in = sealed.subspan(i * kPageSize, kPageSize);
			auto to = out.subspan(i * kPageSize, kPageSize);
			if (impl_->x86)
				impl_->x86->xts().decrypt(tweak.data(), in.data(), to.data(), kPageSize);
			else
				TRY(impl_->xts->decrypt(tweak, in, to));
		}
	}
	return {};
}

Result<> PageCipher::verify(uint32_t pages_id, uint64_t first_page, uint64_t from, uint64_t to,
			    std::span<const uint8_t> sealed, std::span<const uint8_t> tags)
{
	for (uint64_t i = from; i < to; i++) {
		std::array<uint8_t, kPageTagSize> tag;
		auto tweak = page_tweak(pages_id, first_page + i);
		const uint8_t *page = sealed.data() + i * kPageSize;
		if (impl_->x86)
			impl_->x86->gmac().tag(tweak.data(), page, kPageSize, tag.data());
		else
			TRY(impl_->tag->compute(tweak, page, tag));
		if (gnutls_memcmp(tag.data(), tags.data() + i * kPageTagSize, kPageTagSize) != 0)
			return fail(EBADMSG, "page {} of pages-{}.img: bad tag", first_page + i, pages_id);
	}
	return {};
}

Result<> PageCipher::open(uint32_t pages_id, uint64_t first_page, std::span<const uint8_t> sealed,
			  std::span<const uint8_t> tags, std::span<uint8_t> out)
{
	uint64_t n = TRY(count_pages(first_page, sealed.size(), tags.size()));
	if (out.size() != sealed.size())
		return fail(EINVAL, "{} bytes of pages to open into {}", sealed.size(), out.size());
	if (impl_->x86) { // each page hashed and decrypted in one pass; one with a bad tag is wiped
		for (uint64_t i = 0; i < n; i++) {
			std::array<uint8_t, kPageTagSize> tag;
			uint8_t *page = out.data() + i * kPageSize;
			impl_->x86->open(page_tweak(pages_id, first_page + i).data(), sealed.data() + i * kPageSize, page,
					 kPageSize, tag.data());
			if (gnutls_memcmp(tag.data(), tags.data() + i * kPageTagSize, kPageTagSize) != 0) {
				explicit_bzero(page, kPageSize);
				return fail(EBADMSG, "page {} of pages-{}.img: bad tag", first_page + i, pages_id);
			}
		}
		return {};
	}
	return open_groups(pages_id, first_page, n, sealed, tags, out);
}

} // namespace criu::crypto
