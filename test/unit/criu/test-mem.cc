// Memory of a real child process: which pages are dumped, and that they come back intact from
// plain and sealed images.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <map>

#include "mem-queue.h"
#include "mem.h"
#include "pagemap.pb-c.h"
#include "test-dirs.h"
#include "vma.h"

using namespace criu;
using namespace criu::test;

namespace {

constexpr size_t kPages = 4096; // 16 MiB area

uint64_t pattern(uint64_t addr, size_t word) { return addr * 0x9e3779b97f4a7c15ull + word; }

void fill_page(uint8_t *p)
{
	auto *w = reinterpret_cast<uint64_t *>(p);
	for (size_t i = 0; i < kPageSize / 8; i++)
		w[i] = pattern(uintptr_t(p), i);
}

bool page_matches(uint64_t addr, const uint8_t *p)
{
	auto *w = reinterpret_cast<const uint64_t *>(p);
	for (size_t i = 0; i < kPageSize / 8; i++)
		if (w[i] != pattern(addr, i))
			return false;
	return true;
}

// A forked child with memory laid out for the test; killed and reaped on scope exit.
struct Child {
	pid_t pid = -1;
	uint64_t area = 0, file_area = 0;
	int release_fd = -1;

	explicit Child(const std::string &file)
	{
		int ready[2], release[2];
		REQUIRE(pipe(ready) == 0);
		REQUIRE(pipe(release) == 0);
		pid = fork();
		REQUIRE(pid >= 0);
		if (pid == 0) {
			auto *a = static_cast<uint8_t *>(
				mmap(nullptr, kPages * kPageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
			for (size_t i = 0; i < kPages; i++) {
				if (i % 3 == 0)
					fill_page(a + i * kPageSize); // data
				else if (i % 3 == 1)
					(void)*(volatile uint8_t *)(a + i * kPageSize); // the zero page
			}
			mprotect(a + 3 * kPageSize, kPageSize, PROT_NONE); // data nobody can read in-task
			int fd = open(file.c_str(), O_RDONLY);
			auto *f = static_cast<uint8_t *>(
				mmap(nullptr, 8 * kPageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0));
			for (size_t i = 0; i < 8; i++)
				(void)*(volatile uint8_t *)(f + i * kPageSize); // file pages, unchanged
			fill_page(f + 5 * kPageSize);                        // one page made private
			uint64_t addrs[2] = {uintptr_t(a), uintptr_t(f)};
			(void)!write(ready[1], addrs, sizeof(addrs));
			char c;
			(void)!read(release[0], &c, 1);
			_exit(0);
		}
		close(ready[1]);
		close(release[0]);
		release_fd = release[1];
		uint64_t addrs[2];
		REQUIRE(read(ready[0], addrs, sizeof(addrs)) == sizeof(addrs));
		close(ready[0]);
		area = addrs[0];
		file_area = addrs[1];
	}
	~Child()
	{
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, nullptr, 0);
		}
		close(release_fd);
	}
};

} // namespace

TEST_CASE("maps lines are parsed with CRIU's VMA classes")
{
	auto v = parse_maps_line("7f0000000000-7f0000021000 rw-p 00000000 00:00 0 ");
	REQUIRE(v.has_value());
	CHECK(v->is(vma_status::kAnonPrivate));
	CHECK(v->prot == (PROT_READ | PROT_WRITE));
	CHECK(v->pages() == 0x21);
	v = parse_maps_line("7f1000000000-7f1000002000 r-xp 00001000 fd:01 1234 /usr/lib/libc.so.6");
	REQUIRE(v.has_value());
	CHECK(v->is(vma_status::kFilePrivate));
	CHECK(v->path == "/usr/lib/libc.so.6");
	CHECK(v->pgoff == 0x1000);
	CHECK(v->ino == 1234);
	v = parse_maps_line("7f2000000000-7f2000001000 rw-s 00000000 00:01 99 /dev/zero (deleted)");
	REQUIRE(v.has_value());
	CHECK(v->is(vma_status::kAnonShared));
	CHECK(!v->dumps_private_pages());
	for (const char *special : {"[vdso]", "[vvar]", "[vvar_vclock]", "[vsyscall]"}) {
		v = parse_maps_line(std::string("ffff0000-ffff1000 r--p 00000000 00:00 0 ") + special);
		REQUIRE(v.has_value());
		CHECK(!v->dumps_private_pages());
	}
	CHECK(!parse_maps_line("garbage").has_value());
}

