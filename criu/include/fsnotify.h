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
//
// fanotify groups (fanotify.cc), as CRIU records them:
//   files.img    FileEntry {type FANOTIFY, id, ffy: FanotifyFileEntry {id, flags (f_flags), fown,
//                faflags (fanotify_init's flags, "fanotify flags:" of fdinfo), evflags (its
//                event_f_flags, "event-flags:"), mark: one FanotifyMarkEntry {id, type INODE|MOUNT,
//                mflags (FAN_MARK_* as fdinfo shows them), mask, ignored_mask, s_dev, ie {i_ino,
//                f_handle} for an inode mark, me {mnt_id, path: its mount point, from
//                /proc/PID/mountinfo at dump} for a mount mark} per "fanotify ino:|mnt_id:" line}}.
// Restore: fanotify_init(faflags + FAN_CLOEXEC, evflags), then per mark fanotify_mark(FAN_MARK_ADD
// [| FAN_MARK_MOUNT], mask) on the inode found by its handle (as inotify's watches) or on the
// mount point path, and the ignored mask by a second FAN_MARK_ADD | FAN_MARK_IGNORED_MASK (or
// FAN_MARK_IGNORE when mflags has it). Refused at dump: filesystem marks (FAN_MARK_FILESYSTEM)
// and permission events (any *_PERM / FAN_PRE_ACCESS bit in a mask). Events queued but not read
// at dump are lost (as with inotify, and CRIU).
#pragma once

#include <cstdint>
#include <string_view>

#include "common/result.h"
#include "common/unique-fd.h"
#include "fh.pb-c.h"
#include "fsnotify.pb-c.h"
#include "image-dir.h"

namespace criu {

struct FdParms;

[[nodiscard]] Result<> dump_inotify(ImageWriter &files, const FdParms &p, uint32_t id);
[[nodiscard]] Result<UniqueFd> open_inotify(const InotifyFileEntry &e);
[[nodiscard]] Result<> dump_fanotify(ImageWriter &files, const FdParms &p, uint32_t id);
[[nodiscard]] Result<UniqueFd> open_fanotify(const FanotifyFileEntry &e);

// Shared by both (fsnotify.cc): FhEntry's handle is MAX_HANDLE_SZ bytes in 16 64-bit words.
inline constexpr size_t kHandleWords = FH_ENTRY_SIZES__min_entries;
// The "f_handle:<hex>" of an fdinfo mark line into words (fh.bytes already set).
[[nodiscard]] Result<> parse_fhandle(std::string_view line, FhEntry &fh, uint64_t (&words)[kHandleWords]);
// The inode of handle fh on the filesystem of (kernel-encoded) device s_dev, opened O_PATH
// through a mount of it in /proc/self/mountinfo; ino names it in errors.
[[nodiscard]] Result<UniqueFd> open_fhandle(const FhEntry &fh, uint32_t s_dev, uint64_t ino);

} // namespace criu
