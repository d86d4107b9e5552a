// Benchmark: dumping a live process's memory (pagemap scan, page reads, sealing, writes) into
// plain and sealed images, on tmpfs and on disk. Prints a table and the sealed/plain ratio.
//
//   bench-memdump [GiB...]        (default: 1)
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "image-dir.h"
#include "mem.h"
#include "vma.h"

using namespace criu;

namespace {

struct Child {
	pid_t pid = -1;
	~Child()
	{
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, nullptr, 0);
		}
	}
};

// A child holding `bytes` of incompressible anonymous memory, blocked until killed.
void start_child(Child &c, size_t bytes)
{
	int ready[2];
	if (pipe(ready))
		exit(1);
	c.pid = fork();
	if (c.pid == 0) {
		auto *p = static_cast<uint64_t *>(
			mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
		uint64_t x = 0x2545f4914f6cdd1dull ^ uint64_t(getpid());
		for (size_t i = 0; i < bytes / 8; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			p[i] = x;
		}
		char c1 = 1;
		(void)!write(ready[1], &c1, 1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	char c1;
	if (read(ready[0], &c1, 1) != 1)
		exit(1);
	close(ready[0]);
}

double dump_once(pid_t pid, const std::string &dir, const std::vector<std::string> &certs, uint64_t *pages)
{
	std::string rm = "rm -rf '" + dir + "'";
	(void)!system(rm.c_str());
	auto t0 = std::chrono::steady_clock::now();
	auto d = ImageDir::create(dir, certs);
	auto vmas = parse_maps(pid);
	MemDumpStats st;
	PageBuffers buffers;
	auto runs = collect_dumpable_pages(pid, *vmas, st);
	auto r = d ? dump_pages(pid, *runs, *d, 1, buffers, st) : Result<>(std::unexpected(d.error()));
	if (!r) {
		fprintf(stderr, "dump failed: %s\n", r.error().describe().c_str());
		exit(1);
	}
	if (fsync(d->fd().get()) < 0) {
	}
	double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
	*pages = st.pages_written;
	(void)!system(rm.c_str());
	return s;
}

double median(std::vector<double> v)
{
	std::sort(v.begin(), v.end());
	return v[v.size() / 2];
}

} // namespace

int main(int argc, char **argv)
{
	std::vector<double> sizes;
	for (int i = 1; i < argc; i++)
		sizes.push_back(atof(argv[i]));
	if (sizes.empty())
		sizes.push_back(1);
	std::string pki = "/tmp/bench-memdump-pki";
	std::string keygen = std::string(CRIU_KEYGEN) + " --bits 2048 -d " + pki + " >/dev/null";
	if (system(keygen.c_str()) != 0)
		return 1;
	std::vector<std::string> certs{pki + "/cert.pem"};

	const int runs = 5;
	printf("memory dump (pagemap scan + read + seal + write), median of %d runs, 2 worker threads + writer\n", runs);
	printf("%-8s %-10s %10s %10s %10s %8s\n", "size", "target", "plain s", "sealed s", "sealed GB/s", "ratio");
	for (double gib : sizes) {
		Child c;
		size_t bytes = size_t(gib * (1ull << 30));
		start_child(c, bytes);
		for (const char *where : {"/dev/shm", "/var/tmp"}) {
			std::string dir = std::string(where) + "/bench-memdump";
			std::vector<double> plain, sealed;
			uint64_t pages = 0;
			for (int i = 0; i < runs; i++) {
				plain.push_back(dump_once(c.pid, dir, {}, &pages));
				sealed.push_back(dump_once(c.pid, dir, certs, &pages));
			}
			double p = median(plain), s = median(sealed);
			printf("%-8s %-10s %10.3f %10.3f %10.2f %8.2f\n", (std::to_string(int(gib)) + " GiB").c_str(),
			       where, p, s, double(pages) * 4096 / s / 1e9, s / p);
		}
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("max RSS of the dumping process: %ld MiB\n", ru.ru_maxrss / 1024);
	(void)!system(("rm -rf " + pki).c_str());
	return 0;
}
