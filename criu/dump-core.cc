// core-TID.img: task_core (leader only) and thread_core + thread_info of every thread, as CRIU
// writes them; seccomp.img when a thread runs under seccomp filters.
#define LOG_PREFIX "dump: "
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <map>

#include "common/log.h"
#include "core.pb-c.h"
#include "dump-context.h"
#include "seccomp.pb-c.h"
#include "task-state.h"

namespace criu {
namespace {

constexpr int kSigKill = 9, kSigStop = 19;

std::string read_comm(pid_t pid, pid_t tid)
{
	auto c = read_proc_line(fmt::format("/proc/{}/task/{}/comm", pid, tid));
	return c ? *c : "";
}

// The two u32 words of a capability set, low first (CRIU's CR_CAP_SIZE).
uint32_t *cap_words(PbArena &a, uint64_t caps, size_t *n)
{
	*n = 2;
	return a.array(std::vector<uint32_t>{uint32_t(caps), uint32_t(caps >> 32)});
}

CredsEntry *make_creds(PbArena &a, const ProcStatus &st, uint32_t secbits)
{
	CredsEntry *c = a.make(creds_entry__init);
	c->uid = st.uids[0], c->euid = st.uids[1], c->suid = st.uids[2], c->fsuid = st.uids[3];
	c->gid = st.gids[0], c->egid = st.gids[1], c->sgid = st.gids[2], c->fsgid = st.gids[3];
	c->cap_inh = cap_words(a, st.cap_inh, &c->n_cap_inh);
	c->cap_prm = cap_words(a, st.cap_prm, &c->n_cap_prm);
	c->cap_eff = cap_words(a, st.cap_eff, &c->n_cap_eff);
	c->cap_bnd = cap_words(a, st.cap_bnd, &c->n_cap_bnd);
	c->secbits = secbits;
	c->cap_amb = cap_words(a, st.cap_amb, &c->n_cap_amb);
	c->has_no_new_privs = true;
	c->no_new_privs = st.no_new_privs;
	c->n_groups = st.groups.size();
	c->groups = a.array(st.groups);
	return c;
}

SignalQueueEntry *make_signals(PbArena &a, const std::vector<std::array<uint8_t, 128>> &sigs)
{
	SignalQueueEntry *q = a.make(signal_queue_entry__init);
	q->n_signals = sigs.size();
	q->signals = a.pointers<SiginfoEntry>(sigs.size());
	for (size_t i = 0; i < sigs.size(); i++) {
		SiginfoEntry *e = a.make(siginfo_entry__init);
		e->siginfo.len = sigs[i].size();
		e->siginfo.data = a.array(std::span<const uint8_t>(sigs[i]));
		q->signals[i] = e;
	}
	return q;
}

// Seccomp filters of every thread, oldest first, shared where threads inherited the same chain.
class SeccompCollector {
public:
	// The index of tid's newest filter in seccomp.img.
	Result<uint32_t> add_thread(const compel::SeizedProcess &p, pid_t tid)
	{
		std::vector<compel::SeccompFilter> chain; // newest first
		for (unsigned i = 0;; i++) {
			auto f = TRY_CTX(p.seccomp_filter(tid, i), "seccomp filters of {}", tid);
			if (!f)
				break;
			chain.push_back(std::move(*f));
		}
		if (chain.empty())
			return fail(EINVAL, "thread {} is in seccomp filter mode without filters", tid);
		std::optional<uint32_t> prev;
		for (auto it = chain.rbegin(); it != chain.rend(); ++it)
			prev = intern(std::move(*it), prev);
		return *prev;
	}

	bool empty() const { return filters_.empty(); }

