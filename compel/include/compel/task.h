// Seizing a running process and acting in its context: compel's host-side core.
//
//   auto p = TRY(compel::SeizedProcess::seize(pid, 5s));   // every thread frozen in a ptrace stop
//   X86Regs r = TRY(p.regs(pid));                           // state as it was when seized
//   long tgid = TRY(p.remote_syscall(__NR_getpid));          // runs inside the task
//   RemoteArea a = TRY(p.map_shared(1 << 20));               // same pages here and there
//   TRY(p.release());                                        // the task continues, none the wiser
//
// A SeizedProcess undoes itself: its destructor releases whatever was not released, and every
// operation that runs code in the task restores the task on its way out, success or failure.
// All calls must come from the thread that called seize() (ptrace ties a tracee to one thread).
#pragma once

#include <sys/types.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/result.h"
#include "compel/regs.h"

namespace criu::compel {

// A MAP_SHARED area mapped in the task at `remote` and in this process at `local`.
struct RemoteArea {
	uint64_t remote = 0;
	void *local = nullptr;
	size_t size = 0;
};

using SyscallArgs = std::array<uint64_t, 6>;

// struct user_desc of set_thread_area(2), decoded.
struct TlsDesc {
	uint32_t entry_number = 0, base_addr = 0, limit = 0;
	bool seg_32bit = false, contents_h = false, contents_l = false, read_exec_only = false;
	bool limit_in_pages = false, seg_not_present = false, usable = false;
};

// One seccomp filter: its BPF program (raw struct sock_filter array) and the flags it was
// installed with (SECCOMP_FILTER_FLAG_LOG, ...; PTRACE_SECCOMP_GET_METADATA).
struct SeccompFilter {
	std::vector<uint8_t> prog;
	uint64_t flags = 0;
};

// struct ptrace_rseq_configuration.
struct RseqConfig {
	uint64_t rseq_abi_pointer = 0;
	uint32_t rseq_abi_size = 0, signature = 0, flags = 0;
};

class SeizedProcess {
public:
	// Seizes and interrupts every thread of pid (re-reading /proc/PID/task until no new thread
	// shows up), waits until each sits in a ptrace stop and saves its registers and signal mask.
	// `timeout` bounds every wait for the task, here and in the remote operations below.
	// A signal that the kernel reports while we wait for the interrupt is delivered (as CRIU does),
	// blocked pending signals stay pending, a task in group stop is remembered as stopped.
	// Seccomp filters are suspended while seized (PTRACE_O_SUSPEND_SECCOMP).
	[[nodiscard]] static Result<SeizedProcess> seize(pid_t pid, std::chrono::milliseconds timeout);

	SeizedProcess(SeizedProcess &&o) noexcept;
	SeizedProcess &operator=(SeizedProcess &&o) noexcept;
	SeizedProcess(const SeizedProcess &) = delete;
	SeizedProcess &operator=(const SeizedProcess &) = delete;
	~SeizedProcess(); // release(), errors logged

	pid_t pid() const { return pid_; }
	std::vector<pid_t> threads() const; // the leader first
	// The process was in (or entered, while seized) a group stop: it stays stopped after release.
	bool stopped() const { return group_stopped_; }
	// The signal that stopped it (SIGSTOP, SIGTSTP, ...), when stopped().
	int stop_signo() const { return stop_signo_; }

	// The state of a thread as seized (not what injected code does to it meanwhile).
	[[nodiscard]] Result<X86Regs> regs(pid_t tid) const;
	[[nodiscard]] Result<SigSet> signal_mask(pid_t tid) const;
	[[nodiscard]] Result<XsaveArea> xsave(pid_t tid);

	// Executes one system call in the leader and returns the kernel's raw result (-errno on
	// failure: the caller decides what an error is). The `syscall` instruction is written over
	// the first word of the first private executable mapping for the duration of the call.
	[[nodiscard]] Result<long> remote_syscall(long nr, const SyscallArgs &args = {});
	// The same in thread tid of the process (for what only that thread can tell: sigaltstack,
	// PR_GET_TID_ADDRESS, ...). The other threads stay frozen meanwhile.
	[[nodiscard]] Result<long> remote_syscall_in(pid_t tid, long nr, const SyscallArgs &args = {});

