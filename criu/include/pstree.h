// Helper tasks for process groups whose leader has died (CRIU's pstree helpers). No image
// holds them: restore derives them from pstree.img, as CRIU does.
//
// A task of the tree in a process group whose leader is neither in the tree nor criu's own
// group (--shell-job) gets a helper with the group's id as PID. The group's first live member
// (pstree order) forks it right after restoring its session, before its own children; the
// helper makes itself the group's leader and exits with exit signal 0 (its parent gets no
// SIGCHLD). criu, its tracer, sees it end; it stays its parent's zombie, so the group lives on
// while the members join it (join_group, when every task exists). Then criu makes the parent
// reap it (wait4 through the restorer's syscall gadget): its PID is free before any task runs.
#pragma once

#include <sys/types.h>

#include <set>
#include <vector>

#include "common/result.h"

namespace criu {

struct Options;
struct TaskPlan;

struct PgrpHelper {
	pid_t pid = 0;    // the group's id
	pid_t parent = 0; // the member that forks it
};

// The helpers the tree needs; refuses a group restore can't rebuild (the root's group outside
// the tree without --shell-job, a zombie in a group whose leader has died).
[[nodiscard]] Result<std::vector<PgrpHelper>> plan_pgrp_helpers(const std::vector<TaskPlan> &tasks,
								 const Options &opts);

// Every process group the restored tasks join: the tasks' own and the helpers'.
std::set<pid_t> restored_groups(const std::vector<TaskPlan> &tasks, const std::vector<PgrpHelper> &helpers);

// In the parent: forks the helper (PID h.pid, exit signal 0), which leads its group and exits.
[[nodiscard]] Result<> fork_pgrp_helper(const PgrpHelper &h);

} // namespace criu
