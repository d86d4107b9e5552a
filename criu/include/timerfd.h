// timerfd files (see anon-inode.h), as CRIU records them:
//   files.img    FileEntry {type TIMERFD, id, tfd: TimerfdEntry {id, flags (f_flags), fown,
//                clockid, ticks (expirations not read yet), settime_flags (TFD_TIMER_ABSTIME,
//                TFD_TIMER_CANCEL_ON_SET), vsec/vnsec = the time left until the next expiry
//                (relative, even for TFD_TIMER_ABSTIME, as CRIU stores it), isec/insec = the
//                interval}}. clockid, ticks and settime flags come from /proc/PID/fdinfo, the
//                value and interval from timerfd_gettime on criu's pidfd_getfd copy.
// Restore (CRIU's way, done in install_one rather than in the restorer): timerfd_create(clockid),
// timerfd_settime(settime_flags, value) with the value made absolute again (+ now on that clock)
// for TFD_TIMER_ABSTIME, then TFD_IOC_SET_TICKS puts back the unread expirations (settime
// resets them). The timer runs on from the restore, so its next expiry is the time it had left
// at dump plus the downtime; expirations during the downtime are not counted.
#pragma once

#include <cstdint>

#include "common/result.h"
#include "common/unique-fd.h"
#include "image-dir.h"
#include "timerfd.pb-c.h"

namespace criu {

struct FdParms;

[[nodiscard]] Result<> dump_timerfd(ImageWriter &files, const FdParms &p, uint32_t id);
[[nodiscard]] Result<UniqueFd> open_timerfd(const TimerfdEntry &e);

} // namespace criu