	// What ptrace tells about a seized thread (inspect.cc).
	// Pending signals, raw 128-byte siginfo_t each: the thread's own, or the process's (shared).
	[[nodiscard]] Result<std::vector<std::array<uint8_t, 128>>> pending_signals(pid_t tid, bool shared) const;
	// GDT TLS slot idx (12..14 on x86_64) as PTRACE_GET_THREAD_AREA returns it.
	[[nodiscard]] Result<TlsDesc> thread_area(pid_t tid, unsigned idx) const;
	// The thread's rseq registration (PTRACE_GET_RSEQ_CONFIGURATION); rseq_abi_pointer 0: none.
	[[nodiscard]] Result<RseqConfig> rseq_config(pid_t tid) const;
	// The thread's seccomp filter number idx (0: the most recent); nullopt past the oldest.
	[[nodiscard]] Result<std::optional<SeccompFilter>> seccomp_filter(pid_t tid, unsigned idx) const;

	// Calls code already placed in the task: rip = entry, rsp = stack_top (a call frame is made:
	// rsp % 16 == 8 at entry), args in rdi, rsi, rdx, rcx, r8, r9; returns the registers when the
	// code executes int3. All signals but SIGTRAP are blocked meanwhile; the registers, the xsave
	// area and the mask are restored afterwards. Refused when the task ignores SIGTRAP (the
	// kernel would reset that disposition when int3 fires).
	[[nodiscard]] Result<X86Regs> run_at(uint64_t entry, uint64_t stack_top, const SyscallArgs &args = {});

	// mmap(MAP_SHARED | MAP_ANONYMOUS, rwx) in the task, mapped here (rw) through
	// /proc/PID/map_files. Areas still mapped at release() are unmapped on both sides.
	[[nodiscard]] Result<RemoteArea> map_shared(size_t size);
	[[nodiscard]] Result<> unmap_shared(const RemoteArea &area);

	// Unmaps our areas, restores what was changed and detaches every thread. A task that was
	// stopped stays stopped. After release (even a failed one) the object is empty.
	[[nodiscard]] Result<> release();

private:
	friend class InfectionGuard;

	struct Thread {
		pid_t tid = 0;
		bool trapped = false;  // sits in a ptrace stop we can act on
		X86Regs regs{};        // as seized
		SigSet sigmask = 0;    // as seized
		XsaveArea xsave;       // as seized, read on demand (empty until then)
	};

	SeizedProcess(pid_t pid, std::chrono::milliseconds timeout) : pid_(pid), timeout_(timeout), released_(false) {}

	using Deadline = std::chrono::steady_clock::time_point;
	Deadline deadline() const { return std::chrono::steady_clock::now() + timeout_; }

	// seize.cc
	Result<> freeze_all();
	Result<bool> seize_thread(pid_t tid);
	Result<bool> wait_trapped(Thread &t, Deadline dl);
	Result<> save_state(Thread &t);
	Result<> detach_thread(Thread &t);
	void release_or_log();
	Thread *find(pid_t tid);
	const Thread *find(pid_t tid) const;
	Thread &leader() { return threads_.front(); }
	Result<> usable() const;
	Result<> has_thread(pid_t tid) const;

	// syscall.cc
	Result<uint64_t> syscall_ip();

	pid_t pid_ = 0;
	std::chrono::milliseconds timeout_{0};
	std::vector<Thread> threads_;
	std::vector<RemoteArea> areas_;
	uint64_t syscall_ip_ = 0;      // 0 until the first remote syscall picks it
	bool group_stopped_ = false;
	int stop_signo_ = 0;
	bool broken_ = false;          // restoring the leader failed: no more remote code
	bool released_ = true;         // empty: moved from or released
};

} // namespace criu::compel
