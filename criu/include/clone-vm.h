// Processes sharing memory and signal handlers without being threads: a child C made by its
// parent P with clone(CLONE_VM | CLONE_SIGHAND [| CLONE_FILES] [| CLONE_FS] | SIGCHLD), running
// its own code on its own stack in P's memory (Documentation/dump.md, restore.md).
//
// Dump: ids-C.img has P's vm_id and sighand_id (and files_id, fs_id), as CRIU's fields mean;
// C has its own core-C.img (registers, signal mask, creds, timers, limits, pending signals...)
// and fs-C.img (and its fdinfo when its fd table is its own), but no mm-C.img, pagemap-C.img
// or pages: P's memory is C's. C is infected only
// once the memory thread has finished every page read so far (a parasite in the shared mm must
// not be seen in P's pages).
// Restore: criu does not fork C. P's restorer, once P's memory is in place, creates C with
// clone3(CLONE_VM | CLONE_SIGHAND [| CLONE_FILES] [| CLONE_FS], set_tid = C, exit_signal
// SIGCHLD) on a stack of the bootstrap area (rst_vm_child); C sets what only it can (pending
// signals, itimers, POSIX timers, sigaltstack, creds, seccomp, comm...) and traps; criu then
// sets its registers, FPU state, signal mask and resource limits (prlimit) and detaches it.
// A C with an fd table of its own gets a copy of P's at the clone: P installs C's fds at their
// numbers before its restorer runs, with its own moved above (stage_fds in restore-task.cc);
// the restorer puts P's back once C exists (rst_fd_move), and C closes every fd not its own.
// A C with an fs of its own gets its root and cwd on fds P opens for it (chroot, fchdir) and
// its umask, first thing in the restorer.
//
// Supported: C shares memory and signal handlers with its parent, its fs or one of its own,
// its fd table or one of its own (then: P's only such child, P's table not shared with any
// other task, no POSIX locks in either); C has no children, P's session, process group and
// personality, and exit signal SIGCHLD. P and C may have threads (C's are made by C in the
// restorer, as P's by P), P several such children.
// Everything else sharing memory or signal handlers is refused at dump, naming both tasks.
#pragma once

#include <sys/types.h>

#include <map>
#include <vector>

#include "common/result.h"
#include "restore.h"

namespace criu {

// Dump: every live task sharing memory or signal handlers with its parent (parents: every task
// of the tree, zombies included, to its parent; live: the seized tasks) is a supported CLONE_VM
// child, else the dump is refused.
[[nodiscard]] Result<> check_clone_vm(const std::map<pid_t, pid_t> &parents, const std::vector<pid_t> &live);

// Restore: the images of every CLONE_VM child (TaskImages::vm_child) say what check_clone_vm
// allows; checked before any task exists.
[[nodiscard]] Result<> check_vm_children(const std::vector<TaskPlan> &tasks);

// Restore: the CLONE_VM children of tasks[index], which its restorer creates.
std::vector<const TaskPlan *> vm_children(const std::vector<TaskPlan> &tasks, size_t index);

// Restore: the CLONE_VM child of tasks[index] with an fd table of its own, if any (at most one).
const TaskPlan *vm_child_with_own_fds(const std::vector<TaskPlan> &tasks, size_t index);

// Restore, from criu: the child's resource limits (its own, not its parent's it was made with).
[[nodiscard]] Result<> restore_vm_child_rlimits(const TaskImages &task);

} // namespace criu
