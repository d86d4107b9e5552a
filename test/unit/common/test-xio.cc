#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "common/xio.h"

using namespace criu;

namespace {
struct TempFile {
	std::string path;
	UniqueFd fd;
	TempFile()
	{
		char tmpl[] = "/tmp/criu-xio-XXXXXX";
		fd = UniqueFd(mkstemp(tmpl));
		path = tmpl;
	}
	~TempFile() { unlink(path.c_str()); }
};
} // namespace

TEST_CASE("writev_full writes every iovec, read_full reads back to EOF")
{
	TempFile t;
	REQUIRE(t.fd.valid());
	std::vector<std::string> parts;
	std::vector<struct iovec> iov;
	for (int i = 0; i < 3000; i++) // more than IOV_MAX pieces
		parts.push_back(std::string(size_t(i % 7 + 1), char('a' + i % 26)));
	std::string all;
	for (auto &p : parts) {
		iov.push_back({p.data(), p.size()});
		all += p;
	}
	REQUIRE(xio::writev_full(t.fd.borrow(), iov).has_value());
	std::string back(all.size() + 10, '\0');
	auto n = xio::pread_full(t.fd.borrow(), xio::as_writable_bytes(back.data(), back.size()), 0);
	REQUIRE(n.has_value());
	CHECK(*n == all.size());
	back.resize(*n);
	CHECK(back == all);
	auto whole = xio::read_file(t.path);
	REQUIRE(whole.has_value());
	CHECK(*whole == all);
}

TEST_CASE("open and read_file report the path on failure")
{
	auto r = xio::read_file("/nonexistent/criu-test");
	REQUIRE(!r);
	CHECK(r.error().code() == ENOENT);
	CHECK(r.error().message().find("/nonexistent/criu-test") != std::string::npos);
}

TEST_CASE("UniqueFd closes on scope exit and release hands ownership over")
{
	int raw;
	{
		UniqueFd fd(::open("/dev/null", O_RDONLY));
		raw = fd.get();
		REQUIRE(raw >= 0);
	}
	CHECK(fcntl(raw, F_GETFD) == -1);
	UniqueFd fd(::open("/dev/null", O_RDONLY));
	int kept = fd.release();
	CHECK(!fd.valid());
	CHECK(fcntl(kept, F_GETFD) != -1);
	::close(kept);
}
