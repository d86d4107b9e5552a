// criu's child becoming the task: memory, files, fs, signal dispositions, limits, then the
// restorer blob (see restore.h).
#define LOG_PREFIX "restore: "
#include <fcntl.h>
#include <linux/sched.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <linux/seccomp.h>
#include <sys/rseq.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <map>
#include <set>
#include <cstring>

#include "common/log.h"
#include "clone-vm.h"
#include "common/xio.h"
#include "handed-files.h"
#include "files.h"
#include "options.h"
#include "restore-mem.h"
#include "restore.h"
#include "restorer-abi.h"
#include "restorer-blob.h"

namespace criu {

namespace {

constexpr size_t kAlign = 64;

size_t align_up(size_t v, size_t a) { return (v + a - 1) & ~(a - 1); }

// Allocations inside the bootstrap area, which is mapped at its final address in this process:
// a pointer here is the address the restorer sees.
class Arena {
public:
	Arena(uint64_t base, size_t size) : base_(base), size_(size) {}
	// Zeroed room for n T's; running out is a bug in args_size().
	template <typename T> T *alloc(size_t n = 1)
	{
		off_ = align_up(off_, kAlign);
		size_t bytes = n * sizeof(T);
		if (off_ + bytes > size_) {
			pr_err("bootstrap arguments overflow: {} + {} > {}", off_, bytes, size_);
			_exit(1);
		}
		T *p = reinterpret_cast<T *>(base_ + off_);
		std::memset(static_cast<void *>(p), 0, bytes);
		off_ += bytes;
		return p;
	}
	uint64_t addr(const void *p) const { return reinterpret_cast<uint64_t>(p); }

private:
	uint64_t base_;
	size_t size_;
	size_t off_ = 0;
};

size_t nr_siginfo(const SignalQueueEntry *q) { return q ? q->n_signals : 0; }

// What a task's threads and process-wide tables take in the arguments.
size_t task_args_size(const TaskImages &t)
{
	size_t n = t.threads.size() * sizeof(rst_thread) + nr_siginfo(t.tc().signals_s) * RST_SIGINFO_SIZE +
		   (t.tc().timers ? t.tc().timers->n_posix : 0) * sizeof(rst_posix_timer) + 4 * kAlign;
	for (const ThreadImages &th : t.threads) {
		n += nr_siginfo(th.thread_core().signals_p) * RST_SIGINFO_SIZE +
		     th.thread_core().creds->n_groups * 4 + 4 * kAlign;
		for (const SeccompFilter *f : t.seccomp_chain(th).value_or(std::vector<const SeccompFilter *>{}))
			n += f->filter.len + sizeof(rst_seccomp_filter) + 2 * kAlign;
	}
	return n;
}

// The task's CLONE_VM children (clone-vm.h) are made by its restorer: their arguments too.
size_t args_size(const TaskImages &t, size_t nr_fds, const std::vector<const TaskPlan *> &vm_kids)
{
	size_t n = sizeof(rst_args) + (t.mm_entry().n_vmas + 8) * sizeof(rst_move) + 16 * sizeof(rst_range) +
		   (nr_fds + 2) * sizeof(rst_range) + t.mm_entry().n_mm_saved_auxv * 8 + task_args_size(t) +
		   nr_fds * sizeof(rst_fd_move);
	for (const TaskPlan *kid : vm_kids)
		n += sizeof(rst_vm_child) + task_args_size(kid->images) + (kid->fds.fds().size() + 2) * sizeof(rst_range) +
		     6 * kAlign;
	return n + 16 * kAlign;
}

size_t blob_size() { return align_up(restorer_blob_mem_size, 4096); }

// One for each thread of the task and of its CLONE_VM children.
size_t nr_stacks(const TaskImages &t, const std::vector<const TaskPlan *> &vm_kids)
{
	size_t n = t.threads.size();
	for (const TaskPlan *kid : vm_kids)
		n += kid->images.threads.size();
	return n;
}

// [blob][arguments][a stack for each thread, then for each thread of each CLONE_VM child]
size_t bootstrap_size(const TaskImages &t, size_t nr_fds, const std::vector<const TaskPlan *> &vm_kids)
{
	return blob_size() + align_up(args_size(t, nr_fds, vm_kids), 4096) +
	       nr_stacks(t, vm_kids) * RST_THREAD_STACK_SIZE;
}

[[noreturn]] void die(const Error &e)
{
	pr_err("{}", e.describe());
	_exit(1);
}

template <typename T> T must(Result<T> r)
{
	if (!r)
		die(r.error());
	return std::move(*r);
}
inline void must(Result<> r)
{
	if (!r)
		die(r.error());
}

uint64_t copy_siginfo(Arena &a, const SignalQueueEntry *q, uint32_t &n)
{
	n = uint32_t(nr_siginfo(q));
	if (!n)
		return 0;
	auto *dst = a.alloc<uint8_t>(n * RST_SIGINFO_SIZE);
	for (uint32_t i = 0; i < n; i++) {
		const ProtobufCBinaryData &b = q->signals[i]->siginfo;
		std::memcpy(dst + i * RST_SIGINFO_SIZE, b.data, std::min<size_t>(b.len, RST_SIGINFO_SIZE));
	}
	return a.addr(dst);
}

Result<> fill_creds(Arena &a, const CredsEntry &c, rst_creds &out, pid_t tid)
{
	if (c.n_cap_inh != 2 || c.n_cap_prm != 2 || c.n_cap_eff != 2 || c.n_cap_bnd != 2)
		return fail(EINVAL, "core-{}.img: capability sets are not two words", tid);
	out = rst_creds{c.uid, c.gid, c.euid, c.egid, c.suid, c.sgid, c.fsuid, c.fsgid};
	for (int i = 0; i < 2; i++) {
		out.cap_inh[i] = c.cap_inh[i], out.cap_prm[i] = c.cap_prm[i];
		out.cap_eff[i] = c.cap_eff[i], out.cap_bnd[i] = c.cap_bnd[i];
		out.cap_amb[i] = c.n_cap_amb == 2 ? c.cap_amb[i] : 0;
	}
	out.no_new_privs = c.has_no_new_privs && c.no_new_privs;
	out.secbits = c.secbits;
	out.ngroups = uint32_t(c.n_groups);
	auto *groups = a.alloc<uint32_t>(c.n_groups);
	std::memcpy(groups, c.groups, c.n_groups * 4);
	out.groups = a.addr(groups);
	std::string last = TRY(xio::read_file("/proc/sys/kernel/cap_last_cap"));
	out.last_cap = uint32_t(std::stoul(last));
	return {};
}

Result<> fill_thread(Arena &a, const TaskImages &task, const ThreadImages &th, rst_thread &t, uint64_t stack_top)
{
	const CoreEntry &c = th.entry();
	const ThreadCoreEntry &tc = th.thread_core();
	t.tid = th.tid;
	t.pid = task.pid;
	t.stack_top = stack_top;
	t.siginfo = copy_siginfo(a, tc.signals_p, t.nr_siginfo);
	t.ss_flags = SS_DISABLE;
	if (tc.sas && !(tc.sas->ss_flags & SS_DISABLE)) {
		t.ss_sp = tc.sas->ss_sp, t.ss_size = tc.sas->ss_size;
		t.ss_flags = int32_t(tc.sas->ss_flags & ~SS_ONSTACK);
	}
	t.clear_tid_addr = c.thread_info->clear_tid_addr;
	t.robust_list = tc.futex_rla, t.robust_len = tc.futex_rla_len;
	if (tc.rseq_entry && tc.rseq_entry->rseq_abi_pointer) {
		t.rseq_addr = tc.rseq_entry->rseq_abi_pointer;
		t.rseq_len = tc.rseq_entry->rseq_abi_size;
		t.rseq_sig = tc.rseq_entry->signature;
	}
	const char *comm = tc.comm ? tc.comm : (c.tc ? c.tc->comm : "");
	std::strncpy(t.comm, comm, sizeof(t.comm) - 1);
	if (tc.has_seccomp_mode)
		t.seccomp_mode = int32_t(tc.seccomp_mode);
	std::vector<const SeccompFilter *> chain = TRY(task.seccomp_chain(th));
	auto *filters = a.alloc<rst_seccomp_filter>(chain.size());
	for (size_t i = 0; i < chain.size(); i++) {
		auto *insns = a.alloc<uint8_t>(chain[i]->filter.len);
		std::memcpy(insns, chain[i]->filter.data, chain[i]->filter.len);
		// TSYNC and NEW_LISTENER make no sense per thread: every thread gets its own chain here.
		uint32_t flags = chain[i]->has_flags ? chain[i]->flags & (SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW) : 0;
		filters[i] = {a.addr(insns), uint32_t(chain[i]->filter.len / 8), flags};
	}
	t.seccomp = a.addr(filters);
	t.nr_seccomp = uint32_t(chain.size());
	return fill_creds(a, *tc.creds, t.creds, th.tid);
}

void fill_itimer(rst_itimer &out, const ItimerEntry *e)
{
	if (e)
		out = rst_itimer{int64_t(e->isec), int64_t(e->iusec), int64_t(e->vsec), int64_t(e->vusec)};
}

rst_posix_timer posix_timer(const PosixTimerEntry &e)
{
	return rst_posix_timer{int32_t(e.it_id), int32_t(e.clock_id), int32_t(e.si_signo), int32_t(e.it_sigev_notify),
			       e.has_notify_thread_id ? e.notify_thread_id : 0, 0, e.sival_ptr, int64_t(e.isec),
			       int64_t(e.insec), int64_t(e.vsec), int64_t(e.vnsec)};
}

template <typename T> uint64_t copy_table(Arena &a, const std::vector<T> &v)
{
	T *dst = a.alloc<T>(v.size());
	std::copy(v.begin(), v.end(), dst);
	return a.addr(dst);
}

// close_fds: the restorer closes every fd but the task's (criu's log, the report pipe, the exe
// file...) at the end; not in a shared fd table (see hidden_fds_closer).
Result<rst_args *> fill_args(const TaskPlan &plan, const MemRestore &mem, Arena &a, int exe_fd, bool close_fds)
{
	const TaskImages &task = plan.images;
	const MmEntry &mm = task.mm_entry();
	rst_args *args = a.alloc<rst_args>();
	args->bootstrap = {mem.bootstrap(), mem.bootstrap_size()};
	args->pid = task.pid;
	args->log_fd = log::fd();

	auto *threads = a.alloc<rst_thread>(task.threads.size());
	uint64_t stacks = mem.bootstrap() + mem.bootstrap_size();
	for (size_t i = 0; i < task.threads.size(); i++)
		TRY(fill_thread(a, task, task.threads[i], threads[i], stacks - i * RST_THREAD_STACK_SIZE));
	args->threads = a.addr(threads);
	args->nr_threads = uint32_t(task.threads.size());
	args->shared_siginfo = copy_siginfo(a, task.tc().signals_s, args->nr_shared_siginfo);

	std::vector<rst_move> moves = TRY(mem.moves(task));
	args->moves = copy_table(a, moves);
	args->nr_moves = uint32_t(moves.size());

	rst_mm_map &m = args->mm;
	m = rst_mm_map{mm.mm_start_code, mm.mm_end_code, mm.mm_start_data, mm.mm_end_data, mm.mm_start_brk,
		       mm.mm_brk, mm.mm_start_stack, mm.mm_arg_start, mm.mm_arg_end, mm.mm_env_start,
		       mm.mm_env_end};
	auto *auxv = a.alloc<uint64_t>(mm.n_mm_saved_auxv);
	std::copy(mm.mm_saved_auxv, mm.mm_saved_auxv + mm.n_mm_saved_auxv, auxv);
	m.auxv = a.addr(auxv);
	m.auxv_size = uint32_t(mm.n_mm_saved_auxv * 8);
	m.exe_fd = uint32_t(exe_fd);

	const TaskCoreEntry &tc = task.tc();
	if (tc.timers) {
		fill_itimer(args->itimers[0], tc.timers->real);
		fill_itimer(args->itimers[1], tc.timers->virt);
		fill_itimer(args->itimers[2], tc.timers->prof);
	}
	if (tc.timers && tc.timers->n_posix) {
		auto *pt = a.alloc<rst_posix_timer>(tc.timers->n_posix);
		for (size_t i = 0; i < tc.timers->n_posix; i++)
			pt[i] = posix_timer(*tc.timers->posix[i]);
		args->posix_timers = a.addr(pt);
		args->nr_posix_timers = uint32_t(tc.timers->n_posix);
	}
	const ThreadCoreEntry &leader = task.threads.front().thread_core();
	args->pdeath_sig = int32_t(leader.has_pdeath_sig ? leader.pdeath_sig : 0);
	args->dumpable = mm.has_dumpable ? mm.dumpable : 1;
	args->child_subreaper = tc.has_child_subreaper && tc.child_subreaper;

	std::vector<rst_range> closing;
	if (close_fds)
		for (auto [start, len] : fds_to_close(plan.fds.fds()))
			closing.push_back({start, len});
	args->close_fds = copy_table(a, closing);
	args->nr_close = uint32_t(closing.size());
	return args;
}

// The CLONE_VM children the restorer creates, each on the stack after the task's threads'.
// A child with an fd table of its own (at most one, own_fds) takes a copy of the task's, with
// its fds in place (see stage_fds), and closes every other fd before its trap.
Result<int> lift(int fd, int above);

// A child with an fs of its own gets its root and cwd on fds of the task's, above every task's
// fd (closed with criu's others), and its umask.
Result<> fill_own_fs(const RestoreContext &ctx, const TaskImages &kid, rst_vm_child &c)
{
	const FsEntry &fs = kid.fs_entry();
	UniqueFd root = TRY_CTX(ctx.files.open_reg(fs.root_id, O_RDONLY | O_DIRECTORY), "root of {}", kid.pid);
	UniqueFd cwd = TRY_CTX(ctx.files.open_reg(fs.cwd_id, O_RDONLY | O_DIRECTORY), "cwd of {}", kid.pid);
	c.own_fs = 1;
	c.root_fd = TRY(lift(root.release(), ctx.max_fd));
	c.cwd_fd = TRY(lift(cwd.release(), ctx.max_fd));
	c.umask = fs.has_umask ? fs.umask : 022;
	return {};
}

// The child's threads, each on the next free stack below stacks_top.
Result<> fill_vm_child_threads(Arena &a, const TaskImages &kid, rst_vm_child &c, uint64_t stacks_top, size_t &stack)
{
	TRY(fill_thread(a, kid, kid.threads.front(), c.thread, stacks_top - stack++ * RST_THREAD_STACK_SIZE));
	auto *others = a.alloc<rst_thread>(kid.threads.size() - 1);
	for (size_t j = 1; j < kid.threads.size(); j++)
		TRY(fill_thread(a, kid, kid.threads[j], others[j - 1], stacks_top - stack++ * RST_THREAD_STACK_SIZE));
	c.threads = a.addr(others);
	c.nr_threads = uint32_t(kid.threads.size());
	return {};
}

void fill_vm_child_timers(Arena &a, const TaskImages &kid, rst_vm_child &c)
{
	const TaskTimersEntry *timers = kid.tc().timers;
	if (!timers)
		return;
	fill_itimer(c.itimers[0], timers->real);
	fill_itimer(c.itimers[1], timers->virt);
	fill_itimer(c.itimers[2], timers->prof);
	auto *pt = a.alloc<rst_posix_timer>(timers->n_posix);
	for (size_t j = 0; j < timers->n_posix; j++)
		pt[j] = posix_timer(*timers->posix[j]);
	c.posix_timers = a.addr(pt);
	c.nr_posix_timers = uint32_t(timers->n_posix);
}

Result<> fill_vm_children(Arena &a, const RestoreContext &ctx, const std::vector<const TaskPlan *> &kids,
			  const TaskPlan *own_fds, const MemRestore &mem, rst_args *args)
{
	auto *out = a.alloc<rst_vm_child>(kids.size());
	size_t stack = args->nr_threads; // the next free one
	for (size_t i = 0; i < kids.size(); i++) {
		const TaskImages &kid = kids[i]->images;
		rst_vm_child &c = out[i];
		TRY(fill_vm_child_threads(a, kid, c, mem.bootstrap() + mem.bootstrap_size(), stack));
		uint64_t share = shared_with_parent(ctx.tasks, size_t(kids[i] - ctx.tasks.data()));
		c.clone_flags = CLONE_VM | CLONE_SIGHAND | share;
		if (!(share & CLONE_FS))
			TRY(fill_own_fs(ctx, kid, c));
		std::vector<rst_range> closing;
		if (kids[i] == own_fds)
			for (auto [start, len] : fds_to_close(own_fds->fds.fds()))
				closing.push_back({start, len});
		c.close_fds = copy_table(a, closing);
		c.nr_close = uint32_t(closing.size());
		c.shared_siginfo = copy_siginfo(a, kid.tc().signals_s, c.nr_shared_siginfo);
		fill_vm_child_timers(a, kid, c);
		const ThreadCoreEntry &tc = kid.threads.front().thread_core();
		c.pdeath_sig = int32_t(tc.has_pdeath_sig ? tc.pdeath_sig : 0);
		c.child_subreaper = kid.tc().has_child_subreaper && kid.tc().child_subreaper;
		pr_info("{}: creates {} in its memory (CLONE_VM)", args->pid, kid.pid);
	}
	args->vm_children = a.addr(out);
	args->nr_vm_children = uint32_t(kids.size());
	return {};
}

// Signal dispositions, with the task's own sa_restorer (glibc's sigaction would put its own).
Result<> restore_sigactions(const TaskCoreEntry &tc)
{
	struct KernelSigaction {
		uint64_t handler, flags, restorer, mask;
	};
	std::vector<int> sigs; // the order of the image: every signal but SIGKILL and SIGSTOP
	for (int sig = 1; sig <= 64; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigs.push_back(sig);
	if (tc.n_sigactions > sigs.size())
		return fail(EINVAL, "core-{}.img: {} signal actions", getpid(), tc.n_sigactions);
	for (size_t i = 0; i < tc.n_sigactions; i++) {
		int sig = sigs[i];
		const SaEntry &e = *tc.sigactions[i];
		KernelSigaction ka{e.sigaction, e.flags, e.restorer, e.mask};
		if (syscall(SYS_rt_sigaction, sig, &ka, nullptr, 8) < 0)
			return fail_errno("core-{}.img: can't restore the action of signal {}", getpid(), sig);
	}
	return {};
}

Result<> restore_rlimits(const TaskCoreEntry &tc)
{
	if (!tc.rlimits)
		return {};
	for (size_t r = 0; r < tc.rlimits->n_rlimits; r++) {
		rlimit lim{tc.rlimits->rlimits[r]->cur, tc.rlimits->rlimits[r]->max};
		if (setrlimit(__rlimit_resource(r), &lim) < 0)
			pr_warn("can't set resource limit {} to {}/{}: {}", r, lim.rlim_cur, lim.rlim_max,
				strerror(errno));
	}
	return {};
}

// glibc registered rseq for this thread; the area is about to be unmapped.
Result<> unregister_rseq()
{
	if (__rseq_size == 0)
		return {};
	auto *area = reinterpret_cast<char *>(__builtin_thread_pointer()) + __rseq_offset;
	for (unsigned len : {32u, __rseq_size})
		if (syscall(SYS_rseq, area, len, RSEQ_FLAG_UNREGISTER, RSEQ_SIG) == 0)
			return {};
	return fail_errno("can't unregister criu's rseq area");
}

Result<> restore_fs(const FileTable &files, const TaskImages &task)
{
	const FsEntry &fs = task.fs_entry();
	UniqueFd root = TRY_CTX(files.open_reg(fs.root_id, O_RDONLY | O_DIRECTORY), "root of {}", task.pid);
	UniqueFd cwd = TRY_CTX(files.open_reg(fs.cwd_id, O_RDONLY | O_DIRECTORY), "cwd of {}", task.pid);
	struct stat here, there;
	if (stat("/", &here) || fstat(root.get(), &there))
		return fail_errno("can't stat the root directory");
	if (here.st_dev != there.st_dev || here.st_ino != there.st_ino) {
		if (fchdir(root.get()) || chroot("."))
			return fail_errno("can't change root of {}", task.pid);
	}
	if (fchdir(cwd.get()))
		return fail_errno("can't change the working directory of {}", task.pid);
	if (fs.has_umask)
		umask(fs.umask);
	return {};
}

// An fd of ours that must survive FdPlan::install: moved above every fd of the task.
Result<int> lift(int fd, int above)
{
	int moved = fcntl(fd, F_DUPFD_CLOEXEC, above + 1);
	if (moved < 0)
		return fail_errno("can't move fd {} above {}", fd, above);
	close(fd);
	return moved;
}

[[noreturn]] void jump(uint64_t entry, uint64_t stack_top, rst_args *args)
{
	__asm__ volatile("mov %0, %%rsp\n\tjmp *%1\n" : : "r"(stack_top), "r"(entry), "D"(args) : "memory");
	__builtin_unreachable();
}

// Session and process group: the task's own (it led them), or criu's when it shares them.
Result<> restore_session(const Options &opts, const TaskImages &t)
{
	if (t.sid == t.pid) {
		if (setsid() < 0)
			return fail_errno("can't make {} a session leader", t.pid);
	} else if (t.sid != getsid(0)) {
		if (!opts.shell_job)
			return fail(EINVAL, "task {} is in session {}, which is not in the checkpoint (use --shell-job)",
				    t.pid, t.sid);
		pr_warn("task {}: joins criu's session {} instead of {} (--shell-job)", t.pid, getsid(0), t.sid);
	}
	if (t.pgid == t.pid && getpgrp() != t.pid && setpgid(0, 0) < 0)
		return fail_errno("can't make {} a process group leader", t.pid);
	if (t.pgid != t.pid && t.pgid != getpgrp() && setpgid(0, t.pgid) < 0) // its leader comes later:
		pr_info("task {}: joins process group {} at the end", t.pid, t.pgid); // see join_group()
	return {};
}

// criu's own fds (log, report pipe, terminal, images directory) go above every task's fds.
struct OwnFds {
	int report = -1, tty = -1;
};

OwnFds lift_own_fds(const RestoreContext &ctx, int report_fd)
{
	OwnFds own;
	own.report = must(lift(report_fd, ctx.max_fd));
	log::set_fd(must(lift(dup(log::fd()), ctx.max_fd)));
	own.tty = isatty(STDIN_FILENO) ? must(lift(dup(STDIN_FILENO), ctx.max_fd)) : -1;
	must(ctx.dir.move_fd_above(ctx.max_fd));
	return own;
}

// The parent's files this task shares (an fd of the parent's it inherited, for each file id
// both have), moved above every task's fds before this task installs its own.
std::map<uint32_t, int> inherited_files(const RestoreContext &ctx, const TaskPlan &plan, const TaskPlan *parent)
{
	std::map<uint32_t, int> out;
	if (!parent)
		return out;
	std::map<uint32_t, int> mine = plan.fds.files_by_id();
	for (auto [id, fd] : parent->fds.files_by_id())
		if (mine.count(id))
			out[id] = must(lift(dup(fd), ctx.max_fd));
	return out;
}

[[noreturn]] void become_task(const RestoreContext &ctx, size_t index, OwnFds own, const TaskPlan *parent);

// A CLONE_VM child with an fd table of its own is made by the task's restorer, which can only
// give it a copy of the task's table: the task's fds go above every fd (the restorer puts them
// back once the child is made: the moves returned), and the child's are installed at their
// numbers. Its parent's children are forked already (they inherited the task's table).
Result<std::vector<rst_fd_move>> stage_fds(const RestoreContext &ctx, const TaskPlan &plan, const TaskPlan &kid,
					   OwnFds own)
{
	std::map<uint32_t, int> inherited = inherited_files(ctx, kid, &plan);
	std::vector<rst_fd_move> moves;
	for (int fd : plan.fds.fds()) {
		int flags = fcntl(fd, F_GETFD);
		int high = fcntl(fd, F_DUPFD_CLOEXEC, ctx.max_fd + 1);
		if (flags < 0 || high < 0)
			return fail_errno("task {}: can't move fd {} above {}", plan.images.pid, fd, ctx.max_fd);
		close(fd);
		moves.push_back({high, fd, (flags & FD_CLOEXEC) ? uint32_t(O_CLOEXEC) : 0u, 0});
	}
	TRY_CTX(kid.fds.install(ctx.files, ctx.opts.shell_job, own.tty, inherited), "fds of {}", kid.images.pid);
	TRY(ctx.files.fds_installed(kid.images.pid));
	TRY_CTX(kid.fds.receive_handed(ctx.files), "fds of {}", kid.images.pid); // after its own sends
	if (!(shared_at_fork(ctx.tasks, size_t(&plan - ctx.tasks.data())) & CLONE_FILES)) {
		std::map<int, int> moved;
		for (const rst_fd_move &m : moves)
			moved[m.to] = m.from;
		TRY_CTX(plan.fds.receive_handed(ctx.files, moved), "fds of {}", plan.images.pid);
	}
	pr_info("task {}: fds of {} in place for its restorer to copy", plan.images.pid, kid.images.pid);
	return moves;
}

// Forks every child of tasks[index] with its PID; each becomes its task.
// A zombie comes back by ending as it did: its name, session and group, then its exit status
// or death by its signal (without a core file, which the first death may have left).
// A zombie can't join its group at the end (join_group): a group whose leader has died exists
// by now (its helper was forked first, see pstree.h), but one led by a task forked elsewhere in
// the tree may not yet. That task makes it first thing and never waits for a zombie to end, so
// the zombie waits for it (criu's group, under --shell-job, is there already).
void join_zombie_group(const RestoreContext &ctx, const TaskImages &task)
{
	if (!restored_groups(ctx.tasks, ctx.helpers).count(task.pgid))
		return;
	for (int i = 0; i < 10000 && getpgrp() != task.pgid && setpgid(0, task.pgid) < 0; i++)
		usleep(1000);
	if (getpgrp() != task.pgid)
		die(Error(errno, fmt::format("zombie {} can't join process group {}", task.pid, task.pgid)));
}

[[noreturn]] void become_zombie(const RestoreContext &ctx, const TaskImages &task)
{
	must(restore_session(ctx.opts, task));
	join_zombie_group(ctx, task);
	prctl(PR_SET_NAME, task.tc().comm);
	int status = task.exit_status();
	if (WIFEXITED(status))
		_exit(WEXITSTATUS(status));
	rlimit none{0, 0};
	setrlimit(RLIMIT_CORE, &none);
	int sig = WTERMSIG(status);
	signal(sig, SIG_DFL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	raise(sig);
	sigprocmask(SIG_UNBLOCK, &set, nullptr);
	_exit(128 + sig); // not reached
}

// Once the zombie children are dead (criu, their tracer, has seen them end first), the SIGCHLD
// they sent this task is taken back: the task had received it before the checkpoint. A session
// helper comes before the zombies it forked: they are this task's children once it has ended.
void await_zombies(const std::vector<pid_t> &zombies)
{
	for (pid_t pid : zombies) {
		siginfo_t si{};
		if (waitid(P_PID, id_t(pid), &si, WEXITED | WNOWAIT | __WALL) < 0)
			die(Error(errno, fmt::format("zombie {} did not end", pid)));
	}
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	timespec now{};
	if (!zombies.empty())
		sigtimedwait(&chld, nullptr, &now);
}

// A helper (see pstree.h), forked by tasks[index]: leads its group, or its session and forks
// the task's children in it, then exits.
[[noreturn]] void become_helper(const RestoreContext &ctx, size_t index, OwnFds own, const PgrpHelper &h)
{
	if (!h.session)
		_exit(setpgid(0, 0) == 0 ? 0 : 1);
	if (setsid() < 0)
		die(Error(errno, fmt::format("helper {}: can't make a session", h.pid)));
	const TaskPlan &plan = ctx.tasks[index];
	std::vector<pid_t> zombies;
	for (size_t i = index + 1; i < ctx.tasks.size(); i++) {
		const TaskImages &child = ctx.tasks[i].images;
		if (child.ppid != plan.images.pid || ctx.tasks[i].birth_session() != h.pid)
			continue;
		pid_t pid = must(clone_with_pid(child.pid, false));
		if (pid == 0 && child.zombie)
			become_zombie(ctx, child);
		if (pid == 0)
			become_task(ctx, i, own, &plan); // reparented to tasks[index], a subreaper, when we exit
		if (child.zombie)
			zombies.push_back(pid);
	}
	await_zombies(zombies); // seen by criu: reparented as zombies, they signal tasks[index]
	_exit(0);
}

// The zombies a session helper h forks (children of tasks[index] in h's session).
bool forks_zombies(const RestoreContext &ctx, size_t index, const PgrpHelper &h)
{
	for (size_t i = index + 1; i < ctx.tasks.size(); i++) {
		const TaskImages &t = ctx.tasks[i].images;
		if (t.ppid == ctx.tasks[index].images.pid && ctx.tasks[i].birth_session() == h.pid && t.zombie)
			return true;
	}
	return false;
}

// Forks the children of tasks[index] that no session helper forks: those born in session sid,
// or (sid 0) the others.
void fork_own_children(const RestoreContext &ctx, size_t index, OwnFds own, const std::set<pid_t> &sessions,
		       pid_t sid, std::vector<pid_t> &zombies)
{
	const TaskPlan &plan = ctx.tasks[index];
	for (size_t i = index + 1; i < ctx.tasks.size(); i++) {
		const TaskImages &child = ctx.tasks[i].images;
		pid_t birth = ctx.tasks[i].birth_session();
		if (child.ppid != plan.images.pid)
			continue;
		if (child.zombie && sessions.count(birth))
			zombies.push_back(child.pid); // after its helper
		if (sessions.count(birth) || (sid && birth != sid) || (!sid && plan.born_sid && birth == plan.born_sid) ||
		    files_sibling(ctx.tasks, i) || child.vm_child)
			continue; // a CLONE_VM child is made by this task's restorer
		pid_t pid = must(clone_with_pid(child.pid, false, shared_with_parent(ctx.tasks, i)));
		if (pid == 0 && child.zombie)
			become_zombie(ctx, child);
		if (pid == 0)
			become_task(ctx, i, own, &plan);
		if (child.zombie)
			zombies.push_back(pid);
	}
}

// The siblings of tasks[index] that share its fd table, which their parent does not: forked
// here, in that table (CLONE_PARENT | CLONE_FILES, see files_sibling).
void fork_siblings(const RestoreContext &ctx, size_t index, OwnFds own)
{
	for (size_t i = index + 1; i < ctx.tasks.size(); i++) {
		if (files_sibling(ctx.tasks, i) != index)
			continue;
		const TaskImages &t = ctx.tasks[i].images;
		if (must(clone_with_pid(t.pid, true, shared_at_fork(ctx.tasks, i))) != 0)
			continue;
		for (const TaskPlan &p : ctx.tasks)
			if (p.images.pid == t.ppid)
				become_task(ctx, i, own, &p);
		die(Error(EINVAL, fmt::format("task {}: its parent {} is not in the tree", t.pid, t.ppid)));
	}
}

// A task born in a session it left (born_sid) forks its children in that session first, then
// calls setsid(); then its helpers (pstree.h) and its other children.
void fork_children(const RestoreContext &ctx, size_t index, OwnFds own)
{
	const TaskPlan &plan = ctx.tasks[index];
	std::set<pid_t> sessions; // led by a helper: it forks this task's children in them
	std::vector<pid_t> zombies;
	if (plan.born_sid) {
		fork_own_children(ctx, index, own, sessions, plan.born_sid, zombies);
		must(restore_session(ctx.opts, plan.images));
		must(ctx.files.fds_installed(plan.images.pid));
	}
	for (const PgrpHelper &h : ctx.helpers) {
		if (h.parent != plan.images.pid)
			continue;
		pid_t pid = must(clone_helper(h));
		if (pid == 0)
			become_helper(ctx, index, own, h);
		if (!h.session && setpgid(pid, pid) < 0 && getpgid(pid) != pid) // the group exists now
			die(Error(errno, fmt::format("task {}: can't make helper {} a group leader", plan.images.pid, pid)));
		if (h.session)
			sessions.insert(h.pid);
		if (h.session && forks_zombies(ctx, index, h))
			zombies.push_back(pid);
	}
	fork_own_children(ctx, index, own, sessions, 0, zombies);
	fork_siblings(ctx, index, own);
	await_zombies(zombies);
}

void become_task(const RestoreContext &ctx, size_t index, OwnFds own, const TaskPlan *parent)
{
	const TaskPlan &plan = ctx.tasks[index];
	const TaskImages &task = plan.images;
	if (!plan.born_sid)
		must(restore_session(ctx.opts, task));
	else if (getsid(0) != plan.born_sid) // it leaves the session once its children in it exist
		die(Error(EINVAL, fmt::format("task {} is not born in session {}", task.pid, plan.born_sid)));
	if (personality(task.tc().personality) < 0)
		die(Error(errno, fmt::format("can't set personality {:#x}", task.tc().personality)));

	// Files first: the children forked below inherit them, so open files a child shares with
	// its parent stay shared. Pipes and shared memory are made once, by the root, for the tree.
	if (!parent) {
		must(ctx.files.create_inet_sockets(ctx.max_fd)); // first: they may be in flight on unix sockets
		must(ctx.files.create_pipes(ctx.max_fd));
		must(ctx.shmem.create_all(ctx.dir, ctx.max_fd));
		std::vector<const FdPlan *> fd_plans; // one per fd table: CLONE_FILES children share theirs
		for (size_t i = 0; i < ctx.tasks.size(); i++)
			if (!(shared_at_fork(ctx.tasks, i) & CLONE_FILES))
				fd_plans.push_back(&ctx.tasks[i].fds);
		must(ctx.files.open_shared(ctx.max_fd, fd_plans));
		auto creators = must(handed_files(task_fds(ctx.tasks, ctx.files), task_pids(ctx.tasks)));
		must(ctx.files.hand_files(ctx.max_fd, creators, fd_plans));
	}
	// A task sharing its parent's (or a sibling's) fd table or fs (forked with CLONE_FILES,
	// CLONE_FS) has them already: it must not open, replace or close any fd of the table.
	uint64_t shared = shared_at_fork(ctx.tasks, index);
	if (!(shared & CLONE_FILES))
		must(plan.fds.install(ctx.files, ctx.opts.shell_job, own.tty, inherited_files(ctx, plan, parent)));
	if (!plan.born_sid) // else once it leads its session: it may take a controlling terminal
		must(ctx.files.fds_installed(task.pid));
	if (!(shared & CLONE_FS))
		must(restore_fs(ctx.files, task));
	// A subreaper already (the restorer sets it too): children a session helper forks come back to it.
	if (task.tc().has_child_subreaper && task.tc().child_subreaper && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		die(Error(errno, fmt::format("task {}: can't become a child subreaper", task.pid)));
	fork_children(ctx, index, own);

	std::vector<const TaskPlan *> vm_kids = vm_children(ctx.tasks, index);
	const TaskPlan *own_fds = vm_child_with_own_fds(ctx.tasks, index);
	if (!(shared & CLONE_FILES) && !own_fds) // once its children exist (handed-files.h); else in stage_fds
		must(plan.fds.receive_handed(ctx.files));
	std::vector<rst_fd_move> fd_moves;
	if (own_fds)
		fd_moves = must(stage_fds(ctx, plan, *own_fds, own));
	MemRestore mem = must(MemRestore::premap(task, ctx.files, ctx.shmem, bootstrap_size(task, plan.fds.fds().size(), vm_kids)));
	{
		PagesReader pages = must(ctx.dir.open_pages(task.pages_id));
		must(mem.fill(task, pages));
	}
	std::memcpy(reinterpret_cast<void *>(mem.bootstrap()), restorer_blob, restorer_blob_size);
	int exe = must(lift(must(ctx.files.open_reg(task.mm_entry().exe_file_id, O_RDONLY)).release(), ctx.max_fd));

	must(restore_sigactions(task.tc()));
	Arena arena(mem.bootstrap() + blob_size(), align_up(args_size(task, plan.fds.fds().size(), vm_kids), 4096));
	rst_args *args = must(fill_args(plan, mem, arena, exe, hidden_fds_closer(ctx.tasks, index) == HiddenFds::Restorer));
	must(fill_vm_children(arena, ctx, vm_kids, own_fds, mem, args));
	args->fd_moves = copy_table(arena, fd_moves);
	args->nr_fd_moves = uint32_t(fd_moves.size());
	must(restore_rlimits(task.tc()));
	must(unregister_rseq());

	// Last: nothing may be mapped after the list of what to unmap is made.
	std::vector<rst_range> unmap = must(mem.unmap_list(task));
	args->unmap = copy_table(arena, unmap);
	args->nr_unmap = uint32_t(unmap.size());
	TaskReport report{task.pid, {mem.bootstrap(), mem.bootstrap_size(),
				     mem.bootstrap() + restorer_rst_syscall_gadget_offset}};
	must(xio::write_full(BorrowedFd(own.report), xio::as_bytes(&report, sizeof(report))));
	pr_info("{}: jumping into the restorer at {:#x}", task.pid, mem.bootstrap());
	jump(mem.bootstrap() + restorer_restorer_entry_offset, reinterpret_cast<rst_thread *>(args->threads)->stack_top,
	     args);
}

} // namespace

void restore_task(const RestoreContext &ctx, int go_fd, int report_fd)
{
	char go;
	if (read(go_fd, &go, 1) != 1)
		_exit(1); // criu is gone
	close(go_fd);
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, nullptr);
	become_task(ctx, 0, lift_own_fds(ctx, report_fd), nullptr);
}

Result<pid_t> clone_with_pid(pid_t pid, bool sibling, uint64_t share)
{
	clone_args ca{};
	ca.flags = (sibling ? CLONE_PARENT : 0) | share;
	ca.exit_signal = sibling ? 0 : SIGCHLD; // a sibling inherits criu's own exit signal
	ca.set_tid = reinterpret_cast<uint64_t>(&pid);
	ca.set_tid_size = 1;
	long ret = syscall(SYS_clone3, &ca, sizeof(ca));
	if (ret < 0)
		return fail_errno("can't create a task with PID {} (clone3 set_tid)", pid);
	return pid_t(ret);
}

} // namespace criu