	Result<> write(ImageDir &dir, PbArena &a) const
	{
		SeccompEntry *e = a.make(seccomp_entry__init);
		e->n_seccomp_filters = filters_.size();
		e->seccomp_filters = a.pointers<SeccompFilter>(filters_.size());
		for (size_t i = 0; i < filters_.size(); i++) {
			SeccompFilter *f = a.make(seccomp_filter__init);
			f->filter.len = filters_[i].f.prog.size();
			f->filter.data = a.array(filters_[i].f.prog);
			f->has_flags = true;
			f->flags = uint32_t(filters_[i].f.flags);
			if (filters_[i].prev) {
				f->has_prev = true;
				f->prev = *filters_[i].prev;
			}
			e->seccomp_filters[i] = f;
		}
		ImageWriter w = TRY(dir.create_image(img::Kind::Seccomp));
		TRY_CTX(w.write(e->base), "{}", w.name());
		TRY_CTX(w.close(), "{}", w.name());
		return {};
	}

private:
	struct Filter {
		compel::SeccompFilter f;
		std::optional<uint32_t> prev;
	};

	uint32_t intern(compel::SeccompFilter f, std::optional<uint32_t> prev)
	{
		for (size_t i = 0; i < filters_.size(); i++)
			if (filters_[i].f.prog == f.prog && filters_[i].f.flags == f.flags && filters_[i].prev == prev)
				return uint32_t(i);
		filters_.push_back(Filter{std::move(f), prev});
		return uint32_t(filters_.size() - 1);
	}

