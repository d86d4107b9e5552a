/* regs00: a thread spinning in asm keeps known values in rsi, rdi and r8..r15 across the
 * checkpoint; it stores them only when told to stop. */
#include "zdtmtst.h"

#include <pthread.h>
#include <time.h>

static const uint64_t want[10] = {
	0x1111111111111111ULL, 0x2222222222222222ULL, 0x8888888888888808ULL, 0x9999999999999909ULL,
	0xaaaaaaaaaaaaaa10ULL, 0xbbbbbbbbbbbbbb11ULL, 0xcccccccccccccc12ULL, 0xdddddddddddddd13ULL,
	0xeeeeeeeeeeeeee14ULL, 0xfedcba9876543215ULL,
};
static volatile uint64_t got[10];
static volatile int stop;
static volatile uint64_t spins;

static void *spinner(void *arg)
{
	uint64_t *gp = (uint64_t *)got;

	asm volatile(
		"mov 0(%[w]), %%rsi\n\t"  "mov 8(%[w]), %%rdi\n\t"
		"mov 16(%[w]), %%r8\n\t"  "mov 24(%[w]), %%r9\n\t"
		"mov 32(%[w]), %%r10\n\t" "mov 40(%[w]), %%r11\n\t"
		"mov 48(%[w]), %%r12\n\t" "mov 56(%[w]), %%r13\n\t"
		"mov 64(%[w]), %%r14\n\t" "mov 72(%[w]), %%r15\n\t"
		"1: lock incq %[spins]\n\t"
		"pause\n\t"
		"cmpl $0, %[stop]\n\t"
		"je 1b\n\t"
		"mov %[g], %%rax\n\t"
		"mov %%rsi, 0(%%rax)\n\t"  "mov %%rdi, 8(%%rax)\n\t"
		"mov %%r8, 16(%%rax)\n\t"  "mov %%r9, 24(%%rax)\n\t"
		"mov %%r10, 32(%%rax)\n\t" "mov %%r11, 40(%%rax)\n\t"
		"mov %%r12, 48(%%rax)\n\t" "mov %%r13, 56(%%rax)\n\t"
		"mov %%r14, 64(%%rax)\n\t" "mov %%r15, 72(%%rax)\n\t"
		: [spins] "+m"(spins)
		: [w] "b"(want), [g] "m"(gp), [stop] "m"(stop)
		: "rax", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "cc", "memory");
	return arg;
}

int main(int argc, char **argv)
{
	struct timespec ms = { 0, 10 * 1000 * 1000 };
	pthread_t t;

	test_init(argc, argv);
	if (pthread_create(&t, NULL, spinner, NULL))
		setup_fail("pthread_create");
	while (!spins)
		nanosleep(&ms, NULL);

	test_daemon();
	test_waitsig();

	check(counter_moves(&spins), "the spinning thread does not run");
	stop = 1;
	pthread_join(t, NULL);
	for (int i = 0; i < 10; i++)
		check(got[i] == want[i], "register %d is %#llx, want %#llx", i, (unsigned long long)got[i],
		      (unsigned long long)want[i]);
	pass();
	return test_result();
}
