// criu dump of real processes: a two-thread victim with known state is dumped with -R, the
// images are read back and compared with what the victim set up, and CRIU's crit must decode
// every image. The victim must run on unchanged; a victim with a child is dumped with it.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "common/xio.h"
#include "core.pb-c.h"
#include "fdinfo.pb-c.h"
#include "image-dir.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "pstree.pb-c.h"
#include "regfile.pb-c.h"
#include "seccomp.pb-c.h"
#include "test-dirs.h"
#include "vma.h"

using namespace criu;
using namespace criu::test;

namespace {

// The victim, our child, killed by pid and reaped whatever happens.
class DumpVictim {
public:
	DumpVictim(const TempDir &dir, const std::vector<std::string> &opts = {})
	{
		std::string mapfile = dir / "mapped";
		write_bytes(mapfile, std::vector<uint8_t>(4096, 0x5a));
		info_path_ = dir / "info";
		pid_ = fork();
		if (pid_ == 0) {
			int null = open("/dev/null", O_RDWR);
			dup2(null, 0), dup2(null, 1), dup2(null, 2);
			setsid();
			std::vector<const char *> argv = {DUMP_VICTIM, info_path_.c_str(), mapfile.c_str()};
			for (const std::string &o : opts)
				argv.push_back(o.c_str());
			argv.push_back(nullptr);
			execv(DUMP_VICTIM, const_cast<char **>(argv.data()));
			_exit(12);
		}
		REQUIRE(pid_ > 0);
		wait_info();
	}
	~DumpVictim()
	{
		if (info_.count("child"))
			kill(pid_t(info_["child"]), SIGKILL);
		if (pid_ > 0) {
			kill(pid_, SIGKILL);
			waitpid(pid_, nullptr, 0);
		}
	}

	// Reaps the victim; its wait status.
	int reap()
	{
		int st = 0;
		waitpid(std::exchange(pid_, -1), &st, 0);
		return st;
	}

	pid_t pid() const { return pid_; }
	uint64_t at(const std::string &key) const { return info_.at(key); }
	bool alive() const { return kill(pid_, 0) == 0 && state(pid_) != 'Z'; }
	static char state(pid_t pid)
	{
		auto s = xio::read_file(fmt::format("/proc/{}/stat", pid));
		return s ? (*s)[s->rfind(')') + 2] : 0;
	}

private:
	void wait_info()
	{
		auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
		while (access(info_path_.c_str(), F_OK) != 0) {
			int st;
			if (waitpid(pid_, &st, WNOHANG) == pid_)
				FAIL("victim exited with status " << st);
			if (std::chrono::steady_clock::now() > until)
				FAIL("victim not ready after 10 s");
			std::this_thread::sleep_for(std::chrono::milliseconds(5));
		}
		std::ifstream in(info_path_);
		std::string k;
		uint64_t v;
		while (in >> k >> v)
			info_[k] = v;
	}

