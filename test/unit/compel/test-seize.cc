// Seizing and releasing: every thread frozen, nothing about the task changed afterwards.
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "compel/task.h"
#include "victim.h"

using namespace criu::compel;
using namespace std::chrono_literals;
using namespace compel_test;

namespace {

void check_all_traced(pid_t pid, const SeizedProcess &p)
{
	auto tids = p.threads();
	std::sort(tids.begin(), tids.end());
	CHECK(tids == list_tasks(pid));
	for (auto [tid, state] : thread_states(pid)) {
		INFO("thread " << tid);
		CHECK(state == 't');
	}
}

} // namespace

TEST_CASE("seize freezes every thread, release lets them run on")
{
	Victim v({"--threads", "4"});
	v.wait_ready();
	{
		SeizedProcess p = must_seize(v.pid());
		REQUIRE(p.threads().size() == 5);
		CHECK(p.threads().front() == v.pid());
		CHECK_FALSE(p.stopped());
		check_all_traced(v.pid(), p);
		for (pid_t tid : p.threads()) {
			INFO("thread " << tid);
			X86Regs r = must(p.regs(tid));
			CHECK(r.cs == kUserCs64);
			CHECK(r.rip != 0);
			CHECK(r.fs_base != 0); // TLS
			XsaveArea x = must(p.xsave(tid));
			CHECK(x.bytes.size() >= XsaveArea::kLegacySize + XsaveArea::kHeaderSize);
			CHECK(x.bytes.size() <= xsave_max_size());
			CHECK((x.xcr0() & 3) == 3); // x87 and SSE always enabled
			(void)must(p.signal_mask(tid));
		}
		CHECK_FALSE(p.regs(1).has_value());
		CHECK(must(p.remote_syscall(__NR_getpid)) == v.pid());
		CHECK(must(p.remote_syscall(__NR_gettid)) == v.pid());
		must(p.release());
		CHECK(p.threads().empty());
	}
	for (auto [tid, state] : thread_states(v.pid())) {
		INFO("thread " << tid);
		CHECK(state != 't');
	}
	v.send("hello");
	v.expect_line("D hello H 0");
}

TEST_CASE("threads created while seizing are frozen too")
{
	Victim v({"--spawner"});
	v.wait_ready();
	for (int i = 0; i < 5; i++) {
		SeizedProcess p = must_seize(v.pid());
		check_all_traced(v.pid(), p);
		must(p.release());
	}
	v.send("x");
	v.expect_line("D x H 0");
}

TEST_CASE("a stopped task is seized, used and left stopped")
{
	Victim v({"--threads", "2"});
	v.wait_ready();
	REQUIRE(kill(v.pid(), SIGSTOP) == 0);
	REQUIRE(v.event() == 'S');
	auto before = snapshot(v.pid());
	{
		SeizedProcess p = must_seize(v.pid());
		CHECK(p.stopped());
		CHECK(p.stop_signo() == SIGSTOP);
		check_all_traced(v.pid(), p);
		CHECK(must(p.remote_syscall(__NR_getpid)) == v.pid());
		RemoteArea a = must(p.map_shared(4096));
		must(p.unmap_shared(a));
		must(p.release());
	}
	// Detached threads go TRACED -> RUNNING -> STOPPED on their own.
	wait_all_in_state(v.pid(), 'T');
	check_same(before, snapshot(v.pid()));
	REQUIRE(kill(v.pid(), SIGCONT) == 0);
	REQUIRE(v.event() == 'C');
	v.send("go");
	v.expect_line("D go H 0");
}

TEST_CASE("blocked pending signals stay pending")
{
	Victim v({"--block", std::to_string(SIGUSR1), "--block", std::to_string(SIGUSR2)});
	v.wait_ready();
	REQUIRE(kill(v.pid(), SIGUSR1) == 0);                          // shared queue
	REQUIRE(syscall(SYS_tgkill, v.pid(), v.pid(), SIGUSR2) == 0); // the thread's own queue
	auto before = snapshot(v.pid());
	CHECK(before.status["ShdPnd"] == "0000000000000200");
	CHECK(before.status["SigPnd"] == "0000000000000800");
	{
		SeizedProcess p = must_seize(v.pid());
		CHECK(must(p.signal_mask(v.pid())) == (sig_bit(SIGUSR1) | sig_bit(SIGUSR2)));
		CHECK(must(p.remote_syscall(__NR_getppid)) > 0);
		RemoteArea a = must(p.map_shared(8192));
		(void)a;
		must(p.release()); // unmaps the area
	}
	check_same(before, snapshot(v.pid()));
	v.send("s");
	v.expect_line("D s H 0");
}

