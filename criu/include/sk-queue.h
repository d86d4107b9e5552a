// Packets queued on a socket, as CRIU records them in sk-queues.img: SkPacketEntry {id_for =
// the socket's file id, length, scm = [ScmEntry {type SCM_RIGHTS, rights = the file ids of the
// fds in flight, in order}]}, then the bytes, one entry per message (a datagram, a seqpacket
// record, or a run of stream bytes ending with the one that carries fds). Sender addresses and
// credentials are not written.
//
// Dump reads the receive queue of the task's socket through criu's own copy of it (pidfd_getfd)
// with MSG_PEEK, walking it with SO_PEEK_OFF (put back as it was): nothing leaves the queue.
// The fds a message carries (SCM_RIGHTS) arrive in criu as duplicates; the socket's dumper
// turns them into file ids (see sk-unix.h) before the packets are written. Restore sends every
// message again, in order, from a socket that can reach the receiver (see sk-unix.h), with an
// fd opened for each of its rights.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique-fd.h"
#include "image-dir.h"

namespace criu {

struct SkPacket {
	std::vector<uint8_t> data;
	std::vector<UniqueFd> fds;    // dump: criu's duplicates of the fds in flight (SCM_RIGHTS)
	std::vector<uint32_t> rights; // their file ids (dump: once known; restore: from the image)
};

// Opens a new fd of the file with this id (a file in flight, at restore).
using FileOpener = std::function<Result<UniqueFd>(uint32_t id)>;

// Every message in sk's receive queue, in order, with the fds it carries; stream: the bytes as
// runs of skbs, a run ending at one that carries fds.
[[nodiscard]] Result<std::vector<SkPacket>> peek_sk_queue(int sk, int type);

class SkQueueDumper {
public:
	explicit SkQueueDumper(ImageDir &dir) : dir_(&dir) {}
	// Writes the packets with their rights (every fd in flight has its file id by now).
	[[nodiscard]] Result<> write(uint32_t id_for, const std::vector<SkPacket> &packets);
	[[nodiscard]] Result<> close(); // sk-queues.img, when written

private:
	ImageDir *dir_;
	std::optional<ImageWriter> img_;
};

class SkQueues {
public:
	// sk-queues.img (none: every queue was empty).
	[[nodiscard]] static Result<SkQueues> load(ImageDir &dir);
	const std::vector<SkPacket> &of(uint32_t id) const;
	// Sends id's packets from sender, to `to` when given (else sender's peer), non-blocking; each
	// right goes as an fd of open(right), closed once sent.
	[[nodiscard]] Result<> restore(uint32_t id, int sender, const sockaddr_un *to, socklen_t to_len,
				       const FileOpener &open) const;

private:
	std::map<uint32_t, std::vector<SkPacket>> queues_;
};

} // namespace criu