	pid_t pid_ = -1;
	std::string info_path_;
	std::map<std::string, uint64_t> info_;
};

int run_dump(pid_t pid, const std::string &dir, std::string *out = nullptr, const std::string &extra = "-R")
{
	mkdir(dir.c_str(), 0700);
	return run_command(fmt::format("{} dump -t {} -D {} {} -v4 -o dump.log", CRIU_BIN, pid, dir, extra), out);
}

std::string log_of(const std::string &dir)
{
	auto l = xio::read_file(dir + "/dump.log");
	return l ? *l : "(no log)";
}

PbMsg read_one(ImageDir &d, img::Kind kind, uint64_t id = 0)
{
	auto r = d.open_image(kind, id);
	if (!r)
		FAIL(r.error().describe());
	auto m = r->read();
	if (!m || !*m)
		FAIL("no entry in image kind " << int(kind) << " id " << id);
	return std::move(**m);
}

const SaEntry *sigaction_of(const TaskCoreEntry &tc, int sig)
{
	int idx = sig - 1 - (sig > SIGKILL) - (sig > SIGSTOP);
	REQUIRE(size_t(idx) < tc.n_sigactions);
	return tc.sigactions[idx];
}

std::map<uint32_t, std::string> reg_files(ImageDir &d)
{
	std::map<uint32_t, std::string> out;
	auto r = d.open_image(img::Kind::Files);
	REQUIRE(r);
	for (;;) {
		auto m = r->read();
		REQUIRE(m);
		if (!*m)
			return out;
		auto *f = pb_cast<FileEntry>(**m);
		if (f->reg)
			out[f->id] = f->reg->name;
	}
}

void check_core(ImageDir &d, const DumpVictim &v)
{
	PbMsg lm = read_one(d, img::Kind::Core, uint64_t(v.pid()));
	auto *leader = pb_cast<CoreEntry>(lm);
	REQUIRE(leader->tc);
	REQUIRE(leader->thread_core);
	const TaskCoreEntry &tc = *leader->tc;
	CHECK(tc.task_state == 1);
	const SaEntry *usr1 = sigaction_of(tc, SIGUSR1);
	CHECK(usr1->sigaction == v.at("handler"));
	CHECK((usr1->flags & SA_RESTART));
	CHECK(usr1->mask == (1ull << (SIGINT - 1)));
	CHECK(sigaction_of(tc, SIGUSR2)->sigaction == 0);
	CHECK(tc.timers->real->isec == 100);
	CHECK(tc.timers->real->vsec <= 200);
	CHECK(tc.timers->real->vsec >= 190);
	REQUIRE(tc.timers->n_posix == 1);
	const PosixTimerEntry *pt = tc.timers->posix[0];
	CHECK(pt->it_id == v.at("timer"));
	CHECK(pt->clock_id == CLOCK_MONOTONIC);
	CHECK(pt->si_signo == SIGUSR2);
	CHECK(pt->sival_ptr == 0x1234);
	CHECK(pt->isec == 7);
	CHECK(pt->vsec <= 300);
	CHECK(pt->vsec >= 290);
	REQUIRE(tc.rlimits->n_rlimits == 16);
	CHECK(tc.rlimits->rlimits[RLIMIT_NOFILE]->cur == 321);
	uint64_t blocked = (1ull << (SIGUSR2 - 1)) | (1ull << (SIGHUP - 1));
	CHECK((tc.blk_sigset & blocked) == blocked);
	REQUIRE(tc.signals_s);
	REQUIRE(tc.signals_s->n_signals == 1);
	int signo;
	memcpy(&signo, tc.signals_s->signals[0]->siginfo.data, sizeof(signo));
	CHECK(signo == SIGHUP);
	CHECK(leader->thread_core->creds->n_cap_eff == 2);
	CHECK(leader->thread_info->n_tls == 3);
}

void check_thread(ImageDir &d, const DumpVictim &v)
{
	PbMsg tm = read_one(d, img::Kind::Core, v.at("tid"));
	auto *t = pb_cast<CoreEntry>(tm);
	CHECK(t->tc == nullptr);
	REQUIRE(t->thread_core);
	REQUIRE(t->thread_core->sas);
	CHECK(t->thread_core->sas->ss_sp == v.at("ss_sp"));
	CHECK(t->thread_core->sas->ss_size == v.at("ss_size"));
	CHECK(t->thread_info->clear_tid_addr != 0);
	const UserX86FpregsEntry *fp = t->thread_info->fpregs;
	REQUIRE(fp->n_xmm_space == 64);
	const uint32_t want[8] = {0x33334444, 0x11112222, 0x77778888, 0x55556666,
				  0xaaaabbbb, 0x99990000, 0xeeeeffff, 0xccccdddd};
	for (int i = 0; i < 4; i++)
		CHECK(fp->xmm_space[7 * 4 + i] == want[i]);
	REQUIRE(fp->xsave);
	REQUIRE(fp->xsave->n_ymmh_space == 64);
	for (int i = 0; i < 4; i++)
		CHECK(fp->xsave->ymmh_space[7 * 4 + i] == want[4 + i]);
}

void check_mm(ImageDir &d, const DumpVictim &v, const std::vector<Vma> &maps)
{
	PbMsg mm_msg = read_one(d, img::Kind::Mm, uint64_t(v.pid()));
	auto *mm = pb_cast<MmEntry>(mm_msg);
	REQUIRE(mm->n_vmas == maps.size());
	std::map<uint32_t, std::string> files = reg_files(d);
	CHECK(files.count(mm->exe_file_id));
	std::map<std::string, uint32_t> special;
	for (size_t i = 0; i < maps.size(); i++) {
		const VmaEntry *e = mm->vmas[i];
		CHECK(e->start == maps[i].start);
		CHECK(e->end == maps[i].end);
		CHECK(e->status == maps[i].status);
		if (maps[i].path.starts_with("["))
			special[maps[i].path] = e->status;
		if (e->start == v.at("map")) {
			REQUIRE(files.count(uint32_t(e->shmid)));
			CHECK(files[uint32_t(e->shmid)].ends_with("/mapped"));
		}
	}
	CHECK(special.count("[vdso]"));
	CHECK((special["[vdso]"] & vma_status::kVdso));
	CHECK((special["[vvar]"] & vma_status::kVvar));
	CHECK((special["[vvar_vclock]"] & vma_status::kVvar));
	CHECK(mm->n_mm_saved_auxv > 0);
}

void check_crit(const std::string &dir)
{
	for (const std::string &name : list_dir(dir)) {
		if (name.starts_with("pages-") || name == "dump.log")
			continue;
		std::string out;
		int rc = run_command(fmt::format("/usr/bin/crit decode -i {}/{} --pretty", dir, name), &out);
		INFO(name << ": " << out.substr(0, 2000));
		CHECK(rc == 0);
	}
}

} // namespace

