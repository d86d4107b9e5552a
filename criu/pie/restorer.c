/* The restorer: a freestanding blob that turns the criu child it runs in into the checkpointed
 * process. criu jumps to restorer_entry(args) on a stack inside the bootstrap area, after it has
 * opened the files, premapped and filled the memory and written the signal frames. From here on
 * nothing of criu's own address space is used: its mappings are unmapped, the task's are moved to
 * their addresses, threads are created with their TIDs and set up, and every thread traps to
 * criu (int3). criu then sets each thread's registers, FPU state and signal mask with ptrace,
 * unmaps the bootstrap area from outside and lets the task go. On any failure a line goes to
 * the log and the process exits. */
#include <stddef.h>
#include <stdint.h>

#include "blob-syscall.h"
#include "restorer-abi.h"

#pragma GCC visibility push(hidden)

#define NR_write 1
#define NR_munmap 11
#define NR_mremap 25
#define NR_setitimer 38
#define NR_getpid 39
#define NR_setgroups 116
#define NR_setresuid 117
#define NR_setresgid 119
#define NR_setfsuid 122
#define NR_setfsgid 123
#define NR_capset 126
#define NR_rt_sigqueueinfo 129
#define NR_sigaltstack 131
#define NR_prctl 157
#define NR_futex 202
#define NR_set_tid_address 218
#define NR_timer_create 222
#define NR_timer_settime 223
#define NR_exit_group 231
#define NR_set_robust_list 273
#define NR_rt_tgsigqueueinfo 297
#define NR_seccomp 317
#define NR_rseq 334
#define NR_clone3 435
#define NR_close_range 436
#define NR_dup3 292
#define NR_fchdir 81
#define NR_umask 95
#define NR_chroot 161

#define PR_SET_PDEATHSIG 1
#define PR_SET_DUMPABLE 4
#define PR_SET_NAME 15
#define PR_CAPBSET_DROP 24
#define PR_SET_SECUREBITS 28
#define PR_SET_MM 35
#define PR_SET_MM_MAP 14
#define PR_SET_CHILD_SUBREAPER 36
#define PR_SET_NO_NEW_PRIVS 38
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#define PR_TIMER_CREATE_RESTORE_IDS 77
#define MREMAP_MAYMOVE 1
#define MREMAP_FIXED 2
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define SECBIT_NO_SETUID_FIXUP (1 << 2)
#define SECCOMP_SET_MODE_STRICT 0
#define SECCOMP_SET_MODE_FILTER 1
#define SECCOMP_MODE_STRICT 1
#define SECCOMP_MODE_FILTER 2
#define CAP_VERSION_3 0x20080522

#define CLONE_VM 0x100
#define CLONE_FS 0x200
#define CLONE_FILES 0x400
#define CLONE_SIGHAND 0x800
#define CLONE_THREAD 0x10000
#define CLONE_SYSVSEM 0x40000
#define SIGCHLD 17

#define sys(nr, a, b, c, d, e) sys_call6(nr, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

/* The compiler may emit calls to these for struct copies. */
void *memcpy(void *dst, const void *src, size_t n)
{
	char *d = dst;
	const char *s = src;
	while (n--)
		*d++ = *s++;
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	char *d = dst;
	while (n--)
		*d++ = (char)c;
	return dst;
}

