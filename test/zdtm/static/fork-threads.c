/* fork-threads: threads and stops anywhere in a tree: a child with three running threads (each
 * its own tid and counter) and a child stopped by SIGSTOP. After restore the threads are all
 * there with their tids and keep counting, and the stopped child is still stopped until
 * SIGCONT, then runs on. The children report through a shared page. */
#include "zdtmtst.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define NR 3

struct board {
	volatile uint64_t count[NR + 1]; /* threads of child 1; child 2's main loop */
	volatile pid_t tid[NR];
	volatile int ready;
};

static struct board *bd;

static void *spin(void *arg)
{
	long i = (long)arg;
	bd->tid[i] = sys_gettid();
	__sync_fetch_and_add(&bd->ready, 1);
	for (;;)
		bd->count[i]++;
	return NULL;
}

static void threaded(void)
{
	pthread_t t;
	for (long i = 0; i < NR; i++)
		if (pthread_create(&t, NULL, spin, (void *)i))
			_exit(2);
	for (;;)
		pause();
}

static void counting(void)
{
	__sync_fetch_and_add(&bd->ready, 1);
	for (;;) {
		bd->count[NR]++;
		usleep(1000);
	}
}

static char state_of(pid_t pid)
{
	char buf[512], path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return 0;
	char *p = strrchr(buf, ')');
	return p ? p[2] : 0;
}

static int nr_threads(pid_t pid)
{
	char path[64];
	int n = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	bd = mmap(NULL, sizeof(*bd), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (bd == MAP_FAILED)
		setup_fail("mmap");
	pid_t t = fork();
	if (t == 0)
		threaded();
	pid_t s = fork();
	if (s == 0)
		counting();
	if (t < 0 || s < 0)
		setup_fail("fork");
	while (bd->ready < NR + 1)
		usleep(1000);
	pid_t tids[NR];
	memcpy(tids, (void *)bd->tid, sizeof(tids));
	kill(s, SIGSTOP);
	int st;
	if (waitpid(s, &st, WUNTRACED) != s || !WIFSTOPPED(st))
		setup_fail("stop");

	test_daemon();
	test_waitsig();

	check(nr_threads(t) == NR + 1, "child %d has %d threads", t, nr_threads(t));
	for (int i = 0; i < NR; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/task/%d", t, tids[i]);
		check(access(path, F_OK) == 0, "thread %d of child %d is gone", tids[i], t);
		check(counter_moves(&bd->count[i]), "thread %d does not count", tids[i]);
	}
	check(state_of(s) == 'T', "child %d is in state %c, not stopped", s, state_of(s));
	uint64_t was = bd->count[NR];
	usleep(50000);
	check(bd->count[NR] == was, "the stopped child counts");
	kill(s, SIGCONT);
	check(counter_moves(&bd->count[NR]), "the child does not count after SIGCONT");
	kill(t, SIGKILL);
	kill(s, SIGKILL);
	check(waitpid(t, NULL, 0) == t && waitpid(s, NULL, 0) == s, "children not reaped");
	pass();
	return test_result();
}
