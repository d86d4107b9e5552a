// Thin ptrace(2) wrappers for compel: errno captured, the thread id in every message, and one
// place that turns a wait status into the kind of stop the tracee is in.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>

#include "common/result.h"
#include "compel/regs.h"

namespace criu::compel::pt {

using Deadline = std::chrono::steady_clock::time_point;

enum class StopKind {
	Running,      // resumed by us, not waited for yet
	Exited,       // exited or killed; already reaped by wait_stop
	Trap,         // PTRACE_EVENT_STOP: interrupt (sig SIGTRAP) or group stop (sig = stop signal)
	Signal,       // signal-delivery-stop
	SyscallEntry, // syscall-enter-stop (PTRACE_SYSCALL)
	SyscallExit,  // syscall-exit-stop (PTRACE_SYSCALL)
};

struct Stop {
	StopKind kind = StopKind::Running;
	int sig = 0;     // Trap/Signal: the signal; Exited: the raw wait status
	int si_code = 0; // Signal: siginfo.si_code
	long nr = -1;    // SyscallEntry: system call number
	long rval = 0;   // SyscallExit: return value
};

// A trap or a signal-delivery-stop happens inside the kernel's get_signal(): registers set there
// are those the thread leaves the kernel with, after the usual syscall-restart fixup. Syscall stops
// are not safe places to put back a thread's original registers.
inline bool is_safe(StopKind k) { return k == StopKind::Trap || k == StopKind::Signal; }

const char *kind_name(StopKind k);

// Waits (polling, bounded by dl) for the next state change of a traced thread.
[[nodiscard]] Result<Stop> wait_stop(pid_t tid, Deadline dl);

[[nodiscard]] Result<> seize(pid_t tid); // PTRACE_SEIZE with PTRACE_O_TRACESYSGOOD
[[nodiscard]] Result<> interrupt(pid_t tid);
// Seccomp filters don't apply to the thread while we trace it (our syscalls must not be killed).
[[nodiscard]] Result<> suspend_seccomp(pid_t tid);
[[nodiscard]] Result<> resume(pid_t tid, int request, int sig); // PTRACE_CONT or PTRACE_SYSCALL
[[nodiscard]] Result<> detach(pid_t tid, int sig); // sig is delivered from a signal-delivery-stop

[[nodiscard]] Result<X86Regs> get_regs(pid_t tid);
[[nodiscard]] Result<> set_regs(pid_t tid, const X86Regs &regs);
[[nodiscard]] Result<SigSet> get_sigmask(pid_t tid);
[[nodiscard]] Result<> set_sigmask(pid_t tid, SigSet mask);
[[nodiscard]] Result<XsaveArea> get_xsave(pid_t tid);
[[nodiscard]] Result<> set_xsave(pid_t tid, const XsaveArea &area);

// One word of the tracee's memory; works on read-only and executable mappings (FOLL_FORCE).
[[nodiscard]] Result<uint64_t> peek(pid_t tid, uint64_t addr);
[[nodiscard]] Result<> poke(pid_t tid, uint64_t addr, uint64_t word);

} // namespace criu::compel::pt
