// A multi-threaded program for the end-to-end tests: four workers each advance a counter and a
// hash chain kept twice, in registers/stack and in the heap, and compare the two on every step;
// the main thread prints "tick K c0 c1 c2 c3 ok" every 100 ms ("BROKEN" once a copy differed or
// a counter went back). After a checkpoint and restore the ticks must go on from where they were.
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

namespace {

struct Worker {
	std::atomic<uint64_t> count{0};
	std::atomic<uint64_t> chain{0};
	std::atomic<bool> broken{false};
};

uint64_t step(uint64_t h, uint64_t i) { return (h ^ i) * 0x100000001b3ull + 0x9e3779b97f4a7c15ull; }

void work(Worker &w, bool sleeper)
{
	uint64_t h = 0;
	for (uint64_t i = 1;; i++) {
		if (w.chain.load(std::memory_order_relaxed) != h)
			w.broken = true;
		h = step(h, i);
		w.chain.store(h, std::memory_order_relaxed);
		w.count.store(i, std::memory_order_release);
		if (sleeper)
			usleep(1000);
	}
}

bool verify(Worker &w, uint64_t &seen)
{
	uint64_t n = w.count.load(std::memory_order_acquire);
	if (n < seen || w.broken)
		return false;
	seen = n;
	return true;
}

} // namespace

int main()
{
	std::vector<Worker> workers(4);
	std::vector<std::thread> threads;
	for (size_t i = 0; i < workers.size(); i++)
		threads.emplace_back(work, std::ref(workers[i]), i == 3);
	std::vector<uint64_t> seen(workers.size(), 0);
	for (uint64_t tick = 0;; tick++) {
		bool ok = true;
		for (size_t i = 0; i < workers.size(); i++)
			ok &= verify(workers[i], seen[i]);
		printf("tick %llu %llu %llu %llu %llu %s\n", (unsigned long long)tick, (unsigned long long)seen[0],
		       (unsigned long long)seen[1], (unsigned long long)seen[2], (unsigned long long)seen[3],
		       ok ? "ok" : "BROKEN");
		fflush(stdout);
		usleep(100 * 1000);
	}
}
