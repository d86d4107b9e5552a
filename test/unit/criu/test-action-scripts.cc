// Action scripts (--action-script): the environment CRIU gives each action, in-process and
// through the real criu binary dumping and restoring a small victim (`sleep`), and a failing
// script that fails the dump while the task keeps running.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "action-scripts.h"
#include "common/xio.h"
#include "test-dirs.h"

using namespace criu;
using namespace criu::test;

namespace {

// A script that appends "ACTION INIT_PID IMAGE_DIR(resolved) INVENTORY TASK_STATE" to RECORD.
std::string make_recorder(const TempDir &t)
{
	std::string path = t / "record.sh";
	std::ofstream(path) << "#!/bin/sh\n"
			       "dir=$(cd \"$CRTOOLS_IMAGE_DIR\" && pwd -P)\n"
			       "inv=no; [ -e \"$CRTOOLS_IMAGE_DIR/inventory.img\" ] && inv=inventory\n"
			       "st=-; [ -n \"$CRTOOLS_INIT_PID\" ] && st=$(cut -d' ' -f3 /proc/$CRTOOLS_INIT_PID/stat 2>/dev/null)\n"
			       "echo \"$CRTOOLS_SCRIPT_ACTION ${CRTOOLS_INIT_PID:--} $dir $inv ${st:-gone}\" >> "
			    << t / "record" << "\n";
	chmod(path.c_str(), 0755);
	return path;
}

std::vector<std::string> records(const TempDir &t)
{
	std::vector<std::string> out;
	std::ifstream in(t / "record");
	for (std::string l; std::getline(in, l);)
		out.push_back(l);
	return out;
}

bool gone(pid_t pid) { return access(fmt::format("/proc/{}", pid).c_str(), F_OK) != 0; }

// `sleep 1000` in its own session, fds on /dev/null; killed by PID and waited for.
class Sleeper {
public:
	Sleeper()
	{
		pid_ = fork();
		if (pid_ == 0) {
			int null = open("/dev/null", O_RDWR);
			dup2(null, 0), dup2(null, 1), dup2(null, 2);
			close_range(3, ~0U, 0); // no pipes of the test runner
			setsid();
			execl("/bin/sleep", "sleep", "1000", nullptr);
			_exit(12);
		}
		REQUIRE(pid_ > 0);
		// Until it runs sleep (and no longer our forked copy).
		for (int i = 0; i < 1000; i++) {
			auto c = xio::read_file(fmt::format("/proc/{}/comm", pid_));
			if (c && *c == "sleep\n")
				return;
			std::this_thread::sleep_for(std::chrono::milliseconds(5));
		}
		FAIL("sleep did not start");
	}
	~Sleeper() { kill_and_wait(pid_); }
	pid_t pid() const { return pid_; }
	// Reaps it once a dump killed it.
	void reap() { waitpid(pid_, nullptr, 0); }

	static void kill_and_wait(pid_t pid)
	{
		if (pid <= 0)
			return;
		kill(pid, SIGKILL);
		waitpid(pid, nullptr, WNOHANG);
		for (int i = 0; i < 1000 && !gone(pid); i++) {
			waitpid(pid, nullptr, WNOHANG);
			std::this_thread::sleep_for(std::chrono::milliseconds(10));
		}
	}

private:
	pid_t pid_ = -1;
};

std::string real_path(const std::string &p)
{
	char buf[PATH_MAX];
	REQUIRE(realpath(p.c_str(), buf));
	return buf;
}

int run_criu(const std::string &args, std::string *out = nullptr)
{
	return run_command(fmt::format("{} {}", CRIU_BIN, args), out);
}

} // namespace

TEST_CASE("action names and environment are CRIU's", "[action-scripts]")
{
	CHECK(action_name(ScriptAction::PreDump) == "pre-dump");
	CHECK(action_name(ScriptAction::PostDump) == "post-dump");
	CHECK(action_name(ScriptAction::PreRestore) == "pre-restore");
	CHECK(action_name(ScriptAction::PostRestore) == "post-restore");
	CHECK(action_name(ScriptAction::PreResume) == "pre-resume");
	CHECK(action_name(ScriptAction::PostResume) == "post-resume");
	CHECK(action_name(ScriptAction::NetworkLock) == "network-lock");
	CHECK(action_name(ScriptAction::NetworkUnlock) == "network-unlock");
	CHECK(action_script_env(ScriptAction::PostDump, "/d", 42) ==
	      std::vector<std::string>{"CRTOOLS_SCRIPT_ACTION=post-dump", "CRTOOLS_IMAGE_DIR=/d", "CRTOOLS_INIT_PID=42"});
	CHECK(action_script_env(ScriptAction::PreRestore, "/d", 0).size() == 2);
}

