#include <cpuid.h>

#include <algorithm>
#include <cstring>

#include "compel/regs.h"

namespace criu::compel {

bool in_restartable_syscall(const X86Regs &regs)
{
	if (int64_t(regs.orig_rax) < 0)
		return false;
	switch (-int64_t(regs.rax)) {
	case kErestartSys:
	case kErestartNoIntr:
	case kErestartNoHand:
	case kErestartRestartBlock:
		return true;
	default:
		return false;
	}
}

uint64_t XsaveArea::xstate_bv() const
{
	uint64_t v = 0;
	if (bytes.size() >= kLegacySize + sizeof(v))
		memcpy(&v, bytes.data() + kLegacySize, sizeof(v));
	return v;
}

uint64_t XsaveArea::xcr0() const
{
	uint64_t v = 0;
	if (bytes.size() >= kXcr0Offset + sizeof(v))
		memcpy(&v, bytes.data() + kXcr0Offset, sizeof(v));
	return v;
}

size_t xsave_max_size()
{
	unsigned eax, ebx, ecx, edx;
	if (!__get_cpuid_count(0xd, 0, &eax, &ebx, &ecx, &edx))
		return XsaveArea::kLegacySize + XsaveArea::kHeaderSize;
	return std::max<size_t>({ebx, ecx, XsaveArea::kLegacySize + XsaveArea::kHeaderSize});
}

} // namespace criu::compel
