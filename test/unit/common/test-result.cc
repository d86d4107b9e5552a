#include <catch2/catch.hpp>

#include "common/result.h"

using namespace criu;

static Result<int> half(int v)
{
	if (v % 2)
		return fail(EINVAL, "{} is odd", v);
	return v / 2;
}

static Result<int> quarter(int v)
{
	int h = TRY_CTX(half(v), "halving {}", v);
	return TRY(half(h));
}

static Result<> check_even(int v)
{
	TRY(half(v));
	return {};
}

TEST_CASE("TRY unwraps values and forwards errors with context")
{
	REQUIRE(quarter(8).value() == 2);
	auto r = quarter(6);
	REQUIRE(!r);
	CHECK(r.error().message() == "3 is odd");
	CHECK(r.error().code() == EINVAL);
	auto r2 = quarter(5);
	REQUIRE(!r2);
	CHECK(r2.error().message() == "halving 5: 5 is odd");
	CHECK(r2.error().describe() == "halving 5: 5 is odd: Invalid argument");
	CHECK(check_even(4).has_value());
	CHECK(!check_even(3).has_value());
}

TEST_CASE("fail_errno captures errno at the failure site")
{
	errno = ENOENT;
	auto e = fail_errno("open {}", "/x");
	CHECK(e.error().code() == ENOENT);
	CHECK(e.error().describe() == "open /x: No such file or directory");
}
