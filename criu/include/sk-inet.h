// TCP and UDP sockets over IPv4 and IPv6, as CRIU records them:
//   files.img   FileEntry {type INETSK, id, isk: InetSkEntry {id, ino, family, type, proto,
//               state (TCP_LISTEN, TCP_ESTABLISHED, TCP_CLOSE as the kernel says; a connected UDP
//               socket is ESTABLISHED), src/dst address (1 or 4 words, as in in_addr/in6_addr)
//               and port, flags (file flags), backlog (listeners), fown, opts (SkOptsEntry, see
//               sk-opts.h), v6only (IPv6), shutdown}}.
//   tcp-stream-<ino>.img  of each established connection (--tcp-established; see sk-tcp.h).
// Dump looks at criu's own copy of the socket (pidfd_getfd): getsockname/getpeername, TCP_INFO
// (state; for a listener tcpi_sacked is its backlog and tcpi_unacked the connections not
// accepted yet), getsockopt, sock_diag for the shutdown state. Refused: other protocols
// (raw, UDP-Lite, SCTP...), TCP states other than closed/listening/established, listeners
// with connections not accepted yet, established connections without --tcp-established
// (CRIU's wording), attached socket filters, TCP_NODELAY/TCP_CORK on TCP sockets not connected
// (CRIU's images keep them only in tcp-stream-N.img).
// Restore makes every socket of the checkpoint once, in the root task before it forks (like
// pipes, see pipes.h): listeners first (options, bind, listen), then the others (bind, connect;
// established TCP through TCP_REPAIR), then every established connection leaves repair mode,
// then shutdown and file flags; each socket waits on a hidden fd above the tasks' fds, and its
// fds are dup()s of it (one open file description, shared by every task that had it).
// Internal to files.cc.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "common/result.h"
#include "common/unique-fd.h"
#include "image-dir.h"
#include "netlock.h"
#include "sk-inet.pb-c.h"
#include "sk-tcp.h"

namespace criu {

struct FdParms;
struct Options;

// A TCP or UDP socket over IPv4 or IPv6 (sockfs says so: system.sockprotoname).
bool is_inet_socket(const FdParms &p);

class InetSkDumper {
public:
	InetSkDumper(ImageDir &dir, ImageWriter &files) : dir_(&dir), files_(&files) {}
	// Writes FileEntry{INETSK, id} for p (and tcp-stream-<ino>.img of a connection).
	[[nodiscard]] Result<> dump(const FdParms &p, uint32_t id, const Options &opts);
	// The dump is over: tasks_killed, the connections stay in repair mode and die silently with
	// their tasks, and the network lock stays (see netlock.h); else (--leave-running, a failed
	// dump) they leave repair mode and go on, and the lock is removed.
	void finish(bool tasks_killed);
	~InetSkDumper() { finish(false); }

	InetSkDumper(const InetSkDumper &) = delete;
	InetSkDumper &operator=(const InetSkDumper &) = delete;

private:
	[[nodiscard]] Result<> dump_established(const FdParms &p, int sk, const InetSkEntry &e, const Options &opts);
	[[nodiscard]] Result<> lock_connection(const InetSkEntry &e, const Options &opts);

	ImageDir *dir_;
	ImageWriter *files_;
	std::vector<UniqueFd> repaired_; // criu's copies of the connections put in repair mode
	std::optional<NetLock> lock_;    // once a connection with an outside peer is locked
};

class InetSkTable {
public:
	// e lives as long as the FileTable that holds it.
	void add(const InetSkEntry &e) { sockets_.try_emplace(e.id, Sk{&e}); }
	// tcp-stream-<ino>.img of every established connection.
	[[nodiscard]] Result<> load_streams(ImageDir &dir);
	// Creates every socket on fds above `above` (see above).
	[[nodiscard]] Result<> create_all(int above) const;
	// A new fd of the open file e->id (a dup of the one create_all made).
	[[nodiscard]] Result<UniqueFd> open(const InetSkEntry &e) const;

private:
	struct Sk {
		const InetSkEntry *e;
		TcpStream stream;    // established TCP
		mutable UniqueFd fd; // once created
	};
	[[nodiscard]] Result<UniqueFd> create(const Sk &s) const;
	[[nodiscard]] Result<> finish(const Sk &s) const;
	std::map<uint32_t, Sk> sockets_; // by file id
};

} // namespace criu
