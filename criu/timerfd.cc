// timerfd files, dump and restore (see timerfd.h).
#define LOG_PREFIX "timerfd: "
#include "timerfd.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <time.h>

#include "anon-inode.h"
#include "common/log.h"
#include "fdinfo.pb-c.h"
#include "files-reg.h"

namespace criu {

namespace {

// <linux/timerfd.h>'s, which can't be included with <sys/timerfd.h>.
constexpr unsigned long kTfdIocSetTicks = _IOW('T', 0, uint64_t);

bool known_clock(uint32_t clockid)
{
	return clockid == CLOCK_REALTIME || clockid == CLOCK_MONOTONIC || clockid == CLOCK_BOOTTIME ||
	       clockid == CLOCK_REALTIME_ALARM || clockid == CLOCK_BOOTTIME_ALARM;
}

} // namespace

Result<> dump_timerfd(ImageWriter &files, const FdParms &p, uint32_t id)
{
	std::string info = TRY(read_fdinfo(p));
	if (!has_fdinfo_field(info, "clockid:") || !has_fdinfo_field(info, "settime flags:"))
		return fail(EINVAL, "{}: no clockid or settime flags in its fdinfo", p.what());
	UniqueFd copy = TRY(steal_fd(p));
	struct itimerspec its {};
	if (timerfd_gettime(copy.get(), &its) < 0)
		return fail_errno("{}: timerfd_gettime", p.what());
	FownEntry fown = FOWN_ENTRY__INIT;
	TimerfdEntry tfe = TIMERFD_ENTRY__INIT;
	tfe.id = id;
	tfe.flags = p.flags;
	tfe.fown = &fown;
	tfe.clockid = uint32_t(fdinfo_field(info, "clockid:", 10));
	tfe.ticks = fdinfo_field(info, "ticks:", 10);
	tfe.settime_flags = uint32_t(fdinfo_field(info, "settime flags:", 8));
	tfe.vsec = uint64_t(its.it_value.tv_sec);
	tfe.vnsec = uint64_t(its.it_value.tv_nsec);
	tfe.isec = uint64_t(its.it_interval.tv_sec);
	tfe.insec = uint64_t(its.it_interval.tv_nsec);
	if (!known_clock(tfe.clockid))
		return fail(ENOTSUP, "{}: timerfd on clock {}: not supported", p.what(), tfe.clockid);
	pr_info("Dumping id {:#x} clockid {} ticks {} settime flags {:#o} it_value({}, {}) it_interval({}, {})\n", id,
		tfe.clockid, tfe.ticks, tfe.settime_flags, tfe.vsec, tfe.vnsec, tfe.isec, tfe.insec);
	FileEntry fe = FILE_ENTRY__INIT;
	fe.type = FD_TYPES__TIMERFD;
	fe.id = id;
	fe.tfd = &tfe;
	return files.write(fe.base);
}

namespace {

// The stored (relative) value as timerfd_settime wants it for e's settime flags.
Result<struct itimerspec> settime_value(const TimerfdEntry &e)
{
	struct itimerspec its {};
	its.it_value = {time_t(e.vsec), long(e.vnsec)};
	its.it_interval = {time_t(e.isec), long(e.insec)};
	bool armed = e.vsec || e.vnsec;
	if (!armed || !(e.settime_flags & TFD_TIMER_ABSTIME))
		return its;
	struct timespec now;
	if (clock_gettime(clockid_t(e.clockid), &now) < 0)
		return fail_errno("timerfd {:#x}: can't read clock {}", e.id, e.clockid);
	its.it_value.tv_sec += now.tv_sec;
	its.it_value.tv_nsec += now.tv_nsec;
	if (its.it_value.tv_nsec >= 1000000000L) {
		its.it_value.tv_sec++;
		its.it_value.tv_nsec -= 1000000000L;
	}
	return its;
}

} // namespace

Result<UniqueFd> open_timerfd(const TimerfdEntry &e)
{
	if (!known_clock(e.clockid) || e.vnsec >= 1000000000 || e.insec >= 1000000000)
		return fail(EINVAL, "timerfd {:#x}: bad clock {} or time", e.id, e.clockid);
	int flags = TFD_CLOEXEC | (e.flags & O_NONBLOCK ? TFD_NONBLOCK : 0);
	UniqueFd fd(timerfd_create(int(e.clockid), flags));
	if (!fd)
		return fail_errno("can't create timerfd {:#x} on clock {}", e.id, e.clockid);
	struct itimerspec its = TRY(settime_value(e));
	if (timerfd_settime(fd.get(), int(e.settime_flags), &its, nullptr) < 0)
		return fail_errno("can't arm timerfd {:#x} (settime flags {:#o})", e.id, e.settime_flags);
	uint64_t ticks = e.ticks;
	if (ticks && ioctl(fd.get(), kTfdIocSetTicks, &ticks) < 0)
		return fail_errno("can't give timerfd {:#x} its {} unread expirations (TFD_IOC_SET_TICKS)", e.id, ticks);
	pr_info("Restored id {:#x} clockid {} ticks {} it_value({}, {}) it_interval({}, {})\n", e.id, e.clockid, ticks,
		e.vsec, e.vnsec, e.isec, e.insec);
	return fd;
}

} // namespace criu
