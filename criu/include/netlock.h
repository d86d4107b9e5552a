// The network lock of established TCP connections (--tcp-established), as CRIU's nftables
// mode does it: between dump and restore no packet of a dumped connection may reach or leave
// the host, or the peer would get a RST from a port that has no socket for a while.
//   Dump: before a connection with a peer outside the dumped tree is put in repair mode, its
//   4-tuple goes into the nftables table `inet CRIU-<root pid>` (CRIU's name): sets conns4 and
//   conns6 (saddr . sport . daddr . dport as the socket sees them) and chains `input` and
//   `output` (filter hooks) dropping the TCP packets of those tuples in both directions. The
//   table stays after a successful dump; --leave-running and a failed dump remove it.
//   Restore: once every connection has left repair mode, the table of the restored root pid
//   is removed (there is none when no connection needed it).
// Connections whose both ends are in the tree need no lock: both sockets are in repair mode
// and silent. The `nft` program does the work; without it such a dump fails.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace criu {

// One TCP connection as its socket sees it (addresses in network order, as in_addr/in6_addr).
struct ConnTuple {
	int family = 0; // AF_INET or AF_INET6
	uint32_t src[4] = {}, dst[4] = {};
	uint16_t sport = 0, dport = 0; // host order
};

// "CRIU-<root pid>", CRIU's table name (family inet).
std::string netlock_table(pid_t root);

// Runs `nft -f -` with script on its stdin; an error carries nft's message.
[[nodiscard]] Result<> run_nft(std::string_view script);

// True when the other end of c is a socket of a task of the tree under root.
[[nodiscard]] Result<bool> peer_in_tree(const ConnTuple &c, pid_t root);

class NetLock {
public:
	explicit NetLock(pid_t root) : root_(root) {}
	// Drops every packet of c, both ways, from now on (the table is made at the first one).
	[[nodiscard]] Result<> lock(const ConnTuple &c);
	// Removes the table (if this dump made one).
	[[nodiscard]] Result<> unlock();
	// The dump succeeded: the table stays for restore to remove.
	void keep() { locked_ = 0; }
	size_t locked() const { return locked_; }

private:
	pid_t root_;
	size_t locked_ = 0;
};

// Restore: removes the table `inet CRIU-<root>` if there is one.
[[nodiscard]] Result<> network_unlock(pid_t root);

} // namespace criu
