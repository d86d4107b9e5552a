// Packets queued on a socket, as CRIU records them in sk-queues.img: SkPacketEntry {id_for =
// the socket's file id, length}, then the bytes, one entry per message (a datagram, a seqpacket
// record, or a run of stream bytes). Sender addresses and credentials are not written.
//
// Dump reads the receive queue of the task's socket through criu's own copy of it (pidfd_getfd)
// with MSG_PEEK, walking it with SO_PEEK_OFF (put back as it was): nothing leaves the queue.
// A message carrying SCM_RIGHTS fails the dump (fds in flight are not supported). Restore sends
// every message again, in order, from a socket that can reach the receiver (see sk-unix.h).
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "image-dir.h"

namespace criu {

using SkPacket = std::vector<uint8_t>;

// Every message in sk's receive queue, in order; stream: the bytes as one run per skb.
[[nodiscard]] Result<std::vector<SkPacket>> peek_sk_queue(int sk, int type);

class SkQueueDumper {
public:
	explicit SkQueueDumper(ImageDir &dir) : dir_(&dir) {}
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
	// Sends id's packets from sender, to `to` when given (else sender's peer), non-blocking.
	[[nodiscard]] Result<> restore(uint32_t id, int sender, const sockaddr_un *to, socklen_t to_len) const;

private:
	std::map<uint32_t, std::vector<SkPacket>> queues_;
};

} // namespace criu
