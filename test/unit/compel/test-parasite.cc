// The parasite blob: it loads, answers its commands from inside the task, and leaves no trace.
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstring>

#include "compel/parasite.h"
#include "compel/task.h"
#include "victim.h"

using namespace criu::compel;
using namespace compel_test;

namespace {

// A victim blocked in read(0), with its state before anything touched it.
struct Reader {
	Victim v;
	Snapshot before;
	explicit Reader(const std::vector<std::string> &args = {}) : v(args)
	{
		v.wait_ready();
		wait_in_syscall(v.pid(), __NR_read);
		before = snapshot(v.pid());
	}
	// Nothing changed, and the victim still reads and answers.
	void check_intact()
	{
		check_same(before, snapshot(v.pid()));
		v.send("later");
		v.expect_line("D later H 0");
	}
};

// rt_sigaction(sig, act, &old) run in the task through a scratch shared area; returns old.
parasite_sigaction remote_sigaction(SeizedProcess &p, int sig, const parasite_sigaction *act)
{
	RemoteArea a = must(p.map_shared(4096));
	auto *buf = static_cast<parasite_sigaction *>(a.local);
	if (act)
		buf[0] = *act;
	long ret = must(p.remote_syscall(__NR_rt_sigaction,
					 {uint64_t(sig), act ? a.remote : 0, a.remote + sizeof(*buf), 8}));
	REQUIRE(ret == 0);
	parasite_sigaction old = buf[1];
	must(p.unmap_shared(a));
	return old;
}

constexpr uint64_t kSaRestorer = 0x04000000; // the kernel's kSaRestorer, not in <signal.h>

} // namespace

// Global, where Catch's comparisons look for it (parasite_sigaction is a global C struct).
static bool operator==(const parasite_sigaction &a, const parasite_sigaction &b)
{
	return std::memcmp(&a, &b, sizeof(a)) == 0;
}

TEST_CASE("parasite: GETPID answers from inside the task; unloading leaves no trace")
{
	Reader r;
	{
		SeizedProcess p = must_seize(r.v.pid());
		Parasite parasite = must(Parasite::load(p));
		CHECK(parasite.loaded());
		char start[32];
		snprintf(start, sizeof(start), "%lx-", (unsigned long)parasite.area().remote);
		CHECK(snapshot(r.v.pid()).maps.find(start) != std::string::npos);
		for (int i = 0; i < 3; i++) { // the blob serves more than one command
			auto ids = must(parasite.call<parasite_getpid_args>(PARASITE_CMD_GETPID));
			CHECK(ids.pid == r.v.pid());
			CHECK(ids.tid == r.v.pid());
		}
		must(parasite.unload());
		CHECK_FALSE(parasite.loaded());
		must(p.release());
	}
	r.check_intact();
}

TEST_CASE("parasite: the destructor unloads, an unknown command is an error")
{
	Reader r;
	{
		SeizedProcess p = must_seize(r.v.pid());
		Parasite parasite = must(Parasite::load(p));
		auto bad = parasite.call<parasite_getpid_args>(parasite_cmd(12345));
		REQUIRE_FALSE(bad);
		CHECK(bad.error().code() == EINVAL);
		Parasite moved = std::move(parasite);
		CHECK_FALSE(parasite.loaded());
		CHECK(must(moved.call<parasite_getpid_args>(PARASITE_CMD_GETPID)).pid == r.v.pid());
	}
	r.check_intact();
}

