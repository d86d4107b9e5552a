// Tampering with a sealed images directory is always refused, with an error naming the image.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstring>

#include "image-dir.h"
#include "image-json.h"
#include "sample.h"
#include "test-dirs.h"

using namespace criu;
using namespace criu::test;

namespace {

// Makes a small sealed checkpoint-like directory: core-1/core-2, pipes-data (raw payload),
// pagemap-1 (head entry), pages-1 + pagetags-1.
void make_sealed(const std::string &path, const std::string &cert, uint32_t seed = 1)
{
	std::vector<std::string> certs{cert};
	auto dir = ImageDir::create(path, certs);
	REQUIRE(dir.has_value());
	for (auto [kind, id] : {std::pair{img::Kind::Core, 1u}, {img::Kind::Core, 2u}, {img::Kind::PipesData, 0u},
				{img::Kind::Pagemap, 1u}}) {
		auto w = dir->create_image(kind, id);
		REQUIRE(w.has_value());
		write_samples(*w, seed + id);
	}
	auto p = dir->create_pages(1);
	REQUIRE(p.has_value());
	Bytes pages(8 * kPageSize);
	for (size_t i = 0; i < pages.size(); i++)
		pages[i] = uint8_t(i * 7 + i / kPageSize);
	REQUIRE(p->write(pages).has_value());
	REQUIRE(p->close().has_value());
}

// Reads every byte of the image `name` (pages: all pages).
Result<> read_whole(ImageDir &dir, const std::string &name)
{
	unsigned id;
	if (sscanf(name.c_str(), "pages-%u.img", &id) == 1 || sscanf(name.c_str(), "pagetags-%u.img", &id) == 1) {
		PagesReader r = TRY(dir.open_pages(id));
		Bytes all(r.pages() * kPageSize);
		return r.read(0, all);
	}
	ImageReader r = TRY(dir.open_image_file(name));
	TRY(crit::decode_image(r));
	return {};
}

// Opens the directory and reads the image.
Result<> read_whole(const std::string &path, const std::string &name, const std::string &key)
{
	ImageDir dir = TRY(ImageDir::open(path, key));
	return read_whole(dir, name);
}

void require_refused(const std::string &path, const std::string &name, const std::string &key,
		     const std::string &must_name)
{
	auto r = read_whole(path, name, key);
	INFO("reading " << name);
	REQUIRE(!r.has_value());
	INFO("error: " << r.error().describe());
	CHECK(r.error().describe().find(must_name) != std::string::npos);
}

struct Record {
	size_t off, len;
};

// Splits a sealed image into its records (after 8 bytes of magic and the 16-byte seal header).
std::vector<Record> records(const Bytes &f)
{
	std::vector<Record> out;
	size_t off = 8 + 16;
	while (off + 4 <= f.size()) {
		uint32_t w;
		memcpy(&w, &f[off], 4);
		size_t len = 4 + (w & 0x0fffffff);
		out.push_back({off, len});
		off += len;
	}
	REQUIRE(off == f.size());
	return out;
}

} // namespace

TEST_CASE("flipping any byte of any sealed image is refused, naming the image")
{
	TempDir t;
	make_sealed(t.path(), test_pki("a").cert);
	auto dir = ImageDir::open(t.path(), test_pki("a").key);
	REQUIRE(dir.has_value());
	for (const std::string &name : list_dir(t.path())) {
		if (name == "cipher.img")
			continue;
		REQUIRE(read_whole(*dir, name).has_value());
		const Bytes orig = read_bytes(t / name);
		// every byte of small images; pages images every 97th byte plus the edges
		size_t step = orig.size() > 4096 ? 97 : 1;
		for (size_t pos = 0; pos < orig.size(); pos += step) {
			Bytes bad = orig;
			bad[pos] ^= 0x01;
			write_bytes(t / name, bad);
			INFO(name << " byte " << pos);
			// An ImageDir reads a pages image's tags once (restore: in criu, before it forks),
			// so a changed tags image is read through a directory opened afresh.
			bool tags = name.starts_with("pagetags-");
			auto r = tags ? read_whole(t.path(), name, test_pki("a").key) : read_whole(*dir, name);
			REQUIRE(!r.has_value());
			INFO("error: " << r.error().describe());
			CHECK(r.error().describe().find(name) != std::string::npos);
		}
		write_bytes(t / name, orig);
		REQUIRE(read_whole(*dir, name).has_value());
	}
}

TEST_CASE("reordered, dropped and truncated records are refused")
{
	TempDir t;
	make_sealed(t.path(), test_pki("a").cert);
	const std::string key = test_pki("a").key;
	const std::string core = t / "core-1.img";
	const Bytes orig = read_bytes(core);
	auto recs = records(orig);
	REQUIRE(recs.size() == 4); // three entries and the end record

	auto splice = [&](std::vector<size_t> order) {
		Bytes out(orig.begin(), orig.begin() + 24);
		for (size_t i : order)
			out.insert(out.end(), orig.begin() + ptrdiff_t(recs[i].off),
				   orig.begin() + ptrdiff_t(recs[i].off + recs[i].len));
		return out;
	};
	for (auto order : std::vector<std::vector<size_t>>{
		     {1, 0, 2, 3}, {0, 2, 1, 3}, {0, 1, 3}, {0, 2, 3}, {1, 2, 3}, {0, 1, 2}, {0, 1, 2, 3, 3}, {0, 1, 2, 2, 3}}) {
		write_bytes(core, splice(order));
		INFO("record order " << order.size());
		require_refused(t.path(), "core-1.img", key, "core-1.img");
	}
	for (size_t cut = 0; cut < orig.size(); cut++) {
		write_bytes(core, Bytes(orig.begin(), orig.begin() + ptrdiff_t(cut)));
		INFO("truncated to " << cut);
		require_refused(t.path(), "core-1.img", key, "core-1.img");
	}
	write_bytes(core, orig);
	REQUIRE(read_whole(t.path(), "core-1.img", key).has_value());
}

