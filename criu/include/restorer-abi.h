/* The ABI between criu restore and the restorer blob: plain C structs that criu fills in the
 * bootstrap area (which holds the blob, these arguments and the thread stacks) before it jumps
 * into the blob. Every pointer is an absolute address inside the bootstrap area. Each thread
 * ends in int3; criu, which traces the task, then sets the thread's registers, FPU state and
 * signal mask with ptrace, unmaps the bootstrap area from outside and detaches.
 * Included by the freestanding blob (C) and by criu (C++). */
#ifndef CRIU_RESTORER_ABI_H
#define CRIU_RESTORER_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define RST_STATIC_ASSERT static_assert
#else
#define RST_STATIC_ASSERT _Static_assert
#endif

/* [start, start + len) */
struct rst_range {
	uint64_t start;
	uint64_t len;
};

/* mremap(src, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, dst) */
struct rst_move {
	uint64_t src;
	uint64_t dst;
	uint64_t len;
};

/* The kernel's struct prctl_mm_map (PR_SET_MM_MAP). */
struct rst_mm_map {
	uint64_t start_code, end_code, start_data, end_data;
	uint64_t start_brk, brk, start_stack;
	uint64_t arg_start, arg_end, env_start, env_end;
	uint64_t auxv;      /* address of auxv_size bytes */
	uint32_t auxv_size;
	uint32_t exe_fd;    /* (uint32_t)-1: keep */
};
RST_STATIC_ASSERT(sizeof(struct rst_mm_map) == 104, "struct prctl_mm_map");

struct rst_creds {
	uint32_t uid, gid, euid, egid, suid, sgid, fsuid, fsgid;
	uint32_t cap_inh[2], cap_prm[2], cap_eff[2], cap_bnd[2], cap_amb[2];
	uint32_t no_new_privs;
	uint32_t secbits;
	uint32_t ngroups;
	uint64_t groups;  /* address of uint32_t[ngroups] */
	uint32_t last_cap; /* highest capability number this kernel knows */
	uint32_t pad;
};

#define RST_SIGINFO_SIZE 128

/* One seccomp filter program: struct sock_filter[len]. */
struct rst_seccomp_filter {
	uint64_t insns;
	uint32_t len;
	uint32_t flags; /* SECCOMP_FILTER_FLAG_* */
};

/* One thread: the state only the thread itself can set (ptrace sets registers and mask). */
struct rst_thread {
	int32_t tid;
	uint32_t nr_siginfo;      /* private pending signals to queue again */
	uint64_t siginfo;         /* address of nr_siginfo * RST_SIGINFO_SIZE bytes */
	uint64_t stack_top;       /* the restorer's stack for this thread (16-byte aligned) */
	uint64_t ss_sp, ss_size;  /* sigaltstack */
	int32_t ss_flags;
	int32_t pid;              /* its process: the task, or a CLONE_VM child (rst_vm_child) */
	uint64_t clear_tid_addr;
	uint64_t robust_list, robust_len;
	uint64_t rseq_addr;       /* 0: none */
	uint32_t rseq_len, rseq_sig;
	char comm[16];
	struct rst_creds creds;
	int32_t seccomp_mode;     /* 0 none, 1 strict, 2 filter */
	uint32_t nr_seccomp;
	uint64_t seccomp;         /* rst_seccomp_filter[nr_seccomp], oldest first */
};

struct rst_itimer {
	int64_t interval_sec, interval_usec;
	int64_t value_sec, value_usec;
};

/* A POSIX timer, created again with its id (PR_TIMER_CREATE_RESTORE_IDS) and armed. */
struct rst_posix_timer {
	int32_t id, clock_id;
	int32_t signo, notify;  /* sigev_signo, sigev_notify */
	int32_t notify_tid;     /* SIGEV_THREAD_ID */
	int32_t pad;
	uint64_t sival;
	int64_t interval_sec, interval_nsec;
	int64_t value_sec, value_nsec;
};

/* dup3(from, to, flags): the task's fd back at its number (flags: O_CLOEXEC or 0). */
struct rst_fd_move {
	int32_t from, to;
	uint32_t flags, pad;
};

/* A child sharing the task's memory and signal handlers, not a thread (criu/include/clone-vm.h):
 * created by the restorer with clone3(clone_flags, exit_signal SIGCHLD, set_tid = its pid) once
 * the memory is in place; it sets its own per-process state and its thread's, and traps. */
struct rst_vm_child {
	struct rst_thread thread;   /* its leader: tid is its pid; stack_top its stack */
	uint64_t threads;           /* rst_thread[nr_threads - 1]: its other threads */
	uint32_t nr_threads, pad0;
	uint64_t clone_flags;       /* CLONE_VM | CLONE_SIGHAND | CLONE_FS [| CLONE_FILES] */
	uint64_t close_fds;         /* rst_range[nr_close]: without CLONE_FILES, the fds not its own */
	uint32_t nr_close;
	uint32_t own_fs;            /* without CLONE_FS: its root and cwd (fds the task opened), umask */
	int32_t root_fd, cwd_fd;
	uint32_t umask, pad;
	uint64_t shared_siginfo;    /* nr_shared_siginfo * RST_SIGINFO_SIZE bytes */
	uint64_t posix_timers;      /* rst_posix_timer[nr_posix_timers] */
	uint32_t nr_shared_siginfo, nr_posix_timers;
	struct rst_itimer itimers[3];
	int32_t pdeath_sig;
	int32_t child_subreaper;
};

/* Everything the blob needs; at the start of the argument block. */
struct rst_args {
	struct rst_range bootstrap; /* unmapped by criu from outside at the end */
	uint64_t unmap;             /* rst_range[nr_unmap]: criu's own mappings */
	uint64_t moves;             /* rst_move[nr_moves], in the order to run them */
	uint64_t threads;           /* rst_thread[nr_threads], the leader first */
	uint64_t shared_siginfo;    /* nr_shared_siginfo * RST_SIGINFO_SIZE bytes */
	uint64_t close_fds;         /* rst_range[nr_close]: fds [start, start + len) to close */
	uint64_t posix_timers;      /* rst_posix_timer[nr_posix_timers] */
	uint32_t nr_unmap, nr_moves, nr_threads, nr_shared_siginfo, nr_close, nr_posix_timers;
	int32_t log_fd;             /* closed with the others at the end */
	int32_t pad0;
	struct rst_mm_map mm;
	struct rst_itimer itimers[3];
	int32_t pid;
	int32_t pdeath_sig;
	int32_t dumpable;
	int32_t child_subreaper;
	uint32_t threads_ready;     /* futex: threads that reached the final trap */
	uint32_t failed;            /* any thread failed: the others stop too */
	uint64_t vm_children;       /* rst_vm_child[nr_vm_children] */
	uint32_t nr_vm_children;
	uint32_t nr_fd_moves;
	uint64_t fd_moves;          /* rst_fd_move[nr_fd_moves]: run once the children are made */
};

/* The bootstrap layout: [blob][args, tables, frames][thread stacks]. */
#define RST_THREAD_STACK_SIZE (32 * 1024)

#endif
