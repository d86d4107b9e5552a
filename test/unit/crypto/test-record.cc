// Sealed records: round trips, and every way of moving, changing or dropping a record fails.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "crypto/record.h"
#include "pki.h"

using namespace criu::crypto;
using namespace criu::crypto::test;

namespace {

const Keyring &keyring(EntryAlg alg = EntryAlg::Chacha20Poly1305)
{
	static Keyring chacha = create_keyring({"a"}, EntryAlg::Chacha20Poly1305);
	static Keyring gcm = create_keyring({"a"}, EntryAlg::Aes256Gcm);
	return alg == EntryAlg::Aes256Gcm ? gcm : chacha;
}

Bytes bytes(const std::string &s) { return Bytes(s.begin(), s.end()); }

Bytes pattern(size_t n, uint8_t seed)
{
	Bytes b(n);
	for (size_t i = 0; i < n; i++)
		b[i] = uint8_t(seed + i * 7);
	return b;
}

struct Sealed {
	Bytes header;
	std::vector<std::pair<RecordType, Bytes>> records;
};

Sealed seal_all(const Keyring &kr, const std::string &name, const std::vector<std::pair<RecordType, Bytes>> &plain)
{
	auto sealer = RecordSealer::create(kr, name);
	REQUIRE(sealer.has_value());
	Sealed out;
	out.header.assign(sealer->header().begin(), sealer->header().end());
	for (const auto &[type, data] : plain) {
		Bytes buf = data;
		REQUIRE(sealer->seal(type, buf).has_value());
		CHECK(buf.size() == data.size() + kRecordTagSize);
		out.records.emplace_back(type, std::move(buf));
	}
	CHECK(sealer->records() == plain.size());
	return out;
}

RecordOpener opener(const Keyring &kr, const std::string &name, const Bytes &header)
{
	auto o = RecordOpener::create(kr, name, header);
	REQUIRE(o.has_value());
	return std::move(*o);
}

// Opens one record that must not authenticate: EBADMSG, buffer wiped, position unchanged.
void expect_rejected(RecordOpener &o, RecordType type, Bytes buf)
{
	uint64_t before = o.records();
	auto r = o.open(type, buf);
	REQUIRE_FALSE(r.has_value());
	CHECK(r.error().code() == EBADMSG);
	CHECK_THAT(r.error().message(), Catch::Contains("does not authenticate"));
	CHECK(buf.empty());
	CHECK(o.records() == before);
}

std::vector<std::pair<RecordType, Bytes>> sample()
{
	return {
		{RecordType::Entry, bytes("inventory entry")},
		{RecordType::Entry, Bytes{}},
		{RecordType::Raw, pattern(kMaxRawChunk, 3)},
		{RecordType::Raw, pattern(1000, 9)},
		{RecordType::End, Bytes{4, 0, 0, 0, 0, 0, 0, 0}},
	};
}

} // namespace

TEST_CASE("Records round-trip: entries, raw chunks and the end record", "[record]")
{
	for (auto alg : {EntryAlg::Chacha20Poly1305, EntryAlg::Aes256Gcm}) {
		INFO("entry alg " << uint32_t(alg));
		auto plain = sample();
		Sealed s = seal_all(keyring(alg), "core-1.img", plain);
		RecordOpener o = opener(keyring(alg), "core-1.img", s.header);
		for (size_t i = 0; i < plain.size(); i++) {
			Bytes buf = s.records[i].second;
			CHECK(buf != plain[i].second);
			auto r = o.open(plain[i].first, buf);
			REQUIRE(r.has_value());
			CHECK(buf == plain[i].second);
			CHECK(o.records() == i + 1);
		}
	}
}

