// Freezing every thread of a process in a ptrace stop, and letting it go again.
#define LOG_PREFIX "compel: "
#include <dirent.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "common/log.h"
#include "common/scoped-handle.h"
#include "common/xio.h"
#include "compel/task.h"
#include "compel/ptrace.h"

namespace criu::compel {
namespace {

struct DirTraits {
	static DIR *invalid() { return nullptr; }
	static void close(DIR *d) { closedir(d); }
};
using ScopedDir = ScopedHandle<DIR *, DirTraits>;

// Thread ids listed in /proc/PID/task, the leader first when present.
Result<std::vector<pid_t>> list_threads(pid_t pid)
{
	std::string path = fmt::format("/proc/{}/task", pid);
	ScopedDir dir(opendir(path.c_str()));
	if (!dir)
		return fail_errno("open {}", path);
	std::vector<pid_t> tids;
	while (struct dirent *de = readdir(dir.get())) {
		if (de->d_name[0] == '.')
			continue;
		tids.push_back(pid_t(strtol(de->d_name, nullptr, 10)));
	}
	std::sort(tids.begin(), tids.end());
	std::stable_partition(tids.begin(), tids.end(), [pid](pid_t t) { return t == pid; });
	return tids;
}

// The state letter of /proc/PID/task/TID/stat, or 0 when the thread is gone.
char thread_state(pid_t pid, pid_t tid)
{
	auto stat = xio::read_file(fmt::format("/proc/{}/task/{}/stat", pid, tid));
	if (!stat)
		return 0;
	size_t paren = stat->rfind(')');
	return paren != std::string::npos && paren + 2 < stat->size() ? (*stat)[paren + 2] : 0;
}

// The "Seccomp:" mode of /proc/PID/task/TID/status (0: none, 1: strict, 2: filter).
Result<int> seccomp_mode(pid_t pid, pid_t tid)
{
	std::string status = TRY(xio::read_file(fmt::format("/proc/{}/task/{}/status", pid, tid)));
	size_t at = status.find("\nSeccomp:");
	if (at == std::string::npos)
		return 0; // kernel without CONFIG_SECCOMP
	return int(strtol(status.c_str() + at + 9, nullptr, 10));
}

} // namespace

Result<SeizedProcess> SeizedProcess::seize(pid_t pid, std::chrono::milliseconds timeout)
{
	if (pid <= 0 || pid == getpid())
		return fail(EINVAL, "can't seize pid {}", pid);
	SeizedProcess p(pid, timeout);
	TRY_CTX(p.freeze_all(), "seize {}", pid);
	for (Thread &t : p.threads_) {
		TRY_CTX(p.save_state(t), "seize {}", pid);
		if (TRY_CTX(seccomp_mode(pid, t.tid), "seize {}", pid) != 0) // our syscalls must pass
			TRY_CTX(pt::suspend_seccomp(t.tid), "seize {}", pid);
	}
	pr_info("seized {} ({} threads{})", pid, p.threads_.size(), p.group_stopped_ ? ", stopped" : "");
	return p;
}

// Seizes the threads listed in /proc/PID/task and waits for them to trap, again and again
// until a listing shows no thread we don't hold: a thread can only be created by a running one.
Result<> SeizedProcess::freeze_all()
{
	Deadline dl = deadline();
	for (;;) {
		std::vector<pid_t> tids = TRY(list_threads(pid_));
		if (tids.empty() || tids.front() != pid_)
			return fail(ESRCH, "no thread group leader");
		size_t first_new = threads_.size();
		for (pid_t tid : tids)
			if (!find(tid))
				TRY(seize_thread(tid));
		if (threads_.size() == first_new)
			return {};
		for (size_t i = first_new; i < threads_.size();) {
			if (TRY(wait_trapped(threads_[i], dl)))
				i++;
			else
				threads_.erase(threads_.begin() + long(i));
		}
	}
}

// False when the thread turned out to be exiting: nothing to freeze.
Result<bool> SeizedProcess::seize_thread(pid_t tid)
{
	auto r = pt::seize(tid);
	if (!r) {
		char st = thread_state(pid_, tid);
		if (tid != pid_ && (st == 0 || st == 'Z' || st == 'X'))
			return false;
		if (st == 'Z')
			return fail(r.error().code(), "{} is a zombie", tid);
		return std::unexpected(std::move(r.error()));
	}
	threads_.push_back(Thread{.tid = tid});
	auto ir = pt::interrupt(tid);
	if (!ir && ir.error().code() != ESRCH) // ESRCH: it is exiting, the wait will tell
		return std::unexpected(std::move(ir.error()));
	return true;
}

// Waits for the trap our PTRACE_INTERRUPT asked for. False when the thread exited instead.
Result<bool> SeizedProcess::wait_trapped(Thread &t, Deadline dl)
{
	for (;;) {
		pt::Stop s = TRY_CTX(pt::wait_stop(t.tid, dl), "freeze {}", t.tid);
		switch (s.kind) {
		case pt::StopKind::Exited:
			if (t.tid == pid_)
				return fail(ESRCH, "leader exited while being seized (status {:#x})", s.sig);
			pr_debug("{}: thread {} exited while being seized", pid_, t.tid);
			return false;
		case pt::StopKind::Trap:
			t.trapped = true;
			if (s.sig != SIGTRAP) {
				pr_info("{}: thread {} is in group stop (signal {})", pid_, t.tid, s.sig);
				group_stopped_ = true, stop_signo_ = s.sig;
			}
			return true;
		case pt::StopKind::Signal:
			// The thread dequeued a signal before reaching our trap. Let it take the signal
			// (handler frame or default action), as it would have without us; the interrupt
			// stays pending and traps it right after.
			pr_debug("{}: passing signal {} on to {}", pid_, s.sig, t.tid);
			TRY(pt::resume(t.tid, PTRACE_CONT, s.sig));
			continue;
		default:
			return fail(EPROTO, "{}: unexpected {} while freezing", t.tid, pt::kind_name(s.kind));
		}
	}
}

Result<> SeizedProcess::save_state(Thread &t)
{
	t.regs = TRY(pt::get_regs(t.tid));
	t.sigmask = TRY(pt::get_sigmask(t.tid));
	return {};
}

// A thread must sit in a ptrace stop to be detached. A thread that is seized but not trapped
// (seizing failed half-way, injected code could not be stopped) gets one more interrupt and wait.
Result<> SeizedProcess::detach_thread(Thread &t)
{
	int sig = 0;
	if (!t.trapped) {
		(void)pt::interrupt(t.tid);
		pt::Stop s = TRY_CTX(pt::wait_stop(t.tid, deadline()),
				     "{} stays traced until it stops or this process exits", t.tid);
		if (s.kind == pt::StopKind::Exited)
			return {};
		if (s.kind == pt::StopKind::Signal)
			sig = s.sig; // a real signal we must not swallow
	}
	TRY(pt::detach(t.tid, sig));
	t.trapped = false;
	return {};
}

Result<> SeizedProcess::release()
{
	if (released_)
		return {};
	Result<> res;
	auto keep_first = [&res](Result<> r) {
		if (!r && res)
			res = std::move(r);
	};
	while (!areas_.empty())
		keep_first(unmap_shared(areas_.back())); // erases the area even when it fails
	if (broken_)
		keep_first(fail(EIO, "{}: leader left with injected state after a failed restore", pid_));
	for (auto it = threads_.rbegin(); it != threads_.rend(); ++it) // the leader last
		keep_first(detach_thread(*it));
	threads_.clear();
	released_ = true;
	if (res)
		pr_info("released {}", pid_);
	return res;
}

SeizedProcess::SeizedProcess(SeizedProcess &&o) noexcept { *this = std::move(o); }

SeizedProcess &SeizedProcess::operator=(SeizedProcess &&o) noexcept
{
	if (this == &o)
		return *this;
	release_or_log();
	pid_ = o.pid_;
	timeout_ = o.timeout_;
	threads_ = std::move(o.threads_);
	areas_ = std::move(o.areas_);
	syscall_ip_ = o.syscall_ip_;
	group_stopped_ = o.group_stopped_;
	stop_signo_ = o.stop_signo_;
	broken_ = o.broken_;
	released_ = std::exchange(o.released_, true);
	return *this;
}

SeizedProcess::~SeizedProcess() { release_or_log(); }

void SeizedProcess::release_or_log()
{
	auto r = release();
	if (!r)
		pr_err("release {}: {}", pid_, r.error().describe());
}

SeizedProcess::Thread *SeizedProcess::find(pid_t tid)
{
	auto it = std::find_if(threads_.begin(), threads_.end(), [tid](const Thread &t) { return t.tid == tid; });
	return it == threads_.end() ? nullptr : &*it;
}

const SeizedProcess::Thread *SeizedProcess::find(pid_t tid) const
{
	return const_cast<SeizedProcess *>(this)->find(tid);
}

Result<> SeizedProcess::usable() const
{
	if (released_)
		return fail(EINVAL, "process {} is not seized", pid_);
	if (broken_)
		return fail(EIO, "process {}: a previous restore failed", pid_);
	return {};
}

std::vector<pid_t> SeizedProcess::threads() const
{
	std::vector<pid_t> tids;
	for (const Thread &t : threads_)
		tids.push_back(t.tid);
	return tids;
}

Result<X86Regs> SeizedProcess::regs(pid_t tid) const
{
	const Thread *t = find(tid);
	if (!t)
		return fail(ESRCH, "{} is not a seized thread of {}", tid, pid_);
	return t->regs;
}

Result<SigSet> SeizedProcess::signal_mask(pid_t tid) const
{
	const Thread *t = find(tid);
	if (!t)
		return fail(ESRCH, "{} is not a seized thread of {}", tid, pid_);
	return t->sigmask;
}

Result<XsaveArea> SeizedProcess::xsave(pid_t tid)
{
	Thread *t = find(tid);
	if (!t)
		return fail(ESRCH, "{} is not a seized thread of {}", tid, pid_);
	if (t->xsave.bytes.empty())
		t->xsave = TRY(pt::get_xsave(tid));
	return t->xsave;
}

} // namespace criu::compel
