/* robust-futex: each thread's robust list head (glibc's) survives, and a robust mutex held by a
 * thread that exits after restore is handed over as EOWNERDEAD. */
#include "zdtmtst.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

static pthread_mutex_t mutex;
static pthread_barrier_t ready, go;
static void *thread_head;
static size_t thread_len;

static int robust_list(void **head, size_t *len)
{
	return syscall(SYS_get_robust_list, 0, head, len);
}

static void *owner(void *arg)
{
	void *head;
	size_t len;

	if (pthread_mutex_lock(&mutex))
		setup_fail("lock");
	robust_list(&thread_head, &thread_len);
	pthread_barrier_wait(&ready);
	pthread_barrier_wait(&go);
	check(robust_list(&head, &len) == 0 && head == thread_head && len == thread_len,
	      "thread robust list %p/%zu, was %p/%zu", head, len, thread_head, thread_len);
	return NULL;	/* exits holding the mutex */
}

int main(int argc, char **argv)
{
	pthread_mutexattr_t attr;
	void *head0, *head;
	size_t len0, len;
	pthread_t t;

	test_init(argc, argv);
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&mutex, &attr);
	if (robust_list(&head0, &len0))
		setup_fail("get_robust_list");
	pthread_barrier_init(&ready, NULL, 2);
	pthread_barrier_init(&go, NULL, 2);
	if (pthread_create(&t, NULL, owner, NULL))
		setup_fail("pthread_create");
	pthread_barrier_wait(&ready);

	test_daemon();
	test_waitsig();

	check(robust_list(&head, &len) == 0 && head == head0 && len == len0, "main robust list %p/%zu, was %p/%zu",
	      head, len, head0, len0);
	check(head0 != thread_head, "threads share a robust list");
	pthread_barrier_wait(&go);
	pthread_join(t, NULL);
	check(pthread_mutex_lock(&mutex) == EOWNERDEAD, "no EOWNERDEAD for a dead owner's robust mutex");
	pass();
	return test_result();
}
