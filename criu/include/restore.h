// criu restore, internal: a task's images read and checked up front, so that a missing or
// corrupt image is refused before any process exists.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "common/result.h"
#include "image-dir.h"
#include "core.pb-c.h"
#include "fs.pb-c.h"
#include "mm.pb-c.h"
#include "files.h"
#include "page-xfer.h"
#include "pstree.h"
#include "seccomp.pb-c.h"
#include "shmem.h"
#include "task-state.h"

namespace criu {

struct ThreadImages {
	pid_t tid = 0;
	PbMsg core;
	const CoreEntry &entry() const { return *pb_cast<CoreEntry>(core); }
	const ThreadCoreEntry &thread_core() const { return *entry().thread_core; }
};

struct TaskImages {
	pid_t pid = 0, ppid = 0, pgid = 0, sid = 0;
	bool zombie = false; // exited, not waited for: only its core (task_state TASK_DEAD) is read
	bool vm_child = false; // shares its parent's memory (vm_id): no mm or pagemap (clone-vm.h)
	PbMsg ids, mm, fs;
	const PbMsg *seccomp = nullptr;    // seccomp.img (the tree's), when a thread has filters
	std::vector<ThreadImages> threads; // the leader first
	uint32_t pages_id = 0;
	std::vector<PageRun> pagemap;     // runs in pages-<pages_id>.img order
	std::vector<PageRun> guards;      // MADV_GUARD_INSTALL guard pages

	const CoreEntry &core() const { return threads.front().entry(); }
	// A zombie's wait status, as its parent will see it.
	int exit_status() const { return int(tc().exit_code); }
	const TaskCoreEntry &tc() const { return *core().tc; }
	const MmEntry &mm_entry() const { return *pb_cast<MmEntry>(mm); }
	const TaskKobjIdsEntry &ids_entry() const { return *pb_cast<TaskKobjIdsEntry>(ids); }
	const FsEntry &fs_entry() const { return *pb_cast<FsEntry>(fs); }
	// Thread tid's filters, oldest first (empty unless it is in filter mode).
	[[nodiscard]] Result<std::vector<const SeccompFilter *>> seccomp_chain(const ThreadImages &t) const;
};

// Every task of the checkpoint, parents before their children (pstree.img's order).
struct TreeImages {
	std::unique_ptr<PbMsg> seccomp = std::make_unique<PbMsg>(); // seccomp.img, read when needed
	std::vector<TaskImages> tasks;
};

// Reads inventory.img, pstree.img and every task's core, ids, mm, fs and pagemap images.
[[nodiscard]] Result<TreeImages> read_tree_images(ImageDir &dir);

// In a sealed directory, authenticates every image restore has not already read to its end
// (stats-dump, ...), so that any change to any image file refuses the restore.
[[nodiscard]] Result<> verify_sealed_images(ImageDir &dir);
// Sealed: reads and authenticates every task's page tags, once, in criu before it forks the
// tree; each task then only opens its pages image (ImageDir::open_pages shares the tags).
[[nodiscard]] Result<> load_page_tags(ImageDir &dir, const std::vector<TaskPlan> &tasks);

} // namespace criu

namespace criu {

struct Options;
class FileTable;

// One task to restore: its images and its fd table.
struct TaskPlan {
	TaskImages images;
	FdPlan fds;
	pid_t born_sid = 0; // forked in this session, it forks its children in it before setsid() (pstree.h)
	// The session its forker must be in.
	pid_t birth_session() const { return born_sid ? born_sid : images.sid; }
};

// What the restore of a tree works from; everything read and checked before the first fork.
struct RestoreContext {
	const Options &opts;
	ImageDir &dir;
	const FileTable &files;
	const ShmemTable &shmem;
	const std::vector<TaskPlan> &tasks; // parents before their children; the root first
	int max_fd;                         // the highest fd of any task: criu's own move above it
	const std::vector<PgrpHelper> &helpers; // process groups whose leader has died (pstree.h)
};

// The bootstrap area: where a task left the restorer, so that criu can finish from outside.
struct Bootstrap {
	uint64_t start = 0, size = 0;
	uint64_t syscall_gadget = 0; // "syscall; int3" inside it
};

// What each task tells criu (on the report pipe) just before it jumps into its restorer.
struct TaskReport {
	pid_t pid = 0;
	Bootstrap bootstrap;
};

// In criu's child, which has the root task's PID: waits for a byte on go_fd (criu traces it by
// then), turns itself into the root task, forking the other tasks on the way (each becomes
// its own task the same way), up to the restorer's final trap. Never returns; on failure it
// logs why and exits.
[[noreturn]] void restore_task(const RestoreContext &ctx, int go_fd, int report_fd);

// A new process with the given PID (clone3 set_tid); with sibling, a child of our parent;
// share: CLONE_FILES and/or CLONE_FS.
[[nodiscard]] Result<pid_t> clone_with_pid(pid_t pid, bool sibling, uint64_t share = 0);

// What a task shares with its parent (ids-<pid>.img: files_id, fs_id equal to the parent's):
// CLONE_FILES, CLONE_FS; 0 for the root and zombies.
uint64_t shared_with_parent(const std::vector<TaskPlan> &tasks, size_t index);

// The sibling (an index) whose fd table tasks[index] shares, without its parent: the first task
// of the table among its siblings, which forks it (CLONE_PARENT | CLONE_FILES).
std::optional<size_t> files_sibling(const std::vector<TaskPlan> &tasks, size_t index);

// The flags tasks[index] is forked with: shared_with_parent's, or, when its sibling forks it,
// CLONE_FILES and CLONE_FS if it shares that sibling's fs too.
uint64_t shared_at_fork(const std::vector<TaskPlan> &tasks, size_t index);

// Who closes criu's hidden fds (log, report pipe, images directory, the root's pipes and
// sockets...) in a task's fd table before it runs: its restorer when the table is its own;
// criu from outside, once every task has trapped, in the topmost (first) task of a table other
// tasks share (CLONE_FILES); nobody in those. See Documentation/restore.md.
enum class HiddenFds { Restorer, Criu, Nobody };
HiddenFds hidden_fds_closer(const std::vector<TaskPlan> &tasks, size_t index);

// Every fd number but keep (sorted), as ranges: criu's fds in a task's table.
std::vector<std::pair<uint64_t, uint64_t>> fds_to_close(const std::vector<int> &keep);

// A task sharing an fd table or fs with a task other than its parent (chain) or, for the fd table
// (and with it the fs), a sibling is refused.
[[nodiscard]] Result<> check_shared_ids(const std::vector<TaskPlan> &tasks);

} // namespace criu