	std::vector<Filter> filters_;
};

Result<> add_sched(ThreadCoreEntry *tc, pid_t tid)
{
	int policy = sched_getscheduler(tid);
	if (policy < 0)
		return fail_errno("sched_getscheduler {}", tid);
	tc->has_sched_policy = true;
	tc->sched_policy = uint32_t(policy);
	if (policy == SCHED_FIFO || policy == SCHED_RR) {
		struct sched_param sp {};
		if (sched_getparam(tid, &sp) < 0)
			return fail_errno("sched_getparam {}", tid);
		tc->has_sched_prio = true;
		tc->sched_prio = uint32_t(sp.sched_priority);
	}
	errno = 0;
	int nice = getpriority(PRIO_PROCESS, id_t(tid));
	if (nice == -1 && errno)
		return fail_errno("getpriority {}", tid);
	tc->has_sched_nice = true;
	tc->sched_nice = nice;
	return {};
}

Result<RseqEntry *> make_rseq(PbArena &a, const compel::SeizedProcess &p, pid_t tid)
{
	compel::RseqConfig c = TRY_CTX(p.rseq_config(tid), "rseq of thread {} (the kernel reports it since Linux 5.13)", tid);
	RseqEntry *r = a.make(rseq_entry__init);
	r->rseq_abi_pointer = c.rseq_abi_pointer;
	r->rseq_abi_size = c.rseq_abi_size;
	r->signature = c.signature;
	return r;
}

Result<ThreadCoreEntry *> make_thread_core(DumpContext &ctx, const ThreadParasiteState &t,
					   SeccompCollector &seccomp)
{
	PbArena &a = ctx.arena;
	pid_t tid = t.tid;
	ThreadCoreEntry *tc = a.make(thread_core_entry__init);
	long head = 0;
	size_t len = 0;
	if (syscall(SYS_get_robust_list, tid, &head, &len) < 0)
		return fail_errno("get_robust_list {}", tid);
	tc->futex_rla = uint64_t(head);
	tc->futex_rla_len = uint32_t(len);
	TRY(add_sched(tc, tid));
	tc->has_blk_sigset = true;
	tc->blk_sigset = TRY(ctx.proc.signal_mask(tid));
	tc->sas = a.make(thread_sas_entry__init);
	tc->sas->ss_sp = t.ss_sp, tc->sas->ss_size = t.ss_size, tc->sas->ss_flags = t.ss_flags;
	if (t.pdeath_sig) {
		tc->has_pdeath_sig = true;
		tc->pdeath_sig = t.pdeath_sig;
	}
	tc->signals_p = make_signals(a, TRY(ctx.proc.pending_signals(tid, false)));
	ProcStatus st = TRY(parse_status(ctx.pid(), tid));
	tc->creds = make_creds(a, st, t.secbits);
	tc->has_seccomp_mode = true;
	tc->seccomp_mode = SeccompMode(st.seccomp);
	if (st.seccomp == SECCOMP_MODE__filter) {
		tc->has_seccomp_filter = true;
		tc->seccomp_filter = TRY(seccomp.add_thread(ctx.proc, tid));
	}
	tc->comm = a.str(read_comm(ctx.pid(), tid));
	tc->rseq_entry = TRY(make_rseq(a, ctx.proc, tid));
	return tc;
}

ItimerEntry *make_itimer(PbArena &a, const parasite_itimer &t)
{
	ItimerEntry *e = a.make(itimer_entry__init);
	e->isec = uint64_t(t.interval_sec), e->iusec = uint64_t(t.interval_usec);
	e->vsec = uint64_t(t.value_sec), e->vusec = uint64_t(t.value_usec);
	return e;
}

PosixTimerEntry *make_posix_timer(PbArena &a, const PosixTimerState &t)
{
	PosixTimerEntry *e = a.make(posix_timer_entry__init);
	e->it_id = uint32_t(t.proc.id);
	e->clock_id = uint32_t(t.proc.clock_id);
	e->si_signo = uint32_t(t.proc.signo);
	e->it_sigev_notify = uint32_t(t.proc.notify);
	e->sival_ptr = t.proc.sival_ptr;
	e->overrun = t.overrun;
	e->isec = t.isec, e->insec = t.insec, e->vsec = t.vsec, e->vnsec = t.vnsec;
	if (t.proc.notify & SIGEV_THREAD_ID) {
		e->has_notify_thread_id = true;
		e->notify_thread_id = t.proc.notify_tid;
	}
	return e;
}

TaskTimersEntry *make_timers(PbArena &a, const TaskParasiteState &ps)
{
	TaskTimersEntry *t = a.make(task_timers_entry__init);
	t->real = make_itimer(a, ps.misc.itimers[0]);
	t->virt = make_itimer(a, ps.misc.itimers[1]);
	t->prof = make_itimer(a, ps.misc.itimers[2]);
	t->n_posix = ps.posix_timers.size();
	t->posix = a.pointers<PosixTimerEntry>(t->n_posix);
	for (size_t i = 0; i < t->n_posix; i++)
		t->posix[i] = make_posix_timer(a, ps.posix_timers[i]);
	return t;
}

Result<TaskRlimitsEntry *> make_rlimits(PbArena &a, pid_t pid)
{
	auto lims = TRY(parse_limits(pid));
	TaskRlimitsEntry *r = a.make(task_rlimits_entry__init);
	r->n_rlimits = lims.size();
	r->rlimits = a.pointers<RlimitEntry>(lims.size());
	for (size_t i = 0; i < lims.size(); i++) {
		RlimitEntry *e = a.make(rlimit_entry__init);
		e->cur = lims[i].cur, e->max = lims[i].max;
		r->rlimits[i] = e;
	}
	return r;
}

// SaEntry for every signal but SIGKILL and SIGSTOP, in signal order (CRIU's layout).
void add_sigactions(PbArena &a, TaskCoreEntry *tc, const parasite_sigacts_args &sa)
{
	tc->n_sigactions = PARASITE_NSIG - 2;
	tc->sigactions = a.pointers<SaEntry>(tc->n_sigactions);
	size_t n = 0;
	for (int sig = 1; sig <= PARASITE_NSIG; sig++) {
		if (sig == kSigKill || sig == kSigStop)
			continue;
		const parasite_sigaction &k = sa.sa[sig - 1];
		SaEntry *e = a.make(sa_entry__init);
		e->sigaction = k.handler, e->flags = k.flags, e->restorer = k.restorer, e->mask = k.mask;
		e->has_compat_sigaction = true;
		e->compat_sigaction = false;
		tc->sigactions[n++] = e;
	}
}

Result<uint32_t> read_u32_hex(const std::string &path)
{
	return uint32_t(strtoul(TRY(read_proc_line(path)).c_str(), nullptr, 16));
}

Result<TaskCoreEntry *> make_task_core(DumpContext &ctx, const TaskParasiteState &ps)
{
	PbArena &a = ctx.arena;
	pid_t pid = ctx.pid();
	ProcStat st = TRY(parse_stat(pid));
	TaskCoreEntry *tc = a.make(task_core_entry__init);
	tc->task_state = ctx.proc.stopped() ? kTaskStopped : kTaskAlive;
	if (ctx.proc.stopped()) {
		tc->has_stop_signo = true;
		tc->stop_signo = uint32_t(ctx.proc.stop_signo());
	}
	tc->exit_code = 0;
	tc->personality = TRY(read_u32_hex(fmt::format("/proc/{}/personality", pid)));
	tc->flags = st.flags;
	tc->blk_sigset = TRY(ctx.proc.signal_mask(pid));
	tc->comm = a.str(read_comm(pid, pid));
	tc->timers = make_timers(a, ps);
	tc->rlimits = TRY(make_rlimits(a, pid));
	tc->signals_s = make_signals(a, TRY(ctx.proc.pending_signals(pid, true)));
	tc->has_loginuid = true;
	tc->loginuid = uint32_t(strtoul(TRY(read_proc_line(fmt::format("/proc/{}/loginuid", pid))).c_str(), nullptr, 10));
	tc->has_oom_score_adj = true;
	tc->oom_score_adj = int32_t(strtol(TRY(read_proc_line(fmt::format("/proc/{}/oom_score_adj", pid))).c_str(), nullptr, 10));
	add_sigactions(a, tc, ps.sigacts);
	tc->has_child_subreaper = true;
	tc->child_subreaper = ps.child_subreaper;
	return tc;
}

Result<> write_core(DumpContext &ctx, pid_t tid, CoreEntry *core)
{
	ImageWriter w = TRY(ctx.dir.create_image(img::Kind::Core, uint64_t(tid)));
	TRY_CTX(w.write(core->base), "{}", w.name());
	TRY_CTX(w.close(), "{}", w.name());
	return {};
}

} // namespace

Result<> dump_cores(DumpContext &ctx, const TaskParasiteState &ps)
{
	SeccompCollector seccomp;
	for (const ThreadParasiteState &t : ps.threads) {
		pr_info("Dumping core of thread {} of task {}", t.tid, ctx.pid());
		CoreEntry *core = ctx.arena.make(core_entry__init);
		core->mtype = CORE_ENTRY__MARCH__X86_64;
		core->thread_info = TRY_CTX(make_thread_info(ctx.arena, ctx.proc, t.tid, t.clear_tid_addr, ctx.xsave_layout),
					    "core-{}.img", t.tid);
		core->thread_core = TRY_CTX(make_thread_core(ctx, t, seccomp), "core-{}.img", t.tid);
		if (t.tid == ctx.pid())
			core->tc = TRY_CTX(make_task_core(ctx, ps), "core-{}.img", t.tid);
		TRY(write_core(ctx, t.tid, core));
	}
	if (!seccomp.empty())
		TRY(seccomp.write(ctx.dir, ctx.arena));
	return {};
}

Result<> dump_zombie_core(ImageDir &dir, PbArena &a, pid_t pid, const ProcStat &st)
{
	pr_info("Dumping zombie {} (wait status {:#x})", pid, st.exit_code);
	TaskCoreEntry *tc = a.make(task_core_entry__init);
	tc->task_state = kTaskDead;
	tc->exit_code = uint32_t(st.exit_code);
	tc->flags = st.flags;
	tc->comm = a.str(read_comm(pid, pid));
	CoreEntry *core = a.make(core_entry__init);
	core->mtype = CORE_ENTRY__MARCH__X86_64;
	core->tc = tc;
	ImageWriter w = TRY(dir.create_image(img::Kind::Core, uint64_t(pid)));
	TRY_CTX(w.write(core->base), "{}", w.name());
	TRY_CTX(w.close(), "{}", w.name());
	return {};
}

} // namespace criu
