/* seccomp-filter: two stacked seccomp filters (getppid fails with EPERM, sync with EACCES) are
 * still in force after restore; other syscalls work. */
#include "zdtmtst.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int block(int nr, int err)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | err),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

int main(int argc, char **argv)
{
	char buf[32];

	test_init(argc, argv);
	if (block(SYS_getppid, EPERM) || block(SYS_sync, EACCES))
		setup_fail("seccomp");
	if (syscall(SYS_getppid) != -1 || errno != EPERM)
		setup_fail("filter does not work");

	test_daemon();
	test_waitsig();

	check(syscall(SYS_getppid) == -1 && errno == EPERM, "getppid is not blocked");
	check(syscall(SYS_sync) == -1 && errno == EACCES, "sync is not blocked");
	check(syscall(SYS_getpid) == getpid() && getpid() > 0, "getpid is blocked");
	check(prctl(PR_GET_SECCOMP) == SECCOMP_MODE_FILTER, "seccomp mode %d", prctl(PR_GET_SECCOMP));
	check(proc_status_field(0, "Seccomp_filters", buf, sizeof(buf)) == 0 && atoi(buf) == 2,
	      "Seccomp_filters: %s", buf);
	pass();
	return test_result();
}
