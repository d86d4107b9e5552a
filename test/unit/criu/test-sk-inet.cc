// TCP/UDP sockets: socket options read from one socket and set on another; a loopback TCP
// connection taken apart with TCP_REPAIR (through tcp-stream-N.img, plain and sealed) and
// rebuilt on a new socket, its queued data intact; refusals of what restore can't rebuild.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "common/unique-fd.h"
#include "fd-victim.h"
#include "files.h"
#include "image-dir.h"
#include "options.h"
#include "sk-opts.h"
#include "sk-tcp.h"
#include "test-dirs.h"

using namespace criu;
using namespace criu::test;

namespace {

int opt(int sk, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);
	getsockopt(sk, level, name, &v, &len);
	return v;
}

void set(int sk, int level, int name, int v) { REQUIRE(setsockopt(sk, level, name, &v, sizeof(v)) == 0); }

sockaddr_in loopback(uint16_t port)
{
	sockaddr_in in{};
	in.sin_family = AF_INET;
	in.sin_port = htons(port);
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return in;
}

sockaddr_in name_of(int sk, bool peer)
{
	sockaddr_in in{};
	socklen_t len = sizeof(in);
	REQUIRE((peer ? getpeername(sk, (sockaddr *)&in, &len) : getsockname(sk, (sockaddr *)&in, &len)) == 0);
	return in;
}

std::vector<uint8_t> read_n(int sk, size_t n)
{
	std::vector<uint8_t> out(n);
	size_t got = 0;
	while (got < n) {
		pollfd p{sk, POLLIN, 0};
		REQUIRE(poll(&p, 1, 5000) == 1);
		ssize_t r = read(sk, out.data() + got, n - got);
		REQUIRE(r > 0);
		got += size_t(r);
	}
	return out;
}

} // namespace