TEST_CASE("a live task's private pages are dumped and read back, plain and sealed")
{
	TempDir t;
	std::string file = t / "mapped";
	{
		std::vector<uint8_t> content(8 * kPageSize, 0x5a);
		write_bytes(file, content);
	}
	Child child(file);
	auto vmas = parse_maps(child.pid);
	REQUIRE(vmas.has_value());

	MemDumpStats stats;
	auto runs = collect_dumpable_pages(child.pid, *vmas, stats);
	REQUIRE(runs.has_value());
	std::map<uint64_t, bool> dumped;
	for (const PageRun &r : *runs)
		for (uint64_t i = 0; i < r.nr_pages; i++)
			dumped[r.vaddr + i * kPageSize] = true;
	for (size_t i = 0; i < kPages; i++) {
		INFO("page " << i);
		CHECK(dumped.count(child.area + i * kPageSize) == (i % 3 == 0 ? 1u : 0u));
	}
	for (size_t i = 0; i < 8; i++) {
		INFO("file page " << i);
		CHECK(dumped.count(child.file_area + i * kPageSize) == (i == 5 ? 1u : 0u));
	}

	for (bool sealed : {false, true}) {
		INFO((sealed ? "sealed" : "plain"));
		TempDir d;
		std::vector<std::string> certs;
		if (sealed)
			certs.push_back(test_pki("a").cert);
		{
			auto dir = ImageDir::create(d.path(), certs);
			REQUIRE(dir.has_value());
			MemDumpStats st;
			PageBuffers buffers;
			auto r = dump_pages(child.pid, *runs, *dir, 1, buffers, st);
			INFO((r ? "" : r.error().describe()));
			REQUIRE(r.has_value());
			CHECK(st.pages_written == dumped.size());
		}
		auto dir = ImageDir::open(d.path(), sealed ? test_pki("a").key : "");
		REQUIRE(dir.has_value());
		auto pm = dir->open_image(img::Kind::Pagemap, uint64_t(child.pid));
		REQUIRE(pm.has_value());
		auto head = pm->read(&pagemap_head__descriptor);
		REQUIRE(head.has_value());
		REQUIRE(head->has_value());
		auto pages = dir->open_pages(pb_cast<PagemapHead>(**head)->pages_id);
		REQUIRE(pages.has_value());
		uint64_t index = 0, checked = 0;
		std::vector<uint8_t> buf;
		while (true) {
			auto e = pm->read();
			REQUIRE(e.has_value());
			if (!e->has_value())
				break;
			auto *pe = pb_cast<PagemapEntry>(**e);
			buf.resize(pe->nr_pages * kPageSize);
			REQUIRE(pages->read(index, buf).has_value());
			for (uint32_t i = 0; i < pe->nr_pages; i++) {
				uint64_t addr = pe->vaddr + i * kPageSize;
				bool ours = (addr >= child.area && addr < child.area + kPages * kPageSize) ||
					    (addr >= child.file_area && addr < child.file_area + 8 * kPageSize);
				if (!ours)
					continue; // the rest of the child's memory (heap, stack, libraries)
				CHECK(page_matches(addr, &buf[i * kPageSize]));
				checked++;
			}
			index += pe->nr_pages;
		}
		CHECK(checked == kPages / 3 + 1 + 1);
		CHECK(index == pages->pages());
		CHECK(index == dumped.size());
	}
}

TEST_CASE("the memory thread saves each job's pages, and stops at the first failure")
{
	TempDir t;
	std::string file = t / "mapped";
	write_bytes(file, std::vector<uint8_t>(8 * kPageSize, 0x5a));
	Child child(file);
	auto vmas = parse_maps(child.pid);
	REQUIRE(vmas.has_value());
	MemDumpStats stats;
	auto runs = collect_dumpable_pages(child.pid, *vmas, stats);
	REQUIRE(runs.has_value());
	uint64_t expected = 0;
	for (const PageRun &r : *runs)
		expected += r.nr_pages;

	// A pid that surely has no task: a child already reaped.
	pid_t gone = fork();
	REQUIRE(gone >= 0);
	if (gone == 0)
		_exit(0);
	REQUIRE(waitpid(gone, nullptr, 0) == gone);

	for (bool sealed : {false, true}) {
		INFO((sealed ? "sealed" : "plain"));
		TempDir d;
		std::vector<std::string> certs;
		if (sealed)
			certs.push_back(test_pki("a").cert);
		auto dir = ImageDir::create(d.path(), certs);
		REQUIRE(dir.has_value());
		{
			MemDumpQueue q(*dir);
			q.push(MemoryJob{.pid = child.pid, .pages_id = 1, .vmas = *vmas});
			auto m = q.finish();
			INFO((m ? "" : m.error().describe()));
			REQUIRE(m.has_value());
			CHECK(m->pages_written == expected);
			CHECK(m->pages_scanned == stats.pages_scanned);
		}
		CHECK(access((d / "pages-1.img").c_str(), F_OK) == 0);
		{
			MemDumpQueue q(*dir);
			q.push(MemoryJob{.pid = gone, .pages_id = 2, .vmas = *vmas});
			q.push(MemoryJob{.pid = child.pid, .pages_id = 3, .vmas = *vmas});
			auto m = q.finish();
			REQUIRE_FALSE(m.has_value());
			CHECK_THAT(m.error().describe(), Catch::Contains(std::to_string(gone)));
			CHECK(!q.check().has_value());
		}
		CHECK(access((d / "pages-3.img").c_str(), F_OK) != 0); // not run after the failure
	}
}
