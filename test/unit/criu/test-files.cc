// File descriptors and regular files of a real process: dumped into plain and sealed images that
// CRIU's crit decodes, then installed in a forked child and checked fd by fd.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <linux/kcmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <map>

#include "common/xio.h"
#include "file-locks.h"
#include "files.h"
#include "options.h"
#include "image-dir.h"
#include "fd-victim.h"
#include "test-dirs.h"
#include "vma.h"

using namespace criu;
using namespace criu::test;

namespace {

std::string error_of(const Result<> &r) { return r ? std::string() : r.error().describe(); }


// A forked child that sets up its fds with `setup` (after closing all others), says ready and
// sleeps. Killed and reaped by pid on scope exit.

void put(int fd, int want)
{
	if (fd != want) {
		if (dup2(fd, want) < 0)
			_exit(2);
		close(fd);
	}
}

void open_at(const std::string &path, int flags, int want, off_t pos = 0)
{
	int fd = open(path.c_str(), flags, 0644);
	if (fd < 0)
		_exit(3);
	if (pos && lseek(fd, pos, SEEK_SET) != pos)
		_exit(4);
	put(fd, want);
}

std::vector<uint8_t> pattern(size_t n, uint8_t seed)
{
	std::vector<uint8_t> v(n);
	for (size_t i = 0; i < n; i++)
		v[i] = uint8_t(seed + i * 7);
	return v;
}

// Runs check() in a forked child after fds are installed; returns what it reported ("" = all good).
std::string in_restored_child(const FdPlan &plan, const FileTable &files, bool shell_job, int tty_fd,
			      const std::function<std::string()> &check)
{
	int p[2];
	REQUIRE(pipe(p) == 0);
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		int out = fcntl(p[1], F_DUPFD_CLOEXEC, plan.max_fd() + 100);
		std::string report;
		if (out < 0)
			_exit(5);
		if (tty_fd >= 0 && tty_fd <= plan.max_fd())
			tty_fd = fcntl(tty_fd, F_DUPFD_CLOEXEC, plan.max_fd() + 1);
		auto r = plan.install(files, shell_job, tty_fd);
		report = r ? check() : "install: " + r.error().describe();
		(void)!write(out, report.data(), report.size());
		_exit(0);
	}
	close(p[1]);
	std::string report;
	char buf[4096];
	ssize_t n;
	while ((n = read(p[0], buf, sizeof(buf))) > 0)
		report.append(buf, size_t(n));
	close(p[0]);
	int st = 0;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st));
	return report;
}

struct Expect {
	int fd;
	std::string path; // "" for a ghost
	int flags;        // O_ACCMODE | O_APPEND | O_NOATIME | O_DIRECT bits
	off_t pos;
	bool cloexec;
};

std::string check_fd(const Expect &e, const std::map<std::string, std::pair<dev_t, ino_t>> &ids)
{
	std::string bad;
	struct stat st;
	if (fstat(e.fd, &st) < 0)
		return fmt::format("fd {} is not open; ", e.fd);
	if (!e.path.empty() && ids.count(e.path) &&
	    (st.st_dev != ids.at(e.path).first || st.st_ino != ids.at(e.path).second))
		bad += fmt::format("fd {} is not {}; ", e.fd, e.path);
	int fl = fcntl(e.fd, F_GETFL) & (O_ACCMODE | O_APPEND | O_NOATIME | O_DIRECT);
	if (fl != e.flags)
		bad += fmt::format("fd {} flags {:o}, want {:o}; ", e.fd, fl, e.flags);
	if (!S_ISCHR(st.st_mode) && lseek(e.fd, 0, SEEK_CUR) != e.pos)
		bad += fmt::format("fd {} at {}, want {}; ", e.fd, lseek(e.fd, 0, SEEK_CUR), e.pos);
	bool cx = fcntl(e.fd, F_GETFD) & FD_CLOEXEC;
	if (cx != e.cloexec)
		bad += fmt::format("fd {} cloexec {}; ", e.fd, cx);
	return bad;
}

