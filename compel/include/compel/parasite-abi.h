/* The ABI between compel's host side and the parasite blob: commands and their argument areas.
 * Plain C, included by the freestanding blob (C) and by the host (C++). The host copies an
 * argument struct into the shared area, calls parasite_entry(cmd, args) and reads the struct
 * back; the entry returns 0 or -errno in rax. */
#ifndef COMPEL_PARASITE_ABI_H
#define COMPEL_PARASITE_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define PARASITE_STATIC_ASSERT static_assert
#else
#define PARASITE_STATIC_ASSERT _Static_assert
#endif

enum parasite_cmd {
	PARASITE_CMD_GETPID = 1,
	PARASITE_CMD_DUMP_SIGACTS = 2,
	PARASITE_CMD_DUMP_MISC = 3,
};

/* PARASITE_CMD_GETPID */
struct parasite_getpid_args {
	int32_t pid; /* getpid() */
	int32_t tid; /* gettid() */
};
PARASITE_STATIC_ASSERT(sizeof(struct parasite_getpid_args) == 8, "getpid args");

/* The kernel's struct sigaction for rt_sigaction (x86_64), as CRIU's sigacts image records it. */
struct parasite_sigaction {
	uint64_t handler;  /* SIG_DFL 0, SIG_IGN 1, or the handler's address */
	uint64_t flags;    /* SA_* */
	uint64_t restorer; /* sa_restorer */
	uint64_t mask;     /* blocked during the handler: bit (signo - 1) */
};
PARASITE_STATIC_ASSERT(sizeof(struct parasite_sigaction) == 32, "kernel sigaction is 4 words");
PARASITE_STATIC_ASSERT(offsetof(struct parasite_sigaction, restorer) == 16, "sa_restorer");

#define PARASITE_NSIG 64

/* PARASITE_CMD_DUMP_SIGACTS: sa[signo - 1] for signo 1..64; SIGKILL and SIGSTOP left zero. */
struct parasite_sigacts_args {
	struct parasite_sigaction sa[PARASITE_NSIG];
};
PARASITE_STATIC_ASSERT(sizeof(struct parasite_sigacts_args) == 64 * 32, "sigacts args");

struct parasite_itimer {
	int64_t interval_sec, interval_usec;
	int64_t value_sec, value_usec;
};
PARASITE_STATIC_ASSERT(sizeof(struct parasite_itimer) == 32, "struct itimerval");

/* The kernel's stack_t (sigaltstack). */
struct parasite_stack {
	uint64_t sp;
	int32_t flags;
	uint32_t pad;
	uint64_t size;
};
PARASITE_STATIC_ASSERT(sizeof(struct parasite_stack) == 24, "stack_t");

/* PARASITE_CMD_DUMP_MISC: the task's state, and the state of the thread it runs in (the leader):
 * one command instead of a remote system call for each. */
struct parasite_misc_args {
	uint32_t umask;
	int32_t dumpable;      /* PR_GET_DUMPABLE */
	int32_t pdeath_sig;    /* PR_GET_PDEATHSIG (of the leader) */
	int32_t no_new_privs;  /* PR_GET_NO_NEW_PRIVS */
	struct parasite_itimer itimers[3]; /* ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF */
	uint64_t brk;          /* brk(0) */
	int32_t child_subreaper; /* PR_GET_CHILD_SUBREAPER */
	int32_t securebits;    /* PR_GET_SECUREBITS (of the leader) */
	uint64_t tid_address;  /* PR_GET_TID_ADDRESS (of the leader) */
	struct parasite_stack altstack; /* sigaltstack (of the leader) */
};
PARASITE_STATIC_ASSERT(offsetof(struct parasite_misc_args, itimers) == 16, "misc itimers");
PARASITE_STATIC_ASSERT(offsetof(struct parasite_misc_args, brk) == 16 + 3 * 32, "misc brk");
PARASITE_STATIC_ASSERT(sizeof(struct parasite_misc_args) == 16 + 3 * 32 + 48, "misc args");

/* The shared area after the blob: the argument area, then the stack. */
#define PARASITE_ARGS_SIZE 4096
#define PARASITE_STACK_SIZE (16 * 1024)

#endif
