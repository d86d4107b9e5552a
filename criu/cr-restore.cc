// criu restore: read and check every image, fork a child with the task's PID that becomes the
// task (restore-task.cc), trace it, and finish each thread from outside once the restorer traps:
// registers, FPU state and signal mask through ptrace, the bootstrap area unmapped, detach.
#define LOG_PREFIX "restore: "
#include "cr-restore.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <map>
#include <set>

#include "action-scripts.h"
#include "arch-x86.h"
#include "clone-vm.h"
#include "common/log.h"
#include "common/xio.h"
#include "files.h"
#include "netlock.h"
#include "pstree.h"
#include "compel/ptrace.h"
#include "restore-regs.h"
#include "restore.h"
#include "stats.pb-c.h"

namespace criu {

namespace pt = compel::pt;

namespace {

// Every shared anonymous segment the tasks map (System V ones are refused by premap).
ShmemTable shared_segments(const std::vector<TaskPlan> &tasks)
{
	ShmemTable shmem;
	for (const TaskPlan &t : tasks) {
		if (t.images.zombie || t.images.vm_child)
			continue;
		const MmEntry &mm = t.images.mm_entry();
		for (size_t i = 0; i < mm.n_vmas; i++)
			if ((mm.vmas[i]->status & vma_status::kAnonShared) && !(mm.vmas[i]->status & vma_status::kSysvIpc))
				shmem.add(*mm.vmas[i]);
	}
	return shmem;
}

Result<> check_free(const std::vector<TaskPlan> &tasks, const std::vector<PgrpHelper> &helpers)
{
	for (const TaskPlan &p : tasks)
		for (const ThreadImages &t : p.images.threads)
			if (access(fmt::format("/proc/{}", t.tid).c_str(), F_OK) == 0)
				return fail(EEXIST, "PID {} is taken: can't restore task {}", t.tid, p.images.pid);
	for (const PgrpHelper &h : helpers)
		if (access(fmt::format("/proc/{}", h.pid).c_str(), F_OK) == 0)
			return fail(EEXIST, "PID {} is taken: can't restore process group {}", h.pid, h.pid);
	return {};
}

bool traced_by_us(pid_t pid)
{
	auto status = xio::read_file(fmt::format("/proc/{}/status", pid));
	if (!status)
		return false;
	size_t at = status->find("TracerPid:");
	return at != std::string::npos && std::atoi(status->c_str() + at + 10) == getpid();
}

// The tasks being restored: all killed (and the root reaped) unless released.
class Child {
public:
	Child(pid_t pid, const std::vector<TaskPlan> &tasks) : pid_(pid), tasks_(tasks) {}
	Child(const Child &) = delete;
	~Child()
	{
		if (pid_ <= 0)
			return;
		kill(pid_, SIGKILL);
		for (const TaskPlan &t : tasks_)
			if (traced_by_us(t.images.pid)) // a task we made: never a stranger that took its PID
				kill(t.images.pid, SIGKILL);
		waitpid(pid_, nullptr, __WALL);
	}
	pid_t pid() const { return pid_; }
	pid_t release() { return std::exchange(pid_, -1); }

private:
	pid_t pid_;
	const std::vector<TaskPlan> &tasks_;
};

// A zombie being restored: it stops for the signal it kills itself with, then ends as it did.
// A helper (pstree.h) ends the same way, with status 0.
Result<> zombie_event(const char *what, pid_t pid, int st, int want)
{
	if (WIFSTOPPED(st)) {
		ptrace(PTRACE_CONT, pid, 0, (st >> 16) ? 0 : WSTOPSIG(st));
		return {};
	}
	if (st != want)
		return fail(ECHILD, "{} {} ended with wait status {:#x}, not {:#x}", what, pid, st, want);
	pr_info("{} {} ended (wait status {:#x})", what, pid, st);
	return {};
}

// Waits until every thread of every task sits in the restorer's final trap.
// Zombies exit instead, with the wait status they had; helpers with status 0.
Result<> wait_for_traps(const std::vector<TaskPlan> &tasks, const std::vector<PgrpHelper> &helpers)
{
	std::map<pid_t, pid_t> tids;      // thread -> its task
	std::map<pid_t, int> zombies;     // zombie -> the wait status it must end with
	for (const TaskPlan &t : tasks)
		for (const ThreadImages &th : t.images.threads)
			if (t.images.zombie)
				zombies[th.tid] = t.images.exit_status();
			else
				tids[th.tid] = t.images.pid;
	for (const PgrpHelper &h : helpers)
		zombies[h.pid] = 0;
	std::map<pid_t, bool> trapped;
	size_t exited = 0;
	while (trapped.size() < tids.size() || exited < zombies.size()) {
		int st;
		pid_t w = waitpid(-1, &st, __WALL);
		if (w < 0)
			return fail_errno("waiting for the restored tasks");
		auto task = tids.find(w);
		auto zombie = zombies.find(w);
		if (zombie != zombies.end()) {
			bool helper = std::ranges::any_of(helpers, [w](const PgrpHelper &h) { return h.pid == w; });
			TRY(zombie_event(helper ? "helper" : "zombie", w, st, zombie->second));
			exited += WIFEXITED(st) || WIFSIGNALED(st);
			continue;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			if (task == tids.end())
				continue; // a helper thread of a restoring task (the restorer's threads don't exit)
			if (WIFSIGNALED(st))
				return fail(ECHILD, "task {} (thread {}) was killed by signal {} while restoring",
					    task->second, w, WTERMSIG(st));
			return fail(ECHILD, "restoring task {} failed with exit status {} (see the log above)",
				    task->second, WEXITSTATUS(st));
		}
		int event = st >> 16, sig = WSTOPSIG(st);
		if (event == PTRACE_EVENT_CLONE || event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_STOP) {
			ptrace(PTRACE_CONT, w, 0, 0);
			continue;
		}
		siginfo_t si{};
		if (sig == SIGTRAP && task != tids.end() && ptrace(PTRACE_GETSIGINFO, w, 0, &si) == 0 &&
		    si.si_code == SI_KERNEL) {
			trapped[w] = true;
			continue;
		}
		pr_warn("thread {} got signal {} while restoring", w, sig);
		ptrace(PTRACE_CONT, w, 0, sig);
	}
	return {};
}

// What each task reported just before it jumped into its restorer.
Result<std::map<pid_t, Bootstrap>> read_reports(BorrowedFd fd, size_t nr_tasks)
{
	std::map<pid_t, Bootstrap> out;
	while (out.size() < nr_tasks) {
		TaskReport r;
		if (TRY(xio::read_full(fd, xio::as_writable_bytes(&r, sizeof(r)))) != sizeof(r))
			return fail(EIO, "a task did not report its restorer");
		out[r.pid] = r.bootstrap;
	}
	return out;
}

Result<pt::Stop> wait_syscall(pid_t tid, pt::StopKind want)
{
	pt::Stop s = TRY(pt::wait_stop(tid, std::chrono::steady_clock::now() + std::chrono::seconds(10)));
	if (s.kind != want)
		return fail(EIO, "thread {}: expected a {} stop, got {}", tid, pt::kind_name(want), pt::kind_name(s.kind));
	return s;
}

// Runs syscall nr(a0, a1, a2, a3) in the trapped leader from the restorer's gadget (signals
// are all blocked); its return value.
Result<long> syscall_in(pid_t pid, const Bootstrap &b, long nr, uint64_t a0, uint64_t a1, uint64_t a2 = 0,
			uint64_t a3 = 0)
{
	compel::X86Regs r = TRY(pt::get_regs(pid));
	r.rip = b.syscall_gadget;
	r.rax = uint64_t(nr);
	r.rdi = a0;
	r.rsi = a1;
	r.rdx = a2;
	r.r10 = a3;
	r.orig_rax = uint64_t(-1);
	TRY(pt::set_regs(pid, r));
	TRY(pt::resume(pid, PTRACE_SYSCALL, 0));
	TRY(wait_syscall(pid, pt::StopKind::SyscallEntry));
	TRY(pt::resume(pid, PTRACE_SYSCALL, 0));
	pt::Stop s = TRY(wait_syscall(pid, pt::StopKind::SyscallExit));
	return s.rval;
}

Result<> unmap_bootstrap(pid_t pid, const Bootstrap &b)
{
	if (long rval = TRY(syscall_in(pid, b, SYS_munmap, b.start, b.size)); rval != 0)
		return fail(int(-rval), "task {}: can't unmap the restorer at {:#x}", pid, b.start);
	return {};
}

// criu's fds in an fd table children share (CLONE_FILES): closed from outside, in the topmost
// task of the table, once every task using it has trapped (see hidden_fds_closer).
Result<> close_hidden_fds(const TaskPlan &plan, const Bootstrap &b)
{
	pid_t pid = plan.images.pid;
	for (auto [start, len] : fds_to_close(plan.fds.fds()))
		if (long rval = TRY(syscall_in(pid, b, SYS_close_range, start, start + len - 1, 0)); rval != 0)
			return fail(int(-rval), "task {}: can't close criu's fds {}-{}", pid, start, start + len - 1);
	pr_info("task {}: criu's fds closed in the fd table it shares", pid);
	return {};
}

// A task whose process group leader did not exist yet when it restored its session (forked
// later, elsewhere in the tree, or a helper) joins the group now, when every task exists.
Result<> join_group(const TaskImages &task, const Bootstrap &b, const std::set<pid_t> &groups)
{
	if (getpgid(task.pid) == task.pgid || !groups.count(task.pgid)) // --shell-job: criu's group
		return {};
	if (long rval = TRY(syscall_in(task.pid, b, SYS_setpgid, 0, uint64_t(task.pgid))); rval != 0)
		return fail(int(-rval), "task {}: can't join process group {}", task.pid, task.pgid);
	pr_info("task {} joined process group {}", task.pid, task.pgid);
	return {};
}

// Every member has joined: each helper's parent reaps it (a zombie since criu saw it end).
Result<> reap_helpers(const std::vector<PgrpHelper> &helpers, const std::map<pid_t, Bootstrap> &boots)
{
	for (const PgrpHelper &h : helpers) {
		long rval = TRY(syscall_in(h.parent, boots.at(h.parent), SYS_wait4, uint64_t(h.pid), 0, __WALL, 0));
		if (rval != h.pid)
			return fail(rval < 0 ? int(-rval) : ECHILD, "task {}: can't reap the helper {}", h.parent, h.pid);
		pr_info("helper {} reaped by {}", h.pid, h.parent);
	}
	return {};
}

// The thread's registers, FPU state and signal mask, as they were checkpointed.
Result<> finish_thread(const TaskImages &task, const ThreadImages &th, const XsaveLayout &layout)
{
	const CoreEntry &c = th.entry();
	compel::XsaveArea x = TRY(pt::get_xsave(th.tid));
	TRY_CTX(xsave_from_image(*c.thread_info->fpregs, layout, x), "core-{}.img", th.tid);
	TRY(pt::set_xsave(th.tid, x));
	TRY(pt::set_regs(th.tid, regs_from_image(*c.thread_info->gpregs)));
	const ThreadCoreEntry &tc = th.thread_core();
	uint64_t mask = tc.has_blk_sigset ? tc.blk_sigset : task.tc().blk_sigset;
	TRY(pt::set_sigmask(th.tid, mask));
	return {};
}

// A CLONE_VM child (clone-vm.h) runs in its parent's memory: the parent, finished first,
// unmaps the bootstrap area of both; the child's limits are set from here.
Result<> finish(const TaskPlan &plan, const Bootstrap &b, bool close_hidden)
{
	const TaskImages &task = plan.images;
	XsaveLayout layout = XsaveLayout::from_cpuid();
	if (close_hidden)
		TRY(close_hidden_fds(plan, b));
	if (task.vm_child)
		TRY(restore_vm_child_rlimits(task));
	else
		TRY(unmap_bootstrap(task.pid, b));
	for (const ThreadImages &th : task.threads)
		TRY_CTX(finish_thread(task, th, layout), "thread {} of {}", th.tid, task.pid);
	if (task.tc().task_state == kTaskStopped)
		kill(task.pid, SIGSTOP);
	for (const ThreadImages &th : task.threads)
		TRY(pt::detach(th.tid, 0));
	return {};
}

Result<> write_pidfile(const Options &opts, pid_t pid)
{
	std::string path = opts.pidfile;
	if (path[0] != '/')
		path = (opts.work_dir.empty() ? opts.images_dir : opts.work_dir) + "/" + path;
	UniqueFd fd = TRY(xio::open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644));
	std::string s = fmt::format("{}", pid);
	return xio::write_full(fd.borrow(), xio::as_bytes(s.data(), s.size()));
}

using Clock = std::chrono::steady_clock;

uint32_t usec_since(Clock::time_point t)
{
	return uint32_t(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t).count());
}

