// Registers and xsave state from core images (the inverse of arch-x86.cc).
#include "restore-regs.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <sys/syscall.h>

namespace criu {

namespace {

enum : unsigned { kYmm = 2, kBndregs = 3, kBndcsr = 4, kOpmask = 5, kZmmHi256 = 6, kHi16Zmm = 7, kPkru = 9 };
constexpr size_t kXstateBvOffset = compel::XsaveArea::kLegacySize;

template <typename T> void store(compel::XsaveArea &x, size_t off, T v) { std::memcpy(x.bytes.data() + off, &v, sizeof(T)); }

// Copies n elements into component c; false when the area has no room for state that is there.
// (Images carry components the CPU lacks as zeros.)
template <typename T> bool put(compel::XsaveArea &x, const XsaveLayout &l, unsigned c, const T *src, size_t n)
{
	const XsaveLayout::Comp &k = l.comp[c];
	if (!k.size || !(x.xcr0() & (1ull << c)))
		return std::all_of(src, src + n, [](T v) { return v == 0; });
	if (k.offset + n * sizeof(T) > x.bytes.size() || n * sizeof(T) > k.size)
		return false;
	std::memcpy(x.bytes.data() + k.offset, src, n * sizeof(T));
	return true;
}

} // namespace

compel::X86Regs regs_from_image(const UserX86RegsEntry &g)
{
	compel::X86Regs r{};
	r.r15 = g.r15, r.r14 = g.r14, r.r13 = g.r13, r.r12 = g.r12, r.rbp = g.bp, r.rbx = g.bx;
	r.r11 = g.r11, r.r10 = g.r10, r.r9 = g.r9, r.r8 = g.r8;
	r.rax = g.ax, r.rcx = g.cx, r.rdx = g.dx, r.rsi = g.si, r.rdi = g.di, r.orig_rax = g.orig_ax;
	r.rip = g.ip, r.cs = g.cs, r.flags = g.flags, r.rsp = g.sp, r.ss = g.ss;
	r.fs_base = g.fs_base, r.gs_base = g.gs_base, r.ds = g.ds, r.es = g.es, r.fs = g.fs, r.gs = g.gs;

	if (compel::in_restartable_syscall(r)) {
		if (long(r.rax) == -compel::kErestartRestartBlock && r.orig_rax == SYS_restart_syscall) {
			r.rax = uint64_t(-EINTR); // the kernel's restart block did not survive the checkpoint
		} else {
			r.rax = r.orig_rax;
			r.rip -= 2; // back on the syscall instruction
		}
	}
	// rt_sigtimedwait answers the dump's PTRACE_INTERRUPT with a plain -EINTR (a signal with a
	// handler would have shown as the handler's frame instead): wait again.
	if (int64_t(r.orig_rax) == SYS_rt_sigtimedwait && long(r.rax) == -EINTR) {
		r.rax = r.orig_rax;
		r.rip -= 2;
	}
	r.orig_rax = uint64_t(-1);
	return r;
}

Result<> xsave_from_image(const UserX86FpregsEntry &f, const XsaveLayout &l, compel::XsaveArea &x)
{
	if (x.bytes.size() < kXstateBvOffset + compel::XsaveArea::kHeaderSize)
		return fail(EINVAL, "the thread's xsave area is only {} bytes", x.bytes.size());
	if (f.n_st_space != 32 || f.n_xmm_space != 64)
		return fail(EINVAL, "FPU state with {} x87 and {} SSE words, want 32 and 64", f.n_st_space,
			    f.n_xmm_space);
	store<uint16_t>(x, 0, uint16_t(f.cwd));
	store<uint16_t>(x, 2, uint16_t(f.swd));
	store<uint16_t>(x, 4, uint16_t(f.twd));
	store<uint16_t>(x, 6, uint16_t(f.fop));
	store<uint64_t>(x, 8, f.rip);
	store<uint64_t>(x, 16, f.rdp);
	store<uint32_t>(x, 24, f.mxcsr);
	store<uint32_t>(x, 28, f.mxcsr_mask);
	std::memcpy(x.bytes.data() + 32, f.st_space, 32 * 4);
	std::memcpy(x.bytes.data() + 160, f.xmm_space, 64 * 4);

	// The header: which components hold state (the rest are in their initial state).
	std::memset(x.bytes.data() + kXstateBvOffset, 0, compel::XsaveArea::kHeaderSize);
	uint64_t bv = 0x3; // x87 and SSE, from the legacy area
	if (const UserX86XsaveEntry *e = f.xsave) {
		bool ok = put(x, l, kYmm, e->ymmh_space, e->n_ymmh_space) &&
			  put(x, l, kBndregs, e->bndreg_state, e->n_bndreg_state) &&
			  put(x, l, kBndcsr, e->bndcsr_state, e->n_bndcsr_state) &&
			  put(x, l, kOpmask, e->opmask_reg, e->n_opmask_reg) &&
			  put(x, l, kZmmHi256, e->zmm_upper, e->n_zmm_upper) &&
			  put(x, l, kHi16Zmm, e->hi16_zmm, e->n_hi16_zmm) && put(x, l, kPkru, e->pkru, e->n_pkru);
		if (!ok)
			return fail(EOPNOTSUPP, "the image's xsave state does not fit this CPU (checkpointed on another?)");
		bv = e->xstate_bv;
	}
	uint64_t unsupported = bv & ~x.xcr0();
	if (unsupported & ~uint64_t(0x3))
		return fail(EOPNOTSUPP, "the image uses xsave components {:#x} this CPU has not enabled", unsupported);
	store<uint64_t>(x, kXstateBvOffset, bv & x.xcr0());
	return {};
}

} // namespace criu
