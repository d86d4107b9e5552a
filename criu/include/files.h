// File descriptors: the fd table of a task (fdinfo-<files_id>.img) and the files they point to
// (files.img), dump side and restore side. Each fd kind is dumped by the row of a table keyed by
// what the kernel reports (st_mode, device major, link text); regular files live in files-reg.cc.
//
// Images, as CRIU writes them:
//   files.img            FileEntry {type, id, reg|tty|...}, one per open file description
//                        (fds that share one, found with kcmp(KCMP_FILE), share the id).
//                        reg.name is the absolute path ("/dev/null"), reg.flags the f_flags as
//                        /proc/PID/fdinfo shows them, reg.pos, reg.mode (st_mode), reg.size for
//                        regular files not opened O_WRONLY|O_APPEND (checked at restore).
//   fdinfo-N.img         FdinfoEntry {id, flags = FD_CLOEXEC or 0 (fcntl F_GETFD), type, fd}.
//   ghost-file-X.img     GhostFileEntry of a file deleted while open, then its contents: raw to
//                        the end under 12 KiB, else ghost_chunk_entry + data pairs (holes kept).
//   remap-fpath.img      RemapFilePathEntry {orig_id = reg id, remap_id = X, remap_type GHOST}.
//
// Terminals (FileEntry type TTY, tty-info.img): ptys inside the tree, and terminals from outside
// with --shell-job, in tty.cc; see tty.h.
//
// memfds (FileEntry type MEMFD, memfd.img) live in memfd.cc; see memfd.h. Pipes (FileEntry type
// PIPE, pipes-data.img) in pipes.cc; see pipes.h. Unix sockets (FileEntry type UNIXSK,
// sk-queues.img) in sk-unix.cc; see sk-unix.h. TCP/UDP sockets (FileEntry type INETSK,
// tcp-stream-N.img) in sk-inet.cc and sk-tcp.cc; see sk-inet.h.
// FIFOs (FileEntry type FIFO, fifo-data.img) in fifo.cc; see fifo.h. File locks (--file-locks,
// filelocks.img) in file-locks.cc; see file-locks.h.
// eventfd, epoll, signalfd, timerfd, inotify: anon-inode.h.
// An open file that fds of several tasks hold is opened once by the root task: shared-files.h.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <set>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "common/result.h"
#include "common/unique-fd.h"
#include "image-dir.h"
#include "tty.pb-c.h"
#include "vma.h"

namespace criu {

struct FdParms;
struct Options;
class RegFileDumper;
class RegFileOpener;
class MemfdDumper;
class MemfdTable;
class PipeDumper;
class PipeTable;
class UnixSkDumper;
class UnixSkTable;
class InetSkDumper;
class InetSkTable;
class FifoDumper;
class FifoTable;
class FileLockDumper;
class FileLockTable;
class TtyDumper;
class TtyTable;
class FdPlan;
class HandedFiles;

class FilesDumper {
public:
	// Opens files.img (ghost-file-N.img and remap-fpath.img are created when first needed).
	[[nodiscard]] static Result<FilesDumper> create(ImageDir &dir);

	// REG FileEntry id for a file mapping (via /proc/PID/map_files/<start>-<end>); the same file
	// with the same flags (O_RDWR for writable shared mappings, else O_RDONLY) gets the same id.
	[[nodiscard]] Result<uint32_t> dump_mapped_file(pid_t pid, const Vma &vma);
	[[nodiscard]] Result<uint32_t> dump_exe(pid_t pid);
	[[nodiscard]] Result<uint32_t> dump_cwd(pid_t pid);
	[[nodiscard]] Result<uint32_t> dump_root(pid_t pid);
	// Writes fdinfo-<files_id>.img for every open fd of pid. Fd kinds not supported yet fail
	// with an error naming the pid, the fd and the kind.
	[[nodiscard]] Result<> dump_fds(pid_t pid, uint32_t files_id, const Options &opts);
	// pid shares the fd table of a task already dumped (CLONE_FILES): no fdinfo image of its own.
	void saw_task(pid_t pid);
	// Every task's fds are dumped: an epoll or terminal held by several tasks that did not all
	// get it from a parent holding it too is handed over at restore (handed-files.h); refused:
	// such an epoll whose first holder watches another such file it would only get later.
	// parents: pstree's.
	[[nodiscard]] Result<> check_inherited(const std::map<pid_t, pid_t> &parents) const;
	// Dumps the files in flight on the unix sockets (with opts, as dump_fds), then closes
	// files.img and the ghost/remap images. Images not closed are incomplete.
	[[nodiscard]] Result<> close(const Options &opts);

