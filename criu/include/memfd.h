// memfd files (memfd_create), as CRIU records them:
//   files.img    FileEntry {type MEMFD, id, memfd: MemfdFileEntry {id, flags, pos, fown,
//                inode_id}}, one per open file: each fd's, and one per (inode, open flags) for
//                mappings (their vma.shmid is that file id, as for regular file mappings).
//   memfd.img    MemfdInodeEntry {name without "memfd:" and " (deleted)", uid, gid, size,
//                shmid = the inode number, seals (F_GET_SEALS), inode_id (1, 2, ...),
//                hugetlb_flag = MFD_HUGETLB | page size for hugetlbfs}, once per inode.
//   contents     as shared anonymous memory: pagemap-shmem-<shmid>.img (file offsets) and
//                pages-<kMemfdPagesIdBase + inode_id>.img.
// Restore creates each inode once for the whole tree, in criu before it forks the root task (so
// every task inherits it, as shared anonymous memory): memfd_create(name, MFD_ALLOW_SEALING
// unless the only seal is F_SEAL_SEAL), ftruncate, contents read (decrypted) straight into a
// shared mapping of it, owner; kept on a hidden close-on-exec fd above every task's fds. Fds and
// mappings in any task reopen it through /proc/self/fd, so they all see one inode. The seals
// come last, from criu, once every task has installed its fds and mapped its memory and waits in
// its restorer's final trap (F_SEAL_WRITE and F_SEAL_FUTURE_WRITE refuse writable mappings made
// after them, in any task).
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
	// The memfd of mfe's inode (create_all made it), opened again with flags; seek: to mfe.pos.
	[[nodiscard]] Result<UniqueFd> open(const MemfdFileEntry &mfe, int flags, bool seek) const;
	// Makes and fills every memfd of memfd.img, on hidden fds above `above` (in criu, before the
	// root task is forked).
	[[nodiscard]] Result<> create_all(int above) const;
	// Hidden memfd fds are kept at or above fd (FdPlan::install moves them out of its way).
	[[nodiscard]] Result<> keep_fds_from(int fd) const;
	// Every task has installed its fds and mapped its memory: each memfd gets the seals it had.
	[[nodiscard]] Result<> seal_all() const;

	MemfdTable(MemfdTable &&) noexcept = default;
	MemfdTable &operator=(MemfdTable &&) noexcept = default;

private:
	MemfdTable() = default;
	[[nodiscard]] Result<UniqueFd> create(const MemfdInodeEntry &mie) const;
	[[nodiscard]] Result<> fill(BorrowedFd fd, const MemfdInodeEntry &mie) const;
	[[nodiscard]] Result<int> hidden_fd(uint32_t inode_id) const;

	struct Created {
		UniqueFd fd; // hidden, close-on-exec
		uint64_t ino;
	};

	ImageDir *dir_ = nullptr;
	std::map<uint32_t, PbMsg> inodes_;            // MemfdInodeEntry by inode_id
	mutable std::map<uint32_t, Created> fds_;     // created memfds by inode_id
	mutable int fd_floor_ = 0;
};

} // namespace criu
