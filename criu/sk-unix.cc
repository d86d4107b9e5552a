// Unix sockets, dump and restore (see sk-unix.h).
#define LOG_PREFIX "sk unix: "
#include "sk-unix.h"

#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/tcp.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/log.h"
#include "fdinfo.pb-c.h"
#include "files-reg.h"
#include "options.h"
#include "sock-diag.h"

namespace criu {

namespace {

// ---- sock_diag ----

void parse_attrs(UnixDiag &d, const rtattr *a, int len)
{
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		const auto *data = static_cast<const uint8_t *>(RTA_DATA(a));
		size_t n = RTA_PAYLOAD(a);
		if (a->rta_type == UNIX_DIAG_NAME) {
			d.name.assign(reinterpret_cast<const char *>(data), n);
			if (!d.name.empty() && d.name[0] != '\0')
				d.name.resize(strnlen(d.name.c_str(), d.name.size()));
		} else if (a->rta_type == UNIX_DIAG_VFS && n >= sizeof(unix_diag_vfs)) {
			unix_diag_vfs v;
			std::memcpy(&v, data, sizeof(v));
			d.has_vfs = true;
			d.vfs_ino = v.udiag_vfs_ino;
			d.vfs_dev = v.udiag_vfs_dev;
		} else if (a->rta_type == UNIX_DIAG_PEER && n >= 4) {
			std::memcpy(&d.peer, data, 4);
		} else if (a->rta_type == UNIX_DIAG_ICONS) {
			d.icons.resize(n / 4);
			std::memcpy(d.icons.data(), data, d.icons.size() * 4);
		} else if (a->rta_type == UNIX_DIAG_RQLEN && n >= sizeof(unix_diag_rqlen)) {
			unix_diag_rqlen q;
			std::memcpy(&q, data, sizeof(q));
			d.rqlen = q.udiag_rqueue;
			d.wqlen = q.udiag_wqueue;
		} else if (a->rta_type == UNIX_DIAG_SHUTDOWN && n >= 1) {
			d.shutdown = data[0];
		}
	}
}

// Parses one recv() worth of netlink messages; true at NLMSG_DONE.
// ---- names ----

// sockaddr_un of a name as UnixSkEntry keeps it; nullopt when it does not fit.
std::optional<std::pair<sockaddr_un, socklen_t>> make_addr(const std::string &name)
{
	sockaddr_un a{};
	a.sun_family = AF_UNIX;
	if (name.empty() || name.size() >= sizeof(a.sun_path))
		return std::nullopt;
	std::memcpy(a.sun_path, name.data(), name.size());
	socklen_t len = socklen_t(offsetof(sockaddr_un, sun_path) + name.size() + (name[0] ? 1 : 0));
	return std::pair{a, len};
}

std::string printable(const std::string &name)
{
	if (name.empty())
		return "(unnamed)";
	if (name[0] == '\0')
		return "@" + name.substr(1);
	return name;
}

const char *type_name(uint32_t type)
{
	switch (type) {
	case SOCK_STREAM:
		return "stream";
	case SOCK_DGRAM:
		return "dgram";
	case SOCK_SEQPACKET:
		return "seqpacket";
	}
	return "unknown";
}

} // namespace

Result<std::map<uint32_t, UnixDiag>> unix_diag_all()
{
	struct {
		nlmsghdr h;
		unix_diag_req r;
	} req{};
	req.r.sdiag_family = AF_UNIX;
	req.r.udiag_states = ~0u;
	req.r.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_VFS | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS | UDIAG_SHOW_RQLEN;
	std::map<uint32_t, UnixDiag> out;
	TRY_CTX(sock_diag_dump(&req, sizeof(req),
			       [&](const nlmsghdr &h) {
				       const auto *m = static_cast<const unix_diag_msg *>(NLMSG_DATA(&h));
				       UnixDiag d;
				       d.ino = m->udiag_ino;
				       d.type = m->udiag_type;
				       d.state = m->udiag_state;
				       parse_attrs(d, reinterpret_cast<const rtattr *>(m + 1),
						   int(h.nlmsg_len - NLMSG_LENGTH(sizeof(*m))));
				       out[d.ino] = std::move(d);
			       }),
		"unix_diag");
	return out;
}

// ---- dump ----