TEST_CASE("The seal header is magic, version, algorithm, zeros and a salt", "[record]")
{
	for (auto alg : {EntryAlg::Chacha20Poly1305, EntryAlg::Aes256Gcm}) {
		auto sealer = RecordSealer::create(keyring(alg), "mm-1.img");
		REQUIRE(sealer.has_value());
		auto h = sealer->header();
		REQUIRE(h.size() == kSealHeaderSize);
		CHECK(std::string(h.begin(), h.begin() + 4) == "CRSL");
		CHECK(h[4] == 1);
		CHECK(h[5] == uint8_t(alg));
		CHECK(h[6] == 0);
		CHECK(h[7] == 0);
		CHECK(is_seal_header(h));
	}
	CHECK_FALSE(is_seal_header(bytes("CRSL")));
	CHECK_FALSE(is_seal_header(bytes("\x54\x51\x00\x00 not sealed at all")));
}

TEST_CASE("A flipped bit anywhere in ciphertext or tag fails", "[record]")
{
	for (auto alg : {EntryAlg::Chacha20Poly1305, EntryAlg::Aes256Gcm}) {
		INFO("entry alg " << uint32_t(alg));
		Sealed s = seal_all(keyring(alg), "core-1.img", {{RecordType::Entry, bytes("a protobuf entry, 33 bytes long")}});
		const Bytes &good = s.records[0].second;
		RecordOpener o = opener(keyring(alg), "core-1.img", s.header);
		for (size_t pos = 0; pos < good.size(); pos++) {
			INFO("byte " << pos << " of " << good.size());
			Bytes bad = good;
			bad[pos] ^= uint8_t(1u << (pos % 8));
			expect_rejected(o, RecordType::Entry, bad);
		}
		Bytes ok = good;
		CHECK(o.open(RecordType::Entry, ok).has_value());
	}
}

TEST_CASE("The error names the record and its type", "[record]")
{
	Sealed s = seal_all(keyring(), "core-1.img", {{RecordType::Entry, bytes("one")}, {RecordType::Raw, bytes("two")}});
	RecordOpener o = opener(keyring(), "core-1.img", s.header);
	Bytes first = s.records[0].second;
	REQUIRE(o.open(RecordType::Entry, first).has_value());
	Bytes second = s.records[1].second;
	second[0] ^= 1;
	auto r = o.open(RecordType::Raw, second);
	REQUIRE_FALSE(r.has_value());
	CHECK(r.error().message() == "record 1 (type raw) does not authenticate");
}

TEST_CASE("Records can't be reordered, dropped, truncated or retyped", "[record]")
{
	auto plain = sample();
	Sealed s = seal_all(keyring(), "pagemap-1.img", plain);
	RecordOpener o = opener(keyring(), "pagemap-1.img", s.header);

	SECTION("swapped records")
	{
		expect_rejected(o, plain[1].first, s.records[1].second);
		Bytes r0 = s.records[0].second;
		REQUIRE(o.open(plain[0].first, r0).has_value());
	}
	SECTION("replayed record")
	{
		Bytes r0 = s.records[0].second;
		REQUIRE(o.open(plain[0].first, r0).has_value());
		expect_rejected(o, plain[0].first, s.records[0].second);
	}
	SECTION("dropped record")
	{
		Bytes r0 = s.records[0].second;
		REQUIRE(o.open(plain[0].first, r0).has_value());
		expect_rejected(o, plain[2].first, s.records[2].second);
	}
	SECTION("dropped records before the end record")
	{
		Bytes r0 = s.records[0].second;
		REQUIRE(o.open(plain[0].first, r0).has_value());
		expect_rejected(o, RecordType::End, s.records[4].second);
	}
	SECTION("wrong type")
	{
		expect_rejected(o, RecordType::Raw, s.records[0].second);
		expect_rejected(o, RecordType::End, s.records[0].second);
		Bytes buf = s.records[0].second;
		auto r = o.open(RecordType(7), buf);
		REQUIRE_FALSE(r.has_value());
		CHECK(r.error().code() == EBADMSG);
	}
	SECTION("truncated record")
	{
		Bytes cut = s.records[0].second;
		cut.pop_back();
		expect_rejected(o, plain[0].first, cut);
		Bytes tiny(kRecordTagSize - 1, 0);
		auto r = o.open(plain[0].first, tiny);
		REQUIRE_FALSE(r.has_value());
		CHECK(r.error().code() == EBADMSG);
	}
	SECTION("extended record")
	{
		Bytes longer = s.records[0].second;
		longer.push_back(0);
		expect_rejected(o, plain[0].first, longer);
	}
}