TEST_CASE("dump of a two-thread process records its state and leaves it running", "[dump]")
{
	TempDir tmp;
	DumpVictim v(tmp);
	std::string maps_before = *xio::read_file(fmt::format("/proc/{}/maps", v.pid()));
	std::vector<Vma> vmas = *parse_maps(v.pid());

	std::string out;
	std::string dir = tmp / "images";
	int rc = run_dump(v.pid(), dir, &out);
	INFO(out << log_of(dir));
	REQUIRE(rc == 0);
	CHECK(log_of(dir).find("Dumping finished successfully") != std::string::npos);
	CHECK(v.alive());
	CHECK(*xio::read_file(fmt::format("/proc/{}/maps", v.pid())) == maps_before);

	ImageDir d = *ImageDir::open(dir, "");
	PbMsg ps = read_one(d, img::Kind::Pstree);
	auto *pe = pb_cast<PstreeEntry>(ps);
	CHECK(pe->pid == uint32_t(v.pid()));
	REQUIRE(pe->n_threads == 2);
	CHECK(pe->threads[0] == uint32_t(v.pid()));
	CHECK(pe->threads[1] == v.at("tid"));
	PbMsg inv = read_one(d, img::Kind::Inventory);
	CHECK(pb_cast<InventoryEntry>(inv)->img_version == 2);
	check_core(d, v);
	check_thread(d, v);
	check_mm(d, v, vmas);
	check_crit(dir);

	SECTION("a second dump with -R succeeds too")
	{
		std::string dir2 = tmp / "images2";
		INFO(log_of(dir2));
		CHECK(run_dump(v.pid(), dir2) == 0);
		CHECK(v.alive());
		CHECK(*xio::read_file(fmt::format("/proc/{}/maps", v.pid())) == maps_before);
	}
}

TEST_CASE("dump of a process with a child dumps the tree and leaves both running", "[dump]")
{
	TempDir tmp;
	DumpVictim v(tmp, {"--child"});
	pid_t child = pid_t(v.at("child"));
	std::string dir = tmp / "images";
	REQUIRE(run_dump(v.pid(), dir) == 0);
	INFO(log_of(dir));
	auto d = ImageDir::open(dir, "");
	REQUIRE(d);
	ImageReader r = d->open_image(img::Kind::Pstree).value();
	std::vector<std::pair<uint32_t, uint32_t>> tasks; // pid, ppid
	while (auto e = r.read().value())
		tasks.emplace_back(pb_cast<PstreeEntry>(*e)->pid, pb_cast<PstreeEntry>(*e)->ppid);
	REQUIRE(tasks.size() == 2);
	CHECK(tasks[0] == std::make_pair(uint32_t(v.pid()), 0u));
	CHECK(tasks[1] == std::make_pair(uint32_t(child), uint32_t(v.pid())));
	CHECK(access(fmt::format("{}/core-{}.img", dir, child).c_str(), F_OK) == 0);
	CHECK(access(fmt::format("{}/mm-{}.img", dir, child).c_str(), F_OK) == 0);
	CHECK(v.alive());
	CHECK(DumpVictim::state(child) != 0);
	CHECK(DumpVictim::state(child) != 'Z');
}

