// Unix socket helpers on sockets of this process: unix_diag relations, queue peeking (data,
// boundaries, SO_PEEK_OFF put back, fds in flight, unsupported kinds in flight refused) and common socket options.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "common/unique-fd.h"
#include "fd-victim.h"
#include "files.h"
#include "image-dir.h"
#include "options.h"
#include "test-dirs.h"
#include "sk-opts.h"
#include "sk-queue.h"
#include "sk-unix.h"

using namespace criu;
using namespace criu::test;

namespace {

struct Pair {
	UniqueFd a, b;
	explicit Pair(int type)
	{
		int sv[2];
		REQUIRE(socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) == 0);
		a.reset(sv[0]);
		b.reset(sv[1]);
	}
};

uint32_t ino_of(int fd)
{
	struct stat st;
	REQUIRE(fstat(fd, &st) == 0);
	return uint32_t(st.st_ino);
}

std::string text(const SkPacket &p) { return std::string(p.data.begin(), p.data.end()); }

std::string error_of(const Result<> &r) { return r ? std::string() : r.error().describe(); }

// Sends fd `what` over sk with SCM_RIGHTS.
bool send_fd(int sk, int what)
{
	alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
	iovec iov{const_cast<char *>("x"), 1};
	msghdr mh{};
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = control;
	mh.msg_controllen = sizeof(control);
	cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	std::memcpy(CMSG_DATA(c), &what, sizeof(what));
	return sendmsg(sk, &mh, 0) == 1;
}

} // namespace

TEST_CASE("unix_diag shows a socketpair's peers and a listener's pending connection", "[sk-unix]")
{
	Pair p(SOCK_STREAM);
	std::string name = "\0criusec-unit-" + std::to_string(getpid());
	name[0] = '\0';
	sockaddr_un a{};
	a.sun_family = AF_UNIX;
	std::memcpy(a.sun_path, name.data(), name.size());
	socklen_t len = socklen_t(offsetof(sockaddr_un, sun_path) + name.size());
	UniqueFd l(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)), c(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
	REQUIRE(bind(l.get(), reinterpret_cast<sockaddr *>(&a), len) == 0);
	REQUIRE(listen(l.get(), 3) == 0);
	REQUIRE(connect(c.get(), reinterpret_cast<sockaddr *>(&a), len) == 0);
	REQUIRE(shutdown(p.a.get(), SHUT_WR) == 0);

	auto all = must(unix_diag_all());
	const UnixDiag &da = all.at(ino_of(p.a.get())), &db = all.at(ino_of(p.b.get()));
	CHECK(da.peer == ino_of(p.b.get()));
	CHECK(db.peer == ino_of(p.a.get()));
	CHECK(da.type == SOCK_STREAM);
	CHECK(da.shutdown == 2); // SEND_SHUTDOWN
	CHECK(db.shutdown == 1); // RCV_SHUTDOWN
	const UnixDiag &dl = all.at(ino_of(l.get()));
	CHECK(dl.name == name);
	CHECK(dl.wqlen == 3); // backlog
	REQUIRE(dl.icons.size() == 1);
	CHECK(dl.icons[0] == ino_of(c.get()));
}

TEST_CASE("peek_sk_queue copies messages without taking them", "[sk-unix]")
{
	Pair d(SOCK_DGRAM);
	REQUIRE(send(d.a.get(), "one", 3, 0) == 3);
	REQUIRE(send(d.a.get(), "three", 5, 0) == 5);
	auto q = must(peek_sk_queue(d.b.get(), SOCK_DGRAM));
	REQUIRE(q.size() == 2);
	CHECK(text(q[0]) == "one");
	CHECK(text(q[1]) == "three");
	int off = 0;
	socklen_t len = sizeof(off);
	REQUIRE(getsockopt(d.b.get(), SOL_SOCKET, SO_PEEK_OFF, &off, &len) == 0);
	CHECK(off == -1); // put back
	char buf[8];
	CHECK(recv(d.b.get(), buf, sizeof(buf), MSG_DONTWAIT) == 3);

	Pair s(SOCK_STREAM);
	CHECK(must(peek_sk_queue(s.b.get(), SOCK_STREAM)).empty());
	REQUIRE(send(s.a.get(), "abc", 3, 0) == 3);
	REQUIRE(send(s.a.get(), "def", 3, 0) == 3);
	std::string all;
	for (const SkPacket &p : must(peek_sk_queue(s.b.get(), SOCK_STREAM)))
		all += text(p);
	CHECK(all == "abcdef");
}

