// Register layouts and helpers, without any process.
#include <catch2/catch.hpp>
#include <sys/reg.h>
#include <sys/user.h>

#include <cstring>

#include "compel/regs.h"

using namespace criu::compel;

static_assert(sizeof(X86Regs) == sizeof(struct user_regs_struct));
static_assert(offsetof(X86Regs, rax) == RAX * 8);
static_assert(offsetof(X86Regs, rsp) == RSP * 8);
static_assert(offsetof(X86Regs, gs_base) == GS_BASE * 8);
static_assert(offsetof(X86Regs, gs) == GS * 8);

TEST_CASE("in_restartable_syscall recognizes the kernel's restart codes")
{
	X86Regs r{};
	r.orig_rax = 0; // read
	for (long code : {kErestartSys, kErestartNoIntr, kErestartNoHand, kErestartRestartBlock}) {
		r.rax = uint64_t(-code);
		CHECK(in_restartable_syscall(r));
	}
	r.rax = uint64_t(-4); // EINTR is for the program to see
	CHECK_FALSE(in_restartable_syscall(r));
	r.rax = uint64_t(-kErestartSys);
	r.orig_rax = uint64_t(-1); // not in a system call
	CHECK_FALSE(in_restartable_syscall(r));
}

TEST_CASE("XsaveArea reads XSTATE_BV and the kernel's XCR0 word")
{
	XsaveArea a;
	CHECK(a.xstate_bv() == 0);
	CHECK(a.xcr0() == 0);
	a.bytes.resize(XsaveArea::kLegacySize + XsaveArea::kHeaderSize);
	uint64_t bv = 0x7, xcr0 = 0x2e7;
	memcpy(a.bytes.data() + XsaveArea::kLegacySize, &bv, 8);
	memcpy(a.bytes.data() + XsaveArea::kXcr0Offset, &xcr0, 8);
	CHECK(a.xstate_bv() == bv);
	CHECK(a.xcr0() == xcr0);
	CHECK(xsave_max_size() >= XsaveArea::kLegacySize + XsaveArea::kHeaderSize);
}
