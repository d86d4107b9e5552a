#include <catch2/catch.hpp>

#include "cr-check.h"

using namespace criu;

TEST_CASE("criu check: every probe runs, the features dump and restore need are here")
{
	for (const Feature &f : kernel_features()) {
		INFO(f.name);
		auto r = f.probe();
		REQUIRE(r.has_value());
		if (f.required)
			CHECK(*r);
	}
	CHECK(cr_check({}) == 0);
	CHECK(cr_check({"clone3_set_tid", "process_vm_readv"}) == 0);
	CHECK(cr_check({"no_such_feature"}) == 1);
}
