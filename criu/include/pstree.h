// Helper tasks for process groups whose leader has died (CRIU's pstree helpers). No image
// holds them: restore derives them from pstree.img, as CRIU does.
//
// A task of the tree in a process group whose leader is neither in the tree nor criu's own
// group (--shell-job) gets a helper with the group's id as PID. The group's first live member
// (pstree order) forks it right after restoring its session, before its own children; the
// helper is made the group's leader (by itself and by its parent, so the group exists as soon as
// clone returns) and exits with exit signal 0 (its parent gets no SIGCHLD). criu, its tracer,
// sees it end; it stays its parent's zombie, so the group lives on while the members join it
// (join_group, when every task exists). Then criu makes the parent reap it (wait4 through the
// restorer's syscall gadget): its PID is free before any task runs.
//
// A zombie can't join a group at the end: it must find its group when it is forked. So a group
// with zombies in it has its helper forked by their nearest common ancestor (the parent of
// them all, or an ancestor of their parents), which must be in the group's session: that task
// forks its helpers before its children, so the group exists before any of them. A group of
// zombies only works the same way.
//
// A task may be in another session than its parent's without leading it: its parent forked it
// there and has left since by setsid() (CRIU's born_sid). Restore forks the parent in that
// session too (its parent in turn must be in it, or have left it the same way), which forks its
// children in it first, then calls setsid() and forks its other children.
//
// A session whose leader has died gets a helper too: its members that are children of a task
// outside the session (a child subreaper that inherited them, or that inherited a task born in
// the session; the first such subreaper met in pstree order, the other parents must have left
// the session as above) are forked by a session helper, which the subreaper forks first: it
// calls setsid() (leading the session and the group of its id), forks those members and
// exits; they are reparented to the subreaper. A
// zombie among them ends while the helper is its parent; the helper exits once criu has seen it
// end, so the zombie is reparented to the subreaper (which takes back the SIGCHLD this sends).
#pragma once

#include <sys/types.h>

#include <map>
#include <set>
#include <vector>

#include "common/result.h"

namespace criu {

struct Options;
struct TaskPlan;

// A task of pstree.img, as the helpers are planned from it (the dump checks its tree the same way).
struct PstreeItem {
	pid_t pid = 0, ppid = 0, pgid = 0, sid = 0;
	bool zombie = false;
	bool subreaper = false; // PR_SET_CHILD_SUBREAPER (at dump: what the parasite told)
};

struct PgrpHelper {
	pid_t pid = 0;        // the group's (or session's) id
	pid_t parent = 0;     // the member that forks it (the subreaper, for a session)
	bool session = false; // a session helper: setsid(), forks the session's children of parent
};

// The helpers the tree needs, session helpers first, and the tasks born in a session they left.
struct PstreePlan {
	std::vector<PgrpHelper> helpers;
	std::map<pid_t, pid_t> born_sid; // task -> the session it forks its children in before setsid()
};

// Plans tasks (the root first); refuses a group or session restore can't rebuild (the root's
// group outside the tree without --shell-job, a task in another session than its parent's that
// neither a session helper nor a parent that left the session by setsid() can fork, zombies of
// a dead-leader group whose nearest common ancestor is outside the group's session).
[[nodiscard]] Result<PstreePlan> plan_pstree(const std::vector<PstreeItem> &tasks, const Options &opts);
std::vector<PstreeItem> pstree_items(const std::vector<TaskPlan> &tasks);
// plan_pstree's helpers.
[[nodiscard]] Result<std::vector<PgrpHelper>> plan_pgrp_helpers(const std::vector<TaskPlan> &tasks,
								 const Options &opts);

// Every process group the restored tasks join: the tasks' own and the helpers'.
std::set<pid_t> restored_groups(const std::vector<TaskPlan> &tasks, const std::vector<PgrpHelper> &helpers);

// Forks the helper (PID h.pid, exit signal 0): 0 in the helper, its PID in the parent.
[[nodiscard]] Result<pid_t> clone_helper(const PgrpHelper &h);

} // namespace criu
