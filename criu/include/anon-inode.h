// Files on the kernel's anonymous inode (readlink "anon_inode:[eventfd]" and the like): eventfd,
// epoll, signalfd, timerfd, inotify and fanotify, each in its own file (eventfd.cc, eventpoll.cc,
// signalfd.cc, timerfd.cc, fsnotify.cc, fanotify.cc; see their headers). They all live in
// files.img as FileEntry {type, id, efd|epfd|sgfd|tfd|ify|ffy}, as CRIU 3.x writes them, and are per-task
// objects: restore creates each in install_one (FileTable::open_anon); a child that shares one
// with its parent takes the parent's after fork (FdPlan's inherited map), and one that several
// tasks hold, but epoll, is made once by the root before it forks (shared-files.h). Epolls come last in
// FdPlan::install (their targets are the task's other fds). Internal to files.cc.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/unique-fd.h"
#include "fdinfo.pb-c.h"

namespace criu {

struct FdParms;

// An fd of an anon-inode kind opened by FileTable::open_anon.
bool is_anon_type(uint32_t type);

// /proc/PID/fdinfo/FD of p, read again for the kind's own lines.
[[nodiscard]] Result<std::string> read_fdinfo(const FdParms &p);
// The value after "name" (e.g. "eventfd-count:") in fdinfo text, in base; nullopt-like 0 when
// absent (has_fdinfo_field tells them apart).
uint64_t fdinfo_field(std::string_view text, std::string_view name, int base);
bool has_fdinfo_field(std::string_view text, std::string_view name);

// files.img has the kind's member for FileEntry fe of an anon-inode type.
[[nodiscard]] Result<> check_anon_entry(const FileEntry &fe);

// The file's open-flag bits a restore gives through F_SETFL (O_NONBLOCK; access mode and
// O_CLOEXEC are not file status flags).
[[nodiscard]] Result<> restore_status_flags(BorrowedFd fd, uint32_t flags, uint32_t id);

} // namespace criu
