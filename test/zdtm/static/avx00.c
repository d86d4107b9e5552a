/* avx00: a thread spinning in asm keeps known values in ymm0..ymm15 across the checkpoint.
 * Without AVX (cpuid, XCR0) it passes with a note. */
#include "zdtmtst.h"

#include <cpuid.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#define NR_YMM 16

static uint8_t want[NR_YMM * 32] __attribute__((aligned(32)));
static uint8_t got[NR_YMM * 32] __attribute__((aligned(32)));
static volatile int stop;
static volatile uint64_t spins;

static bool have_avx(void)
{
	unsigned int a, b, c, d, lo, hi;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_AVX) || !(c & bit_OSXSAVE))
		return false;
	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (lo & 6) == 6;
}

#define YMM_LOAD(n) "vmovdqa " #n "*32(%[w]), %%ymm" #n "\n\t"
#define YMM_STORE(n) "vmovdqa %%ymm" #n ", " #n "*32(%[g])\n\t"

__attribute__((target("avx"))) static void *spinner(void *arg)
{
	asm volatile(
		YMM_LOAD(0) YMM_LOAD(1) YMM_LOAD(2) YMM_LOAD(3) YMM_LOAD(4) YMM_LOAD(5) YMM_LOAD(6) YMM_LOAD(7)
		YMM_LOAD(8) YMM_LOAD(9) YMM_LOAD(10) YMM_LOAD(11) YMM_LOAD(12) YMM_LOAD(13) YMM_LOAD(14) YMM_LOAD(15)
		"1: lock incq %[spins]\n\t"
		"pause\n\t"
		"cmpl $0, %[stop]\n\t"
		"je 1b\n\t"
		YMM_STORE(0) YMM_STORE(1) YMM_STORE(2) YMM_STORE(3) YMM_STORE(4) YMM_STORE(5) YMM_STORE(6) YMM_STORE(7)
		YMM_STORE(8) YMM_STORE(9) YMM_STORE(10) YMM_STORE(11) YMM_STORE(12) YMM_STORE(13) YMM_STORE(14) YMM_STORE(15)
		"vzeroupper\n\t"
		: [spins] "+m"(spins)
		: [w] "r"(want), [g] "r"(got), [stop] "m"(stop)
		: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
		  "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "cc", "memory");
	return arg;
}

int main(int argc, char **argv)
{
	struct timespec ms = { 0, 10 * 1000 * 1000 };
	bool avx = have_avx();
	pthread_t t;

	test_init(argc, argv);
	fill_pattern(want, sizeof(want), 77);
	if (avx) {
		if (pthread_create(&t, NULL, spinner, NULL))
			setup_fail("pthread_create");
		while (!spins)
			nanosleep(&ms, NULL);
	}

	test_daemon();
	test_waitsig();

	if (!avx) {
		skip("no AVX on this CPU");
		return test_result();
	}
	check(counter_moves(&spins), "the spinning thread does not run");
	stop = 1;
	pthread_join(t, NULL);
	for (int i = 0; i < NR_YMM; i++)
		check(!memcmp(got + i * 32, want + i * 32, 32), "ymm%d differs (upper half %s)", i,
		      memcmp(got + i * 32 + 16, want + i * 32 + 16, 16) ? "differs" : "same");
	pass();
	return test_result();
}
