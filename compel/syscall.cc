// Running code in the leader of a seized process: one system call, or code placed in its memory.
//
// Between operations every thread sits in a stop inside the kernel's signal delivery path (the
// interrupt trap of seize, or the SIGTRAP of an int3). Registers put back there are what the
// thread returns to user space with, after the kernel's own syscall-restart fixup: a thread
// caught in read() or nanosleep() restarts it when it resumes, exactly as after any signal.
// From a syscall stop the thread only passes through that fixup if something happens to set
// TIF_SIGPENDING (PTRACE_DETACH does, today), so an operation always ends with the leader brought
// back into a trap (PTRACE_INTERRUPT, then PTRACE_CONT out of the syscall stop) before its
// registers are restored. Injected code runs with orig_rax = -1: the kernel never "restarts" it.
#define LOG_PREFIX "compel: "
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#include <cinttypes>
#include <cstdio>
#include <string>

#include "common/log.h"
#include "common/xio.h"
#include "compel/task.h"
#include "compel/ptrace.h"

namespace criu::compel {
namespace {

constexpr uint64_t kSyscallWord = 0xcccccccccccc050full; // syscall; int3 x 6
constexpr uint64_t kFlagTF = 0x100, kFlagDF = 0x400;

// The start of the first private executable mapping that is not one of the kernel's ([vdso]...).
Result<uint64_t> find_exec_area(pid_t pid)
{
	std::string maps = TRY(xio::read_file(fmt::format("/proc/{}/maps", pid)));
	size_t pos = 0;
	while (pos < maps.size()) {
		size_t eol = maps.find('\n', pos);
		std::string line = maps.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
		pos = eol == std::string::npos ? maps.size() : eol + 1;
		unsigned long long start, end;
		char perms[5] = {};
		int path_at = 0;
		if (sscanf(line.c_str(), "%llx-%llx %4s %*s %*s %*s %n", &start, &end, perms, &path_at) < 3)
			continue;
		if (perms[2] == 'x' && perms[3] == 'p' && line[size_t(path_at)] != '[')
			return uint64_t(start);
	}
	return fail(ENOENT, "no private executable mapping in {}", pid);
}

Result<bool> ignores_signal(pid_t pid, int sig)
{
	std::string status = TRY(xio::read_file(fmt::format("/proc/{}/status", pid)));
	size_t at = status.find("\nSigIgn:");
	if (at == std::string::npos)
		return fail(EPROTO, "no SigIgn in /proc/{}/status", pid);
	SigSet ign = strtoull(status.c_str() + at + 8, nullptr, 16);
	return (ign & sig_bit(sig)) != 0;
}

} // namespace

// Owns the leader while it runs code we chose. finish() - or the destructor, on an error path -
// brings it back into a trap and restores its registers, signal mask, xsave area (when asked)
// and the code word it overwrote. If that fails the process is marked broken.
class InfectionGuard {
public:
	explicit InfectionGuard(SeizedProcess &p) : InfectionGuard(p, p.leader()) {}
	InfectionGuard(SeizedProcess &p, SeizedProcess::Thread &t) : p_(p), t_(t) {}
	InfectionGuard(const InfectionGuard &) = delete;
	InfectionGuard &operator=(const InfectionGuard &) = delete;
	~InfectionGuard()
	{
		if (done_)
			return;
		auto r = finish();
		if (!r)
			pr_err("{}: restoring after a failed operation: {}", p_.pid_, r.error().describe());
	}

	void restore_xsave() { xsave_ = true; }

	Result<> poke_code(uint64_t addr, uint64_t word)
	{
		code_orig_ = TRY(pt::peek(t_.tid, addr));
		code_addr_ = addr;
		TRY(pt::poke(t_.tid, addr, word));
		code_saved_ = true;
		return {};
	}

	// Sets the mask and registers (orig_rax = -1: no restart; no single-step, DF clear) and runs.
	Result<> start(X86Regs regs, SigSet mask, int request)
	{
		touched_ = true;
		regs.orig_rax = uint64_t(-1);
		regs.flags &= ~(kFlagTF | kFlagDF);
		TRY(pt::set_sigmask(t_.tid, mask));
		TRY(pt::set_regs(t_.tid, regs));
		return resume(request, 0);
	}

