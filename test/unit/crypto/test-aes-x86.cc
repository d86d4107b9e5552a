// crypto/aes-x86: the VAES/VPCLMULQDQ page cipher gives exactly GnuTLS's output.
//
// The known-answer tests (test-xts.cc: IEEE 1619 vectors; test-page-cipher.cc: a GMAC tag
// computed with OpenSSL) run through whichever implementation the CPU picks; these compare the
// two on random keys, tweaks and data, for every block count the XTS code treats differently.
#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "aes-x86.h"
#include "crypto/page-cipher.h"
#include "page-tag.h"
#include "pki.h"

using namespace criu::crypto;

namespace {

std::mt19937_64 &rng()
{
	static std::mt19937_64 r(20261127);
	return r;
}

template <size_t N> std::array<uint8_t, N> random_array()
{
	std::array<uint8_t, N> a;
	for (auto &b : a)
		b = uint8_t(rng()());
	return a;
}

std::vector<uint8_t> random_bytes(size_t n)
{
	std::vector<uint8_t> v(n);
	for (auto &b : v)
		b = uint8_t(rng()());
	return v;
}

bool skip_without_vaes()
{
	if (x86::have_vaes())
		return false;
	WARN("this CPU has no VAES/VPCLMULQDQ: nothing to compare");
	return true;
}

} // namespace

TEST_CASE("fastest_page_cipher names what the CPU runs", "[aes-x86]")
{
	CHECK(std::string(fastest_page_cipher()) == (x86::have_vaes() ? "VAES/VPCLMULQDQ" : "GnuTLS"));
}

TEST_CASE("XTS with VAES equals GnuTLS's for 1 to 64 blocks and whole pages", "[aes-x86]")
{
	if (skip_without_vaes())
		return;
	for (int round = 0; round < 8; round++) {
		auto key = random_array<64>();
		auto fast = Xts::create(key, PageCipherImpl::Fastest);
		auto ref = Xts::create(key, PageCipherImpl::Gnutls);
		REQUIRE(fast.has_value());
		REQUIRE(ref.has_value());
		std::vector<size_t> sizes;
		for (size_t blocks = 1; blocks <= 64; blocks++)
			sizes.push_back(16 * blocks);
		sizes.insert(sizes.end(), {4096, 8192, 4096 + 16 * 15});
		for (size_t size : sizes) {
			INFO("round " << round << ", " << size << " bytes");
			auto tweak = random_array<16>();
			auto plain = random_bytes(size);
			auto a = plain, b = plain;
			REQUIRE(fast->encrypt(tweak, a).has_value());
			REQUIRE(ref->encrypt(tweak, b).has_value());
			REQUIRE(a == b);
			REQUIRE(a != plain);
			REQUIRE(fast->decrypt(tweak, a).has_value());
			REQUIRE(a == plain);
			// And GnuTLS decrypts what VAES encrypts the other way round.
			auto c = random_bytes(size), d = c;
			REQUIRE(fast->decrypt(tweak, c).has_value());
			REQUIRE(ref->decrypt(tweak, d).has_value());
			REQUIRE(c == d);
		}
	}
}

TEST_CASE("XTS with VAES works out of place", "[aes-x86]")
{
	if (skip_without_vaes())
		return;
	auto key = random_array<64>();
	x86::XtsVaes xts(key.data());
	auto tweak = random_array<16>();
	auto plain = random_bytes(4096);
	std::vector<uint8_t> sealed(4096), back(4096);
	xts.encrypt(tweak.data(), plain.data(), sealed.data(), sealed.size());
	auto in_place = plain;
	xts.encrypt(tweak.data(), in_place.data(), in_place.data(), in_place.size());
	CHECK(sealed == in_place);
	xts.decrypt(tweak.data(), sealed.data(), back.data(), back.size());
	CHECK(back == plain);
}

TEST_CASE("GMAC with VPCLMULQDQ equals GnuTLS's page tags", "[aes-x86]")
{
	if (skip_without_vaes())
		return;
	for (int round = 0; round < 16; round++) {
		auto key = random_array<kPageTagKeySize>();
		auto fast = PageTag::create(key, PageCipherImpl::Fastest);
		auto ref = PageTag::create(key, PageCipherImpl::Gnutls);
		REQUIRE(fast.has_value());
		REQUIRE(ref.has_value());
		for (int page = 0; page < 16; page++) {
			INFO("round " << round << ", page " << page);
			auto tweak = random_array<16>();
			auto data = random_bytes(kPageSize);
			if (page == 0)
				std::fill(data.begin(), data.end(), 0);
			std::array<uint8_t, kPageTagSize> a, b;
			REQUIRE(fast->compute(tweak, data.data(), a).has_value());
			REQUIRE(ref->compute(tweak, data.data(), b).has_value());
			REQUIRE(a == b);
			// A flipped bit changes the tag.
			data[size_t(rng()() % kPageSize)] ^= uint8_t(1u << (rng()() % 8));
			REQUIRE(fast->compute(tweak, data.data(), b).has_value());
			REQUIRE(a != b);
		}
	}
}