std::string check_ghost(int fd, const std::vector<uint8_t> &want, off_t pos)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_nlink != 0 || size_t(st.st_size) != want.size())
		return fmt::format("ghost fd {} is not an unlinked file of {} bytes; ", fd, want.size());
	std::vector<uint8_t> got(want.size());
	if (pread(fd, got.data(), got.size(), 0) != ssize_t(got.size()) || got != want)
		return fmt::format("ghost fd {} has other contents; ", fd);
	if (lseek(fd, 0, SEEK_CUR) != pos)
		return fmt::format("ghost fd {} at {}, want {}; ", fd, lseek(fd, 0, SEEK_CUR), pos);
	return "";
}

void check_crit_decodes(const std::string &dir)
{
	for (const std::string &name : list_dir(dir)) {
		std::string out;
		INFO(name << ": " << out);
		CHECK(run_command("/usr/bin/crit decode --pretty -i " + dir + "/" + name + " -o /dev/null", &out) ==
		      0);
	}
}

std::string crit_json(const std::string &path)
{
	std::string out;
	REQUIRE(run_command("/usr/bin/crit decode --pretty -i " + path, &out) == 0);
	return out;
}

bool supports_o_direct(const std::string &dir)
{
	int fd = open((dir + "/probe").c_str(), O_RDWR | O_CREAT | O_DIRECT, 0644);
	if (fd >= 0)
		close(fd);
	unlink((dir + "/probe").c_str());
	return fd >= 0;
}

} // namespace

namespace {

// The victim of the main test, and what its fds must look like after install.
struct Scene {
	TempDir data;
	bool direct;
	std::vector<uint8_t> small = pattern(100, 3), large;
	std::vector<Expect> expect;
	std::map<std::string, std::pair<dev_t, ino_t>> ids;

	Scene() : direct(supports_o_direct(data.path()))
	{
		large.assign(20096, 0);
		auto a = pattern(4096, 9), b = pattern(4096, 11);
		std::copy(a.begin(), a.end(), large.begin());
		std::copy(b.begin(), b.end(), large.begin() + 16000);
		write_bytes(data / "append", pattern(2000, 1));
		write_bytes(data / "ro", pattern(300, 2));
		write_bytes(data / "cx", pattern(10, 4));
		write_bytes(data / "hi", pattern(10, 5));
		write_bytes(data / "map", pattern(8192, 6));
		write_bytes(data / "small", small);
		int fd = open((data / "large").c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
		REQUIRE(fd >= 0);
		REQUIRE(pwrite(fd, large.data(), 4096, 0) == 4096);
		REQUIRE(pwrite(fd, large.data() + 16000, 4096, 16000) == 4096);
		close(fd);
		for (const char *p : {"/dev/null", "/dev/zero", "/dev/urandom"})
			remember(p);
		for (const char *n : {"append", "ro", "cx", "hi", "map"})
			remember(data / n);
		remember(data.path());
		expect = {
			{0, "/dev/null", O_RDONLY, 0, false},
			{1, "/dev/zero", O_RDWR, 0, false},
			{2, "/dev/urandom", O_RDONLY, 0, false},
			{3, data / "append", O_RDWR | O_APPEND, 1234, false},
			{5, data / "ro", O_RDONLY | O_NOATIME, 7, false},
			{7, data / "append", O_RDWR | O_APPEND, 1234, false},
			{12, data / "cx", O_RDONLY, 0, true},
			{14, data.path(), O_RDONLY, 0, false},
			{1000, data / "hi", O_WRONLY, 3, false},
		};
		if (direct)
			expect.push_back({15, data / "cx", O_RDONLY | O_DIRECT, 0, false});
	}
	void remember(const std::string &p)
	{
		struct stat st;
		REQUIRE(stat(p.c_str(), &st) == 0);
		ids[p] = {st.st_dev, st.st_ino};
	}
	void setup() const
	{
		open_at("/dev/null", O_RDONLY, 0);
		open_at("/dev/zero", O_RDWR, 1);
		open_at("/dev/urandom", O_RDONLY, 2);
		open_at(data / "append", O_RDWR | O_APPEND, 3, 1234);
		open_at(data / "ro", O_RDONLY | O_NOATIME, 5, 7);
		put(dup(3), 7);
		open_at(data / "small", O_RDWR, 10, 50);
		open_at(data / "small", O_RDONLY, 16);
		open_at(data / "large", O_RDONLY, 11, 17000);
		unlink((data / "small").c_str());
		unlink((data / "large").c_str());
		open_at(data / "cx", O_RDONLY, 12);
		fcntl(12, F_SETFD, FD_CLOEXEC);
		open_at(data.path(), O_RDONLY | O_DIRECTORY, 14);
		if (direct)
			open_at(data / "cx", O_RDONLY | O_DIRECT, 15);
		open_at(data / "hi", O_WRONLY, 1000, 3);
		int m = open((data / "map").c_str(), O_RDWR);
		for (int i = 0; i < 2; i++)
			mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
		mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE, m, 4096);
		close(m);
	}
	std::string check() const
	{
		std::string bad;
		for (const Expect &e : expect)
			bad += check_fd(e, ids);
		if (syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, 3, 7) != 0)
			bad += "fds 3 and 7 do not share their file; ";
		bad += check_ghost(10, small, 50);
		bad += check_ghost(11, large, 17000);
		bad += check_ghost(16, small, 0);
		struct stat a, b;
		if (fstat(10, &a) < 0 || fstat(16, &b) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
			bad += "fds 10 and 16 are not one ghost file; ";
		if (syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, 10, 16) == 0)
			bad += "fds 10 and 16 share their file; ";
		if ((fcntl(10, F_GETFL) & O_ACCMODE) != O_RDWR)
			bad += "ghost fd 10 is not O_RDWR; ";
		return bad;
	}
};