	Result<> resume(int request, int sig)
	{
		TRY(pt::resume(t_.tid, request, sig));
		state_ = pt::StopKind::Running;
		return {};
	}

	// Waits for a stop of kind `want`. Steps over stray traps (a leftover interrupt, group-stop
	// notifications) and passes SIGSTOP on: it can't be blocked and must not be lost.
	Result<pt::Stop> wait_for(pt::StopKind want, int request)
	{
		for (;;) {
			pt::Stop s = TRY(pt::wait_stop(t_.tid, dl_));
			state_ = s.kind;
			if (s.kind == pt::StopKind::Signal && s.sig == SIGSTOP) {
				TRY(resume(request, SIGSTOP));
				continue;
			}
			if (s.kind == want)
				return s;
			if (s.kind == pt::StopKind::Trap) {
				if (s.sig != SIGTRAP)
					p_.group_stopped_ = true, p_.stop_signo_ = s.sig;
				TRY(resume(request, 0));
				continue;
			}
			if (s.kind == pt::StopKind::Exited)
				return fail(ESRCH, "{} died running injected code (status {:#x})", t_.tid, s.sig);
			return fail(EFAULT, "{}: {} (signal {}, si_code {}) at rip {:#x} in injected code", t_.tid,
				    pt::kind_name(s.kind), s.sig, s.si_code, current_rip());
		}
	}

	Result<> finish()
	{
		done_ = true;
		auto r = to_trap();
		if (r)
			r = restore();
		if (!r) {
			p_.broken_ = true;
			t_.trapped = pt::is_safe(state_);
		}
		return r;
	}

private:
	uint64_t current_rip() const
	{
		auto r = pt::get_regs(t_.tid);
		return r ? r->rip : 0;
	}

	// From wherever the leader is, into a trap or a signal-delivery-stop, with a fresh time budget.
	Result<> to_trap()
	{
		pt::Deadline dl = p_.deadline();
		while (!pt::is_safe(state_)) {
			switch (state_) {
			case pt::StopKind::SyscallEntry: {
				X86Regs r = TRY(pt::get_regs(t_.tid));
				r.orig_rax = uint64_t(-1); // skip the call
				TRY(pt::set_regs(t_.tid, r));
				[[fallthrough]];
			}
			case pt::StopKind::SyscallExit:
				TRY(pt::interrupt(t_.tid));
				TRY(pt::resume(t_.tid, PTRACE_CONT, 0));
				break;
			case pt::StopKind::Running:
				TRY(pt::interrupt(t_.tid));
				break;
			default:
				return fail(ESRCH, "{} is gone", t_.tid);
			}
			pt::Stop s = TRY(pt::wait_stop(t_.tid, dl));
			state_ = s.kind;
			if (s.kind == pt::StopKind::Signal && s.sig == SIGSTOP) {
				TRY(pt::resume(t_.tid, PTRACE_CONT, SIGSTOP)); // becomes a group-stop trap
				state_ = pt::StopKind::Running;
			} else if (s.kind == pt::StopKind::Trap && s.sig != SIGTRAP) {
				p_.group_stopped_ = true, p_.stop_signo_ = s.sig;
			}
		}
		return {};
	}

	Result<> restore()
	{
		Result<> res;
		auto keep_first = [&res](Result<> r) {
			if (!r && res)
				res = std::move(r);
		};
		if (touched_) {
			keep_first(pt::set_regs(t_.tid, t_.regs));
			keep_first(pt::set_sigmask(t_.tid, t_.sigmask));
		}
		if (xsave_)
			keep_first(pt::set_xsave(t_.tid, t_.xsave));
		if (code_saved_)
			keep_first(pt::poke(t_.tid, code_addr_, code_orig_));
		return res;
	}