struct UnixSkDumper::Sk {
	std::string what; // "fd 3 of 42"
	uint32_t id = 0, flags = 0, uflags = 0, backlog = 0, peer = 0;
	UnixDiag d;
	std::unique_ptr<SkOptsHolder> opts;
	bool deleted = false, has_perms = false;
	FilePermsEntry perms = FILE_PERMS_ENTRY__INIT;
};

UnixSkDumper::UnixSkDumper(ImageDir &dir, ImageWriter &files) : files_(&files), queues_(dir) {}

Result<> UnixSkDumper::dump(const FdParms &p, uint32_t id, const Options &opts)
{
	ext_unix_sk_ = opts.ext_unix_sk;
	return dump_sk(p, id, p.what());
}

Result<> UnixSkDumper::dump_in_flight(const FdParms &p, uint32_t id, const std::string &what)
{
	return dump_sk(p, id, what);
}

Result<> UnixSkDumper::dump_sk(const FdParms &p, uint32_t id, const std::string &what)
{
	uint32_t ino = uint32_t(p.st.st_ino);
	if (!diag_ || !diag_->count(ino)) {
		diag_ = TRY_CTX(unix_diag_all(), "{}", what);
		for (const auto &[lino, l] : *diag_)
			for (uint32_t c : l.icons)
				listener_of_[c] = lino;
	}
	auto it = diag_->find(ino);
	if (it == diag_->end())
		return fail(ENOENT, "{}: unix socket {:#x} is not in criu's network namespace: not supported", what,
			    ino);
	auto s = std::make_shared<Sk>();
	s->what = what;
	s->id = id;
	s->flags = p.flags;
	s->d = it->second;
	const UnixDiag &d = s->d;
	if (d.type != SOCK_STREAM && d.type != SOCK_DGRAM && d.type != SOCK_SEQPACKET)
		return fail(ENOTSUP, "{}: unix socket of type {}: not supported", what, d.type);
	if (!d.name.empty() && d.name[0] != '\0' && d.name[0] != '/')
		return fail(ENOTSUP, "{}: unix socket bound to a relative path {}: not supported", what, d.name);
	if (!d.name.empty() && d.name[0] == '/') {
		struct stat st;
		if (stat(d.name.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == d.vfs_ino) {
			s->has_perms = true;
			s->perms.mode = st.st_mode;
			s->perms.uid = st.st_uid;
			s->perms.gid = st.st_gid;
		} else {
			s->deleted = true;
		}
	}
	s->peer = d.peer;
	UniqueFd sk = TRY_CTX(steal_fd(p), "{}", what);
	if (auto l = listener_of_.find(ino); l != listener_of_.end()) {
		int outq = 0;
		if (ioctl(sk.get(), SIOCOUTQ, &outq) == 0 && outq > 0)
			return fail(ENOTSUP, "{}: {} bytes sent on a connection not accepted yet: not supported", what,
				    outq);
		s->peer = l->second; // as CRIU: a pending client's peer is its listener
	}
	if (d.state == TCP_LISTEN)
		s->backlog = d.wqlen;
	s->opts = TRY_CTX(dump_sk_opts(sk.get()), "{}", what);
	if (d.state != TCP_LISTEN) {
		auto packets = TRY_CTX(peek_sk_queue(sk.get(), int(d.type)), "{}: queue of unix socket {:#x}",
				       what, ino);
		bool fds = std::any_of(packets.begin(), packets.end(), [](const SkPacket &k) { return !k.fds.empty(); });
		if (fds)
			in_flight_.push_back({id, fmt::format("{} (unix socket {:#x})", what, ino), std::move(packets)});
		else
			TRY(queues_.write(id, packets));
	}
	pr_info("{}: {} socket {:#x}, state {}, peer {:#x}, name {}\n", what, type_name(d.type), ino, d.state,
		s->peer, printable(d.name));
	sks_[ino] = std::move(s);
	return {};
}

Result<> UnixSkDumper::resolve_rights(const FileResolver &resolve)
{
	while (!in_flight_.empty()) {
		InFlight q = std::move(in_flight_.back());
		in_flight_.pop_back();
		for (SkPacket &p : q.packets)
			for (const UniqueFd &fd : p.fds)
				p.rights.push_back(TRY(resolve(fd.get(), fmt::format("a file in flight on {}", q.what))));
		TRY(queues_.write(q.id, q.packets));
		resolved_.push_back(std::move(q));
	}
	return {};
}

Result<> UnixSkDumper::check_peer(Sk &s, uint32_t &next_id)
{
	for (uint32_t c : s.d.icons)
		if (!sks_.count(c))
			return fail(ENOTSUP, "{}: listening socket {} has a pending connection ({:#x}) from outside the "
					     "dumped tree: not supported", s.what, printable(s.d.name), c);
	if (!s.peer || sks_.count(s.peer))
		return {};
	// The peer is not in the tree.
	if (!ext_unix_sk_)
		return fail(EINVAL, "{}: unix socket {:#x} is connected to {:#x}, outside the dumped tree. External "
				    "socket is used. Consider using --ext-unix-sk option.", s.what, s.d.ino, s.peer);
	auto it = diag_->find(s.peer);
	if (s.d.type != SOCK_DGRAM || it == diag_->end() || it->second.name.empty())
		return fail(ENOTSUP, "{}: {} unix socket {:#x} is connected to {:#x} outside the tree: only dgram "
				     "sockets connected to a bound one can be (--ext-unix-sk)", s.what,
			    type_name(s.d.type), s.d.ino, s.peer);
	auto e = std::make_shared<Sk>();
	e->what = fmt::format("external peer of {}", s.what);
	e->id = next_id++;
	e->uflags = kUskExtern;
	e->d = it->second;
	e->d.peer = 0;
	e->opts = std::make_unique<SkOptsHolder>();
	e->opts->e.so_sndbuf = s.opts->e.so_sndbuf;
	e->opts->e.so_rcvbuf = s.opts->e.so_rcvbuf;
	pr_info("{}: external peer {:#x} ({}), reconnected at restore\n", s.what, s.peer, printable(e->d.name));
	sks_[s.peer] = std::move(e);
	return {};
}

Result<> UnixSkDumper::close(uint32_t &next_id)
{
	std::vector<std::shared_ptr<Sk>> all;
	for (const auto &[ino, s] : sks_)
		all.push_back(s);
	for (const auto &s : all)
		TRY(check_peer(*s, next_id));
	resolved_.clear();
	for (const auto &[ino, s] : sks_) {
		FownEntry fown = FOWN_ENTRY__INIT;
		UnixSkEntry ue = UNIX_SK_ENTRY__INIT;
		ue.id = s->id;
		ue.ino = ino;
		ue.type = s->d.type;
		ue.state = s->d.state;
		ue.flags = s->flags;
		ue.uflags = s->uflags;
		ue.backlog = s->backlog;
		ue.peer = s->peer;
		ue.fown = &fown;
		ue.opts = &s->opts->e;
		ue.name.data = reinterpret_cast<uint8_t *>(s->d.name.data());
		ue.name.len = s->d.name.size();
		ue.has_shutdown = s->d.shutdown != 0;
		ue.shutdown = SkShutdown(s->d.shutdown & 3);
		if (s->has_perms)
			ue.file_perms = &s->perms;
		ue.has_deleted = s->deleted;
		ue.deleted = s->deleted;
		FileEntry fe = FILE_ENTRY__INIT;
		fe.type = FD_TYPES__UNIXSK;
		fe.id = s->id;
		fe.usk = &ue;
		TRY(files_->write(fe.base));
	}
	return queues_.close();
}

} // namespace criu