TEST_CASE("images swapped, renamed, replaced by plain ones or by another dump's are refused")
{
	TempDir t, other, plain;
	make_sealed(t.path(), test_pki("a").cert);
	make_sealed(other.path(), test_pki("a").cert, 1);
	const std::string key = test_pki("a").key;

	SECTION("two images of one kind swapped")
	{
		REQUIRE(rename((t / "core-1.img").c_str(), (t / "tmp").c_str()) == 0);
		REQUIRE(rename((t / "core-2.img").c_str(), (t / "core-1.img").c_str()) == 0);
		REQUIRE(rename((t / "tmp").c_str(), (t / "core-2.img").c_str()) == 0);
		require_refused(t.path(), "core-1.img", key, "core-1.img");
		require_refused(t.path(), "core-2.img", key, "core-2.img");
	}
	SECTION("an image renamed to another task's name")
	{
		REQUIRE(rename((t / "core-1.img").c_str(), (t / "core-3.img").c_str()) == 0);
		require_refused(t.path(), "core-3.img", key, "core-3.img");
	}
	SECTION("an image from another dump (same key pair, other checkpoint key)")
	{
		for (const char *name : {"core-1.img", "pages-1.img", "pagemap-1.img"})
			write_bytes(t / name, read_bytes(other / name));
		require_refused(t.path(), "core-1.img", key, "core-1.img");
		require_refused(t.path(), "pagemap-1.img", key, "pagemap-1.img");
		require_refused(t.path(), "pages-1.img", key, "pages-1.img");
	}
	SECTION("a plain image put into a sealed directory")
	{
		auto pd = ImageDir::create(plain.path());
		REQUIRE(pd.has_value());
		auto w = pd->create_image(img::Kind::Core, 1);
		REQUIRE(w.has_value());
		write_samples(*w, 5);
		write_bytes(t / "core-1.img", read_bytes(plain / "core-1.img"));
		require_refused(t.path(), "core-1.img", key, "not sealed");
	}
	SECTION("two pages swapped inside a pages image")
	{
		Bytes f = read_bytes(t / "pages-1.img");
		std::swap_ranges(f.begin(), f.begin() + kPageSize, f.begin() + 2 * kPageSize);
		write_bytes(t / "pages-1.img", f);
		require_refused(t.path(), "pages-1.img", key, "pages-1.img");
	}
	SECTION("a pages image cut short")
	{
		Bytes f = read_bytes(t / "pages-1.img");
		f.resize(f.size() - kPageSize);
		write_bytes(t / "pages-1.img", f);
		require_refused(t.path(), "pages-1.img", key, "pages-1.img");
	}
}

TEST_CASE("wrong, missing key and missing or corrupt cipher.img give clear errors")
{
	TempDir t;
	make_sealed(t.path(), test_pki("a").cert);
	SECTION("wrong private key")
	{
		auto d = ImageDir::open(t.path(), test_pki("b").key);
		REQUIRE(!d.has_value());
		CHECK(d.error().describe().find(test_pki("b").key) != std::string::npos);
	}
	SECTION("no key given")
	{
		auto d = ImageDir::open(t.path(), "");
		REQUIRE(!d.has_value());
		CHECK(d.error().describe().find("sealed") != std::string::npos);
	}
	SECTION("key file missing")
	{
		auto d = ImageDir::open(t.path(), t / "nokey.pem");
		REQUIRE(!d.has_value());
		CHECK(d.error().describe().find("nokey.pem") != std::string::npos);
	}
	SECTION("cipher.img missing")
	{
		REQUIRE(unlink((t / "cipher.img").c_str()) == 0);
		require_refused(t.path(), "core-1.img", "", "no cipher.img");
		require_refused(t.path(), "pages-1.img", "", "pages-1.img");
	}
	SECTION("cipher.img corrupt at any byte")
	{
		const Bytes orig = read_bytes(t / "cipher.img");
		for (size_t pos = 0; pos < orig.size(); pos++) {
			Bytes bad = orig;
			bad[pos] ^= 0x10;
			write_bytes(t / "cipher.img", bad);
			auto d = ImageDir::open(t.path(), test_pki("a").key);
			INFO("cipher.img byte " << pos);
			REQUIRE(!d.has_value());
			CHECK(d.error().describe().find("cipher.img") != std::string::npos);
		}
		for (size_t cut : {size_t(0), size_t(4), size_t(9), orig.size() / 2, orig.size() - 1}) {
			write_bytes(t / "cipher.img", Bytes(orig.begin(), orig.begin() + ptrdiff_t(cut)));
			auto d = ImageDir::open(t.path(), test_pki("a").key);
			INFO("cipher.img cut to " << cut);
			REQUIRE(!d.has_value());
			CHECK(d.error().describe().find("cipher.img") != std::string::npos);
		}
	}
}

TEST_CASE("several certificates: each private key opens the checkpoint")
{
	TempDir t;
	std::vector<std::string> certs{test_pki("a").cert, test_pki("b").cert};
	{
		auto dir = ImageDir::create(t.path(), certs);
		REQUIRE(dir.has_value());
		auto w = dir->create_image(img::Kind::Core, 1);
		REQUIRE(w.has_value());
		write_samples(*w, 9);
	}
	CHECK(read_whole(t.path(), "core-1.img", test_pki("a").key).has_value());
	CHECK(read_whole(t.path(), "core-1.img", test_pki("b").key).has_value());
	auto c = ImageDir::open(t.path(), test_pki("c").key);
	CHECK(!c.has_value());
}
