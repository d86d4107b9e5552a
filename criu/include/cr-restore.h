// criu restore: the command's entry point.
#pragma once

#include "options.h"

namespace criu {

// Runs `criu restore` with the parsed options; returns the process exit code (0 on success).
int cr_restore(const Options &opts);

} // namespace criu
