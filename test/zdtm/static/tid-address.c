/* tid-address: clear_child_tid (set_tid_address) survives: glibc's in the main thread, our own
 * word in a thread. */
#include "zdtmtst.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static pid_t word;		/* the thread's set_tid_address target */
static pid_t thread_tid;
static void *main_addr;
static pthread_barrier_t ready, go;
static void *glibc_addr;

static void *tid_address(void)
{
	void *addr = NULL;

	return prctl(PR_GET_TID_ADDRESS, &addr) ? (void *)-1 : addr;
}

static void *worker(void *arg)
{
	word = thread_tid = sys_gettid();
	glibc_addr = tid_address();
	syscall(SYS_set_tid_address, &word);
	pthread_barrier_wait(&ready);
	pthread_barrier_wait(&go);
	check(tid_address() == &word, "thread tid address %p, want %p", tid_address(), (void *)&word);
	/* Back to glibc's word so pthread_join works. */
	syscall(SYS_set_tid_address, glibc_addr);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;

	test_init(argc, argv);
	main_addr = tid_address();
	pthread_barrier_init(&ready, NULL, 2);
	pthread_barrier_init(&go, NULL, 2);
	if (pthread_create(&t, NULL, worker, NULL))
		setup_fail("pthread_create");
	pthread_barrier_wait(&ready);

	test_daemon();
	test_waitsig();

	check(tid_address() == main_addr, "main tid address %p, was %p", tid_address(), main_addr);
	check(word == thread_tid, "the thread's tid word is %d, want %d", word, thread_tid);
	pthread_barrier_wait(&go);
	pthread_join(t, NULL);
	pass();
	return test_result();
}
