// eventfd files (see anon-inode.h), as CRIU records them:
//   files.img    FileEntry {type EVENTFD, id, efd: EventfdFileEntry {id, flags, fown, counter}}.
//                flags are the f_flags of /proc/PID/fdinfo (O_RDWR, O_NONBLOCK, O_CLOEXEC), plus
//                EFD_SEMAPHORE (1, a bit f_flags of an eventfd never has: it is always O_RDWR)
//                when fdinfo says "eventfd-semaphore: 1" (newer kernels say it, 6.18 does; on one
//                that doesn't, a semaphore eventfd restores as a plain one). counter is
//                "eventfd-count" (hex in fdinfo).
// Restore: eventfd(0, EFD_SEMAPHORE if set | EFD_NONBLOCK if O_NONBLOCK), then the counter
// written in (all 64 bits of it).
#pragma once

#include <cstdint>

#include "common/result.h"
#include "common/unique-fd.h"
#include "image-dir.h"
#include "eventfd.pb-c.h"

namespace criu {

struct FdParms;

[[nodiscard]] Result<> dump_eventfd(ImageWriter &files, const FdParms &p, uint32_t id);
[[nodiscard]] Result<UniqueFd> open_eventfd(const EventfdFileEntry &e);

} // namespace criu
