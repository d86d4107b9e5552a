// PageCipher: XTS per page with (page index, pages id) tweaks, and a tag per page.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "crypto/page-cipher.h"
#include "keys.h"
#include "page-tag.h"
#include "pki.h"

using namespace criu::crypto;
using namespace criu::crypto::test;

namespace {

const Keyring &keyring()
{
	static Keyring kr = create_keyring({"a"});
	return kr;
}

PageCipher cipher(const Keyring &kr = keyring())
{
	auto pc = PageCipher::create(kr);
	REQUIRE(pc.has_value());
	return std::move(*pc);
}

// n pages of distinct, recognisable content.
Bytes make_pages(size_t n, uint8_t seed = 1)
{
	Bytes p(n * kPageSize);
	for (size_t i = 0; i < p.size(); i++)
		p[i] = uint8_t((i / kPageSize) * 31 + i * 13 + seed);
	return p;
}

Bytes page_copy(const Bytes &pages, size_t i)
{
	return Bytes(pages.begin() + i * kPageSize, pages.begin() + (i + 1) * kPageSize);
}
Bytes tag_copy(const Bytes &tags, size_t i)
{
	return Bytes(tags.begin() + i * kPageTagSize, tags.begin() + (i + 1) * kPageTagSize);
}

struct SealedPages {
	Bytes pages;
	Bytes tags;
};

SealedPages seal(PageCipher &pc, uint32_t id, uint64_t first, Bytes pages)
{
	Bytes tags(pages.size() / kPageSize * kPageTagSize);
	REQUIRE(pc.seal(id, first, pages, tags).has_value());
	return {std::move(pages), std::move(tags)};
}

// open() must fail naming `bad_page` of pages-<id>.img, and leave the buffer as it was.
void expect_bad_tag(PageCipher &pc, uint32_t id, uint64_t first, Bytes pages, const Bytes &tags, uint64_t bad_page)
{
	Bytes before = pages;
	auto r = pc.open(id, first, pages, tags);
	REQUIRE_FALSE(r.has_value());
	CHECK(r.error().code() == EBADMSG);
	CHECK(r.error().message() == fmt::format("page {} of pages-{}.img: bad tag", bad_page, id));
	CHECK(pages == before);
}

} // namespace

TEST_CASE("Pages round-trip in batches", "[pages]")
{
	PageCipher pc = cipher();
	const Bytes plain = make_pages(300);
	Bytes pages = plain;
	Bytes tags(300 * kPageTagSize);
	// Seal in uneven batches, open in others: every page stands on its own.
	for (size_t first = 0, n = 1; first < 300; first += n, n = n * 2 + 1) {
		n = std::min(n, 300 - first);
		REQUIRE(pc.seal(5, first, std::span(pages).subspan(first * kPageSize, n * kPageSize),
				std::span(tags).subspan(first * kPageTagSize, n * kPageTagSize))
				.has_value());
	}
	for (size_t i = 0; i < 300; i++)
		CHECK(page_copy(pages, i) != page_copy(plain, i));
	for (size_t first = 0; first < 300; first += 64) {
		size_t n = std::min<size_t>(64, 300 - first);
		REQUIRE(pc.open(5, first, std::span(pages).subspan(first * kPageSize, n * kPageSize),
				std::span<const uint8_t>(tags).subspan(first * kPageTagSize, n * kPageTagSize))
				.has_value());
	}
	CHECK(pages == plain);
}

TEST_CASE("Pages open from one buffer into another, with both implementations", "[pages]")
{
	for (PageCipherImpl impl : {PageCipherImpl::Fastest, PageCipherImpl::Gnutls}) {
		auto made = PageCipher::create(keyring(), impl);
		REQUIRE(made.has_value());
		PageCipher &pc = *made;
		const Bytes plain = make_pages(20);
		SealedPages s = seal(pc, 4, 7, plain);
		Bytes out(plain.size(), 0xee);
		REQUIRE(pc.open(4, 7, std::span<const uint8_t>(s.pages), s.tags, std::span<uint8_t>(out)).has_value());
		CHECK(out == plain);

		// A bad page: the error names it, and out holds no plaintext of it or after it. In one
		// pass (VAES) the pages before it are opened and it is zeroed; GnuTLS leaves its group
		// of eight and those after unwritten.
		Bytes bad = s.pages;
		bad[11 * kPageSize + 5] ^= 0x10;
		std::fill(out.begin(), out.end(), 0xee);
		auto r = pc.open(4, 7, std::span<const uint8_t>(bad), s.tags, std::span<uint8_t>(out));
		REQUIRE_FALSE(r.has_value());
		CHECK(r.error().message() == "page 18 of pages-4.img: bad tag");
		bool one_pass = impl == PageCipherImpl::Fastest && std::string(fastest_page_cipher()) != "GnuTLS";
		size_t opened = one_pass ? 11 : 8;
		auto page_at = [&](size_t i) { return out.begin() + ptrdiff_t(i * kPageSize); };
		CHECK(Bytes(out.begin(), page_at(opened)) == Bytes(plain.begin(), plain.begin() + ptrdiff_t(opened * kPageSize)));
		if (one_pass)
			CHECK(std::all_of(page_at(11), page_at(12), [](uint8_t b) { return b == 0; }));
		CHECK(std::all_of(page_at(one_pass ? 12 : 8), out.end(), [](uint8_t b) { return b == 0xee; }));
		CHECK_FALSE(pc.open(4, 7, std::span<const uint8_t>(s.pages), s.tags, std::span<uint8_t>(out).first(kPageSize))
				    .has_value());
	}
}

