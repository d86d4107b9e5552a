// Socket options common to all sockets (see sk-opts.h).
#define LOG_PREFIX "sockets: "
#include "sk-opts.h"

#include <sys/socket.h>
#include <sys/time.h>

#include "common/log.h"

namespace criu {

namespace {

template <typename T> Result<T> get_opt(int sk, int name, const char *what)
{
	T v{};
	socklen_t len = sizeof(v);
	if (getsockopt(sk, SOL_SOCKET, name, &v, &len) < 0)
		return fail_errno("can't get {}", what);
	return v;
}

template <typename T> Result<> set_opt(int sk, int name, const T &v, const char *what)
{
	if (setsockopt(sk, SOL_SOCKET, name, &v, sizeof(v)) < 0)
		return fail_errno("can't set {}", what);
	return {};
}

// The boolean options: (has, value) members of the entry and their SOL_SOCKET name.
struct BoolOpt {
	int name;
	const char *what;
	protobuf_c_boolean SkOptsEntry::*has;
	protobuf_c_boolean SkOptsEntry::*val;
};

const BoolOpt kBoolOpts[] = {
	{SO_REUSEADDR, "SO_REUSEADDR", &SkOptsEntry::has_reuseaddr, &SkOptsEntry::reuseaddr},
	{SO_REUSEPORT, "SO_REUSEPORT", &SkOptsEntry::has_so_reuseport, &SkOptsEntry::so_reuseport},
	{SO_PASSCRED, "SO_PASSCRED", &SkOptsEntry::has_so_passcred, &SkOptsEntry::so_passcred},
	{SO_PASSSEC, "SO_PASSSEC", &SkOptsEntry::has_so_passsec, &SkOptsEntry::so_passsec},
	{SO_DONTROUTE, "SO_DONTROUTE", &SkOptsEntry::has_so_dontroute, &SkOptsEntry::so_dontroute},
	{SO_BROADCAST, "SO_BROADCAST", &SkOptsEntry::has_so_broadcast, &SkOptsEntry::so_broadcast},
	{SO_KEEPALIVE, "SO_KEEPALIVE", &SkOptsEntry::has_so_keepalive, &SkOptsEntry::so_keepalive},
};

// The unsigned options likewise.
struct UintOpt {
	int name;
	const char *what;
	protobuf_c_boolean SkOptsEntry::*has;
	uint32_t SkOptsEntry::*val;
};

const UintOpt kUintOpts[] = {
	{SO_PRIORITY, "SO_PRIORITY", &SkOptsEntry::has_so_priority, &SkOptsEntry::so_priority},
	{SO_RCVLOWAT, "SO_RCVLOWAT", &SkOptsEntry::has_so_rcvlowat, &SkOptsEntry::so_rcvlowat},
	{SO_MARK, "SO_MARK", &SkOptsEntry::has_so_mark, &SkOptsEntry::so_mark},
	{SO_OOBINLINE, "SO_OOBINLINE", &SkOptsEntry::has_so_oobinline, &SkOptsEntry::so_oobinline},
};

} // namespace

Result<SkOpts> dump_sk_opts(int sk)
{
	SkOpts o;
	SkOptsEntry &e = o.entry;
	e.so_sndbuf = uint32_t(TRY(get_opt<int>(sk, SO_SNDBUF, "SO_SNDBUF")));
	e.so_rcvbuf = uint32_t(TRY(get_opt<int>(sk, SO_RCVBUF, "SO_RCVBUF")));
	auto snd = TRY(get_opt<timeval>(sk, SO_SNDTIMEO, "SO_SNDTIMEO"));
	auto rcv = TRY(get_opt<timeval>(sk, SO_RCVTIMEO, "SO_RCVTIMEO"));
	e.so_snd_tmo_sec = uint64_t(snd.tv_sec);
	e.so_snd_tmo_usec = uint64_t(snd.tv_usec);
	e.so_rcv_tmo_sec = uint64_t(rcv.tv_sec);
	e.so_rcv_tmo_usec = uint64_t(rcv.tv_usec);
	for (const BoolOpt &b : kBoolOpts) {
		e.*b.has = true;
		e.*b.val = TRY(get_opt<int>(sk, b.name, b.what)) != 0;
	}
	for (const UintOpt &u : kUintOpts) {
		e.*u.has = true;
		e.*u.val = uint32_t(TRY(get_opt<int>(sk, u.name, u.what)));
	}
	auto linger = TRY(get_opt<struct linger>(sk, SO_LINGER, "SO_LINGER"));
	if (linger.l_onoff) {
		e.has_so_linger = true;
		e.so_linger = uint32_t(linger.l_linger);
	}
	return o;
}

Result<> restore_sk_opts(int sk, const SkOptsEntry &e)
{
	TRY(set_opt(sk, SO_SNDBUFFORCE, int(e.so_sndbuf / 2), "SO_SNDBUFFORCE"));
	TRY(set_opt(sk, SO_RCVBUFFORCE, int(e.so_rcvbuf / 2), "SO_RCVBUFFORCE"));
	timeval snd{time_t(e.so_snd_tmo_sec), suseconds_t(e.so_snd_tmo_usec)};
	timeval rcv{time_t(e.so_rcv_tmo_sec), suseconds_t(e.so_rcv_tmo_usec)};
	TRY(set_opt(sk, SO_SNDTIMEO, snd, "SO_SNDTIMEO"));
	TRY(set_opt(sk, SO_RCVTIMEO, rcv, "SO_RCVTIMEO"));
	for (const BoolOpt &b : kBoolOpts)
		if (e.*b.has && e.*b.val)
			TRY(set_opt(sk, b.name, int(1), b.what));
	for (const UintOpt &u : kUintOpts)
		if (e.*u.has && e.*u.val != (u.name == SO_RCVLOWAT ? 1u : 0u))
			TRY(set_opt(sk, u.name, int(e.*u.val), u.what));
	if (e.has_so_linger)
		TRY(set_opt(sk, SO_LINGER, linger{1, int(e.so_linger)}, "SO_LINGER"));
	pr_debug("sk {}: options restored (sndbuf {}, rcvbuf {})\n", sk, e.so_sndbuf, e.so_rcvbuf);
	return {};
}

} // namespace criu