	SeizedProcess &p_;
	SeizedProcess::Thread &t_;
	pt::Deadline dl_ = p_.deadline();
	pt::StopKind state_ = pt::StopKind::Trap; // the leader waits in a safe stop between operations
	uint64_t code_addr_ = 0, code_orig_ = 0;
	bool code_saved_ = false;
	bool touched_ = false;
	bool xsave_ = false;
	bool done_ = false;
};

Result<uint64_t> SeizedProcess::syscall_ip()
{
	if (!syscall_ip_)
		syscall_ip_ = TRY(find_exec_area(pid_));
	return syscall_ip_;
}

Result<long> SeizedProcess::remote_syscall(long nr, const SyscallArgs &a)
{
	return remote_syscall_in(pid_, nr, a);
}

Result<long> SeizedProcess::remote_syscall_in(pid_t tid, long nr, const SyscallArgs &a)
{
	TRY(usable());
	Thread *t = find(tid);
	if (!t)
		return fail(ESRCH, "{} is not a seized thread of {}", tid, pid_);
	if (t->regs.cs != kUserCs64)
		return fail(ENOTSUP, "{} is not a 64-bit task (cs {:#x})", tid, t->regs.cs);
	uint64_t ip = TRY_CTX(syscall_ip(), "remote syscall {} in {}", nr, tid);

	InfectionGuard g(*this, *t);
	auto run = [&]() -> Result<long> {
		TRY(g.poke_code(ip, kSyscallWord));
		X86Regs r = t->regs;
		r.rip = ip;
		r.rax = uint64_t(nr);
		r.rdi = a[0], r.rsi = a[1], r.rdx = a[2], r.r10 = a[3], r.r8 = a[4], r.r9 = a[5];
		TRY(g.start(r, ~SigSet(0), PTRACE_SYSCALL));
		pt::Stop in = TRY(g.wait_for(pt::StopKind::SyscallEntry, PTRACE_SYSCALL));
		if (in.nr != nr)
			return fail(EPROTO, "entered syscall {} instead", in.nr);
		TRY(g.resume(PTRACE_SYSCALL, 0));
		pt::Stop out = TRY(g.wait_for(pt::StopKind::SyscallExit, PTRACE_SYSCALL));
		TRY(g.finish());
		return out.rval;
	};
	long ret = TRY_CTX(run(), "remote syscall {} in {}", nr, tid);
	pr_debug("{}: remote syscall {} = {}", tid, nr, ret);
	return ret;
}

Result<X86Regs> SeizedProcess::run_at(uint64_t entry, uint64_t stack_top, const SyscallArgs &a)
{
	TRY(usable());
	Thread &t = leader();
	if (t.regs.cs != kUserCs64)
		return fail(ENOTSUP, "{} is not a 64-bit task (cs {:#x})", pid_, t.regs.cs);
	if (TRY(ignores_signal(pid_, SIGTRAP)))
		return fail(ENOTSUP, "{} ignores SIGTRAP: int3 would reset that disposition", pid_);
	if (t.xsave.bytes.empty())
		t.xsave = TRY_CTX(pt::get_xsave(t.tid), "run code in {}", pid_);

	InfectionGuard g(*this);
	g.restore_xsave();
	auto run = [&]() -> Result<X86Regs> {
		X86Regs r = t.regs;
		r.rip = entry;
		r.rsp = (stack_top & ~uint64_t(15)) - 8; // as if called
		r.rax = 0;
		r.rdi = a[0], r.rsi = a[1], r.rdx = a[2], r.rcx = a[3], r.r8 = a[4], r.r9 = a[5];
		TRY(g.start(r, ~sig_bit(SIGTRAP), PTRACE_CONT));
		pt::Stop s = TRY(g.wait_for(pt::StopKind::Signal, PTRACE_CONT));
		if (s.sig != SIGTRAP || s.si_code != SI_KERNEL)
			return fail(EFAULT, "signal {} (si_code {}) instead of int3", s.sig, s.si_code);
		X86Regs out = TRY(pt::get_regs(t.tid));
		TRY(g.finish());
		return out;
	};
	return TRY_CTX(run(), "run code at {:#x} in {}", entry, pid_);
}

} // namespace criu::compel
