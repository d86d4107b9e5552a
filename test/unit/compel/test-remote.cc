// Remote system calls, shared areas and injected code: they work, and leave no trace.
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "compel/task.h"
#include "victim.h"

using namespace criu::compel;
using namespace std::chrono_literals;
using namespace compel_test;

namespace {

struct Cpu {
	X86Regs regs;
	XsaveArea xsave;
};

Cpu seize_cpu(pid_t pid)
{
	SeizedProcess p = must_seize(pid);
	Cpu c{must(p.regs(pid)), must(p.xsave(pid))};
	must(p.release());
	return c;
}

void check_same_cpu(const Cpu &a, const Cpu &b)
{
	CHECK(a.regs == b.regs);
	CHECK(a.xsave == b.xsave);
}

bool maps_have(pid_t pid, uint64_t addr)
{
	char want[32];
	snprintf(want, sizeof(want), "%lx-", (unsigned long)addr);
	return snapshot(pid).maps.find(want) != std::string::npos;
}

// A victim blocked in read(0), with its state as it was before anything touched it.
struct Reader {
	Victim v{{}};
	Snapshot before;
	Cpu cpu;
	Reader()
	{
		v.wait_ready();
		wait_in_syscall(v.pid(), __NR_read);
		before = snapshot(v.pid());
		cpu = seize_cpu(v.pid());
	}
	// Nothing changed, and the read still returns what is written now.
	void check_intact()
	{
		check_same(before, snapshot(v.pid()));
		check_same_cpu(cpu, seize_cpu(v.pid()));
		v.send("later");
		v.expect_line("D later H 0");
	}
};

} // namespace

TEST_CASE("remote syscalls in a task blocked in read(), which then restarts it")
{
	Reader r;
	CHECK(r.cpu.regs.orig_rax == __NR_read);
	CHECK(int64_t(r.cpu.regs.rax) == -kErestartSys);
	CHECK(in_restartable_syscall(r.cpu.regs));
	{
		SeizedProcess p = must_seize(r.v.pid());
		CHECK(must(p.remote_syscall(__NR_getpid)) == r.v.pid());
		CHECK(must(p.remote_syscall(__NR_getppid)) != getpid()); // not our child
		CHECK(must(p.remote_syscall(__NR_close, {12345})) == -EBADF);
		must(p.release());
	}
	r.check_intact();
}

TEST_CASE("a task in nanosleep() completes it without seeing EINTR")
{
	Victim v({"sleep", "300"});
	v.wait_ready();
	wait_in_syscall(v.pid(), __NR_nanosleep);
	{
		SeizedProcess p = must_seize(v.pid());
		X86Regs regs = must(p.regs(v.pid()));
		CHECK(regs.orig_rax == __NR_nanosleep);
		CHECK(int64_t(regs.rax) == -kErestartRestartBlock);
		CHECK(must(p.remote_syscall(__NR_getpid)) == v.pid());
		must(p.release());
	}
	v.expect_line("S 0 0");
}

TEST_CASE("a shared area is visible on both sides and goes away without a trace")
{
	Reader r;
	{
		SeizedProcess p = must_seize(r.v.pid());
		RemoteArea a = must(p.map_shared(3 * 4096 - 100));
		CHECK(a.size == 3 * 4096);
		CHECK(maps_have(r.v.pid(), a.remote));

		// Written here, read there.
		memcpy(a.local, "from-criu", 10);
		CHECK(must(p.remote_syscall(__NR_write, {uint64_t(-1), a.remote, 10})) == -EBADF);
		uint64_t there = a.remote + 4096;
		CHECK(must(p.remote_syscall(__NR_getcwd, {there, 4096})) > 0);
		char cwd[4096];
		REQUIRE(getcwd(cwd, sizeof(cwd)));
		CHECK(std::string(static_cast<char *>(a.local) + 4096) == cwd); // written there, read here

		must(p.unmap_shared(a));
		CHECK_FALSE(maps_have(r.v.pid(), a.remote));
		CHECK(p.unmap_shared(a).error().code() == EINVAL);

		RemoteArea b = must(p.map_shared(4096));
		CHECK(maps_have(r.v.pid(), b.remote));
		must(p.release()); // unmaps b
	}
	r.check_intact();
}

