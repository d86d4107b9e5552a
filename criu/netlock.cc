// The network lock of established TCP connections through nftables (see netlock.h).
#define LOG_PREFIX "netlock: "
#include "netlock.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <vector>

#include "common/log.h"
#include "common/unique-fd.h"
#include "sock-diag.h"

extern char **environ;

namespace criu {

namespace {

// An IPv4-mapped IPv6 tuple (::ffff:a.b.c.d) goes on the wire as IPv4: say it so.
ConnTuple normalized(ConnTuple c)
{
	auto mapped = [](const uint32_t *w) { return w[0] == 0 && w[1] == 0 && w[2] == htonl(0xffff); };
	if (c.family == AF_INET6 && mapped(c.src) && mapped(c.dst)) {
		c.family = AF_INET;
		c.src[0] = c.src[3], c.dst[0] = c.dst[3];
		for (int i = 1; i < 4; i++)
			c.src[i] = c.dst[i] = 0;
	}
	return c;
}

std::string addr(const ConnTuple &c, const uint32_t *w)
{
	char buf[INET6_ADDRSTRLEN] = "?";
	inet_ntop(c.family, w, buf, sizeof(buf));
	return buf;
}

std::string describe(const ConnTuple &c)
{
	const char *fmt4 = c.family == AF_INET6 ? "[{}]:{}" : "{}:{}";
	return fmt::format(fmt::runtime(fmt4), addr(c, c.src), c.sport) + " -> " +
	       fmt::format(fmt::runtime(fmt4), addr(c, c.dst), c.dport);
}

const char *find_nft()
{
	for (const char *p : {"/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft", "/bin/nft"})
		if (access(p, X_OK) == 0)
			return p;
	return nullptr;
}

// ---- which sockets the tree has ----

void collect_tree(pid_t pid, std::set<pid_t> &pids)
{
	if (!pids.insert(pid).second)
		return;
	std::error_code ec;
	for (const auto &t : std::filesystem::directory_iterator(fmt::format("/proc/{}/task", pid), ec)) {
		std::ifstream in(t.path() / "children");
		for (pid_t c; in >> c;)
			collect_tree(c, pids);
	}
}

std::set<uint64_t> tree_sockets(pid_t root)
{
	std::set<pid_t> pids;
	collect_tree(root, pids);
	std::set<uint64_t> inodes;
	for (pid_t pid : pids) {
		std::error_code ec;
		for (const auto &f : std::filesystem::directory_iterator(fmt::format("/proc/{}/fd", pid), ec)) {
			std::string link = std::filesystem::read_symlink(f.path(), ec).string();
			if (!ec && link.starts_with("socket:["))
				inodes.insert(std::strtoull(link.c_str() + 8, nullptr, 10));
		}
	}
	return inodes;
}

bool same(const ConnTuple &a, const ConnTuple &b)
{
	size_t n = a.family == AF_INET ? 4 : 16;
	return a.family == b.family && a.sport == b.sport && a.dport == b.dport && !std::memcmp(a.src, b.src, n) &&
	       !std::memcmp(a.dst, b.dst, n);
}

// The inodes of the local sockets of family whose connection is `want` (normalized).
Result<> diag_find(int family, const ConnTuple &want, std::vector<uint32_t> &found)
{
	struct {
		nlmsghdr h;
		inet_diag_req_v2 r;
	} req{};
	req.r.sdiag_family = uint8_t(family);
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = 1u << TCP_ESTABLISHED;
	return sock_diag_dump(&req, sizeof(req), [&](const nlmsghdr &h) {
		const auto *m = static_cast<const inet_diag_msg *>(NLMSG_DATA(&h));
		ConnTuple c{.family = family, .sport = ntohs(m->id.idiag_sport), .dport = ntohs(m->id.idiag_dport)};
		std::memcpy(c.src, m->id.idiag_src, sizeof(c.src));
		std::memcpy(c.dst, m->id.idiag_dst, sizeof(c.dst));
		if (same(normalized(c), want))
			found.push_back(m->idiag_inode);
	});
}

std::string element(const ConnTuple &c)
{
	return fmt::format("{} . {} . {} . {}", addr(c, c.src), c.sport, addr(c, c.dst), c.dport);
}

// The table, its sets and chains (a stale table of the same name is replaced).
std::string table_script(const std::string &t)
{
	std::string s = fmt::format("add table inet {0}\ndelete table inet {0}\nadd table inet {0}\n", t);
	s += fmt::format("add set inet {} conns4 {{ type ipv4_addr . inet_service . ipv4_addr . inet_service; }}\n", t);
	s += fmt::format("add set inet {} conns6 {{ type ipv6_addr . inet_service . ipv6_addr . inet_service; }}\n", t);
	for (const char *hook : {"input", "output"}) {
		s += fmt::format("add chain inet {0} {1} {{ type filter hook {1} priority 0; }}\n", t, hook);
		// Output packets carry the socket's own tuple, input packets the reverse.
		bool out = hook[0] == 'o';
		for (const char *ip : {"ip", "ip6"})
			s += fmt::format("add rule inet {} {} {} {} . tcp {} . {} {} . tcp {} @conns{} drop\n", t, hook, ip,
					 out ? "saddr" : "daddr", out ? "sport" : "dport", ip, out ? "daddr" : "saddr",
					 out ? "dport" : "sport", ip[2] ? 6 : 4);
	}
	return s;
}

} // namespace

std::string netlock_table(pid_t root) { return fmt::format("CRIU-{}", root); }

Result<> run_nft(std::string_view script)
{
	const char *nft = find_nft();
	if (!nft)
		return fail(ENOENT, "nft not found (the nftables package): can't lock or unlock connections");
	int in[2], err[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return fail_errno("pipe");
	UniqueFd in_r(in[0]), in_w(in[1]);
	if (pipe2(err, O_CLOEXEC) < 0)
		return fail_errno("pipe");
	UniqueFd err_r(err[0]), err_w(err[1]);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in_r.get(), 0);
	posix_spawn_file_actions_adddup2(&fa, err_w.get(), 1);
	posix_spawn_file_actions_adddup2(&fa, err_w.get(), 2);
	posix_spawnattr_t attr; // with no signal blocked: criu blocks SIGCHLD (see main)
	posix_spawnattr_init(&attr);
	sigset_t none;
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	const char *argv[] = {nft, "-f", "-", nullptr};
	pid_t pid;
	int rc = posix_spawn(&pid, nft, &fa, &attr, const_cast<char **>(argv), environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc != 0)
		return fail(rc, "can't run {}", nft);
	in_r.reset();
	err_w.reset();
	// The scripts are small (far below a pipe's buffer): write all, then read nft's words.
	bool wrote = write(in_w.get(), script.data(), script.size()) == ssize_t(script.size());
	in_w.reset();
	std::string out;
	char buf[512];
	for (ssize_t n; (n = read(err_r.get(), buf, sizeof(buf))) > 0;)
		out.append(buf, size_t(n));
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
	}
	while (!out.empty() && out.back() == '\n')
		out.pop_back();
	if (!wrote || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return fail(EIO, "nft failed (status {:#x}): {}", st, out);
	return {};
}

Result<bool> peer_in_tree(const ConnTuple &c, pid_t root)
{
	ConnTuple n = normalized(c), peer = n;
	std::memcpy(peer.src, n.dst, sizeof(peer.src));
	std::memcpy(peer.dst, n.src, sizeof(peer.dst));
	peer.sport = n.dport, peer.dport = n.sport;
	std::vector<uint32_t> found;
	TRY(diag_find(AF_INET, peer, found));
	TRY(diag_find(AF_INET6, peer, found));
	if (found.empty())
		return false;
	std::set<uint64_t> ours = tree_sockets(root);
	for (uint32_t ino : found)
		if (ours.count(ino))
			return true;
	return false;
}

Result<> NetLock::lock(const ConnTuple &conn)
{
	ConnTuple c = normalized(conn);
	std::string t = netlock_table(root_);
	std::string s = locked_ ? std::string() : table_script(t);
	s += fmt::format("add element inet {} conns{} {{ {} }}\n", t, c.family == AF_INET6 ? 6 : 4, element(c));
	TRY_CTX(run_nft(s), "can't lock connection {} (table inet {})", describe(c), t);
	locked_++;
	pr_info("locked connection {} (table inet {})", describe(c), t);
	return {};
}

Result<> NetLock::unlock()
{
	if (!locked_)
		return {};
	locked_ = 0;
	return network_unlock(root_);
}

Result<> network_unlock(pid_t root)
{
	std::string t = netlock_table(root);
	if (!find_nft()) {
		pr_debug("nft not found: no table inet {} to remove", t);
		return {};
	}
	// Adding the table first makes deleting it succeed whether it was there or not.
	TRY_CTX(run_nft(fmt::format("add table inet {0}\ndelete table inet {0}\n", t)), "can't unlock the network (table inet {})", t);
	pr_info("unlocked the network (table inet {} removed)", t);
	return {};
}

} // namespace criu
