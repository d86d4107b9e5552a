// Unix sockets, as CRIU records them:
//   files.img       FileEntry {type UNIXSK, id, usk: UnixSkEntry {id, ino, type, state (TCP_*
//                   numbers as unix_diag reports them), flags = f_flags, uflags, backlog, peer =
//                   the peer's inode (a not-yet-accepted client: its listener's), fown, opts
//                   (SkOptsEntry, see sk-opts.h), name (path without its NUL, or "\0abstract"),
//                   shutdown, file_perms and deleted for bound paths}}, one per socket;
//                   a socket outside the tree that a dgram socket is connected to gets an entry
//                   of its own with uflags USK_EXTERN (--ext-unix-sk) and no fd.
//   sk-queues.img   the messages queued on each socket (see sk-queue.h).
// Fds in flight (SCM_RIGHTS in a queued message) are files of the checkpoint: one the tree
// also has open (kcmp(KCMP_FILE)) keeps its id, any other gets an entry of its own, though no
// task holds it: a regular file, a pipe or FIFO end, a unix socket (whose own queue may carry fds in
// turn), an inet socket, a memfd, an eventfd, signalfd, timerfd, inotify or fanotify instance;
// other kinds fail the dump. Restore sends each message with an fd opened for each right
// (FileTable::open_in_flight: the file reopened, the pipe's or FIFO's end, a dup of the table's socket,
// the memfd, a new eventfd...).
// Inodes, peers, names, states, shutdown and pending connections come from sock_diag
// (NETLINK_SOCK_DIAG, unix_diag), in one dump of criu's network namespace.
//
// Restore makes every socket once, in the root task before it forks (like pipes) and keeps it
// on a hidden fd: mutual pairs with socketpair(), an accepted socket by connecting its peer to
// the restored listener and accepting, pending connections by connecting without accepting;
// bound names are bound again (a stale socket file is unlinked first; a deleted one is unlinked
// after), dgram sockets connect to their peer's name; queues are sent again from the peer (or,
// for a named dgram socket, from a throwaway socket), then options, shutdown and file flags.
// Each fd of the socket is a dup of it. Internal to files.cc.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique-fd.h"
#include "image-dir.h"
#include "sk-opts.h"
#include "sk-queue.h"
#include "sk-unix.pb-c.h"

namespace criu {

struct FdParms;
struct Options;

constexpr uint32_t kUskExtern = 1; // CRIU's USK_EXTERN

// What unix_diag says about one socket.
struct UnixDiag {
	uint32_t ino = 0, type = 0, state = 0, peer = 0;
	uint32_t rqlen = 0, wqlen = 0; // listeners: pending connections, backlog
	std::string name;              // "" when unbound; abstract names start with '\0'
	bool has_vfs = false;
	uint32_t vfs_ino = 0, vfs_dev = 0;
	std::vector<uint32_t> icons; // listeners: inodes of the clients not yet accepted
	uint8_t shutdown = 0;        // RCV_SHUTDOWN 1 | SEND_SHUTDOWN 2
};

// Every unix socket of criu's network namespace, by inode.
[[nodiscard]] Result<std::map<uint32_t, UnixDiag>> unix_diag_all();

class UnixSkDumper {
public:
	UnixSkDumper(ImageDir &dir, ImageWriter &files);
	// Records p's socket under id and writes its queue. The task must be frozen.
	[[nodiscard]] Result<> dump(const FdParms &p, uint32_t id, const Options &opts);
	// Records a unix socket in flight (fd: criu's duplicate; what: where it was found).
	[[nodiscard]] Result<> dump_in_flight(const FdParms &p, uint32_t id, const std::string &what);
	// The file id of criu's duplicate fd of a file in flight (what: where it was found).
	using FileResolver = std::function<Result<uint32_t>(int fd, const std::string &what)>;
	// Gives every fd in flight its file id (resolve may dump more sockets, whose fds in flight
	// are resolved in turn) and writes the queues that carry them. Before close().
	[[nodiscard]] Result<> resolve_rights(const FileResolver &resolve);
	// Checks every peer and pending connection, writes the UnixSkEntries (external peers get
	// ids from next_id) and sk-queues.img.
	[[nodiscard]] Result<> close(uint32_t &next_id);

private:
	struct Sk;
	// A queue with fds in flight, written once they have file ids.
	struct InFlight {
		uint32_t id;
		std::string what;
		std::vector<SkPacket> packets;
	};
	[[nodiscard]] Result<> dump_sk(const FdParms &p, uint32_t id, const std::string &what);
	[[nodiscard]] Result<> check_peer(Sk &s, uint32_t &next_id);

	ImageWriter *files_;
	SkQueueDumper queues_;
	std::optional<std::map<uint32_t, UnixDiag>> diag_;
	std::map<uint32_t, uint32_t> listener_of_; // pending client ino -> listener ino
	std::map<uint32_t, std::shared_ptr<Sk>> sks_; // by ino
	std::vector<InFlight> in_flight_, resolved_;  // resolved_: criu's fds kept until close()
	bool ext_unix_sk_ = false;
};

class UnixSkTable {
public:
	[[nodiscard]] static Result<UnixSkTable> load(ImageDir &dir);
	void add(const UnixSkEntry &e);
	// Creates every socket of the checkpoint on fds above `above` (see above); open gives an
	// fd of each file in flight.
	[[nodiscard]] Result<> create_all(int above, const FileOpener &open) const;
	// A new fd of socket entry id.
	[[nodiscard]] Result<UniqueFd> open(uint32_t id) const;
	// The files in flight, by id, as create_all opened them (hidden fds above `above`): a task's
	// fd of one of them is a dup, so that it shares the open file with the message.
	const std::map<uint32_t, UniqueFd> &in_flight_files() const { return in_flight_; }

	UnixSkTable(UnixSkTable &&) noexcept;
	UnixSkTable &operator=(UnixSkTable &&) noexcept;
	~UnixSkTable();

private:
	struct Sk;
	UnixSkTable();
	[[nodiscard]] Result<> make_sockets() const;
	[[nodiscard]] Result<> bind_all() const;
	[[nodiscard]] Result<> connect_all() const;
	[[nodiscard]] Result<> fill_queues(int above, const FileOpener &open_file) const;
	[[nodiscard]] Result<> finish_all(int above) const;
	const Sk *listener_named(const Sk &s) const;

	std::map<uint32_t, std::unique_ptr<Sk>> by_ino_;
	std::map<uint32_t, uint32_t> ino_of_; // file id -> ino
	std::vector<uint32_t> order_;         // inos in files.img order
	SkQueues queues_;
	mutable std::map<uint32_t, UniqueFd> in_flight_; // file id -> its open file
};

} // namespace criu