TEST_CASE("socket options come back on a new socket", "[sk-inet]")
{
	UniqueFd a(socket(AF_INET, SOCK_STREAM, 0)), b(socket(AF_INET, SOCK_STREAM, 0));
	set(a.get(), SOL_SOCKET, SO_REUSEADDR, 1);
	set(a.get(), SOL_SOCKET, SO_REUSEPORT, 1);
	set(a.get(), SOL_SOCKET, SO_KEEPALIVE, 1);
	set(a.get(), IPPROTO_TCP, TCP_KEEPIDLE, 77);
	set(a.get(), SOL_SOCKET, SO_SNDBUF, 50000);
	set(a.get(), SOL_SOCKET, SO_PRIORITY, 4);
	set(a.get(), SOL_SOCKET, SO_MARK, 9);
	linger l{1, 12};
	REQUIRE(setsockopt(a.get(), SOL_SOCKET, SO_LINGER, &l, sizeof(l)) == 0);
	timeval tv{2, 250000};
	REQUIRE(setsockopt(a.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0);

	auto so = must(dump_sk_opts(a.get()));
	CHECK(so->e.reuseaddr);
	CHECK(so->e.so_linger == 12);
	must(restore_sk_opts(b.get(), so->e));
	for (int name : {SO_REUSEADDR, SO_REUSEPORT, SO_KEEPALIVE, SO_SNDBUF, SO_RCVBUF, SO_PRIORITY, SO_MARK})
		CHECK(opt(b.get(), SOL_SOCKET, name) == opt(a.get(), SOL_SOCKET, name));
	CHECK(opt(b.get(), IPPROTO_TCP, TCP_KEEPIDLE) == 77);
	linger l2{};
	socklen_t len = sizeof(l2);
	REQUIRE(getsockopt(b.get(), SOL_SOCKET, SO_LINGER, &l2, &len) == 0);
	CHECK((l2.l_onoff && l2.l_linger == 12));
	timeval ta{}, tb{}; // in jiffies inside: read back, 250000 may be rounded
	len = sizeof(ta);
	REQUIRE(getsockopt(a.get(), SOL_SOCKET, SO_RCVTIMEO, &ta, &len) == 0);
	REQUIRE(getsockopt(b.get(), SOL_SOCKET, SO_RCVTIMEO, &tb, &len) == 0);
	CHECK((tb.tv_sec == 2 && tb.tv_usec == ta.tv_usec));
}

TEST_CASE("a TCP connection is rebuilt with TCP_REPAIR, queues included", "[sk-inet]")
{
	if (geteuid() != 0) {
		WARN("TCP_REPAIR needs CAP_NET_ADMIN: not checked");
		return;
	}
	bool sealed = GENERATE(false, true);
	UniqueFd lsk(socket(AF_INET, SOCK_STREAM, 0)), cli(socket(AF_INET, SOCK_STREAM, 0));
	sockaddr_in any = loopback(0);
	REQUIRE(bind(lsk.get(), (sockaddr *)&any, sizeof(any)) == 0);
	REQUIRE(listen(lsk.get(), 1) == 0);
	sockaddr_in srv_addr = name_of(lsk.get(), false);
	REQUIRE(connect(cli.get(), (sockaddr *)&srv_addr, sizeof(srv_addr)) == 0);
	UniqueFd srv(accept(lsk.get(), nullptr, nullptr));
	REQUIRE(srv);
	std::vector<uint8_t> to_srv(30000), to_cli(700);
	for (size_t i = 0; i < to_srv.size(); i++)
		to_srv[i] = uint8_t(i * 7 + 1);
	for (size_t i = 0; i < to_cli.size(); i++)
		to_cli[i] = uint8_t(i * 3 + 5);
	REQUIRE(write(cli.get(), to_srv.data(), to_srv.size()) == ssize_t(to_srv.size()));
	REQUIRE(write(srv.get(), to_cli.data(), to_cli.size()) == ssize_t(to_cli.size()));
	usleep(50000);

	// The client goes into an image and dies silently in repair mode.
	TempDir tmp;
	std::vector<std::string> certs;
	if (sealed)
		certs.push_back(test_pki().cert);
	ImageDir dir = must(ImageDir::create(tmp.path(), certs));
	sockaddr_in me = name_of(cli.get(), false), peer = name_of(cli.get(), true);
	must(tcp_repair(cli.get(), TCP_REPAIR_ON));
	TcpStream s = must(dump_tcp_stream(cli.get()));
	CHECK(s.e.inq_len == to_cli.size());
	must(write_tcp_stream(dir, 42, s));
	cli.reset();

	ImageDir rdir = must(ImageDir::open(tmp.path(), sealed ? test_pki().key : ""));
	TcpStream r = must(read_tcp_stream(rdir, 42));
	CHECK(r.inq == s.inq);
	UniqueFd nc(socket(AF_INET, SOCK_STREAM, 0));
	must(tcp_repair(nc.get(), TCP_REPAIR_ON));
	must(restore_tcp_seqs(nc.get(), r));
	REQUIRE(bind(nc.get(), (sockaddr *)&me, sizeof(me)) == 0);
	REQUIRE(connect(nc.get(), (sockaddr *)&peer, sizeof(peer)) == 0);
	must(restore_tcp_conn(nc.get(), r));
	must(tcp_repair(nc.get(), TCP_REPAIR_OFF));
	must(restore_tcp_unsent(nc.get(), r));

	CHECK(read_n(nc.get(), to_cli.size()) == to_cli);
	CHECK(read_n(srv.get(), to_srv.size()) == to_srv);
	REQUIRE(write(nc.get(), "ab", 2) == 2);
	CHECK(read_n(srv.get(), 2) == std::vector<uint8_t>{'a', 'b'});
}

TEST_CASE("an established connection without --tcp-established is refused", "[sk-inet]")
{
	Victim v([] {
		int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0);
		sockaddr_in a = loopback(0);
		socklen_t len = sizeof(a);
		if (bind(l, (sockaddr *)&a, sizeof(a)) || listen(l, 1) || getsockname(l, (sockaddr *)&a, &len) ||
		    connect(c, (sockaddr *)&a, len) || accept(l, nullptr, nullptr) < 0)
			_exit(3);
	});
	TempDir tmp;
	ImageDir dir = must(ImageDir::create(tmp.path()));
	FilesDumper files = must(FilesDumper::create(dir));
	Options opts;
	auto r = files.dump_fds(v.pid, 1, opts);
	REQUIRE_FALSE(r.has_value());
	CHECK_THAT(r.error().describe(), Catch::Contains("consider using --tcp-established"));
}

TEST_CASE("a listener with connections not accepted yet is refused", "[sk-inet]")
{
	Victim v([] {
		int l = socket(AF_INET6, SOCK_STREAM, 0), c = socket(AF_INET6, SOCK_STREAM, 0);
		sockaddr_in6 a{};
		a.sin6_family = AF_INET6;
		a.sin6_addr = in6addr_loopback;
		socklen_t len = sizeof(a);
		if (bind(l, (sockaddr *)&a, sizeof(a)) || listen(l, 4) || getsockname(l, (sockaddr *)&a, &len) ||
		    connect(c, (sockaddr *)&a, len))
			_exit(3);
		close(c);
	});
	TempDir tmp;
	ImageDir dir = must(ImageDir::create(tmp.path()));
	FilesDumper files = must(FilesDumper::create(dir));
	Options opts;
	opts.tcp_established = true;
	auto r = files.dump_fds(v.pid, 1, opts);
	REQUIRE_FALSE(r.has_value());
	CHECK_THAT(r.error().describe(), Catch::Contains("connections not accepted yet"));
}
