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

constexpr size_t kScmMaxFd = 253; // the kernel's SCM_MAX_FD

// The fds of the SCM_RIGHTS messages in mh (criu's duplicates, close-on-exec).
std::vector<UniqueFd> take_rights(msghdr &mh)
{
	std::vector<UniqueFd> fds;
	for (cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfds; i++) {
			int fd;
			std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			fds.emplace_back(fd);
		}
	}
	return fds;
}

// Peeks one message at the current peek offset; nullopt at the end of the queue.
Result<std::optional<SkPacket>> peek_one(int sk, std::vector<uint8_t> &buf)
{
	alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kScmMaxFd) + CMSG_SPACE(sizeof(ucred))];
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
	std::vector<UniqueFd> fds = take_rights(mh);
	if (mh.msg_flags & MSG_CTRUNC)
		return fail(EMSGSIZE, "a queued message carries more control data than {} fds", kScmMaxFd);
	if (mh.msg_flags & MSG_TRUNC)
		return fail(EMSGSIZE, "a queued message is larger than {} bytes", buf.size());
	if (n == 0 && !fds.empty())
		return fail(ENOTSUP, "an empty message carries {} fd(s) (SCM_RIGHTS): not supported", fds.size());
	if (n == 0)
		return std::nullopt; // the end (zero-length datagrams are not kept)
	return SkPacket{std::vector<uint8_t>(buf.begin(), buf.begin() + n), std::move(fds), {}};
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
		total += (*p)->data.size();
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
		e.length = uint32_t(p.data.size());
		ScmEntry scm = SCM_ENTRY__INIT;
		ScmEntry *scms[] = {&scm};
		if (!p.rights.empty()) {
			scm.type = SCM_RIGHTS;
			scm.n_rights = p.rights.size();
			scm.rights = const_cast<uint32_t *>(p.rights.data());
			e.n_scm = 1;
			e.scm = scms;
		}
		TRY(img_->write(e.base));
		TRY(img_->write_raw(p.data));
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
		SkPacket p;
		p.data.resize(e->length);
		for (size_t i = 0; i < e->n_scm; i++) {
			if (e->scm[i]->type != SCM_RIGHTS)
				return fail(ENOTSUP, "{}: packet for socket {:#x} with control message type {}: not supported",
					    r->name(), e->id_for, e->scm[i]->type);
			p.rights.insert(p.rights.end(), e->scm[i]->rights, e->scm[i]->rights + e->scm[i]->n_rights);
		}
		if (p.rights.size() > kScmMaxFd)
			return fail(EINVAL, "{}: packet for socket {:#x} with {} rights", r->name(), e->id_for, p.rights.size());
		TRY_CTX(r->read_raw(p.data), "{}: packet for socket {:#x}", r->name(), e->id_for);
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

namespace {

// Sends p from sender (to `to` when given), with an fd opened for each of its rights.
Result<> send_packet(int sender, const SkPacket &p, const sockaddr_un *to, socklen_t to_len, const FileOpener &open)
{
	std::vector<UniqueFd> fds;
	for (uint32_t id : p.rights)
		fds.push_back(TRY_CTX(open(id), "file {:#x} in flight", id));
	iovec iov{const_cast<uint8_t *>(p.data.data()), p.data.size()};
	msghdr mh{};
	mh.msg_name = const_cast<sockaddr_un *>(to);
	mh.msg_namelen = to ? to_len : 0;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	std::vector<cmsghdr> control(CMSG_SPACE(sizeof(int) * fds.size()) / sizeof(cmsghdr) + 1);
	if (!fds.empty()) {
		mh.msg_control = control.data();
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
		cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
		for (size_t i = 0; i < fds.size(); i++) {
			int fd = fds[i].get();
			std::memcpy(CMSG_DATA(c) + i * sizeof(int), &fd, sizeof(int));
		}
	}
	ssize_t n = sendmsg(sender, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n != ssize_t(p.data.size()))
		return fail_errno("can't queue a packet of {} bytes with {} fd(s) (sent {})", p.data.size(), fds.size(), n);
	return {};
}

} // namespace

Result<> SkQueues::restore(uint32_t id, int sender, const sockaddr_un *to, socklen_t to_len,
			   const FileOpener &open) const
{
	size_t rights = 0;
	for (const SkPacket &p : of(id)) {
		TRY_CTX(send_packet(sender, p, to, to_len, open), "socket {:#x}", id);
		rights += p.rights.size();
	}
	if (!of(id).empty())
		pr_info("socket {:#x}: {} packet(s) queued again, {} fd(s) in flight\n", id, of(id).size(), rights);
	return {};
}

} // namespace criu
