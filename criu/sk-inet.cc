// TCP and UDP sockets over IPv4 and IPv6, dump and restore (see sk-inet.h).
#define LOG_PREFIX "inet: "
#include "sk-inet.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>

#include "common/log.h"
#include "fdinfo.pb-c.h"
#include "files-reg.h"
#include "netlock.h"
#include "options.h"
#include "sk-opts.h"
#include "sock-diag.h"

namespace criu {

namespace {

// ---- what the kernel says about the socket ----

Result<int> sol_int(int sk, int level, int name, const char *what)
{
	int v = 0;
	socklen_t len = sizeof(v);
	if (getsockopt(sk, level, name, &v, &len) < 0)
		return fail_errno("can't get {}", what);
	return v;
}

// An address as CRIU stores it: the words of in_addr (1) or in6_addr (4), and the port.
struct Addr {
	uint32_t words[4] = {};
	size_t n = 0;
	uint32_t port = 0;
};

Addr to_addr(const sockaddr_storage &ss)
{
	Addr a;
	if (ss.ss_family == AF_INET) {
		const auto &in = reinterpret_cast<const sockaddr_in &>(ss);
		std::memcpy(a.words, &in.sin_addr, 4);
		a.n = 1;
		a.port = ntohs(in.sin_port);
	} else if (ss.ss_family == AF_INET6) {
		const auto &in6 = reinterpret_cast<const sockaddr_in6 &>(ss);
		std::memcpy(a.words, &in6.sin6_addr, 16);
		a.n = 4;
		a.port = ntohs(in6.sin6_port);
	}
	return a;
}

Result<Addr> sock_name(int sk, bool peer)
{
	sockaddr_storage ss{};
	socklen_t len = sizeof(ss);
	int r = peer ? getpeername(sk, reinterpret_cast<sockaddr *>(&ss), &len)
		     : getsockname(sk, reinterpret_cast<sockaddr *>(&ss), &len);
	if (r < 0 && peer && errno == ENOTCONN)
		return Addr{};
	if (r < 0)
		return fail_errno("can't get the {} address", peer ? "peer" : "socket");
	return to_addr(ss);
}

// sk_shutdown of socket ino, from sock_diag (the only place the kernel tells it); 0 for a
// socket sock_diag does not list.
Result<uint32_t> diag_shutdown(int family, int proto, uint32_t ino)
{
	struct {
		nlmsghdr h;
		inet_diag_req_v2 r;
	} req{};
	req.r.sdiag_family = uint8_t(family);
	req.r.sdiag_protocol = uint8_t(proto);
	req.r.idiag_states = ~0u;
	std::optional<uint32_t> found;
	TRY(sock_diag_dump(&req, sizeof(req), [&](const nlmsghdr &h) {
		const auto *m = static_cast<const inet_diag_msg *>(NLMSG_DATA(&h));
		if (m->idiag_inode != ino || found)
			return;
		found = 0;
		int len = int(h.nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
		for (auto *a = reinterpret_cast<const rtattr *>(m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len))
			if (a->rta_type == INET_DIAG_SHUTDOWN)
				found = *static_cast<const uint8_t *>(RTA_DATA(a));
	}));
	return found.value_or(0); // unhashed (never bound) sockets are not listed
}

const char *tcp_state_name(int st)
{
	static const char *const names[] = {"?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1",
					    "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK",
					    "LISTEN", "CLOSING", "NEW_SYN_RECV"};
	return st > 0 && st < int(std::size(names)) ? names[st] : "?";
}

// ---- restore helpers ----

sockaddr_storage to_sockaddr(uint32_t family, const uint32_t *words, size_t n, uint32_t port, socklen_t &len)
{
	sockaddr_storage ss{};
	if (family == AF_INET) {
		auto &in = reinterpret_cast<sockaddr_in &>(ss);
		in.sin_family = AF_INET;
		in.sin_port = htons(uint16_t(port));
		if (n >= 1)
			std::memcpy(&in.sin_addr, words, 4);
		len = sizeof(in);
	} else {
		auto &in6 = reinterpret_cast<sockaddr_in6 &>(ss);
		in6.sin6_family = AF_INET6;
		in6.sin6_port = htons(uint16_t(port));
		if (n >= 4)
			std::memcpy(&in6.sin6_addr, words, 16);
		len = sizeof(in6);
	}
	return ss;
}

bool is_any(const uint32_t *words, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (words[i])
			return false;
	return true;
}

std::string addr_str(uint32_t family, const uint32_t *words, size_t n, uint32_t port)
{
	if (n == 0)
		return "-";
	char buf[INET6_ADDRSTRLEN] = "?";
	if ((family == AF_INET && n >= 1) || (family == AF_INET6 && n >= 4))
		inet_ntop(int(family), words, buf, sizeof(buf));
	return family == AF_INET6 ? fmt::format("[{}]:{}", buf, port) : fmt::format("{}:{}", buf, port);
}

Result<> bind_src(int sk, const InetSkEntry &e)
{
	if (e.src_port == 0 && is_any(e.src_addr, e.n_src_addr))
		return {};
	socklen_t len;
	sockaddr_storage ss = to_sockaddr(e.family, e.src_addr, e.n_src_addr, e.src_port, len);
	if (bind(sk, reinterpret_cast<sockaddr *>(&ss), len) < 0)
		return fail_errno("can't bind to {}", addr_str(e.family, e.src_addr, e.n_src_addr, e.src_port));
	return {};
}

Result<> connect_dst(int sk, const InetSkEntry &e)
{
	socklen_t len;
	sockaddr_storage ss = to_sockaddr(e.family, e.dst_addr, e.n_dst_addr, e.dst_port, len);
	if (connect(sk, reinterpret_cast<sockaddr *>(&ss), len) < 0)
		return fail_errno("can't connect to {}", addr_str(e.family, e.dst_addr, e.n_dst_addr, e.dst_port));
	return {};
}

bool is_tcp_est(const InetSkEntry &e) { return e.proto == IPPROTO_TCP && e.state == TCP_ESTABLISHED; }

} // namespace

bool is_inet_socket(const FdParms &p)
{
	char name[32] = {};
	ssize_t n = getxattr(p.proc_path.c_str(), "system.sockprotoname", name, sizeof(name) - 1);
	if (n <= 0)
		return false;
	std::string_view s(name, size_t(n));
	if (!s.empty() && s.back() == '\0')
		s.remove_suffix(1);
	return s == "TCP" || s == "TCPv6" || s == "UDP" || s == "UDPv6";
}

// ---- dump ----

namespace {

// The socket's kind, state and addresses into e; refuses what restore could not rebuild.
Result<> dump_kind_and_state(int sk, InetSkEntry &e, bool &listen_pending)
{
	e.family = uint32_t(TRY(sol_int(sk, SOL_SOCKET, SO_DOMAIN, "SO_DOMAIN")));
	e.type = uint32_t(TRY(sol_int(sk, SOL_SOCKET, SO_TYPE, "SO_TYPE")));
	e.proto = uint32_t(TRY(sol_int(sk, SOL_SOCKET, SO_PROTOCOL, "SO_PROTOCOL")));
	bool tcp = e.type == SOCK_STREAM && e.proto == IPPROTO_TCP;
	bool udp = e.type == SOCK_DGRAM && e.proto == IPPROTO_UDP;
	if (!tcp && !udp)
		return fail(ENOTSUP, "inet socket of type {} protocol {}: only TCP and UDP are supported", e.type,
			    e.proto);
	if (tcp) {
		tcp_info ti{};
		socklen_t len = sizeof(ti);
		if (getsockopt(sk, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
			return fail_errno("can't get TCP_INFO");
		e.state = ti.tcpi_state;
		if (e.state == TCP_LISTEN) {
			e.backlog = ti.tcpi_sacked;
			listen_pending = ti.tcpi_unacked > 0;
		}
	}
	return {};
}

// CRIU's images keep TCP_NODELAY and TCP_CORK only for established connections (in
// tcp-stream-N.img): elsewhere they must be off.
Result<> check_tcp_opts(int sk)
{
	if (TRY(sol_int(sk, IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY")))
		return fail(ENOTSUP, "TCP_NODELAY on a socket not connected: not supported (CRIU's images have no place for it)");
	if (TRY(sol_int(sk, IPPROTO_TCP, TCP_CORK, "TCP_CORK")))
		return fail(ENOTSUP, "TCP_CORK on a socket not connected: not supported (CRIU's images have no place for it)");
	return {};
}

} // namespace

Result<> InetSkDumper::dump(const FdParms &p, uint32_t id, const Options &opts)
{
	UniqueFd sk = TRY(steal_fd(p));
	InetSkEntry e = INET_SK_ENTRY__INIT;
	e.id = id;
	e.ino = uint32_t(p.st.st_ino);
	e.flags = p.flags & ~uint32_t(O_CLOEXEC);
	bool pending = false;
	TRY_CTX(dump_kind_and_state(sk.get(), e, pending), "{}", p.what());
	Addr src = TRY_CTX(sock_name(sk.get(), false), "{}", p.what());
	Addr dst = TRY_CTX(sock_name(sk.get(), true), "{}", p.what());
	if (e.proto == IPPROTO_UDP) {
		e.state = dst.n && dst.port ? TCP_ESTABLISHED : TCP_CLOSE;
		// As CRIU: datagrams are allowed to get lost, and there is no image for them.
		if (int queued = 0; ioctl(sk.get(), SIOCINQ, &queued) == 0 && queued > 0)
			pr_warn("{}: the datagrams queued on this UDP socket are not kept", p.what());
	}
	if (pending)
		return fail(ENOTSUP, "{}: listening socket {} has connections not accepted yet: not supported",
			    p.what(), addr_str(e.family, src.words, src.n, src.port));
	bool tcp = e.proto == IPPROTO_TCP;
	if (tcp && e.state != TCP_LISTEN && e.state != TCP_CLOSE && e.state != TCP_ESTABLISHED)
		return fail(ENOTSUP, "{}: TCP socket in state {}: not supported", p.what(), tcp_state_name(int(e.state)));
	e.src_addr = src.words, e.n_src_addr = src.n, e.src_port = src.port;
	e.dst_addr = dst.words, e.n_dst_addr = dst.n, e.dst_port = dst.port;
	FownEntry fown = FOWN_ENTRY__INIT;
	e.fown = &fown;
	auto so = TRY_CTX(dump_sk_opts(sk.get()), "{}", p.what());
	e.opts = &so->e;
	if (e.family == AF_INET6) {
		e.has_v6only = true;
		e.v6only = TRY(sol_int(sk.get(), IPPROTO_IPV6, IPV6_V6ONLY, "IPV6_V6ONLY")) != 0;
	}
	if (tcp && e.state != TCP_ESTABLISHED)
		TRY_CTX(check_tcp_opts(sk.get()), "{}", p.what());
	uint32_t how = TRY_CTX(diag_shutdown(int(e.family), int(e.proto), e.ino), "{}", p.what());
	e.has_shutdown = how != 0;
	e.shutdown = SkShutdown(how & 3);
	if (tcp && e.state == TCP_ESTABLISHED)
		TRY_CTX(dump_established(p, sk.get(), e, opts), "{}", p.what());
	FileEntry fe = FILE_ENTRY__INIT;
	fe.type = FD_TYPES__INETSK;
	fe.id = id;
	fe.isk = &e;
	TRY(files_->write(fe.base));
	pr_info("{}: {} {} {} -> {} state {}", p.what(), e.family == AF_INET6 ? "IPv6" : "IPv4", tcp ? "TCP" : "UDP",
		addr_str(e.family, src.words, src.n, src.port), addr_str(e.family, dst.words, dst.n, dst.port),
		tcp_state_name(int(e.state)));
	return {};
}

// Locks c (see netlock.h) unless its peer is in the tree too.
Result<> InetSkDumper::lock_connection(const InetSkEntry &e, const Options &opts)
{
	ConnTuple c{.family = int(e.family), .sport = uint16_t(e.src_port), .dport = uint16_t(e.dst_port)};
	std::memcpy(c.src, e.src_addr, e.n_src_addr * 4);
	std::memcpy(c.dst, e.dst_addr, e.n_dst_addr * 4);
	if (TRY(peer_in_tree(c, opts.tree))) {
		pr_debug("both ends of the connection are in the tree: no network lock");
		return {};
	}
	if (!lock_)
		lock_.emplace(opts.tree);
	return lock_->lock(c);
}

Result<> InetSkDumper::dump_established(const FdParms &p, int sk, const InetSkEntry &e, const Options &opts)
{
	if (!opts.tcp_established)
		return fail(EOPNOTSUPP, "Connected TCP socket, consider using --tcp-established option.");
	TRY(lock_connection(e, opts));
	TRY(tcp_repair(sk, TCP_REPAIR_ON));
	repaired_.emplace_back(fcntl(sk, F_DUPFD_CLOEXEC, 0));
	if (!repaired_.back())
		return fail_errno("can't keep a copy of {}", p.what());
	TcpStream s = TRY(dump_tcp_stream(sk));
	return write_tcp_stream(*dir_, e.ino, s);
}

void InetSkDumper::finish(bool tasks_killed)
{
	if (lock_ && tasks_killed)
		lock_->keep(); // restore removes it
	else if (lock_)    // first, so that the window probes of repair off get through
		if (auto r = lock_->unlock(); !r)
			pr_err("{}", r.error().describe());
	lock_.reset();
	if (!tasks_killed)
		for (UniqueFd &sk : repaired_)
			if (auto r = tcp_repair(sk.get(), TCP_REPAIR_OFF); !r)
				pr_warn("a connection stays in repair mode: {}", r.error().describe());
	repaired_.clear();
}

// ---- restore ----

Result<> InetSkTable::load_streams(ImageDir &dir)
{
	for (auto &[id, s] : sockets_)
		if (is_tcp_est(*s.e))
			s.stream = TRY(read_tcp_stream(dir, s.e->ino));
	return {};
}

Result<UniqueFd> InetSkTable::create(const Sk &s) const
{
	const InetSkEntry &e = *s.e;
	if (e.family != AF_INET && e.family != AF_INET6)
		return fail(EINVAL, "socket family {} is not inet", e.family);
	UniqueFd sk(socket(int(e.family), int(e.type) | SOCK_CLOEXEC, int(e.proto)));
	if (!sk)
		return fail_errno("can't create a socket ({}, {}, {})", e.family, e.type, e.proto);
	if (int v6only = e.v6only; e.family == AF_INET6 && e.has_v6only &&
	    setsockopt(sk.get(), IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) < 0)
		return fail_errno("can't set IPV6_V6ONLY");
	if (e.opts)
		TRY(restore_sk_opts(sk.get(), *e.opts));
	if (is_tcp_est(e)) {
		TRY(tcp_repair(sk.get(), TCP_REPAIR_ON));
		TRY(restore_tcp_seqs(sk.get(), s.stream));
	}
	TRY(bind_src(sk.get(), e));
	if (e.state == TCP_LISTEN && listen(sk.get(), int(e.backlog)) < 0)
		return fail_errno("can't listen (backlog {})", e.backlog);
	if (e.state == TCP_ESTABLISHED)
		TRY(connect_dst(sk.get(), e));
	if (is_tcp_est(e))
		TRY(restore_tcp_conn(sk.get(), s.stream));
	return sk;
}

// Once every socket exists: connections leave repair mode; shutdown, file flags.
Result<> InetSkTable::finish(const Sk &s) const
{
	const InetSkEntry &e = *s.e;
	int sk = s.fd.get();
	if (is_tcp_est(e)) {
		TRY(tcp_repair(sk, TCP_REPAIR_OFF));
		int reuse = e.opts && e.opts->reuseaddr;
		if (setsockopt(sk, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof(reuse)) < 0)
			return fail_errno("can't set SO_REUSEADDR");
		TRY(restore_tcp_unsent(sk, s.stream));
	}
	if (e.has_shutdown && e.shutdown != SK_SHUTDOWN__NONE) {
		int how = e.shutdown == SK_SHUTDOWN__BOTH ? SHUT_RDWR : e.shutdown == SK_SHUTDOWN__READ ? SHUT_RD : SHUT_WR;
		if (shutdown(sk, how) < 0 && errno != ENOTCONN)
			return fail_errno("can't shut the socket down ({})", int(e.shutdown));
	}
	if (fcntl(sk, F_SETFL, int(e.flags) & (O_NONBLOCK | O_ASYNC)) < 0)
		return fail_errno("can't set file flags {:#o}", e.flags);
	return {};
}

Result<> InetSkTable::create_all(int above) const
{
	for (int pass = 0; pass < 2; pass++)
		for (const auto &[id, s] : sockets_) {
			if ((s.e->state == TCP_LISTEN) != (pass == 0))
				continue;
			UniqueFd sk = TRY_CTX(create(s), "inet socket {:#x} (ino {})", id, s.e->ino);
			s.fd.reset(fcntl(sk.get(), F_DUPFD_CLOEXEC, above + 1));
			if (!s.fd)
				return fail_errno("inet socket {:#x}: can't move it above fd {}", id, above);
		}
	for (const auto &[id, s] : sockets_)
		TRY_CTX(finish(s), "inet socket {:#x} (ino {})", id, s.e->ino);
	return {};
}

Result<UniqueFd> InetSkTable::open(const InetSkEntry &e) const
{
	auto it = sockets_.find(e.id);
	if (it == sockets_.end() || !it->second.fd)
		return fail(ENOENT, "inet socket {:#x} was not created", e.id);
	UniqueFd fd(fcntl(it->second.fd.get(), F_DUPFD_CLOEXEC, 0));
	if (!fd)
		return fail_errno("can't dup inet socket {:#x}", e.id);
	return fd;
}

} // namespace criu