TEST_CASE("run_at runs code placed in a shared area")
{
	Reader r;
	{
		SeizedProcess p = must_seize(r.v.pid());
		RemoteArea a = must(p.map_shared(3 * 4096));
		auto *code = static_cast<uint8_t *>(a.local);
		uint64_t stack = a.remote + a.size;
		auto place = [&](std::initializer_list<uint8_t> bytes) { std::copy(bytes.begin(), bytes.end(), code); };

		place({0x48, 0x89, 0xf8, 0x48, 0x01, 0xf0, 0xcc}); // mov rax, rdi; add rax, rsi; int3
		CHECK(must(p.run_at(a.remote, stack, {40, 2})).rax == 42);

		place({0xb8, 0x27, 0, 0, 0, 0x0f, 0x05, 0xcc}); // mov eax, SYS_getpid; syscall; int3
		CHECK(long(must(p.run_at(a.remote, stack)).rax) == r.v.pid());

		uint64_t cell = a.remote + 4096;
		place({0x48, 0x89, 0x37, 0xcc}); // mov [rdi], rsi; int3
		(void)must(p.run_at(a.remote, stack, {cell, 0x1122334455667788}));
		CHECK(*reinterpret_cast<uint64_t *>(code + 4096) == 0x1122334455667788);

		place({0x66, 0x0f, 0x76, 0xc0, 0xcc}); // pcmpeqd xmm0, xmm0 (all ones); int3
		(void)must(p.run_at(a.remote, stack));  // the xsave area is put back: checked below
		must(p.release());
	}
	r.check_intact();
}

TEST_CASE("failed remote operations leave the task intact")
{
	Reader r;
	{
		SeizedProcess p = must_seize(r.v.pid(), 300ms);
		SECTION("bad arguments")
		{
			CHECK(must(p.remote_syscall(__NR_mmap, {0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, uint64_t(-1), 0})) == -EINVAL);
			CHECK(must(p.remote_syscall(__NR_munmap, {1, 4096})) == -EINVAL);
			CHECK_FALSE(p.map_shared(size_t(1) << 45).has_value()); // more than memory + swap
			CHECK_FALSE(p.map_shared(0).has_value());
		}
		SECTION("a remote syscall that never returns times out")
		{
			auto res = p.remote_syscall(__NR_pause);
			REQUIRE_FALSE(res.has_value());
			CHECK(res.error().code() == ETIMEDOUT);
		}
		SECTION("injected code that faults")
		{
			RemoteArea a = must(p.map_shared(4096));
			static_cast<uint8_t *>(a.local)[0] = 0x0f; // ud2
			static_cast<uint8_t *>(a.local)[1] = 0x0b;
			auto res = p.run_at(a.remote, a.remote + a.size);
			REQUIRE_FALSE(res.has_value());
			CHECK(res.error().code() == EFAULT);
			CHECK_FALSE(p.run_at(0x1000, 0).has_value()); // nothing mapped there
		}
		SECTION("injected code that loops forever times out")
		{
			RemoteArea a = must(p.map_shared(4096));
			static_cast<uint8_t *>(a.local)[0] = 0xeb; // jmp .
			static_cast<uint8_t *>(a.local)[1] = 0xfe;
			auto res = p.run_at(a.remote, a.remote + a.size);
			REQUIRE_FALSE(res.has_value());
			CHECK(res.error().code() == ETIMEDOUT);
		}
		// Not broken by any of it.
		CHECK(must(p.remote_syscall(__NR_getpid)) == r.v.pid());
		must(p.release());
	}
	r.check_intact();
}

TEST_CASE("dropping a SeizedProcess cures the task")
{
	Reader r;
	{
		SeizedProcess p = must_seize(r.v.pid());
		(void)must(p.map_shared(4096));
		CHECK(must(p.remote_syscall(__NR_getpid)) == r.v.pid());
		SeizedProcess moved = std::move(p);
		CHECK(p.threads().empty());
		CHECK(moved.threads().size() == 1);
	}
	r.check_intact();
}

TEST_CASE("a SIGSTOP raised by injected code is not lost")
{
	Victim v({});
	v.wait_ready();
	wait_in_syscall(v.pid(), __NR_read);
	{
		SeizedProcess p = must_seize(v.pid());
		SECTION("by a remote kill(): still pending when released")
		{
			CHECK(must(p.remote_syscall(__NR_kill, {uint64_t(v.pid()), SIGSTOP})) == 0);
			CHECK_FALSE(p.stopped());
		}
		SECTION("by code run with run_at(): delivered, and the task is run on past the stop")
		{
			RemoteArea a = must(p.map_shared(4096));
			uint8_t blob[] = {0xb8, 62, 0, 0, 0, 0x0f, 0x05, 0xcc}; // mov eax, SYS_kill; syscall; int3
			memcpy(a.local, blob, sizeof(blob));
			CHECK(must(p.run_at(a.remote, a.remote + a.size, {uint64_t(v.pid()), SIGSTOP})).rax == 0);
			CHECK(p.stopped());
			CHECK(p.stop_signo() == SIGSTOP);
		}
		CHECK(must(p.remote_syscall(__NR_getpid)) == v.pid());
		must(p.release());
	}
	wait_all_in_state(v.pid(), 'T');
	REQUIRE(kill(v.pid(), SIGCONT) == 0);
	v.send("cont");
	v.expect_line("D cont H 0");
}