// ---- restore ----

namespace criu {

const SkOptsEntry kNoOpts = SK_OPTS_ENTRY__INIT;

struct UnixSkTable::Sk {
	uint32_t id, ino, type, state, flags, uflags, backlog, peer, shutdown;
	std::string name;
	bool deleted;
	std::optional<FilePermsEntry> perms;
	SkOptsEntry opts; // so_bound_dev and filters cleared: they point into the image
	mutable UniqueFd fd;
	mutable UniqueFd orphan; // the other end made for a connection whose peer was closed
	mutable bool made = false;

	bool external() const { return uflags & kUskExtern; }
	std::string what() const { return fmt::format("unix socket {:#x} ({})", ino, printable(name)); }
};

UnixSkTable::UnixSkTable() = default;
UnixSkTable::UnixSkTable(UnixSkTable &&) noexcept = default;
UnixSkTable &UnixSkTable::operator=(UnixSkTable &&) noexcept = default;
UnixSkTable::~UnixSkTable() = default;

Result<UnixSkTable> UnixSkTable::load(ImageDir &dir)
{
	UnixSkTable t;
	t.queues_ = TRY(SkQueues::load(dir));
	return t;
}

void UnixSkTable::add(const UnixSkEntry &e)
{
	auto s = std::make_unique<Sk>();
	*s = Sk{e.id, e.ino, e.type, e.state, e.flags, e.uflags, e.backlog, e.peer,
		e.has_shutdown ? uint32_t(e.shutdown) : 0u, std::string(reinterpret_cast<const char *>(e.name.data),
									 e.name.len),
		e.has_deleted && e.deleted, std::nullopt, kNoOpts, UniqueFd(), UniqueFd(), false};
	if (!s->name.empty() && s->name[0] != '\0')
		s->name.resize(strnlen(s->name.c_str(), s->name.size()));
	if (e.file_perms)
		s->perms = *e.file_perms;
	if (e.opts) {
		s->opts = *e.opts;
		s->opts.so_bound_dev = nullptr;
		s->opts.n_so_filter = 0;
		s->opts.so_filter = nullptr;
	}
	ino_of_[e.id] = e.ino;
	order_.push_back(e.ino);
	by_ino_[e.ino] = std::move(s);
}

// The listening socket that s (an established stream or seqpacket socket) was accepted from:
// one of the checkpoint bound to the name s carries.
const UnixSkTable::Sk *UnixSkTable::listener_named(const Sk &s) const
{
	if (s.type == SOCK_DGRAM || s.state != TCP_ESTABLISHED || s.name.empty())
		return nullptr;
	for (const auto &[ino, l] : by_ino_)
		if (l->state == TCP_LISTEN && l->type == s.type && l->name == s.name && !l->external() && !l->deleted)
			return l.get();
	return nullptr;
}

namespace {

Result<UniqueFd> new_socket(uint32_t type)
{
	UniqueFd fd(socket(AF_UNIX, int(type) | SOCK_CLOEXEC, 0));
	if (!fd)
		return fail_errno("can't create a {} unix socket", type_name(type));
	return fd;
}

Result<> bind_name(int fd, const std::string &name, bool deleted, const std::optional<FilePermsEntry> &perms)
{
	auto a = make_addr(name);
	if (!a)
		return fail(EINVAL, "bad name of {} bytes", name.size());
	if (name[0] == '/') {
		struct stat st;
		if (lstat(name.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
			pr_info("unlinking the stale socket file {}\n", name);
			if (unlink(name.c_str()) < 0)
				return fail_errno("can't unlink the stale socket file {}", name);
		}
	}
	if (bind(fd, reinterpret_cast<const sockaddr *>(&a->first), a->second) < 0)
		return fail_errno("can't bind to {}", printable(name));
	if (name[0] != '/')
		return {};
	if (deleted && unlink(name.c_str()) < 0)
		return fail_errno("can't unlink {} (the socket file was deleted)", name);
	if (!deleted && perms) {
		if (chmod(name.c_str(), perms->mode & 07777) < 0)
			return fail_errno("can't chmod {}", name);
		if (lchown(name.c_str(), perms->uid, perms->gid) < 0)
			return fail_errno("can't chown {}", name);
	}
	return {};
}

Result<> connect_to(int fd, const std::string &name)
{
	auto a = make_addr(name);
	if (!a)
		return fail(EINVAL, "can't connect to an unnamed socket");
	if (connect(fd, reinterpret_cast<const sockaddr *>(&a->first), a->second) < 0)
		return fail_errno("can't connect to {}", printable(name));
	return {};
}

// Lets sk send all of packets at once, non-blocking (its own options are set afterwards).
Result<> raise_sndbuf(int sk, const std::vector<SkPacket> &packets)
{
	size_t total = 0;
	for (const SkPacket &p : packets)
		total += p.data.size() + 1024; // room for the skb overhead charged to the sender
	int big = int(std::min<size_t>(std::max<size_t>(total, 4 << 20), INT32_MAX / 2));
	if (setsockopt(sk, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) < 0)
		return fail_errno("can't raise the send buffer to {}", big);
	return {};
}

} // namespace

// Sockets, socketpairs and accepted connections.
Result<> UnixSkTable::make_sockets() const
{
	for (uint32_t ino : order_) {
		const Sk &s = *by_ino_.at(ino);
		if (s.made || s.external())
			continue;
		auto p = by_ino_.find(s.peer);
		const Sk *peer = p == by_ino_.end() ? nullptr : p->second.get();
		bool mutual = peer && peer != &s && !peer->external() && peer->peer == s.ino;
		const Sk *accepted = !mutual || s.type == SOCK_DGRAM ? nullptr
				     : listener_named(s)       ? &s
				     : listener_named(*peer)   ? peer
							       : nullptr;
		if (accepted) { // connected through its listener (connect_all); the client is made here
			const Sk &client = accepted == &s ? *peer : s;
			if (!client.made)
				client.fd = TRY_CTX(new_socket(client.type), "{}", client.what());
			client.made = true;
			continue;
		}
		bool orphan = s.type != SOCK_DGRAM && s.state == TCP_ESTABLISHED && !s.peer;
		if (mutual || orphan) {
			int sv[2];
			if (socketpair(AF_UNIX, int(s.type) | SOCK_CLOEXEC, 0, sv) < 0)
				return fail_errno("{}: socketpair", s.what());
			s.fd.reset(sv[0]);
			(orphan ? s.orphan : peer->fd).reset(sv[1]);
			s.made = true;
			if (mutual)
				peer->made = true;
			continue;
		}
		s.fd = TRY_CTX(new_socket(s.type), "{}", s.what());
		s.made = true;
	}
	return {};
}

Result<> UnixSkTable::bind_all() const
{
	for (uint32_t ino : order_) {
		const Sk &s = *by_ino_.at(ino);
		if (s.external() || s.name.empty() || !s.made)
			continue;
		if (s.type != SOCK_DGRAM && s.state == TCP_ESTABLISHED) {
			if (!listener_named(s))
				pr_warn("{}: connected, its name is not restored\n", s.what());
			continue; // an accepted socket: its name is its listener's
		}
		TRY_CTX(bind_name(s.fd.get(), s.name, s.deleted, s.perms), "{}", s.what());
		if (s.state == TCP_LISTEN && listen(s.fd.get(), int(s.backlog)) < 0)
			return fail_errno("{}: can't listen", s.what());
	}
	return {};
}

Result<> UnixSkTable::connect_all() const
{
	// Accepted connections first (the listener's queue is empty then), pending ones after.
	for (bool pending : {false, true}) {
		for (uint32_t ino : order_) {
			const Sk &s = *by_ino_.at(ino);
			auto p = by_ino_.find(s.peer);
			if (s.external() || s.type == SOCK_DGRAM || p == by_ino_.end())
				continue;
			const Sk &peer = *p->second;
			if (!pending && peer.peer == s.ino && !s.made && listener_named(s)) {
				const Sk *l = listener_named(s); // s was accepted from l
				TRY_CTX(connect_to(peer.fd.get(), l->name), "{}", peer.what());
				s.fd.reset(accept4(l->fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
				if (!s.fd)
					return fail_errno("{}: can't accept from {}", s.what(), l->what());
				s.made = true;
			} else if (pending && peer.state == TCP_LISTEN && s.state != TCP_LISTEN) {
				TRY_CTX(connect_to(s.fd.get(), peer.name), "{}: pending connection", s.what());
			}
		}
	}
	return {};
}

// Queued messages, sent again from the peer, or to a named dgram socket from a throwaway one.
// Each file in flight is opened once, above `above`, and kept (in_flight_files): every message
// carrying it, and every task fd of it, gets a dup of that one open file, as dumped.
Result<> UnixSkTable::fill_queues(int above, const FileOpener &open_file) const
{
	FileOpener open = [&](uint32_t id) -> Result<UniqueFd> {
		auto it = in_flight_.find(id);
		if (it == in_flight_.end()) {
			UniqueFd fd = TRY(open_file(id));
			UniqueFd high(fcntl(fd.get(), F_DUPFD_CLOEXEC, above + 1));
			if (!high)
				return fail_errno("can't move file {:#x} above fd {}", id, above);
			it = in_flight_.emplace(id, std::move(high)).first;
		}
		UniqueFd fd(fcntl(it->second.get(), F_DUPFD_CLOEXEC, 0));
		if (!fd)
			return fail_errno("can't dup file {:#x}", id);
		return fd;
	};
	for (uint32_t ino : order_) {
		const Sk &s = *by_ino_.at(ino);
		const auto &packets = queues_.of(s.id);
		if (s.external() || packets.empty())
			continue;
		if (s.orphan) { // closed by its peer: the data comes from the end made for it
			TRY_CTX(queues_.restore(s.id, s.orphan.get(), nullptr, 0, open), "{}", s.what());
			continue;
		}
		auto p = by_ino_.find(s.peer);
		if (p != by_ino_.end() && !p->second->external() && p->second->peer == s.ino && p->second->fd) {
			TRY_CTX(raise_sndbuf(p->second->fd.get(), packets), "{}", p->second->what()); // reset later
			TRY_CTX(queues_.restore(s.id, p->second->fd.get(), nullptr, 0, open), "{}", s.what());
			continue;
		}
		auto a = make_addr(s.name);
		if (s.type != SOCK_DGRAM || !a)
			return fail(ENOTSUP, "{}: {} packet(s) queued, but no socket to send them from", s.what(),
				    packets.size());
		UniqueFd tmp = TRY(new_socket(SOCK_DGRAM));
		TRY(raise_sndbuf(tmp.get(), packets));
		TRY_CTX(queues_.restore(s.id, tmp.get(), &a->first, a->second, open), "{}", s.what());
	}
	return {};
}

// Dgram connections (made after the queues are filled), options, shutdown, file flags; then
// every socket moves above `above`.
Result<> UnixSkTable::finish_all(int above) const
{
	for (uint32_t ino : order_) {
		const Sk &s = *by_ino_.at(ino);
		if (s.external())
			continue;
		auto p = by_ino_.find(s.peer);
		if (s.type == SOCK_DGRAM && p != by_ino_.end() && p->second->peer != s.ino)
			TRY_CTX(connect_to(s.fd.get(), p->second->name), "{}: connect to its peer {:#x}", s.what(), s.peer);
		if (s.type == SOCK_DGRAM && s.peer && p == by_ino_.end())
			return fail(EINVAL, "{}: its peer {:#x} is not in the checkpoint", s.what(), s.peer);
		s.orphan.reset();
		if (s.opts.so_sndbuf)
			TRY_CTX(restore_sk_opts(s.fd.get(), s.opts), "{}", s.what());
		static constexpr int kHow[] = {-1, SHUT_RD, SHUT_WR, SHUT_RDWR};
		if ((s.shutdown & 3) && shutdown(s.fd.get(), kHow[s.shutdown & 3]) < 0)
			return fail_errno("{}: can't shut it down ({})", s.what(), s.shutdown);
		if (fcntl(s.fd.get(), F_SETFL, int(s.flags & O_NONBLOCK)) < 0)
			return fail_errno("{}: can't set file flags {:#o}", s.what(), s.flags);
		s.fd.reset(fcntl(s.fd.get(), F_DUPFD_CLOEXEC, above + 1));
		if (!s.fd)
			return fail_errno("{}: can't move it above fd {}", s.what(), above);
	}
	return {};
}

Result<> UnixSkTable::create_all(int above, const FileOpener &open) const
{
	for (const auto &[ino, s] : by_ino_) {
		auto p = by_ino_.find(s->peer);
		if (s->external() || !s->peer || p != by_ino_.end())
			continue;
		return fail(EINVAL, "{}: its peer {:#x} is not in the checkpoint", s->what(), s->peer);
	}
	TRY(make_sockets());
	TRY(bind_all());
	TRY(connect_all());
	for (const auto &[ino, s] : by_ino_)
		if (!s->external() && !s->made)
			return fail(EINVAL, "{}: can't be made (peer {:#x})", s->what(), s->peer);
	TRY(fill_queues(above, open));
	TRY(finish_all(above));
	if (!by_ino_.empty())
		pr_info("{} unix socket(s) created\n", by_ino_.size());
	return {};
}

Result<UniqueFd> UnixSkTable::open(uint32_t id) const
{
	auto it = ino_of_.find(id);
	if (it == ino_of_.end() || !by_ino_.at(it->second)->fd)
		return fail(ENOENT, "unix socket {:#x} was not created", id);
	UniqueFd fd(fcntl(by_ino_.at(it->second)->fd.get(), F_DUPFD_CLOEXEC, 0));
	if (!fd)
		return fail_errno("can't dup unix socket {:#x}", id);
	return fd;
}

} // namespace criu