TEST_CASE("In place, the groups before a bad page are opened and the rest stay sealed", "[pages]")
{
	for (PageCipherImpl impl : {PageCipherImpl::Fastest, PageCipherImpl::Gnutls}) {
		auto made = PageCipher::create(keyring(), impl);
		REQUIRE(made.has_value());
		const Bytes plain = make_pages(20);
		SealedPages s = seal(*made, 6, 30, plain);
		Bytes pages = s.pages;
		pages[11 * kPageSize + 100] ^= 0x01;
		const Bytes sealed = pages;
		auto r = made->open(6, 30, pages, s.tags);
		REQUIRE_FALSE(r.has_value());
		CHECK(r.error().message() == "page 41 of pages-6.img: bad tag");
		auto pages_of = [](const Bytes &b, size_t from, size_t to) {
			return Bytes(b.begin() + ptrdiff_t(from * kPageSize), b.begin() + ptrdiff_t(to * kPageSize));
		};
		CHECK(pages_of(pages, 0, 8) == pages_of(plain, 0, 8));
		CHECK(pages_of(pages, 8, 20) == pages_of(sealed, 8, 20));
	}
}

TEST_CASE("Equal pages encrypt differently at other indices and in other images", "[pages]")
{
	PageCipher pc = cipher();
	Bytes one = make_pages(1, 77);
	Bytes same(4 * kPageSize);
	for (size_t i = 0; i < 4; i++)
		std::copy(one.begin(), one.end(), same.begin() + i * kPageSize);
	SealedPages s = seal(pc, 3, 1000, same);
	for (size_t i = 0; i < 4; i++)
		for (size_t j = i + 1; j < 4; j++) {
			CHECK(page_copy(s.pages, i) != page_copy(s.pages, j));
			CHECK(tag_copy(s.tags, i) != tag_copy(s.tags, j));
		}
	SealedPages other = seal(pc, 4, 1000, one);
	CHECK(page_copy(other.pages, 0) != page_copy(s.pages, 0));
	CHECK(tag_copy(other.tags, 0) != tag_copy(s.tags, 0));
	// Same page, same place, same keys: same ciphertext (XTS is deterministic per position).
	SealedPages again = seal(pc, 3, 1000, one);
	CHECK(page_copy(again.pages, 0) == page_copy(s.pages, 0));
}

TEST_CASE("Pages are AES-256-XTS with tweak (u64 LE index, u32 LE pages id, u32 0)", "[pages]")
{
	// Pins the on-disk format: the page cipher is the bare XTS primitive with this tweak.
	PageCipher pc = cipher();
	const uint64_t index = 0x0102030405060708ull;
	const uint32_t id = 0xa0b0c0d0;
	SealedPages s = seal(pc, id, index, make_pages(1, 5));

	auto xts = Xts::create(keyring().keys().xts);
	REQUIRE(xts.has_value());
	std::array<uint8_t, 16> tweak = {0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0xd0, 0xc0, 0xb0, 0xa0, 0, 0, 0, 0};
	Bytes expect = make_pages(1, 5);
	REQUIRE(xts->encrypt(tweak, expect).has_value());
	CHECK(s.pages == expect);
}

TEST_CASE("A page moved to another index or image fails verification", "[pages]")
{
	PageCipher pc = cipher();
	SealedPages s = seal(pc, 9, 40, make_pages(4));

	SECTION("two pages swapped with their tags")
	{
		Bytes pages = s.pages, tags = s.tags;
		std::swap_ranges(pages.begin() + kPageSize, pages.begin() + 2 * kPageSize, pages.begin() + 2 * kPageSize);
		std::swap_ranges(tags.begin() + kPageTagSize, tags.begin() + 2 * kPageTagSize, tags.begin() + 2 * kPageTagSize);
		expect_bad_tag(pc, 9, 40, pages, tags, 41);
	}
	SECTION("the batch read at another index")
	{
		expect_bad_tag(pc, 9, 41, s.pages, s.tags, 41);
		expect_bad_tag(pc, 9, 0, s.pages, s.tags, 0);
	}
	SECTION("one page read at another index")
	{
		Bytes p = page_copy(s.pages, 2), t = tag_copy(s.tags, 2);
		expect_bad_tag(pc, 9, 43, p, t, 43);
		Bytes ok = p;
		CHECK(pc.open(9, 42, ok, t).has_value());
	}
	SECTION("another pages image")
	{
		expect_bad_tag(pc, 10, 40, s.pages, s.tags, 40);
		expect_bad_tag(pc, 9 + (1u << 31), 40, s.pages, s.tags, 40);
	}
}

