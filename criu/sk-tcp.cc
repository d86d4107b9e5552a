// Established TCP connections through TCP_REPAIR (see sk-tcp.h).
#define LOG_PREFIX "tcp: "
#include "sk-tcp.h"

#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "common/log.h"

namespace criu {

namespace {

Result<> set_int(int sk, int name, int v, const char *what)
{
	if (setsockopt(sk, IPPROTO_TCP, name, &v, sizeof(v)) < 0)
		return fail_errno("can't set {} to {}", what, v);
	return {};
}

Result<uint32_t> get_int(int sk, int name, const char *what)
{
	int v = 0;
	socklen_t len = sizeof(v);
	if (getsockopt(sk, IPPROTO_TCP, name, &v, &len) < 0)
		return fail_errno("can't get {}", what);
	return uint32_t(v);
}

Result<uint32_t> ioctl_len(int sk, unsigned long req, const char *what)
{
	int v = 0;
	if (ioctl(sk, req, &v) < 0)
		return fail_errno("{}", what);
	return uint32_t(v);
}

// Sequence number and contents of one queue (TCP_RECV_QUEUE or TCP_SEND_QUEUE).
Result<uint32_t> dump_queue(int sk, int queue, uint32_t len, std::vector<uint8_t> &data)
{
	const char *what = queue == TCP_RECV_QUEUE ? "receive queue" : "send queue";
	TRY(set_int(sk, TCP_REPAIR_QUEUE, queue, "TCP_REPAIR_QUEUE"));
	uint32_t seq = TRY_CTX(get_int(sk, TCP_QUEUE_SEQ, "TCP_QUEUE_SEQ"), "{}", what);
	data.resize(len);
	if (len) {
		ssize_t n = recv(sk, data.data(), len, MSG_PEEK | MSG_DONTWAIT);
		if (n < 0)
			return fail_errno("can't read the {} ({} bytes)", what, len);
		if (uint32_t(n) != len)
			return fail(EIO, "read {} bytes of the {} bytes of the {}", n, len, what);
	}
	return seq;
}

Result<> dump_window(int sk, TcpStreamEntry &e)
{
	tcp_repair_window w{};
	socklen_t len = sizeof(w);
	if (getsockopt(sk, IPPROTO_TCP, TCP_REPAIR_WINDOW, &w, &len) < 0)
		return fail_errno("can't get TCP_REPAIR_WINDOW");
	e.has_snd_wl1 = e.has_snd_wnd = e.has_max_window = e.has_rcv_wnd = e.has_rcv_wup = true;
	e.snd_wl1 = w.snd_wl1, e.snd_wnd = w.snd_wnd, e.max_window = w.max_window;
	e.rcv_wnd = w.rcv_wnd, e.rcv_wup = w.rcv_wup;
	return {};
}

// Writes data into the selected repair queue (or, queue TCP_NO_QUEUE, sends it normally).
Result<> push_queue(int sk, int queue, const uint8_t *data, size_t len)
{
	const char *what = queue == TCP_RECV_QUEUE ? "receive queue" : "send queue";
	if (queue != TCP_NO_QUEUE)
		TRY(set_int(sk, TCP_REPAIR_QUEUE, queue, "TCP_REPAIR_QUEUE"));
	size_t done = 0;
	while (done < len) {
		ssize_t n = send(sk, data + done, len - done, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return fail_errno("can't refill the {} ({} of {} bytes in)", what, done, len);
		done += size_t(n);
	}
	return {};
}

Result<> restore_options(int sk, const TcpStreamEntry &e)
{
	tcp_repair_opt opts[4];
	int n = 0;
	opts[n++] = {TCPOPT_MAXSEG, e.mss_clamp};
	if (e.opt_mask & TCPI_OPT_WSCALE)
		opts[n++] = {TCPOPT_WINDOW, e.snd_wscale | (e.rcv_wscale << 16)};
	if (e.opt_mask & TCPI_OPT_TIMESTAMPS)
		opts[n++] = {TCPOPT_TIMESTAMP, 0};
	if (e.opt_mask & TCPI_OPT_SACK)
		opts[n++] = {TCPOPT_SACK_PERMITTED, 0};
	if (setsockopt(sk, IPPROTO_TCP, TCP_REPAIR_OPTIONS, opts, socklen_t(n * sizeof(opts[0]))) < 0)
		return fail_errno("can't set TCP_REPAIR_OPTIONS (mask {:#x})", e.opt_mask);
	return {};
}

Result<> restore_window(int sk, const TcpStreamEntry &e)
{
	if (!e.has_snd_wl1)
		return {};
	tcp_repair_window w{e.snd_wl1, e.snd_wnd, e.max_window, e.rcv_wnd, e.rcv_wup};
	if (setsockopt(sk, IPPROTO_TCP, TCP_REPAIR_WINDOW, &w, sizeof(w)) < 0)
		return fail_errno("can't set TCP_REPAIR_WINDOW");
	return {};
}

} // namespace

Result<> tcp_repair(int sk, int mode) { return set_int(sk, TCP_REPAIR, mode, "TCP_REPAIR"); }

Result<TcpStream> dump_tcp_stream(int sk)
{
	TcpStream s;
	TcpStreamEntry &e = s.e;
	e.inq_len = TRY(ioctl_len(sk, SIOCINQ, "SIOCINQ"));
	e.outq_len = TRY(ioctl_len(sk, SIOCOUTQ, "SIOCOUTQ"));
	e.has_unsq_len = true;
	e.unsq_len = TRY(ioctl_len(sk, SIOCOUTQNSD, "SIOCOUTQNSD"));
	e.inq_seq = TRY(dump_queue(sk, TCP_RECV_QUEUE, e.inq_len, s.inq));
	e.outq_seq = TRY(dump_queue(sk, TCP_SEND_QUEUE, e.outq_len, s.outq));
	TRY(set_int(sk, TCP_REPAIR_QUEUE, TCP_NO_QUEUE, "TCP_REPAIR_QUEUE"));
	tcp_info ti{};
	socklen_t len = sizeof(ti);
	if (getsockopt(sk, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return fail_errno("can't get TCP_INFO");
	e.opt_mask = ti.tcpi_options;
	e.snd_wscale = ti.tcpi_snd_wscale;
	e.has_rcv_wscale = true;
	e.rcv_wscale = ti.tcpi_rcv_wscale;
	e.mss_clamp = TRY(get_int(sk, TCP_MAXSEG, "TCP_MAXSEG"));
	e.has_timestamp = true;
	e.timestamp = TRY(get_int(sk, TCP_TIMESTAMP, "TCP_TIMESTAMP"));
	e.has_nodelay = e.has_cork = true;
	e.nodelay = TRY(get_int(sk, TCP_NODELAY, "TCP_NODELAY")) != 0;
	e.cork = TRY(get_int(sk, TCP_CORK, "TCP_CORK")) != 0;
	TRY(dump_window(sk, e));
	pr_info("queues: in {} bytes (seq {}), out {} bytes (seq {}, {} unsent), options {:#x}", e.inq_len,
		e.inq_seq, e.outq_len, e.outq_seq, e.unsq_len, e.opt_mask);
	return s;
}

Result<> write_tcp_stream(ImageDir &dir, uint32_t ino, const TcpStream &s)
{
	ImageWriter w = TRY(dir.create_image(img::Kind::TcpStream, ino));
	TRY(w.write(s.e.base));
	TRY(w.write_raw(s.inq));
	TRY(w.write_raw(s.outq));
	return w.close();
}

Result<TcpStream> read_tcp_stream(ImageDir &dir, uint32_t ino)
{
	ImageReader r = TRY(dir.open_image(img::Kind::TcpStream, ino));
	auto m = TRY(r.read());
	if (!m)
		return fail(EINVAL, "{}: no entry", r.name());
	TcpStream s;
	ProtobufCMessage base = s.e.base;
	s.e = *pb_cast<TcpStreamEntry>(*m); // scalars only
	s.e.base = base;
	if (s.e.has_unsq_len && s.e.unsq_len > s.e.outq_len)
		return fail(EINVAL, "{}: {} unsent bytes in a send queue of {}", r.name(), s.e.unsq_len, s.e.outq_len);
	s.inq.resize(s.e.inq_len);
	s.outq.resize(s.e.outq_len);
	TRY_CTX(r.read_raw(s.inq), "{}: receive queue", r.name());
	TRY_CTX(r.read_raw(s.outq), "{}: send queue", r.name());
	return s;
}

Result<> restore_tcp_seqs(int sk, const TcpStream &s)
{
	TRY(set_int(sk, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE, "TCP_REPAIR_QUEUE"));
	TRY(set_int(sk, TCP_QUEUE_SEQ, int(s.e.inq_seq - s.e.inq_len), "TCP_QUEUE_SEQ (receive)"));
	TRY(set_int(sk, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE, "TCP_REPAIR_QUEUE"));
	TRY(set_int(sk, TCP_QUEUE_SEQ, int(s.e.outq_seq - s.e.outq_len), "TCP_QUEUE_SEQ (send)"));
	if (s.e.has_timestamp)
		TRY(set_int(sk, TCP_TIMESTAMP, int(s.e.timestamp), "TCP_TIMESTAMP"));
	return {};
}

Result<> restore_tcp_conn(int sk, const TcpStream &s)
{
	TRY(restore_options(sk, s.e));
	uint32_t unsent = s.e.has_unsq_len ? s.e.unsq_len : 0;
	TRY(push_queue(sk, TCP_RECV_QUEUE, s.inq.data(), s.inq.size()));
	TRY(push_queue(sk, TCP_SEND_QUEUE, s.outq.data(), s.outq.size() - unsent));
	TRY(set_int(sk, TCP_REPAIR_QUEUE, TCP_NO_QUEUE, "TCP_REPAIR_QUEUE"));
	return restore_window(sk, s.e);
}

Result<> restore_tcp_unsent(int sk, const TcpStream &s)
{
	TRY(set_int(sk, TCP_NODELAY, s.e.nodelay, "TCP_NODELAY"));
	TRY(set_int(sk, TCP_CORK, s.e.cork, "TCP_CORK"));
	uint32_t unsent = s.e.has_unsq_len ? s.e.unsq_len : 0;
	return push_queue(sk, TCP_NO_QUEUE, s.outq.data() + (s.outq.size() - unsent), unsent);
}

} // namespace criu
