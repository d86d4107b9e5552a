/* tls00: each of several threads keeps its fs base and its __thread values. */
#include "zdtmtst.h"

#include <asm/prctl.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NR_THREADS 6

static __thread uint64_t tls_val;
static __thread char tls_buf[256];
static __thread uint64_t tls_bss;
static pthread_barrier_t ready, go;

static unsigned long fs_base(void)
{
	unsigned long base = 0;

	syscall(SYS_arch_prctl, ARCH_GET_FS, &base);
	return base;
}

static void *worker(void *arg)
{
	uint64_t id = (uintptr_t)arg;
	unsigned long base;

	tls_val = 0xabcd000000000000ULL | id;
	tls_bss = ~id;
	fill_pattern(tls_buf, sizeof(tls_buf), 90 + id);
	base = fs_base();
	pthread_barrier_wait(&ready);
	pthread_barrier_wait(&go);
	check(fs_base() == base, "thread %llu fs base %#lx, was %#lx", (unsigned long long)id, fs_base(), base);
	check(tls_val == (0xabcd000000000000ULL | id) && tls_bss == ~id, "thread %llu __thread values",
	      (unsigned long long)id);
	check(check_pattern(tls_buf, sizeof(tls_buf), 90 + id) < 0, "thread %llu __thread buffer",
	      (unsigned long long)id);
	check((uintptr_t)&tls_val - base < 65536 || base - (uintptr_t)&tls_val < 65536,
	      "__thread variable far from fs base");
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[NR_THREADS];
	unsigned long base;

	test_init(argc, argv);
	pthread_barrier_init(&ready, NULL, NR_THREADS + 1);
	pthread_barrier_init(&go, NULL, NR_THREADS + 1);
	for (int i = 0; i < NR_THREADS; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(i + 1)))
			setup_fail("pthread_create");
	tls_val = 0x5555;
	base = fs_base();
	pthread_barrier_wait(&ready);

	test_daemon();
	test_waitsig();

	check(fs_base() == base && tls_val == 0x5555, "main thread TLS");
	pthread_barrier_wait(&go);
	for (int i = 0; i < NR_THREADS; i++)
		pthread_join(t[i], NULL);
	pass();
	return test_result();
}
