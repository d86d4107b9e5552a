// System calls in a chosen thread, and what ptrace reports about each thread: pending signals,
// TLS slots, rseq registration, seccomp filters. Nothing of it may disturb the task.
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>

#include "compel/task.h"
#include "victim.h"

using namespace criu::compel;
using namespace compel_test;

namespace {

// True when a thread other than the leader sleeps in read() (the blocker thread has opened its
// pipe and started).
bool blocker_started(pid_t pid)
{
	for (pid_t tid : list_tasks(pid)) {
		std::ifstream f("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/syscall");
		std::string nr;
		if (tid != pid && f >> nr && nr == "0")
			return true;
	}
	return false;
}

struct Threaded {
	Victim v{{"--threads", "3", "--block", std::to_string(SIGUSR1)}};
	Threaded()
	{
		v.wait_ready();
		wait_in_syscall(v.pid(), __NR_read);
		for (int i = 0; !blocker_started(v.pid()); i++) {
			REQUIRE(i < 1000);
			usleep(10000);
		}
	}
};

} // namespace

TEST_CASE("remote system calls run in the thread asked for", "[compel][inspect]")
{
	Threaded t;
	Snapshot before = snapshot(t.v.pid());
	{
		SeizedProcess p = must_seize(t.v.pid());
		std::vector<pid_t> tids = p.threads();
		REQUIRE(tids.size() == 4);
		for (pid_t tid : tids) {
			CHECK(must(p.remote_syscall_in(tid, __NR_gettid)) == tid);
			CHECK(must(p.remote_syscall_in(tid, __NR_getpid)) == t.v.pid());
		}
		// What only a thread can tell: its sigaltstack, read through a shared area.
		RemoteArea a = must(p.map_shared(4096));
		for (pid_t tid : tids) {
			std::memset(a.local, 0xff, 24);
			CHECK(must(p.remote_syscall_in(tid, __NR_sigaltstack, {0, a.remote})) == 0);
			stack_t ss;
			std::memcpy(&ss, a.local, sizeof(ss));
			CHECK(ss.ss_flags == SS_DISABLE);
		}
		must(p.unmap_shared(a));
		CHECK(!p.remote_syscall_in(1, __NR_gettid));
		must(p.release());
	}
	check_same(before, snapshot(t.v.pid()));
	t.v.send("x");
	CHECK(t.v.line() == "D x H 0");
}

TEST_CASE("pending signals, shared and per thread", "[compel][inspect]")
{
	Threaded t;
	pid_t pid = t.v.pid();
	std::vector<pid_t> tids = list_tasks(pid);
	REQUIRE(tids.size() == 4);
	REQUIRE(kill(pid, SIGUSR1) == 0);
	REQUIRE(syscall(SYS_tgkill, pid, tids[2], SIGUSR1) == 0);
	Snapshot before = snapshot(pid);
	SeizedProcess p = must_seize(pid);
	auto shared = must(p.pending_signals(pid, true));
	REQUIRE(shared.size() == 1);
	int signo;
	std::memcpy(&signo, shared[0].data(), sizeof(signo));
	CHECK(signo == SIGUSR1);
	CHECK(must(p.pending_signals(pid, false)).empty());
	auto priv = must(p.pending_signals(tids[2], false));
	REQUIRE(priv.size() == 1);
	std::memcpy(&signo, priv[0].data(), sizeof(signo));
	CHECK(signo == SIGUSR1);
	must(p.release());
	check_same(before, snapshot(pid)); // peeking dequeues nothing
}

TEST_CASE("TLS slots and rseq registration", "[compel][inspect]")
{
	Threaded t;
	// glibc registers rseq in each thread as it starts; a thread may not have run yet.
	for (int attempt = 0;; attempt++) {
		SeizedProcess p = must_seize(t.v.pid());
		bool all_registered = true;
		for (pid_t tid : p.threads()) {
			for (unsigned idx = 12; idx <= 14; idx++)
				CHECK(must(p.thread_area(tid, idx)).entry_number == idx);
			RseqConfig r = must(p.rseq_config(tid));
			all_registered = all_registered && r.rseq_abi_pointer != 0;
			if (r.rseq_abi_pointer)
				CHECK(r.signature == 0x53053053u);
		}
		CHECK(!p.thread_area(t.v.pid(), 3)); // not a TLS slot
		must(p.release());
		if (all_registered)
			break;
		REQUIRE(attempt < 100);
		usleep(20000);
	}
}

TEST_CASE("seccomp filters of a thread", "[compel][inspect]")
{
	Victim v({"--seccomp", "--threads", "1"});
	v.wait_ready();
	SeizedProcess p = must_seize(v.pid());
	for (pid_t tid : p.threads()) {
		auto f0 = must(p.seccomp_filter(tid, 0));
		REQUIRE(f0);
		CHECK(f0->prog.size() == 4 * 8); // four struct sock_filter
		CHECK(f0->flags == 0);
		CHECK(!must(p.seccomp_filter(tid, 1)));
		// Suspended while seized: a remote getppid() does not kill the task.
		CHECK(must(p.remote_syscall_in(tid, __NR_getppid)) > 0);
	}
	must(p.release());
	v.send("y");
	CHECK(v.line() == "D y H 0");
}
