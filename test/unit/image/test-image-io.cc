// Round trips of every image kind through ImageDir, plain and sealed, and page images.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>

#include "crypto/page-cipher.h"
#include "image-dir.h"
#include "sample.h"
#include "test-dirs.h"

using namespace criu;
using namespace criu::test;

namespace {

std::vector<std::string> certs_for(bool sealed)
{
	if (!sealed)
		return {};
	return {test_pki("a").cert};
}

Bytes pattern_pages(size_t npages, uint32_t seed)
{
	Bytes b(npages * kPageSize);
	for (size_t i = 0; i < b.size(); i += 8) {
		uint64_t v = (i / 8) * 0x9e3779b97f4a7c15ull ^ seed;
		memcpy(&b[i], &v, 8);
	}
	return b;
}

bool contains(const Bytes &hay, std::string_view needle)
{
	return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

} // namespace

TEST_CASE("every image kind round-trips, plain and sealed")
{
	for (bool sealed : {false, true}) {
		TempDir t;
		auto certs = certs_for(sealed);
		auto dir = ImageDir::create(t.path(), certs);
		REQUIRE(dir.has_value());
		CHECK(dir->sealed() == sealed);
		std::vector<std::pair<img::Kind, Written>> written;
		uint32_t seed = 1;
		for (const img::KindInfo &k : img::all_kinds()) {
			if (!k.desc || k.kind == img::Kind::Cipher)
				continue;
			auto w = dir->create_image(k.kind, 7);
			INFO(k.name << (sealed ? " sealed" : " plain"));
			REQUIRE(w.has_value());
			written.emplace_back(k.kind, write_samples(*w, seed++));
		}
		auto rd = ImageDir::open(t.path(), sealed ? test_pki("a").key : "");
		REQUIRE(rd.has_value());
		CHECK(rd->sealed() == sealed);
		for (auto &[kind, want] : written) {
			INFO(img::info(kind).name << (sealed ? " sealed" : " plain"));
			auto r = rd->open_image(kind, 7);
			REQUIRE(r.has_value());
			CHECK(r->sealed() == sealed);
			check_samples(*r, want);
		}
	}
}

TEST_CASE("an image with no entries is still a valid image")
{
	for (bool sealed : {false, true}) {
		TempDir t;
		auto dir = ImageDir::create(t.path(), certs_for(sealed));
		REQUIRE(dir.has_value());
		auto w = dir->create_image(img::Kind::Pstree);
		REQUIRE(w.has_value());
		REQUIRE(w->close().has_value());
		auto rd = ImageDir::open(t.path(), sealed ? test_pki("a").key : "");
		REQUIRE(rd.has_value());
		auto r = rd->open_image(img::Kind::Pstree);
		REQUIRE(r.has_value());
		auto m = r->read();
		REQUIRE(m.has_value());
		CHECK(!m->has_value());
	}
}

TEST_CASE("pages round-trip with vectored writes; sealed pages hide their content")
{
	const std::string canary = "CANARY-9f8e7d6c-secret-in-page";
	for (bool sealed : {false, true}) {
		TempDir t;
		auto dir = ImageDir::create(t.path(), certs_for(sealed));
		REQUIRE(dir.has_value());
		Bytes a = pattern_pages(3, 1), b = pattern_pages(61, 2);
		memcpy(&b[5 * kPageSize + 100], canary.data(), canary.size());
		const Bytes plain_a = a, plain_b = b;
		{
			auto w = dir->create_pages(5);
			REQUIRE(w.has_value());
			struct iovec iov[2] = {{a.data(), a.size()}, {b.data(), b.size()}};
			REQUIRE(w->write(std::span(iov)).has_value());
			Bytes c = pattern_pages(1, 3);
			REQUIRE(w->write(c).has_value());
			CHECK(w->pages() == 65);
			REQUIRE(w->close().has_value());
		}
		Bytes file = read_bytes(t / "pages-5.img");
		CHECK(file.size() == 65 * kPageSize);
		CHECK(contains(file, canary) == !sealed);

		auto rd = ImageDir::open(t.path(), sealed ? test_pki("a").key : "");
		REQUIRE(rd.has_value());
		auto r = rd->open_pages(5);
		REQUIRE(r.has_value());
		CHECK(r->pages() == 65);
		Bytes got(61 * kPageSize);
		REQUIRE(r->read(3, got).has_value());
		CHECK(got == plain_b);
		Bytes one(kPageSize);
		REQUIRE(r->read(1, one).has_value());
		CHECK(std::equal(one.begin(), one.end(), plain_a.begin() + kPageSize));
		Bytes past(2 * kPageSize);
		CHECK(!r->read(64, past).has_value());
	}
}

TEST_CASE("pages put out of order and committed in order read back; commits out of order are refused")
{
	for (bool sealed : {false, true}) {
		TempDir t;
		auto dir = ImageDir::create(t.path(), certs_for(sealed));
		REQUIRE(dir.has_value());
		Bytes a = pattern_pages(4, 1), b = pattern_pages(6, 2);
		const Bytes plain_a = a, plain_b = b;
		{
			auto w = dir->create_pages(2);
			REQUIRE(w.has_value());
			auto s1 = w->make_sealer(), s2 = w->make_sealer();
			REQUIRE((s1.has_value() && s2.has_value()));
			size_t tag = sealed ? crypto::kPageTagSize : 0;
			Bytes ta(4 * tag), tb(6 * tag);
			REQUIRE(s2->seal(4, b, tb).has_value());
			REQUIRE(w->put(4, b).has_value()); // the second batch lands first
			REQUIRE(s1->seal(0, a, ta).has_value());
			REQUIRE(w->put(0, a).has_value());
			CHECK(!w->commit(4, 6, tb).has_value()); // not its turn
			REQUIRE(w->commit(0, 4, ta).has_value());
			REQUIRE(w->commit(4, 6, tb).has_value());
			CHECK(w->pages() == 10);
			REQUIRE(w->close().has_value());
		}
		auto rd = ImageDir::open(t.path(), sealed ? test_pki("a").key : "");
		REQUIRE(rd.has_value());
		auto r = rd->open_pages(2);
		REQUIRE(r.has_value());
		CHECK(r->pages() == 10);
		Bytes got(4 * kPageSize);
		REQUIRE(r->read(0, got).has_value());
		CHECK(got == plain_a);
		got.resize(6 * kPageSize);
		REQUIRE(r->read(4, got).has_value());
		CHECK(got == plain_b);
	}
}

TEST_CASE("sealed images hold no plaintext of entries or raw data")
{
	const std::string canary = "CANARY-1234-pipe-buffer-secret";
	for (bool sealed : {false, true}) {
		TempDir t;
		auto dir = ImageDir::create(t.path(), certs_for(sealed));
		REQUIRE(dir.has_value());
		auto w = dir->create_image(img::Kind::RegFiles);
		REQUIRE(w.has_value());
		PbMsg m = sample_message(*w->kind().desc, 3);
		// the file name string lives in the entry
		auto j = crit::message_to_json(*m);
		j["name"] = "/tmp/" + canary;
		m = std::move(*crit::json_to_message(*w->kind().desc, j));
		REQUIRE(w->write(*m).has_value());
		REQUIRE(w->write_raw({reinterpret_cast<const uint8_t *>(canary.data()), canary.size()}).has_value());
		REQUIRE(w->close().has_value());
		Bytes file = read_bytes(t / img::file_name(img::Kind::RegFiles, 0));
		CHECK(contains(file, canary) == !sealed);
	}
}
