// signalfd files (see anon-inode.h), as CRIU records them:
//   files.img    FileEntry {type SIGNALFD, id, sgfd: SignalfdEntry {id, flags, fown, sigmask}}:
//                flags the f_flags of /proc/PID/fdinfo (O_NONBLOCK, O_CLOEXEC), sigmask its
//                "sigmask" line (bit N-1 for signal N).
// Restore: signalfd(-1, sigmask, SFD_NONBLOCK if O_NONBLOCK). Pending signals are the task's
// (restored with it), so a signal pending at dump is read through the signalfd after restore.
#pragma once

#include <cstdint>

#include "common/result.h"
#include "common/unique-fd.h"
#include "image-dir.h"
#include "signalfd.pb-c.h"

namespace criu {

struct FdParms;

[[nodiscard]] Result<> dump_signalfd(ImageWriter &files, const FdParms &p, uint32_t id);
[[nodiscard]] Result<UniqueFd> open_signalfd(const SignalfdEntry &e);

} // namespace criu
