// Shared anonymous memory (MAP_SHARED | MAP_ANONYMOUS, System V segments' pages aside): the
// segment's pages are saved once per shmid in pagemap-shmem-<shmid>.img (offsets within the
// segment, as CRIU) and a pages image of their own; restore maps a fresh segment in the VMA's
// slot and fills it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique-fd.h"
#include "image-dir.h"
#include "mm.pb-c.h"
#include "vma.h"

namespace criu {

// Pages ids of shmem segments start here (the task's private pages use small ids); memfd
// contents use kMemfdPagesIdBase + their inode id (memfd.h).
inline constexpr uint32_t kShmemPagesIdBase = 0x10000;
inline constexpr uint32_t kMemfdPagesIdBase = 0x20000;

// The pages of [from, to) of a segment (or memfd) read through fd, at path for messages: the
// allocated ones go to pages-<pages_id>.img, their offsets to pagemap-shmem-<shmid>.img. A last
// page past the end of the file is padded with zeroes. Returns the pages written.
[[nodiscard]] Result<uint64_t> dump_shmem_pages(BorrowedFd fd, const std::string &path, uint64_t from, uint64_t to,
						uint64_t shmid, ImageDir &dir, uint32_t pages_id);
// Reads the saved pages of segment shmid into at, which shows its offsets [from, from + len).
[[nodiscard]] Result<> restore_shmem_pages(ImageDir &dir, uint64_t shmid, uint8_t *at, uint64_t from, uint64_t len);

// Saves the content of every MAP_SHARED anonymous VMA of the frozen task pid (vmas as parsed,
// shmids as recorded in its mm image: the segment's inode), into pages images numbered from
// first_pages_id. Returns the pages written.
[[nodiscard]] Result<uint64_t> dump_shmem(pid_t pid, const std::vector<Vma> &vmas, ImageDir &dir,
					  uint32_t first_pages_id);

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
