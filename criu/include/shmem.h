// Shared anonymous memory (MAP_SHARED | MAP_ANONYMOUS, System V segments' pages aside): the
// segment's pages are saved once per shmid in pagemap-shmem-<shmid>.img (offsets within the
// segment, as CRIU) and a pages image of their own; restore maps a fresh segment in the VMA's
// slot and fills it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <vector>

#include "common/result.h"
#include "image-dir.h"
#include "mm.pb-c.h"
#include "vma.h"

namespace criu {

// Pages ids of shmem segments start here (the task's private pages use small ids).
inline constexpr uint32_t kShmemPagesIdBase = 0x10000;

// Saves the content of every MAP_SHARED anonymous VMA of the frozen task pid (vmas as parsed,
// shmids as recorded in its mm image: the segment's inode). Returns the pages written.
[[nodiscard]] Result<uint64_t> dump_shmem(pid_t pid, const std::vector<Vma> &vmas, ImageDir &dir);

// Restore side, for one task: the first VMA of a segment maps a new shared anonymous segment at
// its slot and fills it from the images; later VMAs of the same segment map that one again.
class ShmemRestorer {
public:
	[[nodiscard]] Result<> map(const VmaEntry &v, uint64_t slot, ImageDir &dir);

private:
	struct Segment {
		uint64_t slot, pgoff, size;
	};
	std::map<uint64_t, Segment> segments_; // by shmid
};

} // namespace criu