TEST_CASE("PageCipher in one pass with VAES seals and opens as GnuTLS does", "[aes-x86]")
{
	if (skip_without_vaes())
		return;
	Keyring kr = test::create_keyring({"a"});
	auto fast = PageCipher::create(kr, PageCipherImpl::Fastest);
	auto ref = PageCipher::create(kr, PageCipherImpl::Gnutls);
	REQUIRE(fast.has_value());
	REQUIRE(ref.has_value());
	const size_t n = 37;
	auto plain = random_bytes(n * kPageSize);
	auto a = plain, b = plain;
	std::vector<uint8_t> ta(n * kPageTagSize), tb(n * kPageTagSize);
	REQUIRE(fast->seal(9, 1000, a, ta).has_value());
	REQUIRE(ref->seal(9, 1000, b, tb).has_value());
	REQUIRE(a == b);
	REQUIRE(ta == tb);
	// Each opens what the other sealed, in place and out of place.
	auto c = a;
	REQUIRE(ref->open(9, 1000, c, ta).has_value());
	CHECK(c == plain);
	std::vector<uint8_t> out(a.size());
	REQUIRE(fast->open(9, 1000, std::span<const uint8_t>(b), tb, std::span<uint8_t>(out)).has_value());
	CHECK(out == plain);
	REQUIRE(fast->open(9, 1000, b, tb).has_value());
	CHECK(b == plain);
}

TEST_CASE("XTS and GMAC in one pass equal the two apart, for 256 bytes to 10 KiB", "[aes-x86]")
{
	if (skip_without_vaes())
		return;
	auto xts_key = random_array<64>();
	auto tag_key = random_array<kPageTagKeySize>();
	x86::PagesVaes both(xts_key.data(), tag_key.data());
	auto xts = Xts::create(xts_key, PageCipherImpl::Gnutls);
	auto gmac = PageTag::create(tag_key, PageCipherImpl::Gnutls);
	REQUIRE(xts.has_value());
	REQUIRE(gmac.has_value());
	x86::GmacVpclmul fast_gmac(tag_key.data());
	for (size_t len = 256; len <= 40 * 256; len += 256) {
		INFO(len << " bytes");
		auto tweak = random_array<16>();
		if (len % 1024 == 0) // the tweak's top bits set: every step of its advance folds
			std::fill(tweak.begin(), tweak.end(), 0xff);
		auto plain = random_bytes(len);
		// Sealed apart: GnuTLS's XTS, then the tag of the ciphertext (GnuTLS's for a page; for
		// other lengths the two-pass GMAC, checked against GnuTLS above).
		auto sealed = plain;
		REQUIRE(xts->encrypt(tweak, sealed).has_value());
		std::array<uint8_t, kPageTagSize> want;
		if (len == kPageSize)
			REQUIRE(gmac->compute(tweak, sealed.data(), want).has_value());
		else
			fast_gmac.tag(tweak.data(), sealed.data(), len, want.data());
		// In one pass, out of place and in place.
		std::vector<uint8_t> out(len);
		std::array<uint8_t, kPageTagSize> tag;
		both.seal(tweak.data(), plain.data(), out.data(), len, tag.data());
		CHECK(out == sealed);
		CHECK(tag == want);
		auto in_place = plain;
		both.seal(tweak.data(), in_place.data(), in_place.data(), len, tag.data());
		CHECK(in_place == sealed);
		CHECK(tag == want);
		std::vector<uint8_t> back(len);
		both.open(tweak.data(), sealed.data(), back.data(), len, tag.data());
		CHECK(back == plain);
		CHECK(tag == want);
		both.open(tweak.data(), in_place.data(), in_place.data(), len, tag.data());
		CHECK(in_place == plain);
		CHECK(tag == want);
		// A flipped bit anywhere changes the tag opening computes.
		sealed[size_t(rng()() % len)] ^= uint8_t(1u << (rng()() % 8));
		both.open(tweak.data(), sealed.data(), back.data(), len, tag.data());
		CHECK(tag != want);
	}
}
