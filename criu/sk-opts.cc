// Socket options common to every socket kind (see sk-opts.h).
#define LOG_PREFIX "sk-opts: "
#include "sk-opts.h"

#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "common/log.h"

#ifndef SO_BUF_LOCK
#define SO_BUF_LOCK 72
#endif

namespace criu {

namespace {

template <typename T> Result<T> get_opt(int sk, int level, int name, const char *what)
{
	T v{};
	socklen_t len = sizeof(v);
	if (getsockopt(sk, level, name, &v, &len) < 0)
		return fail_errno("can't get {}", what);
	return v;
}

template <typename T> Result<> set_opt(int sk, int level, int name, const T &v, const char *what)
{
	if (setsockopt(sk, level, name, &v, sizeof(v)) < 0)
		return fail_errno("can't set {}", what);
	return {};
}

// A flag option, recorded only when on (as CRIU's optional fields). Options the kernel does not
// have for this kind of socket (SO_PASSCRED on inet sockets since 6.x) are off.
Result<> get_flag(int sk, int name, const char *what, protobuf_c_boolean &has, protobuf_c_boolean &v)
{
	int on = 0;
	socklen_t len = sizeof(on);
	if (getsockopt(sk, SOL_SOCKET, name, &on, &len) < 0 && errno != EOPNOTSUPP && errno != ENOPROTOOPT)
		return fail_errno("can't get {}", what);
	has = on != 0;
	v = on != 0;
	return {};
}

Result<> get_u32(int sk, int level, int name, const char *what, protobuf_c_boolean &has, uint32_t &v)
{
	v = uint32_t(TRY(get_opt<int>(sk, level, name, what)));
	has = v != 0;
	return {};
}

bool is_tcp(int sk)
{
	int proto = 0;
	socklen_t len = sizeof(proto);
	return getsockopt(sk, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == 0 && proto == IPPROTO_TCP;
}

Result<> dump_times(int sk, SkOptsEntry &e)
{
	timeval snd = TRY(get_opt<timeval>(sk, SOL_SOCKET, SO_SNDTIMEO, "SO_SNDTIMEO"));
	timeval rcv = TRY(get_opt<timeval>(sk, SOL_SOCKET, SO_RCVTIMEO, "SO_RCVTIMEO"));
	e.so_snd_tmo_sec = uint64_t(snd.tv_sec);
	e.so_snd_tmo_usec = uint64_t(snd.tv_usec);
	e.so_rcv_tmo_sec = uint64_t(rcv.tv_sec);
	e.so_rcv_tmo_usec = uint64_t(rcv.tv_usec);
	return {};
}

Result<> dump_flags(int sk, SkOptsEntry &e)
{
	TRY(get_flag(sk, SO_REUSEADDR, "SO_REUSEADDR", e.has_reuseaddr, e.reuseaddr));
	TRY(get_flag(sk, SO_REUSEPORT, "SO_REUSEPORT", e.has_so_reuseport, e.so_reuseport));
	TRY(get_flag(sk, SO_KEEPALIVE, "SO_KEEPALIVE", e.has_so_keepalive, e.so_keepalive));
	TRY(get_flag(sk, SO_BROADCAST, "SO_BROADCAST", e.has_so_broadcast, e.so_broadcast));
	TRY(get_flag(sk, SO_PASSCRED, "SO_PASSCRED", e.has_so_passcred, e.so_passcred));
	TRY(get_flag(sk, SO_PASSSEC, "SO_PASSSEC", e.has_so_passsec, e.so_passsec));
	TRY(get_flag(sk, SO_DONTROUTE, "SO_DONTROUTE", e.has_so_dontroute, e.so_dontroute));
	TRY(get_flag(sk, SO_NO_CHECK, "SO_NO_CHECK", e.has_so_no_check, e.so_no_check));
	return {};
}

Result<> dump_values(int sk, SkOptsEntry &e)
{
	TRY(get_u32(sk, SOL_SOCKET, SO_PRIORITY, "SO_PRIORITY", e.has_so_priority, e.so_priority));
	TRY(get_u32(sk, SOL_SOCKET, SO_RCVLOWAT, "SO_RCVLOWAT", e.has_so_rcvlowat, e.so_rcvlowat));
	TRY(get_u32(sk, SOL_SOCKET, SO_MARK, "SO_MARK", e.has_so_mark, e.so_mark));
	TRY(get_u32(sk, SOL_SOCKET, SO_OOBINLINE, "SO_OOBINLINE", e.has_so_oobinline, e.so_oobinline));
	TRY(get_u32(sk, SOL_SOCKET, SO_BUF_LOCK, "SO_BUF_LOCK", e.has_so_buf_lock, e.so_buf_lock));
	linger l = TRY(get_opt<linger>(sk, SOL_SOCKET, SO_LINGER, "SO_LINGER"));
	e.has_so_linger = l.l_onoff != 0;
	e.so_linger = uint32_t(l.l_linger);
	if (e.so_keepalive && is_tcp(sk)) {
		e.has_tcp_keepcnt = e.has_tcp_keepidle = e.has_tcp_keepintvl = true;
		e.tcp_keepcnt = uint32_t(TRY(get_opt<int>(sk, IPPROTO_TCP, TCP_KEEPCNT, "TCP_KEEPCNT")));
		e.tcp_keepidle = uint32_t(TRY(get_opt<int>(sk, IPPROTO_TCP, TCP_KEEPIDLE, "TCP_KEEPIDLE")));
		e.tcp_keepintvl = uint32_t(TRY(get_opt<int>(sk, IPPROTO_TCP, TCP_KEEPINTVL, "TCP_KEEPINTVL")));
	}
	return {};
}

Result<> dump_filter_and_dev(int sk, SkOptsHolder &h)
{
	// SO_GET_FILTER with no room answers the number of instructions of an attached filter.
	socklen_t n = 0;
	if (getsockopt(sk, SOL_SOCKET, SO_GET_FILTER, nullptr, &n) == 0 && n > 0)
		return fail(ENOTSUP, "a socket filter (SO_ATTACH_FILTER, {} instructions) is attached: not supported", n);
	char dev[IFNAMSIZ] = {};
	socklen_t len = sizeof(dev);
	if (getsockopt(sk, SOL_SOCKET, SO_BINDTODEVICE, dev, &len) < 0)
		return fail_errno("can't get SO_BINDTODEVICE");
	if (len > 0 && dev[0]) {
		h.bound_dev.assign(dev, strnlen(dev, sizeof(dev)));
		h.e.so_bound_dev = h.bound_dev.data();
	}
	return {};
}

Result<> restore_flags(int sk, const SkOptsEntry &e)
{
	TRY(set_opt<int>(sk, SOL_SOCKET, SO_REUSEADDR, e.reuseaddr, "SO_REUSEADDR"));
	TRY(set_opt<int>(sk, SOL_SOCKET, SO_REUSEPORT, e.so_reuseport, "SO_REUSEPORT"));
	TRY(set_opt<int>(sk, SOL_SOCKET, SO_KEEPALIVE, e.so_keepalive, "SO_KEEPALIVE"));
	TRY(set_opt<int>(sk, SOL_SOCKET, SO_BROADCAST, e.so_broadcast, "SO_BROADCAST"));
	if (e.so_passcred)
		TRY(set_opt<int>(sk, SOL_SOCKET, SO_PASSCRED, 1, "SO_PASSCRED"));
	if (e.so_passsec)
		TRY(set_opt<int>(sk, SOL_SOCKET, SO_PASSSEC, 1, "SO_PASSSEC"));
	TRY(set_opt<int>(sk, SOL_SOCKET, SO_DONTROUTE, e.so_dontroute, "SO_DONTROUTE"));
	if (e.so_no_check)
		TRY(set_opt<int>(sk, SOL_SOCKET, SO_NO_CHECK, 1, "SO_NO_CHECK"));
	return {};
}

Result<> restore_values(int sk, const SkOptsEntry &e)
{
	TRY(set_opt<int>(sk, SOL_SOCKET, SO_SNDBUFFORCE, int(e.so_sndbuf / 2), "SO_SNDBUFFORCE"));
	TRY(set_opt<int>(sk, SOL_SOCKET, SO_RCVBUFFORCE, int(e.so_rcvbuf / 2), "SO_RCVBUFFORCE"));
	TRY(set_opt<int>(sk, SOL_SOCKET, SO_BUF_LOCK, int(e.so_buf_lock), "SO_BUF_LOCK"));
	timeval snd{time_t(e.so_snd_tmo_sec), suseconds_t(e.so_snd_tmo_usec)};
	timeval rcv{time_t(e.so_rcv_tmo_sec), suseconds_t(e.so_rcv_tmo_usec)};
	TRY(set_opt(sk, SOL_SOCKET, SO_SNDTIMEO, snd, "SO_SNDTIMEO"));
	TRY(set_opt(sk, SOL_SOCKET, SO_RCVTIMEO, rcv, "SO_RCVTIMEO"));
	if (e.has_so_priority)
		TRY(set_opt<int>(sk, SOL_SOCKET, SO_PRIORITY, int(e.so_priority), "SO_PRIORITY"));
	if (e.has_so_rcvlowat)
		TRY(set_opt<int>(sk, SOL_SOCKET, SO_RCVLOWAT, int(e.so_rcvlowat), "SO_RCVLOWAT"));
	if (e.has_so_mark)
		TRY(set_opt<int>(sk, SOL_SOCKET, SO_MARK, int(e.so_mark), "SO_MARK"));
	if (e.has_so_oobinline)
		TRY(set_opt<int>(sk, SOL_SOCKET, SO_OOBINLINE, int(e.so_oobinline), "SO_OOBINLINE"));
	linger l{e.has_so_linger ? 1 : 0, int(e.so_linger)};
	TRY(set_opt(sk, SOL_SOCKET, SO_LINGER, l, "SO_LINGER"));
	if (e.has_tcp_keepcnt)
		TRY(set_opt<int>(sk, IPPROTO_TCP, TCP_KEEPCNT, int(e.tcp_keepcnt), "TCP_KEEPCNT"));
	if (e.has_tcp_keepidle)
		TRY(set_opt<int>(sk, IPPROTO_TCP, TCP_KEEPIDLE, int(e.tcp_keepidle), "TCP_KEEPIDLE"));
	if (e.has_tcp_keepintvl)
		TRY(set_opt<int>(sk, IPPROTO_TCP, TCP_KEEPINTVL, int(e.tcp_keepintvl), "TCP_KEEPINTVL"));
	if (e.so_bound_dev && setsockopt(sk, SOL_SOCKET, SO_BINDTODEVICE, e.so_bound_dev, strlen(e.so_bound_dev)) < 0)
		return fail_errno("can't bind to device {}", e.so_bound_dev);
	return {};
}

} // namespace

Result<std::unique_ptr<SkOptsHolder>> dump_sk_opts(int sk)
{
	auto h = std::make_unique<SkOptsHolder>();
	SkOptsEntry &e = h->e;
	e.so_sndbuf = uint32_t(TRY(get_opt<int>(sk, SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF")));
	e.so_rcvbuf = uint32_t(TRY(get_opt<int>(sk, SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF")));
	TRY(dump_times(sk, e));
	TRY(dump_flags(sk, e));
	TRY(dump_values(sk, e));
	TRY(dump_filter_and_dev(sk, *h));
	return h;
}

Result<> restore_sk_opts(int sk, const SkOptsEntry &soe)
{
	TRY(restore_values(sk, soe));
	return restore_flags(sk, soe);
}

} // namespace criu
