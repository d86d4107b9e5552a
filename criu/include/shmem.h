// Shared anonymous memory (MAP_SHARED | MAP_ANONYMOUS, System V segments' pages aside): the
// segment's pages, the whole segment whichever part of it a VMA shows, are saved once per
// shmid (its inode) for the whole tree in pagemap-shmem-<shmid>.img (offsets within the
// segment, as CRIU) and a pages image of their own. Restore makes every segment once, in the
// root task before it forks, fills it and keeps it open on a hidden fd that every task
// inherits; each VMA then maps its part of it, so tasks that shared a segment share it again.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <set>
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

// Saves the content of every MAP_SHARED anonymous segment the frozen task pid maps (vmas as
// parsed, shmids as recorded in its mm image: the segment's inode) and that no task before it
// did (done: the shmids saved so far, for the whole tree), into pages images numbered from
// first_pages_id. Returns the pages written.
[[nodiscard]] Result<uint64_t> dump_shmem(pid_t pid, const std::vector<Vma> &vmas, ImageDir &dir,
					  uint32_t first_pages_id, std::set<uint64_t> &done);

// Restore side: every segment of the tree.
class ShmemTable {
public:
	// The segments the VMAs of every task's mm map (shmid -> the size they need).
	void add(const VmaEntry &v);
	// In the root task before it forks: makes and fills every segment, on fds above `above`.
	[[nodiscard]] Result<> create_all(ImageDir &dir, int above) const;
	// Maps VMA v's part of its segment at slot (create_all has run in this task or an ancestor).
	[[nodiscard]] Result<> map(const VmaEntry &v, uint64_t slot) const;

private:
	struct Segment {
		uint64_t size = 0;
		mutable UniqueFd fd; // once created
	};
	std::map<uint64_t, Segment> segments_; // by shmid
};

} // namespace criu
