#define LOG_PREFIX "compel: "
#include "compel/ptrace.h"

#include <elf.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <pthread.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/log.h"

namespace criu::compel::pt {

const char *kind_name(StopKind k)
{
	switch (k) {
	case StopKind::Running: return "running";
	case StopKind::Exited: return "exited";
	case StopKind::Trap: return "trap-stop";
	case StopKind::Signal: return "signal-delivery-stop";
	case StopKind::SyscallEntry: return "syscall-entry-stop";
	case StopKind::SyscallExit: return "syscall-exit-stop";
	}
	return "?";
}

namespace {

Result<Stop> classify_syscall_stop(pid_t tid)
{
	struct __ptrace_syscall_info info {};
	if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof(info), &info) < 0)
		return fail_errno("PTRACE_GET_SYSCALL_INFO {}", tid);
	if (info.op == PTRACE_SYSCALL_INFO_ENTRY)
		return Stop{.kind = StopKind::SyscallEntry, .nr = long(info.entry.nr)};
	if (info.op == PTRACE_SYSCALL_INFO_EXIT)
		return Stop{.kind = StopKind::SyscallExit, .rval = long(info.exit.rval)};
	return fail(EPROTO, "{} in a syscall stop of unknown kind {}", tid, int(info.op));
}

Result<Stop> classify(pid_t tid, int status)
{
	if (WIFEXITED(status) || WIFSIGNALED(status))
		return Stop{.kind = StopKind::Exited, .sig = status};
	if (!WIFSTOPPED(status))
		return fail(EPROTO, "{}: unexpected wait status {:#x}", tid, status);
	int sig = WSTOPSIG(status);
	int event = status >> 16;
	if (event == PTRACE_EVENT_STOP)
		return Stop{.kind = StopKind::Trap, .sig = sig};
	if (event != 0)
		return fail(EPROTO, "{}: unexpected ptrace event {}", tid, event);
	if (sig == (SIGTRAP | 0x80))
		return classify_syscall_stop(tid);
	siginfo_t si{};
	if (ptrace(PTRACE_GETSIGINFO, tid, nullptr, &si) < 0)
		return fail_errno("PTRACE_GETSIGINFO {}", tid);
	return Stop{.kind = StopKind::Signal, .sig = sig, .si_code = si.si_code};
}

// Sleeps until a SIGCHLD comes (a tracee stopped or exited) or d passes. SIGCHLD reaches us
// only while it is blocked (its default action discards it otherwise): criu blocks it in main()
// before any thread starts. A caller without it blocked simply sleeps d.
void pause_for(std::chrono::microseconds d)
{
	struct timespec ts = {0, long(d.count()) * 1000};
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigset_t cur;
	if (pthread_sigmask(SIG_BLOCK, nullptr, &cur) == 0 && sigismember(&cur, SIGCHLD) == 1)
		sigtimedwait(&chld, nullptr, &ts);
	else
		nanosleep(&ts, nullptr);
}

} // namespace

Result<Stop> wait_stop(pid_t tid, Deadline dl)
{
	// waitpid() has no timeout: poll it, sleeping in between until the next SIGCHLD. Another
	// thread may take that SIGCHLD first, so no sleep is longer than 2 ms.
	std::chrono::microseconds delay{100};
	for (;;) {
		int status = 0;
		pid_t r = waitpid(tid, &status, __WALL | WNOHANG);
		if (r == tid)
			return classify(tid, status);
		if (r < 0 && errno != EINTR)
			return fail_errno("wait for {}", tid);
		if (std::chrono::steady_clock::now() >= dl)
			return fail(ETIMEDOUT, "{} did not stop in time", tid);
		pause_for(delay);
		delay = std::min(delay * 2, std::chrono::microseconds{2000});
	}
}

Result<> seize(pid_t tid)
{
	if (ptrace(PTRACE_SEIZE, tid, nullptr, PTRACE_O_TRACESYSGOOD) < 0)
		return fail_errno("PTRACE_SEIZE {}", tid);
	return {};
}

Result<> suspend_seccomp(pid_t tid)
{
	long opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_SUSPEND_SECCOMP;
	if (ptrace(PTRACE_SETOPTIONS, tid, nullptr, (void *)opts) < 0)
		return fail_errno("suspend seccomp of {}", tid);
	return {};
}

Result<> interrupt(pid_t tid)
{
	if (ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) < 0)
		return fail_errno("PTRACE_INTERRUPT {}", tid);
	return {};
}

Result<> resume(pid_t tid, int request, int sig)
{
	if (ptrace(__ptrace_request(request), tid, nullptr, (void *)(long)sig) < 0)
		return fail_errno("resume {} (request {:#x}, signal {})", tid, request, sig);
	return {};
}

Result<> detach(pid_t tid, int sig)
{
	if (ptrace(PTRACE_DETACH, tid, nullptr, (void *)(long)sig) < 0)
		return fail_errno("PTRACE_DETACH {}", tid);
	return {};
}

Result<X86Regs> get_regs(pid_t tid)
{
	X86Regs r{};
	if (ptrace(PTRACE_GETREGS, tid, nullptr, &r) < 0)
		return fail_errno("PTRACE_GETREGS {}", tid);
	return r;
}

Result<> set_regs(pid_t tid, const X86Regs &regs)
{
	if (ptrace(PTRACE_SETREGS, tid, nullptr, &regs) < 0)
		return fail_errno("PTRACE_SETREGS {}", tid);
	return {};
}

Result<SigSet> get_sigmask(pid_t tid)
{
	SigSet m = 0;
	if (ptrace(PTRACE_GETSIGMASK, tid, sizeof(m), &m) < 0)
		return fail_errno("PTRACE_GETSIGMASK {}", tid);
	return m;
}

Result<> set_sigmask(pid_t tid, SigSet mask)
{
	if (ptrace(PTRACE_SETSIGMASK, tid, sizeof(mask), &mask) < 0)
		return fail_errno("PTRACE_SETSIGMASK {}", tid);
	return {};
}

Result<XsaveArea> get_xsave(pid_t tid)
{
	XsaveArea a;
	a.bytes.resize(xsave_max_size());
	struct iovec iov = {a.bytes.data(), a.bytes.size()};
	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_X86_XSTATE, &iov) < 0)
		return fail_errno("PTRACE_GETREGSET NT_X86_XSTATE {}", tid);
	a.bytes.resize(iov.iov_len); // the kernel says how much it filled
	return a;
}

Result<> set_xsave(pid_t tid, const XsaveArea &area)
{
	struct iovec iov = {const_cast<uint8_t *>(area.bytes.data()), area.bytes.size()};
	if (ptrace(PTRACE_SETREGSET, tid, (void *)NT_X86_XSTATE, &iov) < 0)
		return fail_errno("PTRACE_SETREGSET NT_X86_XSTATE {}", tid);
	return {};
}

Result<uint64_t> peek(pid_t tid, uint64_t addr)
{
	errno = 0;
	long w = ptrace(PTRACE_PEEKDATA, tid, (void *)addr, nullptr);
	if (w == -1 && errno)
		return fail_errno("PTRACE_PEEKDATA {} at {:#x}", tid, addr);
	return uint64_t(w);
}

Result<> poke(pid_t tid, uint64_t addr, uint64_t word)
{
	if (ptrace(PTRACE_POKEDATA, tid, (void *)addr, (void *)word) < 0)
		return fail_errno("PTRACE_POKEDATA {} at {:#x}", tid, addr);
	return {};
}

} // namespace criu::compel::pt
