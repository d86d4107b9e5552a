// inotify instances (see anon-inode.h), as CRIU records them:
//   files.img    FileEntry {type INOTIFY, id, ify: InotifyFileEntry {id, flags (f_flags), fown,
//                wd: one InotifyWdEntry {id, i_ino, mask, ignored_mask, s_dev (the kernel's
//                encoding, major << 20 | minor), wd, f_handle {bytes, type, handle: the handle
//                bytes in 16 64-bit words}} per "inotify wd:" line of /proc/PID/fdinfo}}.
// Restore: inotify_init1, then for each watch in wd order: a mount of s_dev (from
// /proc/self/mountinfo) as the mount fd of open_by_handle_at(f_handle, O_PATH), which finds the
// watched inode whatever its name now; INOTIFY_IOC_SETNEXTWD(wd) makes the kernel hand out that
// same wd, and inotify_add_watch("/proc/self/fd/N" of the handle's fd, mask) adds the watch;
// any other wd fails the restore. Events queued but not read at dump are lost (as with CRIU).
// fanotify is refused at dump (kFdKinds: "not supported yet").
#pragma once

#include <cstdint>

#include "common/result.h"
#include "common/unique-fd.h"
#include "fsnotify.pb-c.h"
#include "image-dir.h"

namespace criu {

struct FdParms;

[[nodiscard]] Result<> dump_inotify(ImageWriter &files, const FdParms &p, uint32_t id);
[[nodiscard]] Result<UniqueFd> open_inotify(const InotifyFileEntry &e);

} // namespace criu
