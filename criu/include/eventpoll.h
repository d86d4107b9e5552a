// epoll instances (see anon-inode.h), as CRIU records them:
//   files.img    FileEntry {type EVENTPOLL, id, epfd: EventpollFileEntry {id, flags (f_flags),
//                fown, tfd: one EventpollTfdEntry {id = the epoll's id, tfd = the target's fd
//                number, events, data, dev, inode, pos} per "tfd:" line of /proc/PID/fdinfo}}.
// A target is recorded by its fd number in the task that dumps the epoll; kcmp(KCMP_EPOLL_TFD)
// checks that this fd of the task is still the very file registered. A target whose fd was
// closed (or reused for another file) after registration fails the dump, as does one fd number
// registered twice (for two files).
// Restore: epoll_create1, then, once every other fd of the task is installed (FdPlan::install
// puts epolls last), EPOLL_CTL_ADD of each target fd with its events and data. Readiness is
// the targets' own state: level-triggered events come back as they were; an edge-triggered
// event already taken before the dump may be reported once more.
// An epoll several tasks hold is the one open file again: a child takes its parent's (FdPlan's
// inherited map); tasks that did not all get it from a parent holding it (siblings, cousins)
// get it from the first fd table holding it, which makes it (handed-files.h).
#pragma once

#include <cstdint>

#include "common/result.h"
#include "common/unique-fd.h"
#include "eventpoll.pb-c.h"
#include "image-dir.h"

namespace criu {

struct FdParms;

[[nodiscard]] Result<> dump_eventpoll(ImageWriter &files, const FdParms &p, uint32_t id);
[[nodiscard]] Result<UniqueFd> open_eventpoll(const EventpollFileEntry &e);
// Registers e's targets in epfd; the task's fds are all installed.
[[nodiscard]] Result<> add_eventpoll_targets(const EventpollFileEntry &e, int epfd);

} // namespace criu
