// A thread's CPU state from its core image, in the form ptrace sets it.
#pragma once

#include "arch-x86.h"
#include "common/result.h"
#include "compel/regs.h"
#include "core-x86.pb-c.h"

namespace criu {

// The general purpose registers to resume the thread with. A thread that was inside an
// interruptible system call makes it again: rax = orig_rax and rip back on the syscall
// instruction. For calls the kernel restarts through restart_syscall (nanosleep, futex and
// poll with timeouts) that means starting over: a relative timeout runs in full again, which
// is what SA_RESTART would look like to the program (CRIU returns -EINTR there instead). Only a
// thread caught inside restart_syscall itself gets -EINTR: its restart block is gone.
// orig_rax is -1, so the kernel's own restart logic leaves them alone.
compel::X86Regs regs_from_image(const UserX86RegsEntry &g);

// Writes the image's FPU/SSE/AVX state into area, the thread's current xsave area as ptrace
// returns it (its size and the kernel's XCR0 word stay). Components the kernel has not
// enabled are dropped from xstate_bv.
[[nodiscard]] Result<> xsave_from_image(const UserX86FpregsEntry &f, const XsaveLayout &l, compel::XsaveArea &area);

} // namespace criu
