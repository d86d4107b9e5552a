// x86_64 thread state as CRIU's core image records it (thread_info_x86).
#pragma once

#include <cstdint>
#include <vector>

#include "common/result.h"
#include "compel/regs.h"
#include "compel/task.h"
#include "core-x86.pb-c.h"
#include "dump-arena.h"

namespace criu {

// Where each xsave component sits in the standard (uncompacted) layout ptrace returns,
// from CPUID leaf 0xD; size 0 when the CPU lacks it.
struct XsaveLayout {
	struct Comp {
		uint32_t offset = 0, size = 0;
	};
	Comp comp[10];
	static XsaveLayout from_cpuid();
};

UserX86RegsEntry *make_gpregs(PbArena &a, const compel::X86Regs &r);
// The legacy FXSAVE fields and the xsave components, split as CRIU does. Components the task's
// area does not hold (not enabled in its XCR0) are written as zeros.
Result<UserX86FpregsEntry *> make_fpregs(PbArena &a, const compel::XsaveArea &x, const XsaveLayout &l);
UserDescT *make_tls(PbArena &a, const compel::TlsDesc &d);

// thread_info for one thread of a seized process; clear_tid_addr is the caller's.
Result<ThreadInfoX86 *> make_thread_info(PbArena &a, compel::SeizedProcess &p, pid_t tid, uint64_t clear_tid_addr,
					 const XsaveLayout &l);

} // namespace criu