// stats-restore, as CRIU writes it: times in microseconds and the pages put back.
Result<> write_stats(ImageDir &dir, const std::vector<TaskPlan> &tasks, uint32_t forking, uint32_t total)
{
	RestoreStatsEntry r = RESTORE_STATS_ENTRY__INIT;
	r.forking_time = forking;
	r.restore_time = total;
	r.has_pages_restored = true;
	for (const TaskPlan &t : tasks)
		for (const PageRun &run : t.images.pagemap)
			r.pages_restored += run.nr_pages;
	StatsEntry s = STATS_ENTRY__INIT;
	s.restore = &r;
	ImageWriter w = TRY(dir.create_image(img::Kind::StatsRestore));
	TRY(w.write(s.base));
	return w.close();
}

Result<std::vector<TaskPlan>> plan_tasks(ImageDir &dir, TreeImages &tree)
{
	std::vector<TaskPlan> plans;
	for (TaskImages &t : tree.tasks) {
		FdPlan fds = t.zombie ? FdPlan{} : TRY(FdPlan::load(dir, t.ids_entry().files_id));
		plans.push_back(TaskPlan{std::move(t), std::move(fds)});
	}
	return plans;
}

Result<int> restore(const Options &opts)
{
	Clock::time_point start = Clock::now();
	if (geteuid() != 0)
		return fail(EPERM, "criu restore must run as root");
	ImageDir dir = TRY(ImageDir::open(opts.images_dir, opts.open_key()));
	TreeImages tree = TRY(read_tree_images(dir));
	FileTable files = TRY(FileTable::load(dir));
	std::vector<TaskPlan> tasks = TRY(plan_tasks(dir, tree));
	TRY(verify_sealed_images(dir)); // the rest: every image is authenticated before a task exists
	TRY(load_page_tags(dir, tasks));
	PstreePlan pstree = TRY(plan_pstree(pstree_items(tasks), opts));
	for (TaskPlan &t : tasks)
		if (auto born = pstree.born_sid.find(t.images.pid); born != pstree.born_sid.end())
			t.born_sid = born->second;
	const std::vector<PgrpHelper> &helpers = pstree.helpers;
	TRY(check_free(tasks, helpers));
	TRY(check_shared_ids(tasks));
	TRY(check_vm_children(tasks));
	ShmemTable shmem = shared_segments(tasks);
	int max_fd = 2;
	for (const TaskPlan &t : tasks)
		max_fd = std::max(max_fd, t.fds.max_fd());
	const TaskImages &root = tasks.front().images;
	pr_info("Restoring {} task(s), root {} ({} threads)", tasks.size(), root.pid, root.threads.size());
	TRY(run_action_scripts(opts, ScriptAction::PreRestore));
	// memfds are made here, once: every task inherits them (see memfd.h).
	TRY(files.create_memfds(max_fd));

	int go[2], report[2];
	if (pipe2(go, O_CLOEXEC) || pipe2(report, O_CLOEXEC))
		return fail_errno("pipe");
	UniqueFd go_w(go[1]), report_r(report[0]);
	Clock::time_point forking = Clock::now();
	Child child(TRY(clone_with_pid(root.pid, opts.restore_sibling)), tasks);
	if (child.pid() == 0) {
		close(go[1]);
		close(report[0]);
		restore_task(RestoreContext{opts, dir, files, shmem, tasks, max_fd, helpers}, go[0], report[1]);
	}
	close(go[0]);
	close(report[1]);
	constexpr long kTraceOpts = PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACESYSGOOD |
				    PTRACE_O_EXITKILL | PTRACE_O_SUSPEND_SECCOMP;
	if (ptrace(PTRACE_SEIZE, child.pid(), 0, kTraceOpts))
		return fail_errno("can't trace the restoring task {}", child.pid());
	TRY(xio::write_full(go_w.borrow(), xio::as_bytes("g", 1)));
	uint32_t forking_time = usec_since(forking);

	TRY(wait_for_traps(tasks, helpers));
	TRY(files.seal_memfds()); // every task has mapped its memory: no writable mapping comes later
	size_t live = size_t(std::count_if(tasks.begin(), tasks.end(), [](const TaskPlan &t) { return !t.images.zombie; }));
	size_t vm_kids = size_t(std::count_if(tasks.begin(), tasks.end(), [](const TaskPlan &t) { return t.images.vm_child; }));
	std::map<pid_t, Bootstrap> boots = TRY(read_reports(report_r.borrow(), live - vm_kids));
	for (const TaskPlan &t : tasks) // parents first: a CLONE_VM child uses its parent's restorer
		if (t.images.vm_child)
			boots[t.images.pid] = boots.at(t.images.ppid);
	std::set<pid_t> groups = restored_groups(tasks, helpers);
	for (const TaskPlan &t : tasks)
		if (!t.images.zombie)
			TRY(join_group(t.images, boots.at(t.images.pid), groups));
	TRY(reap_helpers(helpers, boots));
	for (size_t i = 0; i < tasks.size(); i++) // parents first: a shared fd table closes in its top
		if (!tasks[i].images.zombie)
			TRY(finish(tasks[i], boots.at(tasks[i].images.pid), hidden_fds_closer(tasks, i) == HiddenFds::Criu));
	if (opts.tcp_established) // every connection is out of repair mode: the dump's lock goes
		TRY(network_unlock(root.pid));
	TRY(run_action_scripts(opts, ScriptAction::PostRestore, root.pid)); // a failure kills the tasks
	if (auto st = write_stats(dir, tasks, forking_time, usec_since(start)); !st)
		pr_warn("can't write stats-restore: {}", st.error().describe());
	if (!opts.pidfile.empty())
		TRY(write_pidfile(opts, root.pid));
	pr_info("Restore finished successfully; task {} is running", root.pid);
	if (opts.restore_detached || opts.restore_sibling) {
		child.release();
		return 0;
	}
	int st;
	pid_t pid = child.release();
	if (waitpid(pid, &st, 0) < 0)
		return fail_errno("waiting for task {}", pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

} // namespace

int cr_restore(const Options &opts)
{
	auto r = restore(opts);
	if (!r) {
		pr_err("{}", r.error().describe());
		return 1;
	}
	return *r;
}

} // namespace criu