TEST_CASE("dump without -R kills the task once the images are complete", "[dump]")
{
	TempDir tmp;
	DumpVictim v(tmp);
	std::string dir = tmp / "images";
	REQUIRE(run_dump(v.pid(), dir, nullptr, "") == 0);
	INFO(log_of(dir));
	int st = v.reap();
	CHECK(WIFSIGNALED(st));
	CHECK(WTERMSIG(st) == SIGKILL);
	CHECK(access((dir + "/inventory.img").c_str(), F_OK) == 0);
}

TEST_CASE("a failing dump leaves the task running and writes no inventory", "[dump]")
{
	TempDir tmp;
	DumpVictim v(tmp, {"--uffd"});
	std::string maps = *xio::read_file(fmt::format("/proc/{}/maps", v.pid()));
	std::string dir = tmp / "images";
	CHECK(run_dump(v.pid(), dir, nullptr, "") == 1);
	std::string log = log_of(dir);
	INFO(log);
	CHECK(log.find("Dumping FAILED") != std::string::npos);
	CHECK(access((dir + "/inventory.img").c_str(), F_OK) != 0);
	CHECK(v.alive());
	// Resumed, it may still be on its way back into its sleep for a moment.
	for (int i = 0; i < 1000 && DumpVictim::state(v.pid()) == 'R'; i++)
		usleep(1000);
	CHECK(DumpVictim::state(v.pid()) == 'S');
	CHECK(*xio::read_file(fmt::format("/proc/{}/maps", v.pid())) == maps);
}

TEST_CASE("seccomp filters go to seccomp.img", "[dump]")
{
	TempDir tmp;
	DumpVictim v(tmp, {"--seccomp"});
	std::string dir = tmp / "images";
	REQUIRE(run_dump(v.pid(), dir) == 0);
	INFO(log_of(dir));
	ImageDir d = *ImageDir::open(dir, "");
	for (uint64_t tid : {uint64_t(v.pid()), v.at("tid")}) {
		PbMsg m = read_one(d, img::Kind::Core, tid);
		auto *c = pb_cast<CoreEntry>(m);
		CHECK(c->thread_core->seccomp_mode == SECCOMP_MODE__filter);
		CHECK(c->thread_core->has_seccomp_filter);
		CHECK(c->thread_core->seccomp_filter == 0); // both threads share the one filter
	}
	CHECK(v.alive());
	check_crit(dir);
}

TEST_CASE("a stopped task is recorded as stopped and stays stopped", "[dump]")
{
	TempDir tmp;
	DumpVictim v(tmp);
	REQUIRE(kill(v.pid(), SIGSTOP) == 0);
	for (int i = 0; i < 1000 && DumpVictim::state(v.pid()) != 'T'; i++)
		std::this_thread::sleep_for(std::chrono::milliseconds(5));
	std::string dir = tmp / "images";
	REQUIRE(run_dump(v.pid(), dir) == 0);
	INFO(log_of(dir));
	ImageDir d = *ImageDir::open(dir, "");
	PbMsg m = read_one(d, img::Kind::Core, uint64_t(v.pid()));
	CHECK(pb_cast<CoreEntry>(m)->tc->task_state == 3);
	CHECK(pb_cast<CoreEntry>(m)->tc->stop_signo == SIGSTOP);
	CHECK(DumpVictim::state(v.pid()) == 'T');
}

TEST_CASE("an encrypted dump opens with the key and not without", "[dump]")
{
	TempDir tmp;
	DumpVictim v(tmp);
	const Pki &pki = test_pki();
	std::string dir = tmp / "images";
	REQUIRE(run_dump(v.pid(), dir, nullptr, "-R -e --tls-cert " + pki.cert) == 0);
	INFO(log_of(dir));
	CHECK(access((dir + "/cipher.img").c_str(), F_OK) == 0);
	auto d = ImageDir::open(dir, pki.key);
	REQUIRE(d);
	PbMsg m = read_one(*d, img::Kind::Pstree);
	CHECK(pb_cast<PstreeEntry>(m)->pid == uint32_t(v.pid()));
	CHECK(!ImageDir::open(dir, "/nonexistent/key.pem"));
	CHECK(v.alive());
}