// Dumps the scene's victim into dir: fds, exe, cwd, root and its file mappings.
// Returns the id of the shared mapping's file.
uint32_t dump_scene(ImageDir &dir, pid_t pid, const std::string &map_path)
{
	auto d = must(FilesDumper::create(dir));
	must(d.dump_fds(pid, 1, Options{}));
	uint32_t exe = must(d.dump_exe(pid));
	uint32_t cwd = must(d.dump_cwd(pid));
	uint32_t root = must(d.dump_root(pid));
	CHECK(exe != cwd);
	CHECK(root != exe);
	std::vector<uint32_t> shared, priv;
	for (const Vma &v : must(parse_maps(pid)))
		if (v.path == map_path)
			((v.flags & MAP_SHARED) ? shared : priv).push_back(must(d.dump_mapped_file(pid, v)));
	REQUIRE(shared.size() == 2);
	REQUIRE(priv.size() == 1);
	CHECK(shared[0] == shared[1]);
	CHECK(priv[0] != shared[0]);
	must(d.close(Options{}));
	return shared[0];
}

void restore_and_check(ImageDir &dir, const Scene &s, uint32_t map_id)
{
	auto files = must(FileTable::load(dir));
	{
		auto m = must(files.open_reg(map_id, O_RDWR));
		struct stat st;
		REQUIRE(fstat(m.get(), &st) == 0);
		CHECK(st.st_ino == s.ids.at(s.data / "map").second);
		CHECK((fcntl(m.get(), F_GETFL) & O_ACCMODE) == O_RDWR);
	}
	auto plan = must(FdPlan::load(dir, 1));
	CHECK(plan.max_fd() == 1000);
	std::vector<int> want = {0, 1, 2, 3, 5, 7, 10, 11, 12, 14, 15, 16, 1000};
	if (!s.direct)
		want.erase(std::find(want.begin(), want.end(), 15));
	CHECK(plan.fds() == want);
	CHECK(in_restored_child(plan, files, false, -1, [&] { return s.check(); }) == "");
}

} // namespace

