// Per-thread CPU state of an x86_64 task as ptrace reports it: general purpose registers,
// the xsave area and the blocked-signal mask.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace criu::compel {

// Laid out exactly as the kernel's struct user_regs_struct (PTRACE_GETREGS / PTRACE_SETREGS).
struct X86Regs {
	uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
	uint64_t rax, rcx, rdx, rsi, rdi, orig_rax;
	uint64_t rip, cs, flags, rsp, ss;
	uint64_t fs_base, gs_base, ds, es, fs, gs;

	bool operator==(const X86Regs &) const = default;
};
static_assert(sizeof(X86Regs) == 27 * 8, "user_regs_struct is 27 words");
static_assert(offsetof(X86Regs, orig_rax) == 15 * 8, "ORIG_RAX of <sys/reg.h>");
static_assert(offsetof(X86Regs, rip) == 16 * 8, "RIP of <sys/reg.h>");
static_assert(offsetof(X86Regs, fs_base) == 21 * 8, "FS_BASE of <sys/reg.h>");

// Code segment selector of a 64-bit user task; anything else (ia32, x32 via 0x23) is refused
// by the remote-execution primitives.
inline constexpr uint64_t kUserCs64 = 0x33;

// The kernel's internal "restart me" codes, visible in rax while a thread sits in a stop inside
// an interrupted system call (orig_rax >= 0). They never reach user space: when the thread goes
// back to user mode through signal delivery, the kernel rewinds rip by 2 and reloads rax.
enum RestartCode : long {
	kErestartSys = 512,
	kErestartNoIntr = 513,
	kErestartNoHand = 514,
	kErestartRestartBlock = 516,
};

// True when regs show a system call the kernel is going to restart.
bool in_restartable_syscall(const X86Regs &regs);

// Blocked signals as PTRACE_GETSIGMASK returns them: bit (signo - 1).
using SigSet = uint64_t;
inline constexpr SigSet sig_bit(int signo) { return SigSet(1) << (signo - 1); }

// The NT_X86_XSTATE regset: the 512-byte FXSAVE region (whose software-reserved bytes carry
// the XCR0 the kernel used), the 64-byte xsave header, then the enabled extended components.
struct XsaveArea {
	std::vector<uint8_t> bytes;

	static constexpr size_t kLegacySize = 512;
	static constexpr size_t kHeaderSize = 64;
	static constexpr size_t kXcr0Offset = 464; // USER_XSTATE_XCR0_WORD * 8

	uint64_t xstate_bv() const; // components present in the area (0 if too short)
	uint64_t xcr0() const;      // features enabled by the kernel (0 if too short)
	bool operator==(const XsaveArea &) const = default;
};

// Upper bound of the xsave area size, from CPUID leaf 0xD (all features the CPU supports).
size_t xsave_max_size();

} // namespace criu::compel
