// Keyring: create for certificates, open with a private key, refuse anything tampered.
#include <catch2/catch.hpp>

#include <cstring>
#include <functional>
#include <string>

#include "crypto/keyring.h"
#include "crypto/record.h"
#include "keys.h"
#include "pki.h"

using namespace criu::crypto;
using namespace criu::crypto::test;

namespace {

bool same_keys(const DerivedKeys &a, const DerivedKeys &b)
{
	return a.entry == b.entry && a.xts == b.xts && a.page_tag == b.page_tag && a.check == b.check;
}

// Seals one record with `from` and opens it with `to`.
bool record_crosses(const Keyring &from, const Keyring &to)
{
	auto sealer = RecordSealer::create(from, "core-1.img");
	REQUIRE(sealer.has_value());
	Bytes buf = {'p', 'i', 'n', 'g'};
	REQUIRE(sealer->seal(RecordType::Entry, buf).has_value());
	auto opener = RecordOpener::create(to, "core-1.img", sealer->header());
	REQUIRE(opener.has_value());
	return opener->open(RecordType::Entry, buf).has_value() && buf == Bytes{'p', 'i', 'n', 'g'};
}

// Keyring::open of a copy of env changed by `change`; must fail with `code` and a message holding `what`.
void expect_refused(const Envelope &env, const std::function<void(Envelope &)> &change, int code,
		    const std::string &what)
{
	Envelope bad = env;
	change(bad);
	auto kr = Keyring::open(bad, rsa_pair("a").key);
	REQUIRE_FALSE(kr.has_value());
	INFO(kr.error().message());
	CHECK(kr.error().code() == code);
	CHECK_THAT(kr.error().message(), Catch::Contains(what));
}

} // namespace

TEST_CASE("Keyring::create fills the envelope", "[keyring]")
{
	Keyring kr = create_keyring({"a"});
	const Envelope &env = kr.envelope();
	CHECK(env.version == 1);
	CHECK(env.entry_alg == EntryAlg::Chacha20Poly1305);
	CHECK(env.salt.size() == 32);
	REQUIRE(env.keys.size() == 1);
	CHECK(env.keys[0].key_id.size() == 32);
	CHECK(env.keys[0].wrapped.size() == 256); // RSA-2048
	CHECK(env.key_check.size() == 32);

	const DerivedKeys &k = kr.keys();
	CHECK(std::memcmp(k.xts.data(), k.xts.data() + 32, 32) != 0);
	CHECK(std::memcmp(k.entry.data(), k.xts.data(), 32) != 0);
	CHECK(std::memcmp(k.entry.data(), k.page_tag.data(), 32) != 0);
	CHECK(std::memcmp(k.entry.data(), k.check.data(), 32) != 0);
	CHECK(std::memcmp(k.page_tag.data(), k.check.data(), 32) != 0);

	Keyring gcm = create_keyring({"a"}, EntryAlg::Aes256Gcm);
	CHECK(gcm.envelope().entry_alg == EntryAlg::Aes256Gcm);
}

TEST_CASE("Each Keyring::create makes fresh keys", "[keyring]")
{
	Keyring a = create_keyring({"a"});
	Keyring b = create_keyring({"a"});
	CHECK(a.envelope().salt != b.envelope().salt);
	CHECK(a.envelope().keys[0].key_id == b.envelope().keys[0].key_id);
	CHECK(a.envelope().keys[0].wrapped != b.envelope().keys[0].wrapped);
	CHECK_FALSE(same_keys(a.keys(), b.keys()));
	CHECK_FALSE(record_crosses(a, b));
}

TEST_CASE("Keyring::open with the right key derives the same keys", "[keyring]")
{
	for (auto alg : {EntryAlg::Chacha20Poly1305, EntryAlg::Aes256Gcm}) {
		INFO("entry alg " << uint32_t(alg));
		Keyring dump = create_keyring({"a"}, alg);
		Keyring restore = open_keyring(dump.envelope(), "a");
		CHECK(restore.envelope().key_check == dump.envelope().key_check);
		CHECK(same_keys(dump.keys(), restore.keys()));
		CHECK(record_crosses(dump, restore));
		CHECK(record_crosses(restore, dump));
	}
}

TEST_CASE("Keyring wraps for several certificates and each key opens it", "[keyring]")
{
	Keyring dump = create_keyring({"a", "b", "c"});
	REQUIRE(dump.envelope().keys.size() == 3);
	for (const char *name : {"a", "b", "c"}) {
		INFO("key " << name);
		Keyring restore = open_keyring(dump.envelope(), name);
		CHECK(same_keys(dump.keys(), restore.keys()));
		CHECK(record_crosses(dump, restore));
	}
}

TEST_CASE("Keyring::open with a key it was not wrapped for says so", "[keyring]")
{
	Keyring dump = create_keyring({"a", "b"});
	auto kr = Keyring::open(dump.envelope(), rsa_pair("other").key);
	REQUIRE_FALSE(kr.has_value());
	CHECK(kr.error().code() == ENOKEY);
	CHECK(kr.error().message() == "no key in cipher.img is wrapped for " + rsa_pair("other").key);
}