TEST_CASE("fds of a live task are dumped as CRIU does and installed again, plain and sealed")
{
	Scene s;
	Victim v([&] { s.setup(); });
	TempDir plain_dir, sealed_dir;
	uint32_t map_id, sealed_map_id;
	{
		auto plain = must(ImageDir::create(plain_dir.path()));
		map_id = dump_scene(plain, v.pid, s.data / "map");
		auto sealed = must(ImageDir::create(sealed_dir.path(), std::vector<std::string>{test_pki().cert}));
		sealed_map_id = dump_scene(sealed, v.pid, s.data / "map");
	}
	v.stop();

	auto names = list_dir(plain_dir.path());
	for (const char *n : {"files.img", "fdinfo-1.img", "ghost-file-1.img", "ghost-file-2.img", "remap-fpath.img"})
		CHECK(std::find(names.begin(), names.end(), n) != names.end());
	CHECK(std::find(names.begin(), names.end(), "ghost-file-3.img") == names.end()); // one ghost per inode
	check_crit_decodes(plain_dir.path());
	std::string files_json = crit_json(plain_dir / "files.img");
	CHECK(files_json.find("\"name\": \"/dev/null\"") != std::string::npos);
	CHECK(files_json.find("\"name\": \"" + s.data / "small" + "\"") != std::string::npos);
	std::string fdinfo_json = crit_json(plain_dir / "fdinfo-1.img");
	CHECK(fdinfo_json.find("\"fd\": 1000") != std::string::npos);
	CHECK(crit_json(plain_dir / "ghost-file-2.img").find("\"chunks\": true") != std::string::npos);
	CHECK(crit_json(plain_dir / "remap-fpath.img").find("GHOST") != std::string::npos);
	std::string out;
	CHECK(run_command("/usr/bin/crit decode -i " + (sealed_dir / "files.img") + " -o /dev/null", &out) != 0);

	SECTION("plain")
	{
		auto dir = must(ImageDir::open(plain_dir.path(), ""));
		restore_and_check(dir, s, map_id);
	}
	SECTION("sealed")
	{
		auto dir = must(ImageDir::open(sealed_dir.path(), test_pki().key));
		restore_and_check(dir, s, sealed_map_id);
	}
	CHECK(!std::filesystem::exists(s.data / "small")); // ghosts are unlinked again
}

TEST_CASE("a terminal needs --shell-job and then becomes criu's terminal")
{
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	REQUIRE(master >= 0);
	REQUIRE(grantpt(master) == 0);
	REQUIRE(unlockpt(master) == 0);
	std::string pts = ptsname(master);
	Victim v([&] {
		open_at("/dev/null", O_RDONLY, 0);
		open_at(pts, O_RDWR | O_NOCTTY, 4);
	});
	TempDir t;
	{
		// Its master may be in another task of the tree: known once every task is dumped.
		TempDir refused;
		auto dir = must(ImageDir::create(refused.path()));
		auto d = must(FilesDumper::create(dir));
		must(d.dump_fds(v.pid, 2, Options{}));
		std::string err = error_of(d.close(Options{}));
		CHECK(err.find("--shell-job is needed") != std::string::npos);
		CHECK(err.find(fmt::format("fd 4 of {}", v.pid)) != std::string::npos);
	}
	{
		auto dir = must(ImageDir::create(t.path()));
		auto d = must(FilesDumper::create(dir));
		must(d.dump_fds(v.pid, 2, Options{.shell_job = true}));
		must(d.close(Options{}));
	}
	v.stop();
	check_crit_decodes(t.path());
	CHECK(crit_json(t / "files.img").find("\"name\": \"" + pts + "\"") != std::string::npos);

	auto dir = must(ImageDir::open(t.path(), ""));
	auto files = must(FileTable::load(dir));
	auto plan = must(FdPlan::load(dir, 2));
	int tty = open(pts.c_str(), O_RDWR | O_NOCTTY);
	REQUIRE(tty >= 0);
	std::string report = in_restored_child(plan, files, true, tty, [&] {
		struct stat a, b;
		if (fstat(4, &a) < 0 || stat(pts.c_str(), &b) < 0 || a.st_rdev != b.st_rdev)
			return std::string("fd 4 is not the terminal");
		return std::string();
	});
	CHECK(report == "");
	report = in_restored_child(plan, files, false, -1, [] { return std::string("installed?"); });
	CHECK(report.find("--shell-job is needed") != std::string::npos);
	CHECK(report.find("fdinfo-2.img: fd 4") != std::string::npos);
	close(tty);
	close(master);
}

TEST_CASE("fd kinds not supported yet fail the dump naming the pid, fd and kind")
{
	Victim v([] { // a netlink socket (unix sockets are supported)
		int sk = socket(AF_NETLINK, SOCK_RAW, 0);
		if (sk < 0)
			_exit(6);
		put(sk, 5);
	});
	TempDir t;
	auto dir = must(ImageDir::create(t.path()));
	auto d = must(FilesDumper::create(dir));
	std::string err = error_of(d.dump_fds(v.pid, 1, Options{}));
	CHECK(err.find(fmt::format("fd 5 of {} is a socket", v.pid)) != std::string::npos);
	CHECK(err.find("not supported") != std::string::npos);
}

