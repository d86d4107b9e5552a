// x86_64 registers into CRIU's thread_info_x86: general purpose registers, FXSAVE + xsave
// components, and the GDT TLS slots.
#define LOG_PREFIX "x86: "
#include "arch-x86.h"

#include <cpuid.h>

#include <cstring>

#include "common/log.h"

namespace criu {
namespace {

// xsave component numbers (XFEATURE_*).
enum : unsigned { kYmm = 2, kBndregs = 3, kBndcsr = 4, kOpmask = 5, kZmmHi256 = 6, kHi16Zmm = 7, kPkru = 9 };
constexpr unsigned kGdtTlsFirst = 12, kGdtTlsCount = 3;

template <typename T> T load(const compel::XsaveArea &x, size_t off)
{
	T v{};
	if (off + sizeof(T) <= x.bytes.size())
		std::memcpy(&v, x.bytes.data() + off, sizeof(T));
	return v;
}

// n elements of T from component c, or zeros when the area doesn't carry it.
template <typename T>
T *component(PbArena &a, const compel::XsaveArea &x, const XsaveLayout &l, unsigned c, size_t n, size_t *out_n)
{
	std::vector<T> v(n, T{});
	const XsaveLayout::Comp &k = l.comp[c];
	bool present = (x.xcr0() & (1ull << c)) && k.size && k.offset + n * sizeof(T) <= x.bytes.size();
	if (present)
		std::memcpy(v.data(), x.bytes.data() + k.offset, n * sizeof(T));
	*out_n = n;
	return a.array(v);
}

} // namespace

XsaveLayout XsaveLayout::from_cpuid()
{
	XsaveLayout l;
	unsigned eax, ebx, ecx, edx;
	if (!__get_cpuid_count(0xd, 0, &eax, &ebx, &ecx, &edx))
		return l;
	uint64_t supported = eax | (uint64_t(edx) << 32);
	for (unsigned c = 2; c < 10; c++) {
		if (!(supported & (1ull << c)))
			continue;
		__cpuid_count(0xd, c, eax, ebx, ecx, edx);
		l.comp[c] = Comp{.offset = ebx, .size = eax};
	}
	return l;
}

UserX86RegsEntry *make_gpregs(PbArena &a, const compel::X86Regs &r)
{
	UserX86RegsEntry *g = a.make(user_x86_regs_entry__init);
	g->r15 = r.r15, g->r14 = r.r14, g->r13 = r.r13, g->r12 = r.r12;
	g->bp = r.rbp, g->bx = r.rbx, g->r11 = r.r11, g->r10 = r.r10, g->r9 = r.r9, g->r8 = r.r8;
	g->ax = r.rax, g->cx = r.rcx, g->dx = r.rdx, g->si = r.rsi, g->di = r.rdi, g->orig_ax = r.orig_rax;
	g->ip = r.rip, g->cs = r.cs, g->flags = r.flags, g->sp = r.rsp, g->ss = r.ss;
	g->fs_base = r.fs_base, g->gs_base = r.gs_base, g->ds = r.ds, g->es = r.es, g->fs = r.fs, g->gs = r.gs;
	g->has_mode = true;
	g->mode = USER_X86_REGS_MODE__NATIVE;
	return g;
}

static UserX86XsaveEntry *make_xsave(PbArena &a, const compel::XsaveArea &x, const XsaveLayout &l)
{
	UserX86XsaveEntry *e = a.make(user_x86_xsave_entry__init);
	e->xstate_bv = x.xstate_bv();
	e->ymmh_space = component<uint32_t>(a, x, l, kYmm, 64, &e->n_ymmh_space);
	e->bndreg_state = component<uint64_t>(a, x, l, kBndregs, 8, &e->n_bndreg_state);
	e->bndcsr_state = component<uint64_t>(a, x, l, kBndcsr, 8, &e->n_bndcsr_state);
	e->opmask_reg = component<uint64_t>(a, x, l, kOpmask, 8, &e->n_opmask_reg);
	e->zmm_upper = component<uint64_t>(a, x, l, kZmmHi256, 64, &e->n_zmm_upper);
	e->hi16_zmm = component<uint64_t>(a, x, l, kHi16Zmm, 128, &e->n_hi16_zmm);
	e->pkru = component<uint32_t>(a, x, l, kPkru, 2, &e->n_pkru);
	return e;
}

Result<UserX86FpregsEntry *> make_fpregs(PbArena &a, const compel::XsaveArea &x, const XsaveLayout &l)
{
	constexpr size_t kLegacy = compel::XsaveArea::kLegacySize;
	if (x.bytes.size() < kLegacy)
		return fail(EINVAL, "xsave area of {} bytes, want at least {}", x.bytes.size(), kLegacy);
	UserX86FpregsEntry *f = a.make(user_x86_fpregs_entry__init);
	f->cwd = load<uint16_t>(x, 0);
	f->swd = load<uint16_t>(x, 2);
	f->twd = load<uint16_t>(x, 4);
	f->fop = load<uint16_t>(x, 6);
	f->rip = load<uint64_t>(x, 8);
	f->rdp = load<uint64_t>(x, 16);
	f->mxcsr = load<uint32_t>(x, 24);
	f->mxcsr_mask = load<uint32_t>(x, 28);
	auto words = [&](size_t off, size_t n, size_t *out_n) {
		std::vector<uint32_t> v(n);
		std::memcpy(v.data(), x.bytes.data() + off, n * 4);
		*out_n = n;
		return a.array(v);
	};
	f->st_space = words(32, 32, &f->n_st_space);
	f->xmm_space = words(160, 64, &f->n_xmm_space);
	f->padding = words(416, 24, &f->n_padding);
	if (x.bytes.size() > kLegacy)
		f->xsave = make_xsave(a, x, l);
	return f;
}

UserDescT *make_tls(PbArena &a, const compel::TlsDesc &d)
{
	UserDescT *u = a.make(user_desc_t__init);
	u->entry_number = d.entry_number;
	u->base_addr = d.base_addr;
	u->limit = d.limit;
	u->seg_32bit = d.seg_32bit;
	u->contents_h = d.contents_h;
	u->contents_l = d.contents_l;
	u->read_exec_only = d.read_exec_only;
	u->limit_in_pages = d.limit_in_pages;
	u->seg_not_present = d.seg_not_present;
	u->usable = d.usable;
	return u;
}

Result<ThreadInfoX86 *> make_thread_info(PbArena &a, compel::SeizedProcess &p, pid_t tid, uint64_t clear_tid_addr,
					 const XsaveLayout &l)
{
	ThreadInfoX86 *ti = a.make(thread_info_x86__init);
	ti->clear_tid_addr = clear_tid_addr;
	ti->gpregs = make_gpregs(a, TRY(p.regs(tid)));
	compel::XsaveArea x = TRY(p.xsave(tid));
	ti->fpregs = TRY_CTX(make_fpregs(a, x, l), "thread {}", tid);
	ti->n_tls = kGdtTlsCount;
	ti->tls = a.pointers<UserDescT>(kGdtTlsCount);
	for (unsigned i = 0; i < kGdtTlsCount; i++)
		ti->tls[i] = make_tls(a, TRY(p.thread_area(tid, kGdtTlsFirst + i)));
	return ti;
}

} // namespace criu
