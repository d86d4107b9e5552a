// CRIU's action scripts (--action-script): user commands run at fixed points of dump and
// restore, told what is happening through CRIU's CRTOOLS_* environment variables.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "options.h"

namespace criu {

enum class ScriptAction { PreDump, PostDump, PreRestore, PostRestore, PreResume, PostResume, NetworkLock, NetworkUnlock };

// CRIU's name for the action: "pre-dump", "post-restore", "network-lock", ...
std::string_view action_name(ScriptAction action);

// The variables a script gets on top of criu's environment: CRTOOLS_SCRIPT_ACTION,
// CRTOOLS_IMAGE_DIR (image_dir) and, when root_pid is known (> 0), CRTOOLS_INIT_PID.
std::vector<std::string> action_script_env(ScriptAction action, const std::string &image_dir, pid_t root_pid);

// Runs every --action-script, in command-line order, as `/bin/sh -c SCRIPT` with CRIU's
// environment for this action, stdin on /dev/null and output into criu's log. Every script
// runs; a script exiting non-zero (or killed) is an error naming it.
[[nodiscard]] Result<> run_action_scripts(const Options &opts, ScriptAction action, pid_t root_pid = 0);

} // namespace criu