TEST_CASE("fdinfo lock lines give CRIU's lock kinds, types and ranges")
{
	auto l = must(parse_fdinfo_locks("pos:\t0\nflags:\t02\n"
					 "lock:\t1: FLOCK  ADVISORY  WRITE 28704 fe:00:10952733 0 EOF\n"
					 "lock:\t1: POSIX  ADVISORY  READ 7 fe:00:1 5 14\n"
					 "lock:\t1: OFDLCK ADVISORY  WRITE -1 fe:00:2 100 EOF\n"));
	REQUIRE(l.size() == 3);
	CHECK((l[0].kind == FL_FLOCK && l[0].type == F_WRLCK && l[0].start == 0 && l[0].len == 0));
	CHECK((l[1].kind == FL_POSIX && l[1].type == F_RDLCK && l[1].pid == 7 && l[1].start == 5 && l[1].len == 10));
	CHECK((l[2].kind == FL_OFD && l[2].type == F_WRLCK && l[2].pid == -1 && l[2].start == 100 && l[2].len == 0));
	auto lease = parse_fdinfo_locks("lock:\t1: LEASE  ACTIVE    READ 7 fe:00:1 0 EOF\n");
	REQUIRE(!lease);
	CHECK(lease.error().describe().find("not supported") != std::string::npos);
}

TEST_CASE("missing or corrupt files.img and vanished paths are clear errors")
{
	TempDir data, t;
	write_bytes(data / "f", pattern(64, 1));
	Victim v([&] { open_at(data / "f", O_RDONLY, 3, 5); });
	{
		auto dir = must(ImageDir::create(t.path()));
		auto d = must(FilesDumper::create(dir));
		must(d.dump_fds(v.pid, 1, Options{}));
		must(d.close(Options{}));
	}
	v.stop();
	auto dir = must(ImageDir::open(t.path(), ""));

	SECTION("vanished path")
	{
		REQUIRE(unlink((data / "f").c_str()) == 0);
		auto files = must(FileTable::load(dir));
		auto plan = must(FdPlan::load(dir, 1));
		std::string report = in_restored_child(plan, files, false, -1, [] { return std::string(); });
		CHECK(report.find("fdinfo-1.img: fd 3") != std::string::npos);
		CHECK(report.find("files.img: can't open " + data / "f") != std::string::npos);
	}
	SECTION("changed size")
	{
		write_bytes(data / "f", pattern(65, 1));
		auto files = must(FileTable::load(dir));
		auto plan = must(FdPlan::load(dir, 1));
		std::string report = in_restored_child(plan, files, false, -1, [] { return std::string(); });
		CHECK(report.find("bad size 65 (expect 64)") != std::string::npos);
	}
	SECTION("missing files.img")
	{
		REQUIRE(unlink((t / "files.img").c_str()) == 0);
		auto r = FileTable::load(dir);
		REQUIRE(!r);
		CHECK(r.error().describe().find("files.img") != std::string::npos);
	}
	SECTION("corrupt files.img")
	{
		auto bytes = read_bytes(t / "files.img");
		REQUIRE(bytes.size() > 12);
		bytes.resize(bytes.size() - 3);
		write_bytes(t / "files.img", bytes);
		auto r = FileTable::load(dir);
		REQUIRE(!r);
		CHECK(r.error().describe().find("files.img") != std::string::npos);
	}
}

TEST_CASE("deleted files larger than the ghost limit are refused")
{
	TempDir data, t;
	write_bytes(data / "big", pattern(64 * 1024, 1));
	Victim v([&] { open_at(data / "big", O_RDONLY, 3); });
	REQUIRE(unlink((data / "big").c_str()) == 0);
	auto dir = must(ImageDir::create(t.path()));
	auto d = must(FilesDumper::create(dir));
	d.set_ghost_limit(4096);
	std::string err = error_of(d.dump_fds(v.pid, 1, Options{}));
	CHECK(err.find("--ghost-limit") != std::string::npos);
	CHECK(err.find(data / "big") != std::string::npos);
	d.set_ghost_limit(1 << 20);
	must(d.dump_fds(v.pid, 1, Options{}));
}