TEST_CASE("Keyring::open refuses an envelope with any field changed", "[keyring]")
{
	Keyring dump = create_keyring({"a", "b"});
	const Envelope &env = dump.envelope();
	const std::string not_verified = "cipher.img does not verify (corrupt or tampered)";

	SECTION("salt") { expect_refused(env, [](Envelope &e) { e.salt[7] ^= 1; }, EBADMSG, not_verified); }
	SECTION("salt length") { expect_refused(env, [](Envelope &e) { e.salt.pop_back(); }, EBADMSG, "salt"); }
	SECTION("entry alg swapped for the other known one")
	{
		expect_refused(env, [](Envelope &e) { e.entry_alg = EntryAlg::Aes256Gcm; }, EBADMSG, not_verified);
	}
	SECTION("unknown entry alg")
	{
		expect_refused(env, [](Envelope &e) { e.entry_alg = EntryAlg(9); }, EBADMSG, "unknown entry algorithm 9");
	}
	SECTION("version") { expect_refused(env, [](Envelope &e) { e.version = 2; }, EBADMSG, "version 2"); }
	SECTION("key_id of our key")
	{
		expect_refused(env, [](Envelope &e) { e.keys[0].key_id[0] ^= 0x80; }, ENOKEY, "no key in cipher.img");
	}
	SECTION("key_id of another recipient") {
		expect_refused(env, [](Envelope &e) { e.keys[1].key_id[5] ^= 1; }, EBADMSG, not_verified);
	}
	SECTION("wrapped key of our key")
	{
		// Either RSA unwrapping fails, or it yields a different master and the check fails.
		Envelope bad = env;
		bad.keys[0].wrapped[100] ^= 1;
		auto kr = Keyring::open(bad, rsa_pair("a").key);
		REQUIRE_FALSE(kr.has_value());
		CHECK(kr.error().code() == EBADMSG);
	}
	SECTION("wrapped key of another recipient")
	{
		expect_refused(env, [](Envelope &e) { e.keys[1].wrapped[3] ^= 1; }, EBADMSG, not_verified);
	}
	SECTION("recipient added")
	{
		expect_refused(env, [](Envelope &e) { e.keys.push_back(e.keys[1]); }, EBADMSG, not_verified);
	}
	SECTION("recipient removed") { expect_refused(env, [](Envelope &e) { e.keys.pop_back(); }, EBADMSG, not_verified); }
	SECTION("no recipients") { expect_refused(env, [](Envelope &e) { e.keys.clear(); }, EBADMSG, "no wrapped key"); }
	SECTION("key_check")
	{
		expect_refused(env, [](Envelope &e) { e.key_check[31] ^= 1; }, EBADMSG, not_verified);
	}
	SECTION("key_check length")
	{
		expect_refused(env, [](Envelope &e) { e.key_check.resize(16); }, EBADMSG, "key check");
	}
}

TEST_CASE("Keyring::create needs RSA certificates it can read", "[keyring]")
{
	SECTION("no certificate")
	{
		auto kr = Keyring::create(std::vector<std::string>{});
		REQUIRE_FALSE(kr.has_value());
		CHECK(kr.error().code() == EINVAL);
	}
	SECTION("an ECDSA certificate is named in the error")
	{
		std::vector<std::string> certs = {rsa_pair("a").cert, ecdsa_pair().cert};
		auto kr = Keyring::create(certs);
		REQUIRE_FALSE(kr.has_value());
		CHECK(kr.error().code() == EINVAL);
		CHECK_THAT(kr.error().message(), Catch::Contains(ecdsa_pair().cert) && Catch::Contains("RSA"));
	}
	SECTION("a missing file is named in the error")
	{
		std::vector<std::string> certs = {"/nonexistent/cert.pem"};
		auto kr = Keyring::create(certs);
		REQUIRE_FALSE(kr.has_value());
		CHECK(kr.error().code() == ENOENT);
		CHECK_THAT(kr.error().message(), Catch::Contains("/nonexistent/cert.pem"));
	}
	SECTION("a private key is not a certificate")
	{
		std::vector<std::string> certs = {rsa_pair("a").key};
		auto kr = Keyring::create(certs);
		REQUIRE_FALSE(kr.has_value());
		CHECK_THAT(kr.error().message(), Catch::Contains(rsa_pair("a").key));
	}
	SECTION("unknown entry algorithm")
	{
		std::vector<std::string> certs = {rsa_pair("a").cert};
		CHECK_FALSE(Keyring::create(certs, EntryAlg(0)).has_value());
	}
}

TEST_CASE("Keyring::open needs an RSA private key it can read", "[keyring]")
{
	Keyring dump = create_keyring({"a"});
	SECTION("missing key file")
	{
		auto kr = Keyring::open(dump.envelope(), "/nonexistent/key.pem");
		REQUIRE_FALSE(kr.has_value());
		CHECK(kr.error().code() == ENOENT);
		CHECK_THAT(kr.error().message(), Catch::Contains("/nonexistent/key.pem"));
	}
	SECTION("a certificate is not a private key")
	{
		auto kr = Keyring::open(dump.envelope(), rsa_pair("a").cert);
		REQUIRE_FALSE(kr.has_value());
		CHECK_THAT(kr.error().message(), Catch::Contains(rsa_pair("a").cert));
	}
	SECTION("an ECDSA key")
	{
		auto kr = Keyring::open(dump.envelope(), ecdsa_pair().key);
		REQUIRE_FALSE(kr.has_value());
		CHECK_THAT(kr.error().message(), Catch::Contains(ecdsa_pair().key) && Catch::Contains("RSA"));
	}
}