static size_t str_len(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

static char *put_str(char *p, const char *s)
{
	while (*s)
		*p++ = *s++;
	return p;
}

static char *put_num(char *p, long v)
{
	char tmp[24];
	int n = 0;
	unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;
	if (v < 0)
		*p++ = '-';
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	while (n)
		*p++ = tmp[--n];
	return p;
}

/* Logs "Error (criu/pie/restorer.c): <tid>: <what> <arg>: errno <e>" and ends the process. */
static void __attribute__((noreturn)) die(struct rst_args *a, long tid, const char *what, long arg, long ret)
{
	char buf[160], *p = buf;
	if (str_len(what) < 80) {
		p = put_str(p, "Error (criu/pie/restorer.c): ");
		p = put_num(p, tid);
		p = put_str(p, ": ");
		p = put_str(p, what);
		p = put_str(p, " ");
		p = put_num(p, arg);
		p = put_str(p, " failed: errno ");
		p = put_num(p, -ret);
		*p++ = '\n';
		sys(NR_write, a->log_fd, buf, p - buf, 0, 0);
	}
	__atomic_store_n(&a->failed, 1, __ATOMIC_SEQ_CST);
	for (;;)
		sys(NR_exit_group, 1, 0, 0, 0, 0);
}

#define CHECK(a, tid, call, what, arg)                                                             \
	do {                                                                                       \
		long __r = (call);                                                                 \
		if (__r < 0 && __r > -4096)                                                        \
			die(a, tid, what, (long)(arg), __r);                                       \
	} while (0)

static void restore_creds(struct rst_args *a, const struct rst_thread *t)
{
	const struct rst_creds *c = &t->creds;
	long tid = t->tid;

	/* Keep every capability across the uid change, then set the task's own. */
	CHECK(a, tid, sys(NR_prctl, PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP, 0, 0, 0), "securebits", 0);
	CHECK(a, tid, sys(NR_setgroups, c->ngroups, c->groups, 0, 0, 0), "setgroups", c->ngroups);
	CHECK(a, tid, sys(NR_setresgid, c->gid, c->egid, c->sgid, 0, 0), "setresgid", c->gid);
	CHECK(a, tid, sys(NR_setresuid, c->uid, c->euid, c->suid, 0, 0), "setresuid", c->uid);
	sys(NR_setfsgid, c->fsgid, 0, 0, 0, 0);
	sys(NR_setfsuid, c->fsuid, 0, 0, 0, 0);
	CHECK(a, tid, sys(NR_prctl, PR_SET_SECUREBITS, c->secbits, 0, 0, 0), "securebits", c->secbits);

	for (uint32_t cap = 0; cap <= c->last_cap; cap++) {
		if (c->cap_bnd[cap / 32] & (1u << (cap % 32)))
			continue;
		CHECK(a, tid, sys(NR_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0), "dropping capability", cap);
	}
	struct {
		uint32_t version;
		int32_t pid;
	} hdr = {CAP_VERSION_3, 0};
	struct {
		uint32_t eff, prm, inh;
	} data[2];
	for (int i = 0; i < 2; i++) {
		data[i].eff = c->cap_eff[i];
		data[i].prm = c->cap_prm[i];
		data[i].inh = c->cap_inh[i];
	}
	CHECK(a, tid, sys(NR_capset, &hdr, data, 0, 0, 0), "capset", 0);

	CHECK(a, tid, sys(NR_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clearing ambient capabilities", 0);
	for (uint32_t cap = 0; cap <= c->last_cap; cap++)
		if (c->cap_amb[cap / 32] & (1u << (cap % 32)))
			CHECK(a, tid, sys(NR_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0), "ambient capability", cap);
	if (c->no_new_privs)
		CHECK(a, tid, sys(NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS", 1);
}

/* Pending signals of thread tid of process pid (shared: of the process). */
static void queue_signals(struct rst_args *a, long pid, long tid, uint64_t infos, uint32_t n, int shared)
{
	for (uint32_t i = 0; i < n; i++) {
		const void *info = (const void *)(infos + (uint64_t)i * RST_SIGINFO_SIZE);
		int sig = *(const int32_t *)info;
		long ret = shared ? sys(NR_rt_sigqueueinfo, pid, sig, info, 0, 0)
				  : sys(NR_rt_tgsigqueueinfo, pid, tid, sig, info, 0);
		CHECK(a, tid, ret, "queueing signal", sig);
	}
}

/* Last of a thread's own steps: after this the filters apply (criu's ptrace is exempt). */
static void restore_seccomp(struct rst_args *a, const struct rst_thread *t)
{
	const struct rst_seccomp_filter *f = (const struct rst_seccomp_filter *)t->seccomp;
	if (t->seccomp_mode == SECCOMP_MODE_STRICT)
		CHECK(a, t->tid, sys(NR_seccomp, SECCOMP_SET_MODE_STRICT, 0, 0, 0, 0), "seccomp strict", 0);
	for (uint32_t i = 0; t->seccomp_mode == SECCOMP_MODE_FILTER && i < t->nr_seccomp; i++) {
		struct {
			uint16_t len;
			uint64_t filter;
		} prog = {(uint16_t)f[i].len, f[i].insns};
		CHECK(a, t->tid, sys(NR_seccomp, SECCOMP_SET_MODE_FILTER, f[i].flags, &prog, 0, 0), "seccomp filter", i);
	}
}

/* Per-thread state that ptrace can't set from outside; pid: the thread's process. */
static void restore_thread(struct rst_args *a, long pid, const struct rst_thread *t)
{
	long tid = t->tid;
	struct {
		uint64_t sp;
		int32_t flags;
		uint64_t size;
	} ss = {t->ss_sp, t->ss_flags, t->ss_size};

	CHECK(a, tid, sys(NR_sigaltstack, &ss, 0, 0, 0, 0), "sigaltstack", t->ss_flags);
	sys(NR_set_tid_address, t->clear_tid_addr, 0, 0, 0, 0);
	CHECK(a, tid, sys(NR_set_robust_list, t->robust_list, t->robust_len ? t->robust_len : 24, 0, 0, 0),
	      "set_robust_list", t->robust_len);
	if (t->rseq_addr)
		CHECK(a, tid, sys(NR_rseq, t->rseq_addr, t->rseq_len, 0, t->rseq_sig, 0), "rseq", t->rseq_len);
	CHECK(a, tid, sys(NR_prctl, PR_SET_NAME, t->comm, 0, 0, 0), "PR_SET_NAME", 0);
	queue_signals(a, pid, tid, t->siginfo, t->nr_siginfo, 0);
	restore_creds(a, t);
	restore_seccomp(a, t);
}

/* Ends the restorer in this thread: a trap to criu, which takes it from there. */
extern void rst_trap(void) __attribute__((noreturn));
/* clone3 into fn(arg) on the new thread's stack; returns the tid (or -errno) in the caller. */
extern long rst_clone_thread(void *clone_args, size_t size, void *arg, void (*fn)(void *));

struct clone_args3 {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
		set_tid_size, cgroup;
};

static struct rst_args *g_args; /* set before any thread is made: threads find the args here */

static void thread_main(void *arg)
{
	struct rst_thread *t = arg;
	struct rst_args *a = g_args;

	restore_thread(a, t->pid, t);
	if (t->pid == a->pid) { /* the task's leader waits for its threads, not a CLONE_VM child's */
		__atomic_add_fetch(&a->threads_ready, 1, __ATOMIC_SEQ_CST);
		sys(NR_futex, &a->threads_ready, FUTEX_WAKE, 1, 0, 0);
	}
	rst_trap();
}

/* others[0..n): the threads of the caller's process pid but the caller. */
static void create_threads(struct rst_args *a, long pid, struct rst_thread *others, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		struct rst_thread *t = &others[i];
		int32_t tid = t->tid;
		struct clone_args3 ca;
		memset(&ca, 0, sizeof(ca));
		ca.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
		ca.stack = t->stack_top - RST_THREAD_STACK_SIZE;
		ca.stack_size = RST_THREAD_STACK_SIZE;
		ca.set_tid = (uint64_t)&tid;
		ca.set_tid_size = 1;
		long ret = rst_clone_thread(&ca, sizeof(ca), t, thread_main);
		CHECK(a, pid, ret, "creating thread", tid);
	}
}

static void wait_threads(struct rst_args *a)
{
	for (;;) {
		uint32_t n = __atomic_load_n(&a->threads_ready, __ATOMIC_SEQ_CST);
		if (n + 1 >= a->nr_threads)
			return;
		sys(NR_futex, &a->threads_ready, FUTEX_WAIT, n, 0, 0);
	}
}

static void restore_mm(struct rst_args *a)
{
	const struct rst_range *unmap = (const struct rst_range *)a->unmap;
	for (uint32_t i = 0; i < a->nr_unmap; i++)
		CHECK(a, a->pid, sys(NR_munmap, unmap[i].start, unmap[i].len, 0, 0, 0), "munmap", unmap[i].start);

	const struct rst_move *mv = (const struct rst_move *)a->moves;
	for (uint32_t i = 0; i < a->nr_moves; i++) {
		long ret = sys(NR_mremap, mv[i].src, mv[i].len, mv[i].len, MREMAP_MAYMOVE | MREMAP_FIXED, mv[i].dst);
		if (ret != (long)mv[i].dst)
			die(a, a->pid, "mremap to", (long)mv[i].dst, ret < 0 ? ret : -22);
	}
	CHECK(a, a->pid, sys(NR_prctl, PR_SET_MM, PR_SET_MM_MAP, &a->mm, sizeof(a->mm), 0), "PR_SET_MM_MAP", 0);
}

/* Timers are made once the threads they may signal exist; pid: the process they are made in. */
static void restore_posix_timers(struct rst_args *a, long pid, uint64_t timers, uint32_t n)
{
	const struct rst_posix_timer *pt = (const struct rst_posix_timer *)timers;
	if (!n)
		return;
	CHECK(a, pid, sys(NR_prctl, PR_TIMER_CREATE_RESTORE_IDS, 1, 0, 0, 0), "PR_TIMER_CREATE_RESTORE_IDS", 1);
	for (uint32_t i = 0; i < n; i++) {
		struct {
			uint64_t value;
			int32_t signo, notify;
			int32_t tid;
			int32_t pad[11];
		} sev;
		memset(&sev, 0, sizeof(sev));
		sev.value = pt[i].sival;
		sev.signo = pt[i].signo;
		sev.notify = pt[i].notify;
		sev.tid = pt[i].notify_tid;
		int32_t id = pt[i].id;
		CHECK(a, pid, sys(NR_timer_create, pt[i].clock_id, &sev, &id, 0, 0), "timer_create", pt[i].id);
		if (id != pt[i].id)
			die(a, pid, "timer_create gave another id than", pt[i].id, -22);
		int64_t its[4] = {pt[i].interval_sec, pt[i].interval_nsec, pt[i].value_sec, pt[i].value_nsec};
		CHECK(a, pid, sys(NR_timer_settime, id, 0, its, 0, 0), "timer_settime", id);
	}
	CHECK(a, pid, sys(NR_prctl, PR_TIMER_CREATE_RESTORE_IDS, 0, 0, 0, 0), "PR_TIMER_CREATE_RESTORE_IDS", 0);
}

static void close_ranges(const struct rst_range *fds, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		sys(NR_close_range, fds[i].start, fds[i].start + fds[i].len - 1, 0, 0, 0);
}

/* A CLONE_VM child, in itself: its process's state, its thread's, then the trap to criu. */
static void vm_child_main(void *arg)
{
	struct rst_vm_child *c = arg;
	struct rst_args *a = g_args;
	long pid = c->thread.tid;

	if (c->own_fs) { /* still with criu's credentials: chroot is allowed */
		CHECK(a, pid, sys(NR_fchdir, c->root_fd, 0, 0, 0, 0), "fchdir to the root fd", c->root_fd);
		CHECK(a, pid, sys(NR_chroot, ".", 0, 0, 0, 0), "chroot", 0);
		CHECK(a, pid, sys(NR_fchdir, c->cwd_fd, 0, 0, 0, 0), "fchdir to the cwd fd", c->cwd_fd);
		sys(NR_umask, c->umask, 0, 0, 0, 0);
	}
	create_threads(a, pid, (struct rst_thread *)c->threads, c->nr_threads - 1);
	queue_signals(a, pid, pid, c->shared_siginfo, c->nr_shared_siginfo, 1);
	for (int which = 0; which < 3; which++)
		CHECK(a, pid, sys(NR_setitimer, which, &c->itimers[which], 0, 0, 0), "setitimer", which);
	restore_posix_timers(a, pid, c->posix_timers, c->nr_posix_timers);
	restore_thread(a, pid, &c->thread);
	CHECK(a, pid, sys(NR_prctl, PR_SET_PDEATHSIG, c->pdeath_sig, 0, 0, 0), "PR_SET_PDEATHSIG", c->pdeath_sig);
	if (c->child_subreaper)
		CHECK(a, pid, sys(NR_prctl, PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "PR_SET_CHILD_SUBREAPER", 1);
	close_ranges((const struct rst_range *)c->close_fds, c->nr_close);
	rst_trap();
}

/* Made while the task still has criu's credentials (set_tid needs them). */
static void create_vm_children(struct rst_args *a)
{
	struct rst_vm_child *kids = (struct rst_vm_child *)a->vm_children;
	for (uint32_t i = 0; i < a->nr_vm_children; i++) {
		struct rst_vm_child *c = &kids[i];
		int32_t pid = c->thread.tid;
		struct clone_args3 ca;
		memset(&ca, 0, sizeof(ca));
		ca.flags = c->clone_flags;
		ca.exit_signal = SIGCHLD;
		ca.stack = c->thread.stack_top - RST_THREAD_STACK_SIZE;
		ca.stack_size = RST_THREAD_STACK_SIZE;
		ca.set_tid = (uint64_t)&pid;
		ca.set_tid_size = 1;
		long ret = rst_clone_thread(&ca, sizeof(ca), c, vm_child_main);
		CHECK(a, a->pid, ret, "creating CLONE_VM child", pid);
	}
	/* A child with a table of its own took a copy with its fds in place: ours come back. */
	const struct rst_fd_move *mv = (const struct rst_fd_move *)a->fd_moves;
	for (uint32_t i = 0; i < a->nr_fd_moves; i++)
		CHECK(a, a->pid, sys(NR_dup3, mv[i].from, mv[i].to, mv[i].flags, 0, 0), "dup3 to fd", mv[i].to);
}

long rst_main(struct rst_args *a)
{
	struct rst_thread *threads = (struct rst_thread *)a->threads;

	g_args = a;
	restore_mm(a);
	queue_signals(a, a->pid, a->pid, a->shared_siginfo, a->nr_shared_siginfo, 1);
	for (int which = 0; which < 3; which++)
		CHECK(a, a->pid, sys(NR_setitimer, which, &a->itimers[which], 0, 0, 0), "setitimer", which);
	create_threads(a, a->pid, threads + 1, a->nr_threads - 1);
	create_vm_children(a);
	restore_posix_timers(a, a->pid, a->posix_timers, a->nr_posix_timers);
	restore_thread(a, a->pid, &threads[0]);
	wait_threads(a);

	/* Credentials changes reset these: set them once every thread has its creds. */
	CHECK(a, a->pid, sys(NR_prctl, PR_SET_DUMPABLE, a->dumpable, 0, 0, 0), "PR_SET_DUMPABLE", a->dumpable);
	CHECK(a, a->pid, sys(NR_prctl, PR_SET_PDEATHSIG, a->pdeath_sig, 0, 0, 0), "PR_SET_PDEATHSIG", a->pdeath_sig);
	if (a->child_subreaper)
		CHECK(a, a->pid, sys(NR_prctl, PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "PR_SET_CHILD_SUBREAPER", 1);

	close_ranges((const struct rst_range *)a->close_fds, a->nr_close);
	rst_trap();
}

/* restorer_entry(args): entered by a jump with rsp on the leader's bootstrap stack.
 * rst_syscall_gadget: "syscall; int3", which criu runs from outside to unmap the bootstrap. */
__asm__(".section .text.entry, \"ax\", @progbits\n"
	".globl restorer_entry\n"
	".hidden restorer_entry\n"
	"restorer_entry:\n"
	"	and $-16, %rsp\n"
	"	call rst_main\n"
	"	ud2\n"
	".globl rst_syscall_gadget\n"
	".hidden rst_syscall_gadget\n"
	"rst_syscall_gadget:\n"
	"	syscall\n"
	"	int3\n"
	"	ud2\n"
	".globl rst_trap\n"
	"rst_trap:\n"
	"	int3\n"
	"	ud2\n"
	".globl rst_clone_thread\n"
	"rst_clone_thread:\n"
	"	push %r12\n"
	"	push %r13\n"
	"	mov %rdx, %r12\n"
	"	mov %rcx, %r13\n"
	"	mov $435, %eax\n"
	"	syscall\n"
	"	test %rax, %rax\n"
	"	jz 1f\n"
	"	pop %r13\n"
	"	pop %r12\n"
	"	ret\n"
	"1:	mov %r12, %rdi\n"
	"	call *%r13\n"
	"	ud2\n"
	".previous\n");
