// Open files held by more than one task (issue 5: "files opened once and inherited").
//
// Images: nothing of its own. files.img has one FileEntry per open file description (the dump
// finds fds that share one with kcmp(KCMP_FILE) and gives them one id), fdinfo-N.img of every
// task that holds it names that id.
//
// Restore: the root task, before it forks, opens once every file whose id is in the fd tables
// of two tasks or more (FileTable::open_shared), with its flags and position, and keeps it on a
// hidden close-on-exec fd above every task's fds, as it does pipes; every task forked after
// inherits it and FdPlan::install dups it to each fd that holds the id. So the tasks share the
// file offset, the status flags (O_APPEND, O_NONBLOCK) and flock/OFD locks again, and an
// eventfd is one counter. The restorer closes the hidden fds with every fd the task did not have.
// The root also makes every ghost file (of a file deleted while open) there, once, so that tasks
// that open or map the same deleted file through files of their own share its one inode too.
//
// Kinds opened once this way: regular files (directories, devices, ghost files of deleted
// files too), memfds, pipe and FIFO ends, eventfd, signalfd, timerfd, inotify, fanotify.
// Sockets are one object already (each fd is a dup of the socket made in the root). Not opened
// by the root: epoll (its targets are the task's own fds) and terminals (a pty end opened by
// the root could become its controlling terminal); a child takes those from its parent when
// both hold them (FdPlan's inherited map). An epoll or pty end that two tasks hold without a
// parent that holds it too is made by one fd table and handed to the others (handed-files.h).
// A file the root can't open before the tasks exist (a /proc file of a task forked later) is
// opened by each task, as before, with a warning.
// Internal to files.cc / shared-files.cc.
#pragma once

#include <cstdint>
#include <set>
#include <vector>

#include "common/result.h"
#include "common/unique-fd.h"

namespace criu {

class FileTable;

// FdinfoEntry type that FileTable::open_shared opens once for the tree.
bool opened_once(uint32_t type);
// Opens file id, of such a type, as the root does for the tree (and for files in flight).
[[nodiscard]] Result<UniqueFd> open_once(const FileTable &t, uint32_t id, uint32_t type);

// The ids that appear in more than one of tables (each the file ids of one task's fds).
std::set<uint32_t> ids_in_several(const std::vector<std::set<uint32_t>> &tables);

} // namespace criu
