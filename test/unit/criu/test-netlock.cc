// The network lock (netlock.h): a real loopback connection whose 4-tuple is locked passes no
// packet (a send from the other end is not received while locked, then is after unlock), the
// unlock leaves no table behind, and a connection whose both ends are ours is "in the tree".
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "common/unique-fd.h"
#include "netlock.h"

using namespace criu;

namespace {

struct Conn {
	UniqueFd client, server;
};

Conn loopback_conn()
{
	UniqueFd l(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
	REQUIRE(l);
	sockaddr_in a{};
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	REQUIRE(bind(l.get(), reinterpret_cast<sockaddr *>(&a), sizeof(a)) == 0);
	REQUIRE(listen(l.get(), 1) == 0);
	socklen_t len = sizeof(a);
	REQUIRE(getsockname(l.get(), reinterpret_cast<sockaddr *>(&a), &len) == 0);
	Conn c;
	c.client.reset(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
	REQUIRE(connect(c.client.get(), reinterpret_cast<sockaddr *>(&a), sizeof(a)) == 0);
	c.server.reset(accept4(l.get(), nullptr, nullptr, SOCK_CLOEXEC));
	REQUIRE(c.server);
	return c;
}

// The connection as sk sees it.
ConnTuple tuple_of(int sk)
{
	sockaddr_in me{}, peer{};
	socklen_t len = sizeof(me);
	REQUIRE(getsockname(sk, reinterpret_cast<sockaddr *>(&me), &len) == 0);
	len = sizeof(peer);
	REQUIRE(getpeername(sk, reinterpret_cast<sockaddr *>(&peer), &len) == 0);
	ConnTuple c{.family = AF_INET, .sport = ntohs(me.sin_port), .dport = ntohs(peer.sin_port)};
	c.src[0] = me.sin_addr.s_addr;
	c.dst[0] = peer.sin_addr.s_addr;
	return c;
}

bool readable_within(int sk, int ms)
{
	pollfd p{sk, POLLIN, 0};
	return poll(&p, 1, ms) == 1;
}

std::string nft_tables()
{
	std::string out;
	FILE *f = popen("nft list tables 2>&1", "r");
	REQUIRE(f);
	char buf[256];
	while (fgets(buf, sizeof(buf), f))
		out += buf;
	pclose(f);
	return out;
}

} // namespace

TEST_CASE("netlock: a locked connection passes no packet until unlocked", "[netlock]")
{
	Conn c = loopback_conn();
	pid_t root = getpid();
	std::string table = netlock_table(root);
	REQUIRE(table == "CRIU-" + std::to_string(root));
	NetLock lock(root);
	REQUIRE(lock.lock(tuple_of(c.server.get())));
	CHECK(nft_tables().find("table inet " + table + "\n") != std::string::npos);
	REQUIRE(send(c.client.get(), "x", 1, MSG_NOSIGNAL) == 1);
	CHECK_FALSE(readable_within(c.server.get(), 1000));
	REQUIRE(lock.unlock());
	CHECK(nft_tables().find(table) == std::string::npos);
	// The client's retransmission gets through now.
	REQUIRE(readable_within(c.server.get(), 10000));
	char ch = 0;
	CHECK(recv(c.server.get(), &ch, 1, 0) == 1);
	CHECK(ch == 'x');
}

TEST_CASE("netlock: keep leaves the table, network_unlock removes it, twice is fine", "[netlock]")
{
	Conn c = loopback_conn();
	pid_t root = getpid();
	{
		NetLock lock(root);
		REQUIRE(lock.lock(tuple_of(c.client.get())));
		lock.keep();
		CHECK(lock.unlock()); // kept: nothing to do
	}
	CHECK(nft_tables().find(netlock_table(root)) != std::string::npos);
	REQUIRE(network_unlock(root));
	CHECK(nft_tables().find(netlock_table(root)) == std::string::npos);
	REQUIRE(network_unlock(root));
}

TEST_CASE("netlock: a peer inside the tree needs no lock, one outside does", "[netlock]")
{
	Conn c = loopback_conn();
	ConnTuple t = tuple_of(c.server.get());
	CHECK(peer_in_tree(t, getpid()).value_or(false));
	// The same connection seen from a tree the peer is not in: a child with no socket.
	int sync[2];
	REQUIRE(pipe(sync) == 0);
	pid_t child = fork();
	REQUIRE(child >= 0);
	if (child == 0) {
		for (int fd = 3; fd < 1024; fd++)
			if (fd != sync[1])
				close(fd);
		(void)!write(sync[1], "r", 1);
		pause();
		_exit(0);
	}
	close(sync[1]);
	char ready;
	REQUIRE(read(sync[0], &ready, 1) == 1);
	close(sync[0]);
	bool inside = peer_in_tree(t, child).value_or(true);
	kill(child, SIGKILL);
	waitpid(child, nullptr, 0);
	CHECK_FALSE(inside);
	t.dport = uint16_t(t.dport + 1); // no such peer at all
	CHECK_FALSE(peer_in_tree(t, getpid()).value_or(true));
}