	// The dumped tasks are dead: TCP connections stay in repair mode as they go (see sk-inet.h).
	void tasks_killed();
	// The dumped tasks are about to run again (--leave-running, a failed dump): connections
	// leave repair mode and the network lock goes first. A no-op after tasks_killed.
	void tasks_resume();

	// CRIU's --ghost-limit (bytes allocated to a deleted file); 1 MiB by default.
	void set_ghost_limit(uint64_t bytes);

	FilesDumper(FilesDumper &&) noexcept;
	FilesDumper &operator=(FilesDumper &&) noexcept;
	~FilesDumper();

private:
	// What the dumper knows of an fd already dumped (for kcmp-based sharing).
	struct DumpedFd {
		pid_t pid;
		int fd;
		uint64_t dev, ino;
		uint32_t id, type;
	};

	FilesDumper(ImageDir &dir, std::unique_ptr<ImageWriter> files);
	[[nodiscard]] Result<uint32_t> dump_path_file(FdParms &p);
	[[nodiscard]] Result<std::pair<uint32_t, uint32_t>> dump_one_fd(FdParms &p, const Options &opts);
	[[nodiscard]] Result<uint32_t> dump_tty(const FdParms &p);
	[[nodiscard]] Result<uint32_t> dump_in_flight(int fd, const std::string &what, const Options &opts);
	std::optional<DumpedFd> find_shared(const FdParms &p) const;

	ImageDir *dir_;
	std::unique_ptr<ImageWriter> files_;
	std::unique_ptr<RegFileDumper> reg_;
	std::unique_ptr<MemfdDumper> memfd_;
	std::unique_ptr<PipeDumper> pipes_;
	std::unique_ptr<UnixSkDumper> unix_;
	std::unique_ptr<InetSkDumper> inet_;
	std::unique_ptr<FifoDumper> fifo_;
	std::unique_ptr<FileLockDumper> locks_;
	std::unique_ptr<TtyDumper> tty_;
	uint32_t next_id_ = 1;
	std::vector<DumpedFd> dumped_;
	std::map<uint32_t, std::pair<uint32_t, std::set<pid_t>>> parent_shared_; // epoll, tty id -> type, tasks
	std::map<std::tuple<uint64_t, uint64_t, uint32_t>, uint32_t> by_path_; // (dev, ino, flags) -> id
};

// Everything in files.img (+ ghost files and remaps), for restore.
class FileTable {
public:
	[[nodiscard]] static Result<FileTable> load(ImageDir &dir);

	// Opens REG entry id in this process (path, flags, position; ghost files recreated from
	// their contents then unlinked, once, shared by later opens). flags_override replaces the
	// stored open flags (file mappings: O_RDONLY or O_RDWR) and skips the seek.
	[[nodiscard]] Result<UniqueFd> open_reg(uint32_t id, std::optional<int> flags_override = {}) const;
	// Opens MEMFD entry id likewise: the memfd of its inode (see create_memfds).
	[[nodiscard]] Result<UniqueFd> open_memfd(uint32_t id, std::optional<int> flags_override = {}) const;
	// Creates every pipe, unix socket and pty (and opens every FIFO) of the checkpoint on hidden
	// fds above `above`; done once, in the root task before it forks, so that every task has
	// them (see pipes.h, sk-unix.h, fifo.h, tty.h).
	[[nodiscard]] Result<> create_pipes(int above) const;
	// Creates every TCP/UDP socket likewise (see sk-inet.h).
	[[nodiscard]] Result<> create_inet_sockets(int above) const;
	// A new fd of INETSK entry id (the socket create_inet_sockets made).
	[[nodiscard]] Result<UniqueFd> open_inet(uint32_t id) const;
	// A new open file of PIPE entry id's end of its pipe.
	[[nodiscard]] Result<UniqueFd> open_pipe(uint32_t id) const;
	// A new fd of UNIXSK entry id's socket.
	[[nodiscard]] Result<UniqueFd> open_unix_sk(uint32_t id) const;
	// A new open file of FIFO entry id (create_pipes has opened the FIFO; see fifo.h).
	[[nodiscard]] Result<UniqueFd> open_fifo(uint32_t id) const;
	// In task pid itself once its fds are installed: takes back the file locks it held
	// (filelocks.img, see file-locks.h) and, for a session leader, its controlling terminal
	// (see tty.h).
	[[nodiscard]] Result<> fds_installed(pid_t pid) const;
	// The TTY entry id if it is a pty of the tree (tty-info.img has it), else nullptr; and a new
	// open file of it (create_pipes has made the pty; see tty.h).
	const TtyFileEntry *pty(uint32_t id) const;
	[[nodiscard]] Result<UniqueFd> open_pty(const TtyFileEntry &te) const;
	// A new eventfd, epoll (without its targets), signalfd, timerfd or inotify of entry id
	// (anon-inode.h); add_epoll_targets registers an epoll's targets once the task's fds are in.
	[[nodiscard]] Result<UniqueFd> open_anon(uint32_t id) const;
	[[nodiscard]] Result<> add_epoll_targets(uint32_t id, int epfd) const;
	// Creates every memfd of the checkpoint on hidden fds above `above`, in criu before it forks
	// the root task; seal_memfds seals them once every task is restored up to its final trap
	// (see memfd.h).
	[[nodiscard]] Result<> create_memfds(int above) const;
	[[nodiscard]] Result<> seal_memfds() const;
	// Opens once, on hidden fds above `above`, every file that the fds of more than one of plans
	// hold (of the kinds that can be: see shared-files.h); done in the root task before it forks,
	// so that FdPlan::install in every task dups the one open file. Every ghost file is made
	// there too (one inode for the tree).
	[[nodiscard]] Result<> open_shared(int above, const std::vector<const FdPlan *> &plans) const;
	// Makes the socketpairs of the epolls and pty ends handed from one fd table to the others
	// (creators: handed_files', see handed-files.h) on hidden fds above `above`; in the root
	// task before it forks. plans: one per fd table, to check each creator's targets.
	[[nodiscard]] Result<> hand_files(int above, const std::map<uint32_t, uint32_t> &creators,
					   const std::vector<const FdPlan *> &plans) const;