TEST_CASE("run_action_scripts runs every script with the action's environment", "[action-scripts]")
{
	TempDir t;
	Options o;
	o.images_dir = t.path();
	REQUIRE(run_action_scripts(o, ScriptAction::PreDump)); // no scripts: nothing to do
	o.action_scripts = {make_recorder(t), "echo second $CRTOOLS_SCRIPT_ACTION >> " + t / "record"};
	setenv("CRTOOLS_INIT_PID", "999999", 1); // a stale value from outside must not leak in
	auto r = run_action_scripts(o, ScriptAction::NetworkLock);
	unsetenv("CRTOOLS_INIT_PID");
	REQUIRE(r);
	CHECK(records(t) == std::vector<std::string>{"network-lock - " + real_path(t.path()) + " no -",
						     "second network-lock"});

	SECTION("a failing script is an error naming it; the others still run")
	{
		o.action_scripts = {"exit 3", make_recorder(t), "kill -9 $$"};
		auto f = run_action_scripts(o, ScriptAction::PostDump, getpid());
		REQUIRE_FALSE(f);
		CHECK(f.error().message() == "post-dump script exit 3 exited with 3");
		CHECK(records(t).size() == 3);
		CHECK(records(t).back().starts_with("post-dump " + std::to_string(getpid()) + " "));
	}
	SECTION("a script killed by a signal is an error")
	{
		o.action_scripts = {"kill -9 $$"};
		auto f = run_action_scripts(o, ScriptAction::PreRestore);
		REQUIRE_FALSE(f);
		CHECK(f.error().message() == "pre-restore script kill -9 $$ was killed by signal 9");
	}
}

TEST_CASE("criu dump and restore run the scripts at CRIU's points", "[action-scripts]")
{
	TempDir t;
	std::string dir = real_path(t.path()) + "/img", script = make_recorder(t);
	mkdir(dir.c_str(), 0700);
	pid_t pid;
	{
		Sleeper s;
		pid = s.pid();
		std::string out;
		int rc = run_criu(fmt::format("dump -t {} -D {} -v4 -o dump.log --action-script {}", pid, dir, script), &out);
		INFO(out << xio::read_file(dir + "/dump.log").value_or(""));
		REQUIRE(rc == 0);
		s.reap();
		// pre-dump: not seized yet (sleeping); post-dump: complete images, the task still frozen.
		auto rec = records(t);
		REQUIRE(rec.size() == 2);
		CHECK(rec[0] == fmt::format("pre-dump {} {} no S", pid, dir));
		CHECK(rec[1] == fmt::format("post-dump {} {} inventory t", pid, dir));
	}
	for (int i = 0; i < 1000 && !gone(pid); i++)
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	REQUIRE(gone(pid));

	std::string out;
	int rc = run_criu(fmt::format("restore -D {} -d -v4 -o restore.log --pidfile {} --action-script {}", dir,
				  t / "pid", script),
		      &out);
	pid_t restored = 0;
	if (auto p = xio::read_file(t / "pid"))
		restored = pid_t(std::stoi(*p));
	INFO(out << xio::read_file(dir + "/restore.log").value_or(""));
	CHECK(rc == 0);
	CHECK(restored == pid);
	Sleeper::kill_and_wait(restored);
	auto rec = records(t);
	REQUIRE(rec.size() == 4);
	CHECK(rec[2] == fmt::format("pre-restore - {} inventory -", dir));
	CHECK(rec[3].starts_with(fmt::format("post-restore {} {} inventory ", pid, dir)));
}

TEST_CASE("a failing action script fails the dump and leaves the task running", "[action-scripts]")
{
	TempDir t;
	Sleeper s;
	std::string dir = t / "img";
	mkdir(dir.c_str(), 0700);
	const char *which = GENERATE("pre-dump", "post-dump");
	std::string script = fmt::format("[ $CRTOOLS_SCRIPT_ACTION != {} ] || exit 7", which);
	std::string out;
	int rc = run_criu(fmt::format("dump -t {} -D {} --action-script '{}'", s.pid(), dir, script), &out);
	INFO(out);
	CHECK(rc != 0);
	CHECK(out.find(fmt::format("{} script {} exited with 7", which, script)) != std::string::npos);
	std::this_thread::sleep_for(std::chrono::milliseconds(50));
	auto st = xio::read_file(fmt::format("/proc/{}/stat", s.pid()));
	REQUIRE(st);
	CHECK((*st)[st->rfind(')') + 2] == 'S'); // running (sleeping), not killed nor left traced
	if (std::string(which) == "pre-dump")
		CHECK(access((dir + "/inventory.img").c_str(), F_OK) != 0);
}
