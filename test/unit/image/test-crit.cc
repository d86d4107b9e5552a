// crit: CRIU's own crit (Debian's /usr/bin/crit) as the oracle for our plain images, and our
// crit decoding what it encodes, sealed images included.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "image-dir.h"
#include "sample.h"
#include "test-dirs.h"

using namespace criu;
using namespace criu::test;

namespace {

const char *kCriuCrit = "/usr/bin/crit";

std::string our_crit()
{
	const char *c = getenv("CRIT");
	return c ? c : "build/crit/crit";
}

// Writes one sample image of every kind into dir; returns the file names.
std::vector<std::pair<const img::KindInfo *, std::string>> write_all(const std::string &path,
								      std::vector<std::string> certs,
								      bool only_criu317 = false)
{
	auto dir = ImageDir::create(path, certs);
	REQUIRE(dir.has_value());
	std::vector<std::pair<const img::KindInfo *, std::string>> out;
	uint32_t seed = 11;
	for (const img::KindInfo &k : img::all_kinds()) {
		if (!k.desc || k.kind == img::Kind::Cipher)
			continue;
		auto w = dir->create_image(k.kind, 3);
		REQUIRE(w.has_value());
		write_samples(*w, seed++, only_criu317);
		out.emplace_back(&k, w->name());
	}
	return out;
}

} // namespace

TEST_CASE("CRIU's crit decodes every plain image kind we write, and re-encodes it identically")
{
	TempDir t;
	size_t checked = 0;
	for (auto [k, name] : write_all(t.path(), {}, true)) {
		if (!k->criu_crit_knows)
			continue;
		INFO(name);
		std::string out;
		std::string json = t / (name + ".criu.json"), back = t / (name + ".criu.back");
		int rc = run_command(std::string(kCriuCrit) + " decode -i " + (t / name) + " -o " + json, &out);
		INFO(out);
		REQUIRE(rc == 0);
		rc = run_command(std::string(kCriuCrit) + " encode -i " + json + " -o " + back, &out);
		REQUIRE(rc == 0);
		CHECK(read_bytes(back) == read_bytes(t / name));
		checked++;
		// and CRIU's crit builds the same image from our crit's JSON (except files.img: CRIU's
		// JSON carries unix socket names quoted-printable, ours base64 like all bytes)
		if (k->kind == img::Kind::Files)
			continue;
		std::string ours = t / (name + ".our.json"), theirs = t / (name + ".theirs");
		REQUIRE(run_command(our_crit() + " decode -i " + (t / name) + " -o " + ours, &out) == 0);
		REQUIRE(run_command(std::string(kCriuCrit) + " encode -i " + ours + " -o " + theirs, &out) == 0);
		CHECK(read_bytes(theirs) == read_bytes(t / name));
	}
	CHECK(checked >= 25);
}

TEST_CASE("our crit decodes what it encodes")
{
	TempDir t;
	for (auto [k, name] : write_all(t.path(), {})) {
		INFO(name);
		std::string out;
		std::string json = t / (name + ".json"), back = t / ("back-" + name);
		int rc = run_command(our_crit() + " decode -i " + (t / name) + " -o " + json, &out);
		INFO(out);
		REQUIRE(rc == 0);
		rc = run_command(our_crit() + " encode -i " + json + " -o " + back, &out);
		REQUIRE(rc == 0);
		CHECK(read_bytes(back) == read_bytes(t / name));
	}
}

TEST_CASE("our crit opens sealed images with the key and refuses without it")
{
	TempDir plain, sealed;
	auto plain_files = write_all(plain.path(), {});
	auto sealed_files = write_all(sealed.path(), {test_pki("a").cert});
	REQUIRE(plain_files.size() == sealed_files.size());
	for (size_t i = 0; i < plain_files.size(); i++) {
		const std::string &name = sealed_files[i].second;
		INFO(name);
		std::string a, b, err;
		REQUIRE(run_command(our_crit() + " decode -i " + (plain / name), &a) == 0);
		REQUIRE(run_command(our_crit() + " decode --tls-key " + test_pki("a").key + " -i " + (sealed / name),
				    &b) == 0);
		CHECK(a == b);
		CHECK(run_command(our_crit() + " decode -i " + (sealed / name), &err) != 0);
		CHECK(err.find("sealed") != std::string::npos);
		err.clear();
		CHECK(run_command(our_crit() + " decode --tls-key " + test_pki("b").key + " -i " + (sealed / name),
				  &err) != 0);
		CHECK(err.find("cipher.img") != std::string::npos);
	}
	std::string env;
	REQUIRE(run_command(our_crit() + " decode -i " + (sealed / "cipher.img"), &env) == 0);
	CHECK(env.find("\"magic\":\"CIPHER\"") != std::string::npos);
	std::string info;
	REQUIRE(run_command(our_crit() + " info --tls-key " + test_pki("a").key + " " + (sealed / "core-3.img"), &info) ==
		0);
	CHECK(info.find("\"sealed\": true") != std::string::npos);
	CHECK(info.find("\"count\": 3") != std::string::npos);
}

TEST_CASE("crit's JSON refuses values a field cannot hold")
{
	const auto &d = *img::info(img::Kind::Pagemap).head_desc; // pagemap_head { uint32 pages_id }
	CHECK(crit::json_to_message(d, crit::Json::parse(R"({"pages_id": 4294967295})")).has_value());
	for (const char *bad : {R"({"pages_id": 4294967296})", R"({"pages_id": -1})", R"({"pages_id": "7"})",
				R"({"pages_id": 1.5})", R"({"no_such": 1})", R"({})"}) {
		INFO(bad);
		CHECK(!crit::json_to_message(d, crit::Json::parse(bad)).has_value());
	}
}
