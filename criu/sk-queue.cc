// Queued packets of sockets (see sk-queue.h).
#define LOG_PREFIX "skqueue: "
#include "sk-queue.h"

#include <linux/sockios.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cstring>

#include "common/log.h"
#include "sk-packet.pb-c.h"

namespace criu {

namespace {

// Peeks one message at the current peek offset; nullopt at the end of the queue.
Result<std::optional<SkPacket>> peek_one(int sk, std::vector<uint8_t> &buf)
{
	alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 253) + CMSG_SPACE(sizeof(ucred))];
	iovec iov{buf.data(), buf.size()};
	msghdr mh{};
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = control;
	mh.msg_controllen = sizeof(control);
	ssize_t n = recvmsg(sk, &mh, MSG_PEEK | MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return std::nullopt;
	if (n < 0)
		return fail_errno("can't peek the queue");
	for (cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfds; i++) {
			int fd;
			std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			::close(fd);
		}
		return fail(ENOTSUP, "a queued message carries {} file descriptor(s) (SCM_RIGHTS): not supported",
			    nfds);
	}
	if (mh.msg_flags & MSG_TRUNC)
		return fail(EMSGSIZE, "a queued message is larger than {} bytes", buf.size());
	if (n == 0)
		return std::nullopt; // the end (zero-length datagrams are not kept)
	return SkPacket(buf.begin(), buf.begin() + n);
}

} // namespace

Result<std::vector<SkPacket>> peek_sk_queue(int sk, int type)
{
	int inq = 0;
	if (ioctl(sk, SIOCINQ, &inq) < 0)
		return fail_errno("SIOCINQ");
	std::vector<SkPacket> out;
	if (inq == 0 && type == SOCK_STREAM)
		return out;
	int old_off = -1;
	socklen_t len = sizeof(old_off);
	if (getsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &old_off, &len) < 0)
		return fail_errno("can't get SO_PEEK_OFF");
	int zero = 0;
	if (setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero)) < 0)
		return fail_errno("can't set SO_PEEK_OFF");
	int rcvbuf = 0;
	len = sizeof(rcvbuf);
	getsockopt(sk, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len);
	std::vector<uint8_t> buf(size_t(std::max({rcvbuf, inq, 1 << 16})) * 2);
	Result<> walked = {};
	size_t total = 0;
	while (true) {
		auto p = peek_one(sk, buf);
		if (!p) {
			walked = std::unexpected(std::move(p.error()));
			break;
		}
		if (!*p)
			break;
		total += (*p)->size();
		out.push_back(std::move(**p));
		if (type == SOCK_STREAM && total >= size_t(inq))
			break;
		if (total > buf.size() * 64) {
			walked = fail(EIO, "the queue does not end (SO_PEEK_OFF ignored?)");
			break;
		}
	}
	if (setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &old_off, sizeof(old_off)) < 0 && walked)
		return fail_errno("can't put SO_PEEK_OFF back to {}", old_off);
	TRY(std::move(walked));
	return out;
}

Result<> SkQueueDumper::write(uint32_t id_for, const std::vector<SkPacket> &packets)
{
	if (packets.empty())
		return {};
	if (!img_)
		img_ = TRY(dir_->create_image(img::Kind::SkQueues));
	for (const SkPacket &p : packets) {
		SkPacketEntry e = SK_PACKET_ENTRY__INIT;
		e.id_for = id_for;
		e.length = uint32_t(p.size());
		TRY(img_->write(e.base));
		TRY(img_->write_raw(p));
	}
	pr_info("socket {:#x}: {} packet(s) queued\n", id_for, packets.size());
	return {};
}

Result<> SkQueueDumper::close() { return img_ ? img_->close() : Result<>{}; }

Result<SkQueues> SkQueues::load(ImageDir &dir)
{
	SkQueues q;
	auto r = TRY(dir.open_image_optional(img::Kind::SkQueues));
	if (!r)
		return q;
	while (auto m = TRY(r->read())) {
		const auto *e = pb_cast<SkPacketEntry>(*m);
		SkPacket p(e->length);
		TRY_CTX(r->read_raw(p), "{}: packet for socket {:#x}", r->name(), e->id_for);
		q.queues_[e->id_for].push_back(std::move(p));
	}
	return q;
}

const std::vector<SkPacket> &SkQueues::of(uint32_t id) const
{
	static const std::vector<SkPacket> none;
	auto it = queues_.find(id);
	return it == queues_.end() ? none : it->second;
}

Result<> SkQueues::restore(uint32_t id, int sender, const sockaddr_un *to, socklen_t to_len) const
{
	for (const SkPacket &p : of(id)) {
		ssize_t n = sendto(sender, p.data(), p.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
				   reinterpret_cast<const sockaddr *>(to), to ? to_len : 0);
		if (n != ssize_t(p.size()))
			return fail_errno("socket {:#x}: can't queue a packet of {} bytes (sent {})", id, p.size(), n);
	}
	if (!of(id).empty())
		pr_info("socket {:#x}: {} packet(s) queued again\n", id, of(id).size());
	return {};
}

} // namespace criu
