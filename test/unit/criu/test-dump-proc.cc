// The /proc parsers and the xsave split used by dump, on fixed texts and buffers.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/mman.h>

#include <cstring>

#include "arch-x86.h"
#include "proc-parse.h"
#include "vma.h"

using namespace criu;

TEST_CASE("stat fields, with a comm holding spaces and parens", "[dump][proc]")
{
	std::string text = "42 (a) b (c)) S 1 40 41 34816 42 4194560 100 0 0 0 1 2 0 0 20 -5 2 0 100 1000 50 "
			   "18446744073709551615 4194304 4198400 140737488347136 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 "
			   "6299648 6300000 6303744 140737488350000 140737488350100 140737488350100 140737488351000 0\n";
	auto st = parse_stat_text(text);
	REQUIRE(st);
	CHECK(st->state == 'S');
	CHECK(st->ppid == 1);
	CHECK(st->pgid == 40);
	CHECK(st->sid == 41);
	CHECK(st->flags == 4194560);
	CHECK(st->nice == -5);
	CHECK(st->start_code == 4194304);
	CHECK(st->end_code == 4198400);
	CHECK(st->start_stack == 140737488347136ull);
	CHECK(st->start_data == 6299648);
	CHECK(st->start_brk == 6303744);
	CHECK(st->arg_start == 140737488350000ull);
	CHECK(st->env_end == 140737488351000ull);
	CHECK(!parse_stat_text("1 (x) S 1 2"));
}

TEST_CASE("status credentials and seccomp", "[dump][proc]")
{
	std::string text = "Name:\tx\nUid:\t1\t2\t3\t4\nGid:\t5\t6\t7\t8\nGroups:\t10 20 \nCapInh:\t0000000000000000\n"
			   "CapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\nCapBnd:\t000001fffffeffff\n"
			   "CapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\n";
	auto st = parse_status_text(text);
	REQUIRE(st);
	CHECK(st->uids == std::array<uint32_t, 4>{1, 2, 3, 4});
	CHECK(st->gids == std::array<uint32_t, 4>{5, 6, 7, 8});
	CHECK(st->groups == std::vector<uint32_t>{10, 20});
	CHECK(st->cap_prm == 0x1ffffffffffull);
	CHECK(st->cap_bnd == 0x1fffffeffffull);
	CHECK(st->seccomp == 2);
	CHECK(st->no_new_privs);
}

TEST_CASE("limits in resource order", "[dump][proc]")
{
	std::string text = "Limit                     Soft Limit           Hard Limit           Units     \n";
	for (int i = 0; i < kRlimCount; i++)
		text += fmt::format("{:<25} {:<20} {:<20} {:<10}\n", fmt::format("Max thing {}", i),
				    i == 7 ? "321" : "unlimited", i == 7 ? "4096" : "unlimited", "");
	auto l = parse_limits_text(text);
	REQUIRE(l);
	CHECK((*l)[7].cur == 321);
	CHECK((*l)[7].max == 4096);
	CHECK((*l)[0].cur == ~uint64_t(0));
	CHECK(!parse_limits_text("Limit\n"));
}

TEST_CASE("POSIX timers", "[dump][proc]")
{
	auto t = parse_posix_timers_text("ID: 3\nsignal: 12/0000000000001234\nnotify: signal/pid.77\nClockID: 1\n"
					 "ID: 4\nsignal: 14/0000000000000000\nnotify: signal/tid.78\nClockID: 0\n");
	REQUIRE(t);
	REQUIRE(t->size() == 2);
	CHECK((*t)[0].id == 3);
	CHECK((*t)[0].signo == 12);
	CHECK((*t)[0].sival_ptr == 0x1234);
	CHECK((*t)[0].notify == SIGEV_SIGNAL);
	CHECK((*t)[0].clock_id == 1);
	CHECK((*t)[1].notify == (SIGEV_SIGNAL | SIGEV_THREAD_ID));
	CHECK((*t)[1].notify_tid == 78);
}

TEST_CASE("smaps VmFlags become map flags and madvise bits", "[dump][proc]")
{
	Vma v;
	v.flags = MAP_PRIVATE;
	apply_vmflags(" rd wr mr mw me gd lo dd hg ", v);
	CHECK(v.flags == uint32_t(MAP_PRIVATE | MAP_GROWSDOWN | MAP_LOCKED));
	CHECK(v.madv == ((1ull << MADV_DONTDUMP) | (1ull << MADV_HUGEPAGE)));
}

TEST_CASE("xsave area split into CRIU's fpregs", "[dump][x86]")
{
	XsaveLayout l = XsaveLayout::from_cpuid();
	REQUIRE(l.comp[2].offset == 576);
	compel::XsaveArea x;
	x.bytes.assign(l.comp[2].offset + l.comp[2].size, 0);
	uint16_t cwd = 0x37f;
	memcpy(x.bytes.data(), &cwd, 2);
	uint32_t mxcsr = 0x1f80;
	memcpy(x.bytes.data() + 24, &mxcsr, 4);
	uint64_t xcr0 = 7, bv = 6;
	memcpy(x.bytes.data() + compel::XsaveArea::kXcr0Offset, &xcr0, 8);
	memcpy(x.bytes.data() + 512, &bv, 8);
	uint32_t xmm3 = 0xabcd, ymmh3 = 0x1234;
	memcpy(x.bytes.data() + 160 + 3 * 16, &xmm3, 4);
	memcpy(x.bytes.data() + 576 + 3 * 16, &ymmh3, 4);
	PbArena a;
	auto f = make_fpregs(a, x, l);
	REQUIRE(f);
	CHECK((*f)->cwd == 0x37f);
	CHECK((*f)->mxcsr == 0x1f80);
	CHECK((*f)->xmm_space[12] == 0xabcd);
	REQUIRE((*f)->xsave);
	CHECK((*f)->xsave->xstate_bv == 6);
	CHECK((*f)->xsave->ymmh_space[12] == 0x1234);
	CHECK((*f)->xsave->n_pkru == 2);
	CHECK((*f)->xsave->n_hi16_zmm == 128);
}
