// Benchmark: dumping a live process's memory (pagemap scan, page reads, sealing, writes) into
// plain and sealed images, on tmpfs and on disk, and reading the pages back into fresh memory
// the way restore fills a task (verifying and decrypting the sealed ones). Prints a table and
// the sealed/plain ratios.
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

#include "crypto/page-cipher.h"
#include "image-dir.h"
#include "mem.h"
#include "pages-image.h"
#include "restore-mem.h"
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

// Dumps pid's memory into dir (made afresh); returns the seconds it took.
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
	return s;
}

double cpu_seconds()
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

// Reads the pages dumped into dir back into fresh anonymous memory, as restore does; returns
// the seconds it took, and the CPU seconds of all threads in *cpu.
double read_back(const std::string &dir, const std::string &key, double *cpu)
{
	double c0 = cpu_seconds();
	auto t0 = std::chrono::steady_clock::now();
	auto d = ImageDir::open(dir, key);
	auto reader = d ? d->open_pages(1) : Result<PagesReader>(std::unexpected(d.error()));
	if (!reader) {
		fprintf(stderr, "opening the pages in %s failed: %s\n", dir.c_str(), reader.error().describe().c_str());
		exit(1);
	}
	size_t bytes = reader->pages() * 4096;
	auto *mem = static_cast<uint8_t *>(mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	auto r = read_page_runs({{mem, 0, reader->pages()}}, *reader);
	double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
	*cpu = cpu_seconds() - c0;
	if (!r) {
		fprintf(stderr, "reading the pages in %s failed: %s\n", dir.c_str(), r.error().describe().c_str());
		exit(1);
	}
	munmap(mem, bytes);
	(void)!system(("rm -rf '" + dir + "'").c_str());
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
	printf("memory dump (pagemap scan + read + seal + write: 2 worker threads + writer) and read back into "
	       "fresh memory\n(fault in + read + verify + decrypt: 2 threads), median of %d runs; page cipher: %s\n",
	       runs, crypto::fastest_page_cipher());
	printf("%-8s %-10s %10s %10s %10s %8s   %10s %10s %8s   %s\n", "size", "target", "plain s", "sealed s",
	       "sealed GB/s", "ratio", "read plain", "read sealed", "ratio", "read CPU s plain / sealed");
	for (double gib : sizes) {
		Child c;
		size_t bytes = size_t(gib * (1ull << 30));
		start_child(c, bytes);
		for (const char *where : {"/dev/shm", "/var/tmp"}) {
			std::string dir = std::string(where) + "/bench-memdump";
			std::vector<double> plain, sealed, read_plain, read_sealed, cpu_plain, cpu_sealed;
			uint64_t pages = 0;
			for (int i = 0; i < runs; i++) {
				double cpu;
				plain.push_back(dump_once(c.pid, dir, {}, &pages));
				read_plain.push_back(read_back(dir, "", &cpu));
				cpu_plain.push_back(cpu);
				sealed.push_back(dump_once(c.pid, dir, certs, &pages));
				read_sealed.push_back(read_back(dir, pki + "/private/key.pem", &cpu));
				cpu_sealed.push_back(cpu);
			}
			double p = median(plain), s = median(sealed), rp = median(read_plain), rs = median(read_sealed);
			double cp = median(cpu_plain), cs = median(cpu_sealed);
			printf("%-8s %-10s %10.3f %10.3f %10.2f %8.2f   %10.3f %10.3f %8.2f   %5.2f / %5.2f\n",
			       (std::to_string(int(gib)) + " GiB").c_str(), where, p, s, double(pages) * 4096 / s / 1e9, s / p,
			       rp, rs, rs / rp, cp, cs);
		}
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("max RSS of this process (the memory read back included): %ld MiB\n", ru.ru_maxrss / 1024);
	(void)!system(("rm -rf " + pki).c_str());
	return 0;
}
