// criu dump: the command's entry point.
#pragma once

#include "options.h"

namespace criu {

// Runs `criu dump` with the parsed options; returns the process exit code (0 on success).
int cr_dump(const Options &opts);

} // namespace criu