TEST_CASE("peek_sk_queue gives duplicates of the fds in flight, leaving them queued", "[sk-unix]")
{
	Pair d(SOCK_DGRAM);
	UniqueFd devnull(open("/dev/null", O_RDONLY | O_CLOEXEC));
	REQUIRE(send(d.a.get(), "plain", 5, 0) == 5);
	REQUIRE(send_fd(d.a.get(), devnull.get()));
	auto q = must(peek_sk_queue(d.b.get(), SOCK_DGRAM));
	REQUIRE(q.size() == 2);
	CHECK(q[0].fds.empty());
	REQUIRE(q[1].fds.size() == 1);
	CHECK(text(q[1]) == "x");
	CHECK(ino_of(q[1].fds[0].get()) == ino_of(devnull.get()));
	CHECK(must(peek_sk_queue(d.b.get(), SOCK_DGRAM)).size() == 2); // still queued
}

TEST_CASE("a dump refuses unsupported fds in flight and, without --ext-unix-sk, peers outside the tree",
	  "[sk-unix]")
{
	Victim fds([] {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0 || dup2(sv[0], 5) < 0 || dup2(sv[1], 6) < 0 ||
		    close(sv[0]) || close(sv[1]) || !send_fd(5, 5) || dup2(epoll_create1(0), 7) < 0 || !send_fd(5, 7))
			_exit(6);
	});
	TempDir t1;
	auto dir1 = must(ImageDir::create(t1.path()));
	auto d1 = must(FilesDumper::create(dir1));
	must(d1.dump_fds(fds.pid, 1, Options{}));
	std::string err = error_of(d1.close(Options{}));
	INFO(err);
	CHECK(err.find(fmt::format("a file in flight on fd 6 of {}", fds.pid)) != std::string::npos);
	CHECK(err.find("eventpoll") != std::string::npos); // its targets are fds of a task's table

	std::string name = "@criusec-unit-ext-" + std::to_string(getpid());
	name[0] = '\0';
	sockaddr_un a{};
	a.sun_family = AF_UNIX;
	std::memcpy(a.sun_path, name.data(), name.size());
	socklen_t len = socklen_t(offsetof(sockaddr_un, sun_path) + name.size());
	UniqueFd outside(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	REQUIRE(bind(outside.get(), reinterpret_cast<sockaddr *>(&a), len) == 0);
	Victim ext([&] {
		int sk = socket(AF_UNIX, SOCK_DGRAM, 0);
		if (sk < 0 || connect(sk, reinterpret_cast<sockaddr *>(&a), len) || dup2(sk, 5) < 0 || close(sk))
			_exit(6);
	});
	TempDir t2;
	auto dir2 = must(ImageDir::create(t2.path()));
	auto d2 = must(FilesDumper::create(dir2));
	must(d2.dump_fds(ext.pid, 1, Options{}));
	err = error_of(d2.close(Options{}));
	INFO(err);
	CHECK(err.find(fmt::format("fd 5 of {}", ext.pid)) != std::string::npos);
	CHECK(err.find("Consider using --ext-unix-sk option") != std::string::npos);
}

TEST_CASE("socket options go from one socket to another", "[sk-opts]")
{
	Pair from(SOCK_STREAM), to(SOCK_STREAM);
	int one = 1, sndbuf = 50000;
	timeval tmo{3, 500};
	REQUIRE(setsockopt(from.a.get(), SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) == 0);
	REQUIRE(setsockopt(from.a.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) == 0);
	REQUIRE(setsockopt(from.a.get(), SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo)) == 0);
	auto o = must(dump_sk_opts(from.a.get()));
	CHECK(o->e.so_passcred);
	CHECK(o->e.so_sndbuf == 2 * 50000);
	must(restore_sk_opts(to.a.get(), o->e));
	auto back = must(dump_sk_opts(to.a.get()));
	CHECK(back->e.so_passcred);
	CHECK(back->e.so_sndbuf == o->e.so_sndbuf);
	CHECK(back->e.so_rcvbuf == o->e.so_rcvbuf);
	CHECK(back->e.so_rcv_tmo_sec == 3);
	CHECK(back->e.so_rcv_tmo_usec == o->e.so_rcv_tmo_usec); // rounded to jiffies, alike
}
