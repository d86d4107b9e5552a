// criu check: which kernel features this machine offers, by trying each one for real.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace criu {

struct Feature {
	const char *name;   // CRIU's --feature name
	bool required;      // dump/restore can't work without it
	const char *what;   // what it is for, for messages
	Result<bool> (*probe)();
};

const std::vector<Feature> &kernel_features();

// Runs `criu check` (all features, or only those named); returns the exit code and logs
// CRIU-style messages.
int cr_check(const std::vector<std::string> &only);

} // namespace criu