TEST_CASE("parasite: DUMP_SIGACTS reports every disposition exactly")
{
	Reader r({"--handler", std::to_string(SIGUSR1)});
	const parasite_sigaction usr2{0x7f0012345000, SA_SIGINFO | SA_ONSTACK | kSaRestorer, 0x7f0012346000,
				      sig_bit(SIGINT) | sig_bit(SIGTERM) | sig_bit(40)};
	const parasite_sigaction pipe_ign{uintptr_t(SIG_IGN), 0, 0, 0};
	{
		SeizedProcess p = must_seize(r.v.pid());
		remote_sigaction(p, SIGUSR2, &usr2);
		remote_sigaction(p, SIGPIPE, &pipe_ign);
		// What the kernel says, asked one signal at a time by remote syscalls.
		parasite_sigacts_args want{};
		for (int sig = 1; sig <= PARASITE_NSIG; sig++)
			if (sig != SIGKILL && sig != SIGSTOP)
				want.sa[sig - 1] = remote_sigaction(p, sig, nullptr);

		Parasite parasite = must(Parasite::load(p));
		auto got = must(parasite.call<parasite_sigacts_args>(PARASITE_CMD_DUMP_SIGACTS));
		must(parasite.unload());
		must(p.release());

		CHECK(got.sa[SIGUSR2 - 1] == usr2);
		CHECK(got.sa[SIGPIPE - 1] == pipe_ign);
		const parasite_sigaction &usr1 = got.sa[SIGUSR1 - 1];
		CHECK(usr1.handler > 1); // the victim's own handler
		CHECK((usr1.flags & SA_RESTART) != 0);
		CHECK((usr1.flags & kSaRestorer) != 0);
		CHECK(usr1.restorer != 0);
		CHECK(got.sa[SIGHUP - 1] == parasite_sigaction{});
		CHECK(got.sa[SIGKILL - 1] == parasite_sigaction{});
		CHECK(got.sa[SIGSTOP - 1] == parasite_sigaction{});
		for (int sig = 1; sig <= PARASITE_NSIG; sig++) {
			INFO("signal " << sig);
			CHECK(got.sa[sig - 1] == want.sa[sig - 1]);
		}

		// Put the victim back as it was, so that it is intact.
		SeizedProcess q = must_seize(r.v.pid());
		const parasite_sigaction dfl{};
		remote_sigaction(q, SIGUSR2, &dfl);
		remote_sigaction(q, SIGPIPE, &dfl);
		must(q.release());
	}
	r.check_intact();
}

TEST_CASE("parasite: DUMP_MISC reports umask, prctl state and itimers")
{
	Reader r;
	{
		SeizedProcess p = must_seize(r.v.pid());
		// An itimer far in the future, set in the task, to be seen by the parasite.
		RemoteArea a = must(p.map_shared(4096));
		parasite_itimer set{0, 0, 1000, 0};
		std::memcpy(a.local, &set, sizeof(set));
		REQUIRE(must(p.remote_syscall(__NR_setitimer, {uint64_t(ITIMER_PROF), a.remote, 0})) == 0);
		must(p.unmap_shared(a));

		Parasite parasite = must(Parasite::load(p));
		auto misc = must(parasite.call<parasite_misc_args>(PARASITE_CMD_DUMP_MISC));
		// Read twice: the parasite puts the umask back after reading it.
		auto again = must(parasite.call<parasite_misc_args>(PARASITE_CMD_DUMP_MISC));
		must(parasite.unload());

		CHECK(misc.umask == again.umask);
		CHECK(std::stoul(status_field(r.v.pid(), "Umask"), nullptr, 8) == misc.umask);
		CHECK(misc.dumpable == 1);
		CHECK(misc.pdeath_sig == 0);
		CHECK(misc.no_new_privs == 0);
		CHECK(misc.itimers[ITIMER_REAL].value_sec == 0);
		CHECK(misc.itimers[ITIMER_PROF].value_sec > 990); // ITIMER_PROF counts CPU time only
		CHECK(misc.itimers[ITIMER_PROF].value_sec <= 1000);
		// The leader's thread state and brk, asked from inside too.
		CHECK(misc.brk != 0);
		CHECK(misc.brk == again.brk);
		CHECK(misc.child_subreaper == 0);
		CHECK(misc.securebits == 0);
		CHECK(misc.tid_address != 0); // glibc's set_tid_address at start
		CHECK(misc.altstack.flags == SS_DISABLE);

		set = {};
		a = must(p.map_shared(4096));
		std::memcpy(a.local, &set, sizeof(set));
		REQUIRE(must(p.remote_syscall(__NR_setitimer, {uint64_t(ITIMER_PROF), a.remote, 0})) == 0);
		must(p.unmap_shared(a));
		must(p.release());
	}
	r.check_intact();
}
