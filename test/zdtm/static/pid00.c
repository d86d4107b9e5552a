/* pid00: pid, tids of threads, session and process group (the runner setsid()s the test) are
 * the same after restore. */
#include "zdtmtst.h"

#include <pthread.h>
#include <unistd.h>

static pid_t tid;
static pthread_barrier_t ready, go;

static void *worker(void *arg)
{
	tid = sys_gettid();
	pthread_barrier_wait(&ready);
	pthread_barrier_wait(&go);
	check(sys_gettid() == tid, "thread tid %d, was %d", sys_gettid(), tid);
	check(getpid() != tid, "thread tid equals pid");
	return NULL;
}

int main(int argc, char **argv)
{
	pid_t pid, sid, pgid;
	pthread_t t;

	test_init(argc, argv);
	pid = getpid();
	sid = getsid(0);
	pgid = getpgrp();
	pthread_barrier_init(&ready, NULL, 2);
	pthread_barrier_init(&go, NULL, 2);
	if (pthread_create(&t, NULL, worker, NULL))
		setup_fail("pthread_create");
	pthread_barrier_wait(&ready);

	test_daemon();
	test_waitsig();

	check(getpid() == pid && sys_gettid() == pid, "pid %d tid %d, was %d", getpid(), sys_gettid(), pid);
	check(getsid(0) == sid && getpgrp() == pgid, "sid %d pgid %d, was %d %d", getsid(0), getpgrp(), sid, pgid);
	pthread_barrier_wait(&go);
	pthread_join(t, NULL);
	pass();
	return test_result();
}
