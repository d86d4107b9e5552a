/* seccomp-strict: a thread in SECCOMP_MODE_STRICT (it may only read, write, exit, sigreturn)
 * spins through the checkpoint; after restore it is still in strict mode (/proc), can still
 * write, and exits cleanly. */
#include "zdtmtst.h"

#include <linux/seccomp.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile int stop, spinning;
static pid_t strict_tid;

static void *strict(void *arg)
{
	strict_tid = sys_gettid();
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT))
		setup_fail("PR_SET_SECCOMP strict");
	spinning = 1;
	while (!stop)
		;
	if (write(STDOUT_FILENO, "strict thread: write still allowed\n", 35) != 35)
		spinning = 2;
	syscall(SYS_exit, 0);	/* glibc's thread exit uses more than strict allows */
	return NULL;
}

static int mode(pid_t tid)
{
	char buf[16];

	return proc_status_field(tid, "Seccomp", buf, sizeof(buf)) ? -1 : atoi(buf);
}

int main(int argc, char **argv)
{
	struct timespec ms = { 0, 10000000 };
	pthread_t t;

	test_init(argc, argv);
	if (pthread_create(&t, NULL, strict, NULL))
		setup_fail("pthread_create");
	while (!spinning)
		nanosleep(&ms, NULL);

	test_daemon();
	test_waitsig();

	check(mode(strict_tid) == SECCOMP_MODE_STRICT, "thread seccomp mode %d", mode(strict_tid));
	check(mode(0) == SECCOMP_MODE_DISABLED, "main thread seccomp mode %d", mode(0));
	stop = 1;
	pthread_join(t, NULL);
	check(spinning == 1, "the strict thread could not write");
	pass();
	return test_result();
}
