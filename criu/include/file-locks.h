// File locks, with CRIU's --file-locks. As CRIU records them:
//   filelocks.img  FileLockEntry {flag = FL_POSIX 1 | FL_FLOCK 2 | FL_OFD 4, type = F_RDLCK 0 |
//                  F_WRLCK 1, pid = the task holding it, fd = an fd of that task on the locked
//                  file, start, len (0: to the end of the file)}, one per lock.
// Dump reads the `lock:` lines of /proc/PID/fdinfo/N (the kernel lists there the locks taken
// through that open file by its task: POSIX ones, owned by the task, and flock/OFD ones, owned
// by the open file). A flock or OFD lock belongs to the open file, so it is written once, for the
// first task and fd that hold that file; a POSIX lock once per task. Without --file-locks a lock
// fails the dump, as CRIU; leases are not supported.
// Restore takes every lock again in its task, once its fds are installed and before it forks
// (a child shares the open files it inherits, and tasks that share an open file share it again,
// see shared-files.h, with their flock/OFD locks; POSIX locks belong to the task that took them,
// so only it can take them back): flock(LOCK_NB), F_SETLK, F_OFD_SETLK.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <set>
#include <tuple>
#include <vector>

#include "common/result.h"
#include "image-dir.h"

namespace criu {

struct FdParms;

// CRIU's lock kinds (FileLockEntry.flag).
enum FileLockKind : uint32_t { FL_POSIX = 1, FL_FLOCK = 2, FL_OFD = 4 };

struct FileLock {
	uint32_t kind = 0;  // FileLockKind
	uint32_t type = 0;  // F_RDLCK or F_WRLCK
	pid_t pid = 0;      // as the kernel shows it (-1 for OFD locks)
	int64_t start = 0;
	int64_t len = 0;    // 0: to EOF
};

// The locks in the `lock:` lines of a /proc/PID/fdinfo/N text.
[[nodiscard]] Result<std::vector<FileLock>> parse_fdinfo_locks(const std::string &fdinfo);

class FileLockDumper {
public:
	explicit FileLockDumper(ImageDir &dir) : dir_(&dir) {}
	// Writes the locks taken through fd p (file id `id`). Without --file-locks (handle false)
	// any lock fails the dump.
	[[nodiscard]] Result<> dump(const FdParms &p, uint32_t id, bool handle);
	[[nodiscard]] Result<> close(); // filelocks.img, when written

private:
	ImageDir *dir_;
	std::optional<ImageWriter> img_;
	std::set<std::tuple<uint32_t, pid_t, uint32_t, uint32_t, int64_t, int64_t>> seen_;
};

class FileLockTable {
public:
	// filelocks.img (none: no locks).
	[[nodiscard]] static Result<FileLockTable> load(ImageDir &dir);
	// Takes every lock of task pid on its fds; called in the task itself once its fds are
	// installed.
	[[nodiscard]] Result<> restore(pid_t pid) const;

private:
	struct Entry {
		FileLock lock;
		pid_t owner;
		int fd;
	};
	std::vector<Entry> locks_;
};

} // namespace criu