TEST_CASE("signals arriving while seizing are delivered, not lost")
{
	int sig = SIGRTMIN; // queued: none coalesces with another
	Victim v({"--handler", std::to_string(sig)});
	v.wait_ready();
	constexpr int kRounds = 20;
	for (int i = 0; i < kRounds; i++) {
		REQUIRE(kill(v.pid(), sig) == 0);
		SeizedProcess p = must_seize(v.pid());
		CHECK(must(p.remote_syscall(__NR_getpid)) == v.pid());
		must(p.release());
	}
	v.send("n");
	v.expect_line("D n H " + std::to_string(kRounds));
}

TEST_CASE("seizing what can't be seized fails cleanly")
{
	CHECK(SeizedProcess::seize(getpid(), 1s).error().code() == EINVAL);
	CHECK(SeizedProcess::seize(0, 1s).error().code() == EINVAL);
	auto gone = SeizedProcess::seize(4194304 + 1, 1s); // above any pid_max
	REQUIRE_FALSE(gone.has_value());
	CHECK(gone.error().code() == ENOENT);
}

TEST_CASE("a flood of signals during seize and release loses none")
{
	int sig = SIGRTMIN;
	Victim v({"--handler", std::to_string(sig)});
	v.wait_ready();
	constexpr int kSignals = 3000;
	struct Sender {
		pid_t pid = -1;
		~Sender()
		{
			if (pid > 0) {
				kill(pid, SIGKILL);
				waitpid(pid, nullptr, 0);
			}
		}
	} sender;
	sender.pid = fork();
	REQUIRE(sender.pid >= 0);
	if (sender.pid == 0) {
		union sigval val = {};
		for (int sent = 0; sent < kSignals;)
			if (sigqueue(v.pid(), sig, val) == 0)
				sent++;
			else if (errno != EAGAIN)
				_exit(1);
		_exit(0);
	}
	int rounds = 0, status = 0;
	for (; waitpid(sender.pid, &status, WNOHANG) == 0; rounds++) {
		SeizedProcess p = must_seize(v.pid());
		CHECK(must(p.remote_syscall(__NR_getpid)) == v.pid());
		must(p.release());
	}
	sender.pid = -1;
	REQUIRE(WIFEXITED(status));
	REQUIRE(WEXITSTATUS(status) == 0);
	INFO(rounds << " seize/release rounds");
	v.send("f");
	v.expect_line("D f H " + std::to_string(kSignals));
}

TEST_CASE("a SIGSTOP racing with seize still stops the task")
{
	Victim v({"--threads", "2"});
	v.wait_ready();
	for (int i = 0; i < 10; i++) {
		REQUIRE(kill(v.pid(), SIGSTOP) == 0);
		{
			SeizedProcess p = must_seize(v.pid());
			check_all_traced(v.pid(), p);
			CHECK(must(p.remote_syscall(__NR_getpid)) == v.pid());
			must(p.release());
		}
		wait_all_in_state(v.pid(), 'T');
		REQUIRE(kill(v.pid(), SIGCONT) == 0);
		wait_none_in_state(v.pid(), 'T');
	}
	v.send("c");
	v.expect_line("D c H 0");
}

TEST_CASE("seccomp filters don't apply to remote syscalls")
{
	Victim v({"--seccomp"});
	v.wait_ready();
	{
		SeizedProcess p = must_seize(v.pid());
		long ppid = must(p.remote_syscall(__NR_getppid)); // would kill the task itself
		CHECK(ppid > 1);
		CHECK(ppid != getpid());
		must(p.release());
	}
	CHECK(status_field(v.pid(), "Seccomp") == "2");
	v.send("alive");
	v.expect_line("D alive H 0");
}