TEST_CASE("A flipped bit in a page or its tag fails and names the page", "[pages]")
{
	PageCipher pc = cipher();
	SealedPages s = seal(pc, 2, 100, make_pages(8));
	for (size_t victim : {0, 3, 7}) {
		for (size_t off : {size_t(0), size_t(1), size_t(2047), kPageSize - 1}) {
			INFO("page " << victim << " byte " << off);
			Bytes pages = s.pages;
			pages[victim * kPageSize + off] ^= 0x01;
			expect_bad_tag(pc, 2, 100, pages, s.tags, 100 + victim);
		}
		for (size_t off = 0; off < kPageTagSize; off++) {
			INFO("tag of page " << victim << " byte " << off);
			Bytes tags = s.tags;
			tags[victim * kPageTagSize + off] ^= 0x80;
			expect_bad_tag(pc, 2, 100, s.pages, tags, 100 + victim);
		}
	}
	Bytes pages = s.pages;
	REQUIRE(pc.open(2, 100, pages, s.tags).has_value());
	CHECK(pages == make_pages(8));
}

TEST_CASE("Pages sealed under one checkpoint's keys don't open under another's", "[pages]")
{
	PageCipher pc = cipher();
	SealedPages s = seal(pc, 1, 0, make_pages(2));
	Keyring other = create_keyring({"a"});
	PageCipher foreign = cipher(other);
	expect_bad_tag(foreign, 1, 0, s.pages, s.tags, 0);

	// The restoring side's Keyring (opened from the envelope) does open them.
	Keyring restore = open_keyring(keyring().envelope(), "a");
	PageCipher pr = cipher(restore);
	Bytes pages = s.pages;
	REQUIRE(pr.open(1, 0, pages, s.tags).has_value());
	CHECK(pages == make_pages(2));
}

TEST_CASE("PageCipher checks sizes and index range", "[pages]")
{
	PageCipher pc = cipher();
	Bytes pages = make_pages(2);
	Bytes tags(2 * kPageTagSize);
	CHECK(pc.seal(1, 0, std::span(pages).first(kPageSize + 1), tags).error().code() == EINVAL);
	CHECK(pc.seal(1, 0, pages, std::span(tags).first(kPageTagSize)).error().code() == EINVAL);
	CHECK(pc.open(1, 0, pages, std::span<const uint8_t>(tags).first(kPageTagSize + 1)).error().code() == EINVAL);
	CHECK(pc.seal(1, UINT64_MAX - 1, pages, tags).error().code() == EINVAL);
	// The last pages whose end index is still a u64 are fine.
	REQUIRE(pc.seal(1, UINT64_MAX - 2, pages, tags).has_value());
	REQUIRE(pc.open(1, UINT64_MAX - 2, pages, tags).has_value());
	CHECK(pages == make_pages(2));
	// Nothing to do is not an error.
	CHECK(pc.seal(1, 0, std::span<uint8_t>(), std::span<uint8_t>()).has_value());
}

TEST_CASE("Page tags are AES-256-GMAC with nonce (u64 LE index, u32 LE pages id)", "[pages]")
{
	// Expected tag computed with Python cryptography's AESGCM (OpenSSL), independent of GnuTLS:
	//   AESGCM(bytes(range(32))).encrypt(nonce=le64(5) || le32(3), data=b"", associated_data=page)
	std::array<uint8_t, kPageTagKeySize> key;
	for (size_t i = 0; i < key.size(); i++)
		key[i] = uint8_t(i);
	Bytes pg(kPageSize);
	for (size_t i = 0; i < pg.size(); i++)
		pg[i] = uint8_t(i * 7 + 3);
	std::array<uint8_t, 16> tweak = {5, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0};

	auto tag = PageTag::create(key);
	REQUIRE(tag.has_value());
	std::array<uint8_t, kPageTagSize> out;
	REQUIRE(tag->compute(tweak, pg.data(), out).has_value());
	CHECK(Bytes(out.begin(), out.end()) == from_hex("ccb47d546efb9419f913fb3211c8ca30"));

	// And PageCipher's tags are exactly these over the ciphertext.
	PageCipher pc = cipher();
	SealedPages s = seal(pc, 3, 5, pg);
	auto real = PageTag::create(keyring().keys().page_tag);
	REQUIRE(real.has_value());
	REQUIRE(real->compute(tweak, s.pages.data(), out).has_value());
	CHECK(Bytes(out.begin(), out.end()) == s.tags);
}
