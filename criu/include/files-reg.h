// Regular files (also directories and memory character devices such as /dev/null, which CRIU
// records the same way: a path, open flags and a position). Files deleted while open are kept
// as CRIU's ghost files: ghost-file-<remap_id>.img holds their contents, remap-fpath.img maps the
// reg entry to it. Internal to files.cc / files-reg.cc.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "common/unique-fd.h"
#include "image-dir.h"
#include "regfile.pb-c.h"

namespace criu {

// One open file as seen from outside its task, through /proc.
struct FdParms {
	pid_t pid = 0;
	int fd = -1;           // -1 for exe, cwd, root and mappings
	std::string proc_path; // /proc/PID/fd/N, /proc/PID/exe, /proc/PID/map_files/A-B, ...
	std::string link;      // what readlink(proc_path) says
	struct stat st {};     // stat(proc_path): the open file itself
	uint32_t flags = 0;    // f_flags as /proc/PID/fdinfo/N shows them (O_CLOEXEC included)
	uint64_t pos = 0;
	uint32_t fd_flags = 0; // FD_CLOEXEC, as fcntl(F_GETFD) would say

	// "fd 7 of 1234", "exe of 1234": for messages.
	std::string what() const;
};

// criu's own copy of the task's fd p.fd (pidfd_getfd: the task is frozen and criu its tracer), to
// look at a socket, pty or anon-inode file from outside.
[[nodiscard]] Result<UniqueFd> steal_fd(const FdParms &p);

// Ghost files larger than this (in allocated bytes) are refused, as CRIU's --ghost-limit (1M).
constexpr uint64_t kDefaultGhostLimit = 1u << 20;

// Dump side: writes REG FileEntries into files.img, and ghost-file-N.img + remap-fpath.img
// entries for files that have no name any more.
class RegFileDumper {
public:
	RegFileDumper(ImageDir &dir, ImageWriter &files) : dir_(&dir), files_(&files) {}

	// Writes FileEntry{REG, id} for p.
	[[nodiscard]] Result<> dump(const FdParms &p, uint32_t id);
	[[nodiscard]] Result<> close();
	void set_ghost_limit(uint64_t bytes) { ghost_limit_ = bytes; }

	RegFileDumper(RegFileDumper &&) noexcept = default;
	RegFileDumper &operator=(RegFileDumper &&) noexcept = default;

private:
	[[nodiscard]] Result<> dump_ghost(const FdParms &p, const std::string &path, uint32_t id);
	[[nodiscard]] Result<uint32_t> write_ghost_file(const FdParms &p, const std::string &path);

	ImageDir *dir_;
	ImageWriter *files_;
	std::optional<ImageWriter> remaps_;
	std::map<std::pair<uint64_t, uint64_t>, uint32_t> ghosts_; // (dev, ino) -> ghost id
	uint32_t next_ghost_id_ = 1;
	uint64_t ghost_limit_ = kDefaultGhostLimit;
};

// A ghost file read back from its image: metadata and whole contents.
struct GhostFile {
	uint32_t remap_id = 0;
	uint32_t uid = 0, gid = 0, mode = 0;
	std::optional<std::pair<struct timespec, struct timespec>> times; // atime, mtime
	uint64_t size = 0;
	std::vector<std::pair<uint64_t, std::vector<uint8_t>>> data; // (offset, bytes); the rest are holes
};

// Restore side: opens reg entries by path, recreating ghost files once per process (a hidden
// fd keeps each alive; later opens go through /proc/self/fd of it).
class RegFileOpener {
public:
	[[nodiscard]] static Result<RegFileOpener> load(ImageDir &dir);

	// Opens rfe with the given open flags and position.
	[[nodiscard]] Result<UniqueFd> open(const RegFileEntry &rfe, int flags, bool seek) const;
	// Hidden ghost fds are kept at or above fd (FdPlan::install moves them out of its way).
	[[nodiscard]] Result<> keep_fds_from(int fd) const;
	// rfe is a file deleted while open (a ghost file, recreated by open).
	bool is_ghost(const RegFileEntry &rfe) const { return remaps_.contains(rfe.id); }

	RegFileOpener(RegFileOpener &&) noexcept = default;
	RegFileOpener &operator=(RegFileOpener &&) noexcept = default;

private:
	RegFileOpener() = default;
	[[nodiscard]] Result<UniqueFd> open_ghost(const RegFileEntry &rfe, const GhostFile &g, int flags) const;
	[[nodiscard]] Result<UniqueFd> create_ghost(const RegFileEntry &rfe, const GhostFile &g) const;

	std::map<uint32_t, uint32_t> remaps_;   // reg id -> ghost id
	std::map<uint32_t, GhostFile> ghosts_;  // ghost id -> ghost
	mutable std::map<uint32_t, UniqueFd> ghost_fds_;
	mutable int fd_floor_ = 0;
};

// Open flags that make sense again at restore: creation flags and O_CLOEXEC dropped (the
// fdinfo entry carries close-on-exec).
int reopen_flags(uint32_t flags);

} // namespace criu