TEST_CASE("Records are bound to their image, header and keys", "[record]")
{
	Sealed s = seal_all(keyring(), "core-1.img", {{RecordType::Entry, bytes("task core")}});
	const Bytes &rec = s.records[0].second;

	SECTION("another image name")
	{
		for (const char *name : {"core-2.img", "core-1.im", "core-1.img ", ""}) {
			INFO("name '" << name << "'");
			RecordOpener o = opener(keyring(), name, s.header);
			expect_rejected(o, RecordType::Entry, rec);
		}
	}
	SECTION("another header salt")
	{
		for (size_t pos = 8; pos < kSealHeaderSize; pos++) {
			Bytes h = s.header;
			h[pos] ^= 0x10;
			RecordOpener o = opener(keyring(), "core-1.img", h);
			expect_rejected(o, RecordType::Entry, rec);
		}
	}
	SECTION("the header of another image with the same name")
	{
		Sealed other = seal_all(keyring(), "core-1.img", {{RecordType::Entry, bytes("task core")}});
		RecordOpener o = opener(keyring(), "core-1.img", other.header);
		expect_rejected(o, RecordType::Entry, rec);
	}
	SECTION("another checkpoint's keys")
	{
		Keyring other = create_keyring({"a"});
		RecordOpener o = opener(other, "core-1.img", s.header);
		expect_rejected(o, RecordType::Entry, rec);
	}
}

TEST_CASE("An opener refuses a bad seal header", "[record]")
{
	auto sealer = RecordSealer::create(keyring(), "core-1.img");
	REQUIRE(sealer.has_value());
	Bytes good(sealer->header().begin(), sealer->header().end());
	auto refused = [&](Bytes h, const std::string &what) {
		auto o = RecordOpener::create(keyring(), "core-1.img", h);
		REQUIRE_FALSE(o.has_value());
		INFO(o.error().message());
		CHECK_THAT(o.error().message(), Catch::Contains(what));
	};
	Bytes h = good;
	h[0] = 'X';
	refused(h, "magic");
	h = good;
	h[4] = 2;
	refused(h, "version 2");
	h = good;
	h[5] = uint8_t(EntryAlg::Aes256Gcm);
	refused(h, "algorithm 2");
	h = good;
	h[6] = 1;
	refused(h, "reserved");
	refused(Bytes(good.begin(), good.begin() + 15), "seal header of 15 bytes");
	// A ChaCha20-Poly1305 image can't be read under an AES-256-GCM cipher.img, and back.
	CHECK_FALSE(RecordOpener::create(keyring(EntryAlg::Aes256Gcm), "core-1.img", good).has_value());
}

TEST_CASE("Two sealers never share a nonce", "[record]")
{
	auto plain = bytes("the same plaintext, sealed twice");
	Sealed a = seal_all(keyring(), "fdinfo-2.img", {{RecordType::Entry, plain}});
	Sealed b = seal_all(keyring(), "fdinfo-2.img", {{RecordType::Entry, plain}});
	CHECK(Bytes(a.header.begin() + 8, a.header.end()) != Bytes(b.header.begin() + 8, b.header.end()));
	// The ciphertexts (tags aside) differ: a different nonce, so a different key stream.
	auto body = [&](const Bytes &rec) { return Bytes(rec.begin(), rec.begin() + plain.size()); };
	CHECK(body(a.records[0].second) != body(b.records[0].second));
	// And within one image the index changes the nonce: equal plaintexts seal differently.
	Sealed c = seal_all(keyring(), "fdinfo-2.img", {{RecordType::Entry, plain}, {RecordType::Entry, plain}});
	CHECK(body(c.records[0].second) != body(c.records[1].second));
}
