// Epolls and pty ends held by several tasks that did not all get them from a parent holding them
// too (issue 5): e.g. P makes an epoll (or opens a pty slave), forks A and B, closes it; A and B
// hold the one open file, P doesn't. The other kinds are opened once by the root (shared-files.h);
// these can't be: an epoll's targets are a task's own fds, and a pty end the root opened could
// become its controlling terminal. (A terminal from outside the tree is criu's own for every
// task anyway, --shell-job.)
//
// Images: nothing of their own (files.img, fdinfo-N.img as for any epoll, eventpoll.h, or pty
// end, tty.h). An epoll's target fd numbers are those of the first fd table (in pstree order)
// that holds it: the dump reads them from the first task it dumps that holds it
// (kcmp(KCMP_EPOLL_TFD) checks them there), so that table can always register them again.
//
// Restore: such a file is "handed" when two tasks or more hold it whose parent does not (the
// "tops"; tasks sharing a holder's fd table hold it too). The root, before it forks, makes one
// AF_UNIX SOCK_DGRAM socketpair per handed file on hidden close-on-exec fds above every task's
// fds (every task inherits them; the restorer, or criu for a shared table, closes them with the
// other hidden fds). The first fd table holding it (its creator) makes it in FdPlan::install as
// it would anyway (an epoll: epoll_create1, EPOLL_CTL_ADD of its own fds; a pty end: a new
// open of it, see tty.h) and sends it once with SCM_RIGHTS. Every other table holding it (tops
// and their children alike) keeps its fd number taken by a placeholder (a dup of the socket)
// during install, and receives it late, once the task has forked all its children:
// recvmsg(MSG_PEEK) on the socket, which gives each receiver a new fd of the one open file and
// leaves the message for the next, then dup3 over the placeholder.
//
// No deadlock: every send is in an install, which a task does as soon as it is forked (a
// CLONE_VM child with its own table: in its parent's stage_fds, before that process receives
// anything); every receipt comes after the task has forked all its children (and after its
// CLONE_VM child's table is installed), so no task waits in recvmsg before every task below
// it exists and has sent what it creates. Refused: a creator of an epoll whose target is
// another handed file that another table makes (it would have only the placeholder; at dump:
// FilesDumper::check_inherited, and at restore: FileTable::hand_files); at restore, before any
// task is forked: a task with a CLONE_VM child with its own table that shares (CLONE_FILES) a
// table receiving a handed file (the receipt could land while it stages its child's table).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "common/result.h"
#include "common/unique-fd.h"

namespace criu {

struct TaskPlan;
class FileTable;

// One task, as handed_files sees it (in pstree order: parents first).
struct TaskFds {
	uint32_t files_id = 0;        // its fd table
	std::optional<size_t> parent; // index of its parent in the list
	bool installs = false;        // its table is its own (not CLONE_FILES at fork, not a zombie)
	std::set<uint32_t> ids;       // the ids of its epolls and pty ends (FdPlan::handable)
	bool stages_vm_kid = false;   // it installs the own table of a CLONE_VM child of its (stage_fds)
};

// The handed files: id -> files_id of the table that creates it (the first that holds it).
// Fails on the unsupported case above, naming the task (pids: the tasks', for messages).
[[nodiscard]] Result<std::map<uint32_t, uint32_t>> handed_files(const std::vector<TaskFds> &tasks,
								 const std::vector<pid_t> &pids);
// TaskFds of every task of the tree; and their pids.
std::vector<TaskFds> task_fds(const std::vector<TaskPlan> &tasks, const FileTable &files);
std::vector<pid_t> task_pids(const std::vector<TaskPlan> &tasks);

// The socketpairs of the handed files, made by the root before it forks.
class HandedFiles {
public:
	// creators: handed_files'. One socketpair each, on hidden fds above `above`.
	[[nodiscard]] static Result<HandedFiles> create(int above, const std::map<uint32_t, uint32_t> &creators);

	// Table files_id makes file id and sends it.
	bool creates(uint32_t id, uint32_t files_id) const;
	// Table files_id holds file id made by another table: receives it.
	bool receives(uint32_t id, uint32_t files_id) const;
	// An fd to hold the place of file id until it is received.
	int placeholder(uint32_t id) const;
	[[nodiscard]] Result<> send(uint32_t id, int epfd) const;
	// A new fd (close-on-exec) of file id; blocks until its creator has sent it.
	[[nodiscard]] Result<UniqueFd> receive(uint32_t id) const;

private:
	struct Pair {
		uint32_t creator;
		UniqueFd send, recv;
	};
	std::map<uint32_t, Pair> pairs_;
};

} // namespace criu
