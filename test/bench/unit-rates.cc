// Instruction rates behind the page cipher's ceiling (see unit-rates.h). Eight independent
// chains of each kind, so latency never limits: what is measured is throughput.
#include "unit-rates.h"

#include <immintrin.h>
#include <time.h>

#include <algorithm>

#define RATES_TARGET __attribute__((target("avx2,vaes,vpclmulqdq"), noinline))

namespace criu::bench {

namespace {

constexpr long kIters = 8'000'000;

double thread_seconds()
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

RATES_TARGET long aes_loop(long n)
{
	__m256i k = _mm256_set1_epi32(0x5a5a5a5a), x[8];
	for (int i = 0; i < 8; i++)
		x[i] = _mm256_set1_epi32(i);
	for (long j = 0; j < n; j++)
#pragma GCC unroll 8
		for (int i = 0; i < 8; i++)
			x[i] = _mm256_aesdec_epi128(x[i], k);
	__m256i r = x[0];
	for (int i = 1; i < 8; i++)
		r = _mm256_xor_si256(r, x[i]);
	return _mm256_extract_epi64(r, 0);
}

RATES_TARGET long clmul_loop(long n)
{
	__m256i h = _mm256_set1_epi32(0x1234567), x[8], acc[8];
	for (int i = 0; i < 8; i++) {
		x[i] = _mm256_set1_epi32(i);
		acc[i] = _mm256_setzero_si256();
	}
	for (long j = 0; j < n; j++)
#pragma GCC unroll 8
		for (int i = 0; i < 8; i++) {
			acc[i] = _mm256_xor_si256(acc[i], _mm256_clmulepi64_epi128(x[i], h, 0x01));
			x[i] = _mm256_add_epi64(x[i], h);
		}
	__m256i r = acc[0];
	for (int i = 1; i < 8; i++)
		r = _mm256_xor_si256(r, acc[i]);
	return _mm256_extract_epi64(r, 0);
}

// The page cipher's mix: 56 AES rounds (four registers through AES-256's 14) and 12 carry-less
// products (four registers of GHASH, Karatsuba) per step, i.e. 128 bytes through both.
RATES_TARGET long mixed_loop(long n)
{
	__m256i k = _mm256_set1_epi32(0x5a5a5a5a), x[8], y[2], acc[2];
	for (int i = 0; i < 8; i++)
		x[i] = _mm256_set1_epi32(i);
	for (int c = 0; c < 2; c++) {
		y[c] = _mm256_set1_epi32(c + 8);
		acc[c] = _mm256_setzero_si256();
	}
	for (long j = 0; j < n; j++)
#pragma GCC unroll 7
		for (int r = 0; r < 7; r++) {
#pragma GCC unroll 8
			for (int i = 0; i < 8; i++)
				x[i] = _mm256_aesdec_epi128(x[i], k);
			if (r < 6)
				for (int c = 0; c < 2; c++) {
					acc[c] = _mm256_xor_si256(acc[c], _mm256_clmulepi64_epi128(y[c], k, 0x01));
					y[c] = _mm256_add_epi64(y[c], k);
				}
		}
	__m256i r = _mm256_xor_si256(acc[0], acc[1]);
	for (int i = 0; i < 8; i++)
		r = _mm256_xor_si256(r, x[i]);
	return _mm256_extract_epi64(r, 0);
}

template <typename F> double best_rate(F loop, int rounds, double per_iter)
{
	double best = 0;
	volatile long sink = 0;
	for (int r = 0; r < rounds; r++) {
		double t0 = thread_seconds();
		sink = sink + loop(kIters);
		best = std::max(best, per_iter * kIters / (thread_seconds() - t0));
	}
	return best;
}

} // namespace

UnitRates measure_unit_rates(int rounds)
{
	return {best_rate(aes_loop, rounds, 8), best_rate(clmul_loop, rounds, 8), best_rate(mixed_loop, rounds, 128)};
}

} // namespace criu::bench
