// Registers and FPU state from core images: the restart rules and the xsave round trip.
#include <sys/syscall.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>

#include "arch-x86.h"
#include "restore-regs.h"

using namespace criu;

namespace {

UserX86RegsEntry in_syscall(long nr, long ret)
{
	PbArena a;
	compel::X86Regs r{};
	r.rip = 0x401000;
	r.rsp = 0x7ffd0000;
	r.cs = compel::kUserCs64;
	r.ss = 0x2b;
	r.orig_rax = uint64_t(nr);
	r.rax = uint64_t(ret);
	r.r12 = 0x1234;
	return *make_gpregs(a, r);
}

} // namespace

TEST_CASE("a thread in an interrupted system call makes it again")
{
	for (long code : {-compel::kErestartSys, -compel::kErestartNoIntr, -compel::kErestartNoHand,
			  -compel::kErestartRestartBlock}) {
		compel::X86Regs r = regs_from_image(in_syscall(SYS_nanosleep, code));
		CHECK(r.rax == SYS_nanosleep);
		CHECK(r.rip == 0x401000 - 2);
		CHECK(r.orig_rax == uint64_t(-1));
		CHECK(r.r12 == 0x1234);
	}
}

TEST_CASE("a thread inside restart_syscall gets EINTR; finished calls keep their result")
{
	compel::X86Regs r = regs_from_image(in_syscall(SYS_restart_syscall, -compel::kErestartRestartBlock));
	CHECK(long(r.rax) == -EINTR);
	CHECK(r.rip == 0x401000);

	r = regs_from_image(in_syscall(SYS_read, 42));
	CHECK(r.rax == 42);
	CHECK(r.rip == 0x401000);

	r = regs_from_image(in_syscall(-1, -compel::kErestartSys)); // not in a syscall: untouched
	CHECK(long(r.rax) == -compel::kErestartSys);
	CHECK(r.rip == 0x401000);
}

TEST_CASE("sigtimedwait interrupted by the dump waits again")
{
	compel::X86Regs r = regs_from_image(in_syscall(SYS_rt_sigtimedwait, -EINTR));
	CHECK(r.rax == SYS_rt_sigtimedwait);
	CHECK(r.rip == 0x401000 - 2);
	r = regs_from_image(in_syscall(SYS_read, -EINTR));
	CHECK(long(r.rax) == -EINTR);
}

TEST_CASE("xsave state goes through the image and back unchanged")
{
	XsaveLayout l = XsaveLayout::from_cpuid();
	size_t size = compel::xsave_max_size();
	REQUIRE(size >= compel::XsaveArea::kLegacySize + compel::XsaveArea::kHeaderSize);

	compel::XsaveArea x;
	x.bytes.assign(size, 0);
	// A kernel-like area: XCR0 in the software-reserved bytes, x87 + SSE (+ AVX if there) in use.
	uint64_t xcr0 = 0x3 | (l.comp[2].size ? 0x4 : 0);
	std::memcpy(x.bytes.data() + compel::XsaveArea::kXcr0Offset, &xcr0, 8);
	for (size_t i = 0; i < 512; i++)
		if (i < 464)
			x.bytes[i] = uint8_t(i * 7 + 1);
	uint32_t mxcsr = 0x1f80, mask = 0xffff;
	std::memcpy(x.bytes.data() + 24, &mxcsr, 4);
	std::memcpy(x.bytes.data() + 28, &mask, 4);
	std::memcpy(x.bytes.data() + 512, &xcr0, 8); // xstate_bv
	if (l.comp[2].size)
		for (uint32_t i = 0; i < l.comp[2].size; i++)
			x.bytes[l.comp[2].offset + i] = uint8_t(0xa0 + i);

	PbArena a;
	UserX86FpregsEntry *f = make_fpregs(a, x, l).value();
	compel::XsaveArea back;
	back.bytes.assign(size, 0xee);
	std::memcpy(back.bytes.data() + compel::XsaveArea::kXcr0Offset, &xcr0, 8);
	REQUIRE(xsave_from_image(*f, l, back));
	CHECK(std::memcmp(back.bytes.data(), x.bytes.data(), 416) == 0); // 416..511: no state
	CHECK(back.xstate_bv() == x.xstate_bv());
	if (l.comp[2].size)
		CHECK(std::memcmp(back.bytes.data() + l.comp[2].offset, x.bytes.data() + l.comp[2].offset,
				  l.comp[2].size) == 0);
}

TEST_CASE("xsave state the CPU has not enabled is refused")
{
	XsaveLayout l = XsaveLayout::from_cpuid();
	compel::XsaveArea x;
	x.bytes.assign(compel::xsave_max_size(), 0);
	uint64_t xcr0 = 0x3;
	std::memcpy(x.bytes.data() + compel::XsaveArea::kXcr0Offset, &xcr0, 8);
	PbArena a;
	UserX86FpregsEntry *f = make_fpregs(a, x, l).value();
	UserX86XsaveEntry xs = USER_X86_XSAVE_ENTRY__INIT;
	xs.xstate_bv = 0x3 | (1ull << 9); // PKRU, not in this area's XCR0
	f->xsave = &xs;
	auto r = xsave_from_image(*f, l, x);
	REQUIRE_FALSE(r);
	CHECK(r.error().describe().find("not enabled") != std::string::npos);
}
