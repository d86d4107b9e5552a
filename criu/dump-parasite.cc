// Asking a frozen task what only it can tell: signal dispositions, umask, itimers and the like
// through the parasite; per-thread state (sigaltstack, clear_tid address, ...) through system
// calls run in each thread; POSIX timers through timer_gettime in the leader.
#define LOG_PREFIX "dump: "
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <cstring>

#include "common/log.h"
#include "compel/parasite.h"
#include "dump-context.h"

namespace criu {
namespace {

using compel::RemoteArea;
using compel::SeizedProcess;

// A system call in tid whose negative answer is an error naming what was asked.
Result<long> ask(SeizedProcess &p, pid_t tid, const char *what, long nr, const compel::SyscallArgs &args = {})
{
	long ret = TRY_CTX(p.remote_syscall_in(tid, nr, args), "{} in {}", what, tid);
	if (ret < 0)
		return fail(int(-ret), "{} in {}", what, tid);
	return ret;
}

template <typename T> T read_area(const RemoteArea &a)
{
	T v;
	std::memcpy(&v, a.local, sizeof(T));
	return v;
}

struct KernelStack { // stack_t
	uint64_t ss_sp;
	int32_t ss_flags;
	uint32_t pad;
	uint64_t ss_size;
};

Result<ThreadParasiteState> collect_thread(SeizedProcess &p, const RemoteArea &a, pid_t tid)
{
	ThreadParasiteState t{.tid = tid};
	TRY(ask(p, tid, "PR_GET_TID_ADDRESS", __NR_prctl, {PR_GET_TID_ADDRESS, a.remote}));
	t.clear_tid_addr = read_area<uint64_t>(a);
	TRY(ask(p, tid, "sigaltstack", __NR_sigaltstack, {0, a.remote}));
	auto ss = read_area<KernelStack>(a);
	t.ss_sp = ss.ss_sp, t.ss_size = ss.ss_size, t.ss_flags = uint32_t(ss.ss_flags);
	TRY(ask(p, tid, "PR_GET_PDEATHSIG", __NR_prctl, {PR_GET_PDEATHSIG, a.remote}));
	t.pdeath_sig = read_area<uint32_t>(a);
	t.secbits = uint32_t(TRY(ask(p, tid, "PR_GET_SECUREBITS", __NR_prctl, {PR_GET_SECUREBITS})));
	return t;
}

struct KernelItimerspec {
	int64_t interval_sec, interval_nsec, value_sec, value_nsec;
};

Result<std::vector<PosixTimerState>> collect_posix_timers(SeizedProcess &p, const RemoteArea &a)
{
	std::vector<PosixTimerState> out;
	for (const ProcPosixTimer &t : TRY(parse_posix_timers(p.pid()))) {
		PosixTimerState s{.proc = t};
		std::string what = fmt::format("timer_gettime of timer {}", t.id);
		TRY(ask(p, p.pid(), what.c_str(), __NR_timer_gettime, {uint64_t(t.id), a.remote}));
		auto its = read_area<KernelItimerspec>(a);
		s.isec = uint64_t(its.interval_sec), s.insec = uint64_t(its.interval_nsec);
		s.vsec = uint64_t(its.value_sec), s.vnsec = uint64_t(its.value_nsec);
		what = fmt::format("timer_getoverrun of timer {}", t.id);
		s.overrun = uint32_t(TRY(ask(p, p.pid(), what.c_str(), __NR_timer_getoverrun, {uint64_t(t.id)})));
		out.push_back(s);
	}
	return out;
}

Result<TaskParasiteState> collect_with_area(SeizedProcess &p, compel::Parasite &parasite, const RemoteArea &a)
{
	TaskParasiteState s;
	s.sigacts = TRY(parasite.call<parasite_sigacts_args>(PARASITE_CMD_DUMP_SIGACTS));
	s.misc = TRY(parasite.call<parasite_misc_args>(PARASITE_CMD_DUMP_MISC));
	s.brk = uint64_t(TRY(ask(p, p.pid(), "brk", __NR_brk, {0})));
	TRY(ask(p, p.pid(), "PR_GET_CHILD_SUBREAPER", __NR_prctl, {PR_GET_CHILD_SUBREAPER, a.remote}));
	s.child_subreaper = read_area<int32_t>(a) != 0;
	s.posix_timers = TRY(collect_posix_timers(p, a));
	for (pid_t tid : p.threads())
		s.threads.push_back(TRY(collect_thread(p, a, tid)));
	return s;
}

} // namespace

Result<TaskParasiteState> collect_parasite_state(SeizedProcess &p)
{
	pr_info("Dumping task state from inside {} (parasite)", p.pid());
	auto parasite = TRY_CTX(compel::Parasite::load(p), "task {}", p.pid());
	RemoteArea a = TRY_CTX(p.map_shared(4096), "task {}", p.pid());
	auto s = collect_with_area(p, parasite, a);
	auto unmapped = p.unmap_shared(a);
	auto unloaded = parasite.unload();
	if (!s)
		return std::unexpected(std::move(s.error().context(fmt::format("task {}", p.pid()))));
	TRY_CTX(std::move(unmapped), "task {}", p.pid());
	TRY_CTX(std::move(unloaded), "task {}", p.pid());
	return s;
}

} // namespace criu
