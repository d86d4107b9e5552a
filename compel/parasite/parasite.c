/* The parasite: a freestanding command server that runs inside a seized task.
 * parasite_entry(cmd, args) is called by compel's run_at() with rsp % 16 == 8, dispatches one
 * command and executes int3 with the result (0 or -errno) in rax. No libc: raw syscalls only. */
#include <stddef.h>
#include <stdint.h>

#include "blob-syscall.h"
#include "compel/parasite-abi.h"

#pragma GCC visibility push(hidden)

#define NR_getpid 39
#define NR_gettid 186
#define NR_rt_sigaction 13
#define NR_umask 95
#define NR_prctl 157
#define NR_getitimer 36
#define NR_brk 12
#define NR_sigaltstack 131

#define PR_GET_PDEATHSIG 2
#define PR_GET_DUMPABLE 3
#define PR_GET_NO_NEW_PRIVS 39
#define PR_GET_SECUREBITS 27
#define PR_GET_TID_ADDRESS 40
#define PR_GET_CHILD_SUBREAPER 37

#define SIGKILL 9
#define SIGSTOP 19
#define EINVAL 22


static inline long sys_call(long nr, long a, long b, long c, long d)
{
	return sys_call6(nr, a, b, c, d, 0, 0);
}

static long cmd_getpid(struct parasite_getpid_args *a)
{
	a->pid = (int32_t)sys_call(NR_getpid, 0, 0, 0, 0);
	a->tid = (int32_t)sys_call(NR_gettid, 0, 0, 0, 0);
	return 0;
}

static long cmd_dump_sigacts(struct parasite_sigacts_args *a)
{
	for (int sig = 1; sig <= PARASITE_NSIG; sig++) {
		struct parasite_sigaction *sa = &a->sa[sig - 1];
		sa->handler = sa->flags = sa->restorer = sa->mask = 0;
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		long ret = sys_call(NR_rt_sigaction, sig, 0, (long)sa, sizeof(sa->mask));
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* The part of DUMP_MISC that the host used to ask by a remote system call each. */
static long dump_misc_more(struct parasite_misc_args *a)
{
	a->brk = (uint64_t)sys_call(NR_brk, 0, 0, 0, 0);

	int32_t subreaper = 0;
	long ret = sys_call(NR_prctl, PR_GET_CHILD_SUBREAPER, (long)&subreaper, 0, 0);
	if (ret < 0)
		return ret;
	a->child_subreaper = subreaper;

	ret = sys_call(NR_prctl, PR_GET_SECUREBITS, 0, 0, 0);
	if (ret < 0)
		return ret;
	a->securebits = (int32_t)ret;

	a->tid_address = 0;
	ret = sys_call(NR_prctl, PR_GET_TID_ADDRESS, (long)&a->tid_address, 0, 0);
	if (ret < 0)
		return ret;

	return sys_call(NR_sigaltstack, 0, (long)&a->altstack, 0, 0);
}

static long cmd_dump_misc(struct parasite_misc_args *a)
{
	long old = sys_call(NR_umask, 0, 0, 0, 0);
	sys_call(NR_umask, old, 0, 0, 0);
	a->umask = (uint32_t)old;

	long ret = sys_call(NR_prctl, PR_GET_DUMPABLE, 0, 0, 0);
	if (ret < 0)
		return ret;
	a->dumpable = (int32_t)ret;

	int32_t sig = 0;
	ret = sys_call(NR_prctl, PR_GET_PDEATHSIG, (long)&sig, 0, 0);
	if (ret < 0)
		return ret;
	a->pdeath_sig = sig;

	ret = sys_call(NR_prctl, PR_GET_NO_NEW_PRIVS, 0, 0, 0);
	if (ret < 0)
		return ret;
	a->no_new_privs = (int32_t)ret;

	for (int which = 0; which < 3; which++) {
		ret = sys_call(NR_getitimer, which, (long)&a->itimers[which], 0, 0);
		if (ret < 0)
			return ret;
	}
	return dump_misc_more(a);
}

long parasite_dispatch(long cmd, void *args)
{
	switch (cmd) {
	case PARASITE_CMD_GETPID:
		return cmd_getpid(args);
	case PARASITE_CMD_DUMP_SIGACTS:
		return cmd_dump_sigacts(args);
	case PARASITE_CMD_DUMP_MISC:
		return cmd_dump_misc(args);
	}
	return -EINVAL;
}

/* Entered as if called (rsp % 16 == 8): realign, dispatch, trap back to the host. */
__asm__(".section .text.entry, \"ax\", @progbits\n"
	".globl parasite_entry\n"
	".hidden parasite_entry\n"
	".type parasite_entry, @function\n"
	"parasite_entry:\n"
	"	sub $8, %rsp\n"
	"	call parasite_dispatch\n"
	"	int3\n"
	"	ud2\n"
	".size parasite_entry, . - parasite_entry\n"
	".previous\n");
