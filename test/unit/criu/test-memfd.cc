// memfds of a real process: dumped into plain and sealed images (CRIU's crit decodes the plain
// ones), then installed in a forked child: one memfd per inode, contents, size, seals, positions.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <functional>

#include "files.h"
#include "options.h"
#include "image-dir.h"
#include "memfd.h"
#include "fd-victim.h"
#include "test-dirs.h"

using namespace criu;
using namespace criu::test;

namespace {


void put(int fd, int want)
{
	if (fd != want && (dup2(fd, want) < 0 || close(fd)))
		_exit(2);
}

// fd 3 and fd 4: one memfd ("data", 3 pages + 5 bytes, sealed against shrinking and growing),
// fd 3 read-write at 100, fd 4 read-only at 7; fd 5: an empty memfd made without sealing.
void make_memfds()
{
	int fd = memfd_create("data", MFD_ALLOW_SEALING);
	if (fd < 0 || ftruncate(fd, 3 * 4096 + 5))
		_exit(3);
	for (int i = 0; i < 3 * 4096 + 5; i += 4096)
		if (pwrite(fd, "page", 4, i) != 4)
			_exit(4);
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) || lseek(fd, 100, SEEK_SET) != 100)
		_exit(5);
	put(fd, 3);
	int ro = open("/proc/self/fd/3", O_RDONLY);
	if (ro < 0 || lseek(ro, 7, SEEK_SET) != 7)
		_exit(6);
	put(ro, 4);
	int empty = memfd_create("empty one", 0);
	if (empty < 0)
		_exit(7);
	put(empty, 5);
}

std::string check_memfds()
{
	std::string bad;
	struct stat a, b;
	char link[64] = {}, buf[4];
	if (fstat(3, &a) || fstat(4, &b) || a.st_ino != b.st_ino || a.st_size != 3 * 4096 + 5)
		bad += "fds 3 and 4 are not one memfd of the size; ";
	if (readlink("/proc/self/fd/3", link, sizeof(link) - 1) < 0 || strcmp(link, "/memfd:data (deleted)"))
		bad += fmt::format("fd 3 is {}; ", link);
	if (fcntl(3, F_GET_SEALS) != (F_SEAL_SHRINK | F_SEAL_GROW))
		bad += fmt::format("seals {:#x}; ", fcntl(3, F_GET_SEALS));
	if (lseek(3, 0, SEEK_CUR) != 100 || lseek(4, 0, SEEK_CUR) != 7)
		bad += "positions lost; ";
	if ((fcntl(3, F_GETFL) & O_ACCMODE) != O_RDWR || (fcntl(4, F_GETFL) & O_ACCMODE) != O_RDONLY)
		bad += "access modes lost; ";
	for (int i = 0; i < 3 * 4096 + 5; i += 4096)
		if (pread(4, buf, 4, i) != 4 || memcmp(buf, "page", 4))
			bad += fmt::format("contents at {} lost; ", i);
	if (pwrite(3, "PAGE", 4, 0) != 4 || pread(4, buf, 4, 0) != 4 || memcmp(buf, "PAGE", 4))
		bad += "fds 3 and 4 don't share the memfd; ";
	if (fstat(5, &a) || a.st_size != 0 || fcntl(5, F_GET_SEALS) != F_SEAL_SEAL)
		bad += "the empty memfd is not empty and unsealable; ";
	return bad;
}

// Installs the fds in a forked child and runs check_memfds() there; returns what it reported.
// Without seal_memfds() the memfds would stay unsealed.
std::string in_restored_child(const FdPlan &plan, const FileTable &files)
{
	int p[2];
	REQUIRE(pipe(p) == 0);
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		int out = fcntl(p[1], F_DUPFD_CLOEXEC, 100);
		auto r = files.create_memfds(plan.max_fd()); // criu does this before it forks the root
		if (r)
			r = plan.install(files, false, -1);
		if (r)
			r = files.seal_memfds(); // no memory here: the seals come now
		std::string report = r ? check_memfds() : "install: " + r.error().describe();
		(void)!write(out, report.data(), report.size());
		_exit(0);
	}
	close(p[1]);
	std::string report;
	char buf[4096];
	for (ssize_t n; (n = read(p[0], buf, sizeof(buf))) > 0;)
		report.append(buf, size_t(n));
	close(p[0]);
	int st = 0;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st));
	return report;
}

void dump_and_restore(const std::vector<std::string> &certs)
{
	TempDir tmp;
	{
		Victim v(make_memfds);
		ImageDir dir = must(ImageDir::create(tmp.path(), certs));
		FilesDumper files = must(FilesDumper::create(dir));
		must(files.dump_fds(v.pid, 1, Options{}));
		must(files.close(Options{}));
	}
	if (certs.empty())
		for (const char *name : {"files.img", "memfd.img", "fdinfo-1.img"}) {
			std::string out;
			INFO(name << ": " << out);
			CHECK(run_command("/usr/bin/crit decode -i " + tmp / name + " -o /dev/null", &out) == 0);
		}
	ImageDir dir = must(ImageDir::open(tmp.path(), certs.empty() ? "" : test_pki().key));
	FileTable files = must(FileTable::load(dir));
	FdPlan plan = must(FdPlan::load(dir, 1));
	CHECK(in_restored_child(plan, files) == "");
}

} // namespace

TEST_CASE("memfd names as CRIU stores them", "[memfd]")
{
	CHECK(memfd_name("/memfd:zdtm-memfd (deleted)") == "zdtm-memfd");
	CHECK(memfd_name("/memfd:with space (deleted)") == "with space");
	CHECK(memfd_name("/memfd:") == "");
	CHECK(memfd_name("/memfd:x (deleted) (deleted)") == "x (deleted)");
}

TEST_CASE("memfds are dumped once per inode and restored with contents, seals and positions", "[memfd]")
{
	SECTION("plain") { dump_and_restore({}); }
	SECTION("sealed") { dump_and_restore({test_pki().cert}); }
}
