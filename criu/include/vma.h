// A task's memory areas as /proc/PID/maps shows them, with CRIU's VMA status bits.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace criu {

// CRIU's vma_entry.status bits (image ABI).
namespace vma_status {
constexpr uint32_t kRegular = 1u << 0;
constexpr uint32_t kStack = 1u << 1;
constexpr uint32_t kVsyscall = 1u << 2;
constexpr uint32_t kVdso = 1u << 3;
constexpr uint32_t kHeap = 1u << 5;
constexpr uint32_t kFilePrivate = 1u << 6;
constexpr uint32_t kFileShared = 1u << 7;
constexpr uint32_t kAnonShared = 1u << 8;
constexpr uint32_t kAnonPrivate = 1u << 9;
constexpr uint32_t kSysvIpc = 1u << 10;
constexpr uint32_t kSocket = 1u << 11;
constexpr uint32_t kVvar = 1u << 12;
constexpr uint32_t kAioRing = 1u << 13;
constexpr uint32_t kMemfd = 1u << 14;
constexpr uint32_t kUnsupported = 1u << 31;
} // namespace vma_status

struct Vma {
	uint64_t start = 0, end = 0;
	uint32_t prot = 0;  // PROT_*
	uint32_t flags = 0; // MAP_PRIVATE / MAP_SHARED (| MAP_ANONYMOUS | MAP_GROWSDOWN)
	uint64_t pgoff = 0; // file offset in bytes
	uint32_t dev_major = 0, dev_minor = 0;
	uint64_t ino = 0;
	std::string path; // file path, or [heap], [stack], [vdso], [vvar], [vvar_vclock], [vsyscall], or empty
	uint32_t status = 0;
	uint64_t madv = 0; // bit MADV_* per madvise() advice in effect (smaps VmFlags), as CRIU's vma_entry.madv

	uint64_t size() const { return end - start; }
	uint64_t pages() const { return size() / 4096; }
	bool is(uint32_t bit) const { return (status & bit) != 0; }
	// Whether its private pages belong in the pages images.
	bool dumps_private_pages() const;
};

// Parses one line of /proc/PID/maps (exposed for tests).
[[nodiscard]] Result<Vma> parse_maps_line(const std::string &line);
// All VMAs of pid, with status bits set from what the kernel shows.
[[nodiscard]] Result<std::vector<Vma>> parse_maps(pid_t pid);
// Adds what /proc/PID/smaps VmFlags tell (MAP_LOCKED, MAP_NORESERVE, MAP_HUGETLB, MAP_GROWSDOWN;
// madvise advice) to vmas, matched by start address.
[[nodiscard]] Result<> parse_smaps_vmflags(pid_t pid, std::vector<Vma> &vmas);
// Applies one VmFlags line's flags ("rd wr mr mw me dd") to v (exposed for tests).
void apply_vmflags(const std::string &flags, Vma &v);

} // namespace criu