	FileTable(FileTable &&) noexcept;
	FileTable &operator=(FileTable &&) noexcept;
	~FileTable();

private:
	friend class FdPlan;
	FileTable();
	[[nodiscard]] Result<> add_fifos();
	[[nodiscard]] Result<UniqueFd> open_in_flight(uint32_t id) const; // the kinds dump_in_flight takes
	[[nodiscard]] Result<> create_ghosts(int above) const;

	std::map<uint32_t, PbMsg> entries_; // FileEntry by id
	std::unique_ptr<RegFileOpener> reg_;
	std::unique_ptr<MemfdTable> memfd_;
	std::unique_ptr<PipeTable> pipes_;
	std::unique_ptr<UnixSkTable> unix_;
	std::unique_ptr<InetSkTable> inet_;
	std::unique_ptr<FifoTable> fifos_;
	std::unique_ptr<FileLockTable> locks_;
	std::unique_ptr<TtyTable> ttys_;
	mutable std::map<uint32_t, UniqueFd> shared_; // open_shared's hidden fds, by file id
	mutable std::unique_ptr<HandedFiles> handoffs_; // hand_files'
};

// One task's fd table, for restore.
class FdPlan {
public:
	[[nodiscard]] static Result<FdPlan> load(ImageDir &dir, uint32_t files_id);

	int max_fd() const { return fds_.empty() ? -1 : fds_.back(); }
	const std::vector<int> &fds() const { return fds_; }

	// Opens every fd in the calling process at its number (over whatever is there), with its
	// position, flags and close-on-exec. The caller has moved its own fds above max_fd() first.
	// shell_job: terminal fds get dup(tty_fd). Recreated ghost files stay open (close-on-exec)
	// on hidden fds above max_fd(), as do memfds, and anything of the caller's there: close them
	// before the task runs (close_range(max_fd() + 1, ~0U, 0)).
	[[nodiscard]] Result<> install(const FileTable &files, bool shell_job, int tty_fd,
				       const std::map<uint32_t, int> &inherited = {}) const;
	// The file (id) each fd holds; a child forked after install() inherits them, so inherited
	// (id -> an fd of the child above max_fd()) lets it share the parent's open files.
	std::map<uint32_t, int> files_by_id() const;
	// The ids of the table's epolls and pty ends (those handed-files.h may hand over); its files_id.
	std::set<uint32_t> handable(const FileTable &files) const;
	uint32_t files_id() const { return files_id_; }
	// The file id at fd, if the table has it.
	std::optional<uint32_t> id_at(int fd) const;
	// Once the task's children are forked: takes the epolls and pty ends other tables make and
	// hand over (handed-files.h) to their fds, in place of what install left there; moved: fds
	// that are elsewhere for now (fd -> where it is).
	[[nodiscard]] Result<> receive_handed(const FileTable &files, const std::map<int, int> &moved = {}) const;

private:
	struct Fd {
		int fd;
		uint32_t id, type, flags;
	};
	[[nodiscard]] Result<> install_one(const FileTable &files, const Fd &e, std::map<uint32_t, int> &opened,
					   bool shell_job, int tty_fd) const;

	std::string image_; // fdinfo-N.img, for messages
	uint32_t files_id_ = 0;
	std::vector<Fd> entries_;
	std::vector<int> fds_;
};

} // namespace criu
