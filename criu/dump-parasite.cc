// Asking a frozen task what only it can tell: signal dispositions, umask, itimers, brk and the
// leader's per-thread state through the parasite (two commands); the other threads' state
// (sigaltstack, clear_tid address, ...) through system calls run in each; POSIX timers through
// timer_gettime in the leader. Remote system calls use the parasite's argument area.
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

// A thread other than the leader: its per-thread state by system calls run in it.
Result<ThreadParasiteState> collect_thread(SeizedProcess &p, const RemoteArea &a, pid_t tid)
{
	ThreadParasiteState t{.tid = tid};
	TRY(ask(p, tid, "PR_GET_TID_ADDRESS", __NR_prctl, {PR_GET_TID_ADDRESS, a.remote}));
	t.clear_tid_addr = read_area<uint64_t>(a);
	TRY(ask(p, tid, "sigaltstack", __NR_sigaltstack, {0, a.remote}));
	auto ss = read_area<parasite_stack>(a);
	t.ss_sp = ss.sp, t.ss_size = ss.size, t.ss_flags = uint32_t(ss.flags);
	TRY(ask(p, tid, "PR_GET_PDEATHSIG", __NR_prctl, {PR_GET_PDEATHSIG, a.remote}));
	t.pdeath_sig = read_area<uint32_t>(a);
	t.secbits = uint32_t(TRY(ask(p, tid, "PR_GET_SECUREBITS", __NR_prctl, {PR_GET_SECUREBITS})));
	return t;
}

// The leader's per-thread state, as DUMP_MISC read it from inside.
ThreadParasiteState leader_state(pid_t tid, const parasite_misc_args &m)
{
	return ThreadParasiteState{.tid = tid,
				   .clear_tid_addr = m.tid_address,
				   .ss_sp = m.altstack.sp,
				   .ss_size = m.altstack.size,
				   .ss_flags = uint32_t(m.altstack.flags),
				   .pdeath_sig = uint32_t(m.pdeath_sig),
				   .secbits = uint32_t(m.securebits)};
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

Result<TaskParasiteState> collect_with_parasite(SeizedProcess &p, compel::Parasite &parasite)
{
	TaskParasiteState s;
	s.sigacts = TRY(parasite.call<parasite_sigacts_args>(PARASITE_CMD_DUMP_SIGACTS));
	s.misc = TRY(parasite.call<parasite_misc_args>(PARASITE_CMD_DUMP_MISC));
	s.brk = s.misc.brk;
	s.child_subreaper = s.misc.child_subreaper != 0;
	RemoteArea a = parasite.args_area(); // free between commands
	s.posix_timers = TRY(collect_posix_timers(p, a));
	for (pid_t tid : p.threads())
		s.threads.push_back(tid == p.pid() ? leader_state(tid, s.misc) : TRY(collect_thread(p, a, tid)));
	return s;
}

} // namespace

Result<TaskParasiteState> collect_parasite_state(SeizedProcess &p)
{
	pr_info("Dumping task state from inside {} (parasite)", p.pid());
	auto parasite = TRY_CTX(compel::Parasite::load(p), "task {}", p.pid());
	auto s = collect_with_parasite(p, parasite);
	auto unloaded = parasite.unload();
	if (!s)
		return std::unexpected(std::move(s.error().context(fmt::format("task {}", p.pid()))));
	TRY_CTX(std::move(unloaded), "task {}", p.pid());
	return s;
}

} // namespace criu
