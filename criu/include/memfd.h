// memfd files (memfd_create), as CRIU records them:
//   files.img    FileEntry {type MEMFD, id, memfd: MemfdFileEntry {id, flags, pos, fown,
//                inode_id}}, one per open file: each fd's, and one per (inode, open flags) for
//                mappings (their vma.shmid is that file id, as for regular file mappings).
//   memfd.img    MemfdInodeEntry {name without "memfd:" and " (deleted)", uid, gid, size,
//                shmid = the inode number, seals (F_GET_SEALS), inode_id (1, 2, ...),
//                hugetlb_flag = MFD_HUGETLB | page size for hugetlbfs}, once per inode.
//   contents     as shared anonymous memory: pagemap-shmem-<shmid>.img (file offsets) and
//                pages-<kMemfdPagesIdBase + inode_id>.img.
// Restore creates each inode once, in the process that becomes the task: memfd_create(name,
// MFD_ALLOW_SEALING unless the only seal is F_SEAL_SEAL), ftruncate, contents read (decrypted)
// straight into a shared mapping of it, owner; fds and mappings then reopen it through
// /proc/self/fd, and the seals come last, once every fd and mapping exists (F_SEAL_WRITE and
// F_SEAL_FUTURE_WRITE refuse writable mappings made after them): when the task's fds are
// installed and its memory premapped, in whichever order the restore does the two.
// Internal to files.cc.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/result.h"
#include "common/unique-fd.h"
#include "image-dir.h"
#include "memfd.pb-c.h"

namespace criu {

struct FdParms;

// Name CRIU stores for a memfd whose /proc link is link ("/memfd:NAME (deleted)" -> "NAME").
std::string memfd_name(std::string_view link);

// Dump side: MEMFD FileEntries into files.img, inodes and their contents once each.
class MemfdDumper {
public:
	MemfdDumper(ImageDir &dir, ImageWriter &files) : dir_(&dir), files_(&files) {}

	// Writes FileEntry{MEMFD, id} for p (an fd, or a mapping through map_files), and the inode
	// when it is the first file of it. The task must be frozen.
	[[nodiscard]] Result<> dump(const FdParms &p, uint32_t id);
	// Closes memfd.img (when a memfd was dumped).
	[[nodiscard]] Result<> close();

	MemfdDumper(MemfdDumper &&) noexcept = default;
	MemfdDumper &operator=(MemfdDumper &&) noexcept = default;

private:
	[[nodiscard]] Result<uint32_t> dump_inode(const FdParms &p);

	ImageDir *dir_;
	ImageWriter *files_;
	std::optional<ImageWriter> inodes_;                        // memfd.img
	std::map<std::pair<uint64_t, uint64_t>, uint32_t> inode_ids_; // (dev, ino) -> inode id
};

// Restore side: memfd.img, and each inode's memfd once created (kept on a hidden fd).
class MemfdTable {
public:
	// A directory without memfd.img has no memfds.
	[[nodiscard]] static Result<MemfdTable> load(ImageDir &dir);

	[[nodiscard]] Result<> check(const MemfdFileEntry &mfe) const;
	// The memfd of mfe's inode (created on first use), opened again with flags; seek: to mfe.pos.
	[[nodiscard]] Result<UniqueFd> open(const MemfdFileEntry &mfe, int flags, bool seek) const;
	// Hidden memfd fds are kept at or above fd (FdPlan::install moves them out of its way).
	[[nodiscard]] Result<> keep_fds_from(int fd) const;
	// The task's fds are installed (FdPlan::install) / its memory is premapped (MemRestore::premap).
	// The second of the two seals every memfd this process has (seals it lacks: a child may have
	// inherited them sealed).
	[[nodiscard]] Result<> fds_installed() const;
	[[nodiscard]] Result<> memory_premapped() const;

	MemfdTable(MemfdTable &&) noexcept = default;
	MemfdTable &operator=(MemfdTable &&) noexcept = default;

private:
	MemfdTable() = default;
	[[nodiscard]] Result<UniqueFd> create(const MemfdInodeEntry &mie) const;
	[[nodiscard]] Result<> fill(BorrowedFd fd, const MemfdInodeEntry &mie) const;
	[[nodiscard]] Result<> apply_seals() const;
	[[nodiscard]] Result<int> hidden_fd(uint32_t inode_id) const;

	struct Created {
		UniqueFd fd; // hidden, close-on-exec
		uint64_t ino;
	};

	ImageDir *dir_ = nullptr;
	std::map<uint32_t, PbMsg> inodes_;            // MemfdInodeEntry by inode_id
	mutable std::map<uint32_t, Created> fds_;     // created memfds by inode_id
	mutable int fd_floor_ = 0;
	mutable bool fds_installed_ = false, memory_premapped_ = false;
};

} // namespace criu
