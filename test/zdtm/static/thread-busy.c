/* thread-busy: a thread in a busy loop (no syscalls) keeps its tid and counts on after restore. */
#include "zdtmtst.h"

#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static volatile int stop;
static volatile uint64_t count;
static pid_t busy_tid;

static void *busy(void *arg)
{
	uint64_t local = 0;

	busy_tid = sys_gettid();
	while (!stop) {
		local += 3;
		count = local / 3;
	}
	return (void *)(uintptr_t)(local / 3 == count);
}

int main(int argc, char **argv)
{
	struct timespec ms = { 0, 20 * 1000 * 1000 };
	char path[64];
	pid_t tid_before;
	pthread_t t;
	void *ret;

	test_init(argc, argv);
	if (pthread_create(&t, NULL, busy, NULL))
		setup_fail("pthread_create");
	while (!count)
		nanosleep(&ms, NULL);
	tid_before = busy_tid;

	test_daemon();
	test_waitsig();

	check(counter_moves(&count), "busy thread stopped counting (%llu)", (unsigned long long)count);
	check(busy_tid == tid_before, "tid changed");
	snprintf(path, sizeof(path), "/proc/self/task/%d", tid_before);
	check(access(path, F_OK) == 0, "no %s", path);
	stop = 1;
	check(pthread_join(t, &ret) == 0 && ret == (void *)1, "busy thread's counter inconsistent");
	pass();
	return test_result();
}
