// Terminals, as CRIU records them:
//   files.img     FileEntry {type TTY, id, tty: TtyFileEntry {id, tty_info_id, flags, fown,
//                 regf_id}}, one per open file, plus the REG entry regf_id naming its path
//                 ("/dev/ptmx", "/dev/pts/3"). tty_info_id is CRIU's tty id: the terminal's index
//                 << 1, | 1 for a pty master.
//   tty-info.img  TtyInfoEntry {id = tty_info_id, type PTY, locked, exclusive, packet_mode,
//                 sid, pgrp (of the slave), rdev, termios, winsize, pty {index}}, for both ends
//                 of every pty whose master is open in the dumped tree.
//   tty-data.img  TtyDataEntry {tty_id = the end that would read it, data}: what one end wrote
//                 and the other has not read yet.
//
// Ptys inside the tree: the master (/dev/ptmx) must be open in the tree; its state is read
// through criu's own copy of the fd (pidfd_getfd), the slave's through TIOCGPTPEER. Queued data
// is read out and written back at once (the tree is frozen), which is only exact where the line
// discipline passes it through unchanged: to the slave, raw input (no ICANON, ECHO, ISIG,
// IEXTEN, no input translation); to the master, no OPOST and no packet mode. Other queued data
// fails the dump. A slave may be the controlling terminal of a session of the tree whose own
// process group is in the foreground (sid, pgrp); the session leader takes it again once its fds
// are installed (TIOCSCTTY on the hidden slave fd). Restore makes
// every pty once, in the root task before it forks: it opens /dev/ptmx until the kernel gives the
// dumped index (devpts is the host's: if another process holds that index, restore fails),
// unlocks it, opens the slave (/dev/pts/N, O_NOCTTY), sets termios, window size, packet mode,
// exclusive, queues the data again, then the lock; both ends stay on hidden fds. A master's
// open file is that master (dup: a pty master has only one open file); a slave's is a new open
// of /dev/pts/N, which a child takes from its parent, and which tasks that did not all get it
// from a parent holding it get from the first fd table holding it (handed-files.h).
//
// Terminals from outside the tree (a slave without its master, /dev/tty, a console or VT) need
// --shell-job, as in CRIU: no tty-info entry is written for them and the restored task gets
// criu's own terminal, dup()ed at the same fd number. Internal to files.cc.
#pragma once

#include <sys/ioctl.h>
#include <sys/types.h>
#include <termios.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique-fd.h"
#include "image-dir.h"
#include "tty.pb-c.h"

namespace criu {

struct FdParms;
class RegFileDumper;

// A terminal device criu knows: a pty master or slave, /dev/tty, /dev/console, a VT.
bool is_tty_dev(dev_t rdev);
bool is_pty_master(dev_t rdev);

class TtyDumper {
public:
	TtyDumper(ImageDir &dir, ImageWriter &files) : dir_(&dir), files_(&files) {}
	// Writes FileEntry{REG, regf_id} naming p's terminal and FileEntry{TTY, id}; a pty master
	// gets its state read. shell_job: terminals from outside the tree are allowed.
	[[nodiscard]] Result<> dump(const FdParms &p, uint32_t id, uint32_t regf_id, RegFileDumper &reg,
				    bool shell_job);
	// Task pid is in the dumped tree (a session whose controlling terminal is a pty must be).
	void saw_task(pid_t pid) { tasks_.insert(pid); }
	// Checks that every pty slave has its master in the tree (or --shell-job) and writes
	// tty-info.img.
	[[nodiscard]] Result<> close();

	// What a master says about its pty.
	struct Pty {
		uint32_t index = 0;
		bool locked = false, packet = false, excl_master = false, excl_slave = false;
		pid_t sid = 0, pgrp = 0;
		uint32_t master_rdev = 0;
		struct termios tio {};
		struct winsize ws {};
		std::vector<uint8_t> to_slave, to_master; // queued data (tty-data.img)
	};

private:
	[[nodiscard]] Result<> dump_master(const FdParms &p, const UniqueFd &m, uint32_t index);
	[[nodiscard]] Result<> write_data();

	ImageDir *dir_;
	ImageWriter *files_;
	std::map<uint32_t, Pty> ptys_;            // by index, masters seen
	std::map<uint32_t, std::string> slaves_;  // by index: the first fd seen, for messages
	std::set<pid_t> tasks_;
	bool shell_job_ = false;
};

class TtyTable {
public:
	// tty-info.img (none: no pty in the tree).
	[[nodiscard]] static Result<TtyTable> load(ImageDir &dir);
	// The file is a pty of the tree (else: a terminal from outside, --shell-job).
	bool is_pty(const TtyFileEntry &te) const { return infos_.contains(te.tty_info_id); }
	// Makes every pty with its index and state, both ends on hidden fds above `above`.
	[[nodiscard]] Result<> create_all(int above) const;
	// In the session leader pid, once its fds are installed: the pty slaves that were the
	// session's controlling terminal are again (TIOCSCTTY; the foreground group is the session's).
	[[nodiscard]] Result<> restore_ctty(pid_t pid) const;
	// A new open file of te's pty end, with the given open flags.
	[[nodiscard]] Result<UniqueFd> open(const TtyFileEntry &te, int flags) const;

private:
	[[nodiscard]] Result<> create(uint32_t index, int above) const;
	[[nodiscard]] Result<> load_data(ImageDir &dir);

	std::map<uint32_t, PbMsg> infos_; // TtyInfoEntry by id
	struct Ends {
		mutable UniqueFd master, slave;
		std::vector<uint8_t> to_slave, to_master; // queued data (tty-data.img)
	};
	std::map<uint32_t, Ends> ptys_; // by index
};

} // namespace criu
