#include "victim.h"

#include <catch2/catch.hpp>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "common/xio.h"

using criu::UniqueFd;

namespace compel_test {
namespace {

constexpr int kTimeoutMs = 10000;

struct Pipe {
	UniqueFd r, w;
	Pipe()
	{
		int p[2];
		REQUIRE(pipe2(p, O_CLOEXEC) == 0);
		r = UniqueFd(p[0]);
		w = UniqueFd(p[1]);
	}
};

[[noreturn]] void run_nanny(const std::vector<std::string> &args, Pipe &in, Pipe &out, Pipe &ev)
{
	pid_t v = fork();
	if (v < 0)
		_exit(10);
	if (v == 0) {
		if (dup2(in.r.get(), 0) < 0 || dup2(out.w.get(), 1) < 0)
			_exit(11);
		std::vector<char *> argv;
		std::string prog = COMPEL_VICTIM;
		argv.push_back(prog.data());
		for (const std::string &a : args)
			argv.push_back(const_cast<char *>(a.c_str()));
		argv.push_back(nullptr);
		execv(prog.c_str(), argv.data());
		_exit(12);
	}
	if (write(ev.w.get(), &v, sizeof(v)) != sizeof(v))
		_exit(13);
	for (;;) {
		int st;
		if (waitpid(v, &st, WUNTRACED | WCONTINUED) < 0)
			_exit(14);
		char e = WIFSTOPPED(st) ? 'S' : WIFCONTINUED(st) ? 'C' : 'X';
		if (write(ev.w.get(), &e, 1) != 1)
			_exit(15);
		if (e == 'X')
			_exit(0);
	}
}

bool poll_in(int fd)
{
	struct pollfd p = {fd, POLLIN, 0};
	int r;
	do
		r = poll(&p, 1, kTimeoutMs);
	while (r < 0 && errno == EINTR);
	return r == 1;
}

void read_exact(int fd, void *buf, size_t n)
{
	REQUIRE(poll_in(fd));
	REQUIRE(read(fd, buf, n) == ssize_t(n));
}

} // namespace

Victim::Victim(const std::vector<std::string> &args)
{
	Pipe in, out, ev;
	nanny_ = fork();
	REQUIRE(nanny_ >= 0);
	if (nanny_ == 0)
		run_nanny(args, in, out, ev);
	read_exact(ev.r.get(), &pid_, sizeof(pid_));
	in_ = std::move(in.w);
	out_ = std::move(out.r);
	events_ = std::move(ev.r);
}

Victim::~Victim()
{
	if (pid_ > 0)
		kill(pid_, SIGKILL);
	if (nanny_ > 0) {
		while (waitpid(nanny_, nullptr, 0) < 0 && errno == EINTR)
			;
	}
}

std::string Victim::line()
{
	for (;;) {
		size_t nl = buffered_.find('\n');
		if (nl != std::string::npos) {
			std::string l = buffered_.substr(0, nl);
			buffered_.erase(0, nl + 1);
			return l;
		}
		REQUIRE(poll_in(out_.get()));
		char buf[256];
		ssize_t n = read(out_.get(), buf, sizeof(buf));
		REQUIRE(n > 0);
		buffered_.append(buf, size_t(n));
	}
}

void Victim::expect_line(const std::string &want) { REQUIRE(line() == want); }

char Victim::event()
{
	char e = 0;
	read_exact(events_.get(), &e, 1);
	return e;
}

void Victim::send(const std::string &data)
{
	REQUIRE(write(in_.get(), data.data(), data.size()) == ssize_t(data.size()));
}

void wait_in_syscall(pid_t pid, long nr)
{
	std::string want = std::to_string(nr) + " ";
	auto dl = std::chrono::steady_clock::now() + std::chrono::milliseconds(kTimeoutMs);
	for (;;) {
		auto s = criu::xio::read_file("/proc/" + std::to_string(pid) + "/syscall");
		REQUIRE(s.has_value());
		if (s->starts_with(want))
			return;
		REQUIRE(std::chrono::steady_clock::now() < dl);
		struct timespec ts = {0, 200000};
		nanosleep(&ts, nullptr);
	}
}

std::vector<pid_t> list_tasks(pid_t pid)
{
	std::vector<pid_t> tids;
	DIR *d = opendir(("/proc/" + std::to_string(pid) + "/task").c_str());
	REQUIRE(d);
	while (struct dirent *de = readdir(d))
		if (de->d_name[0] != '.')
			tids.push_back(atoi(de->d_name));
	closedir(d);
	std::sort(tids.begin(), tids.end());
	return tids;
}

std::map<pid_t, char> thread_states(pid_t pid)
{
	std::map<pid_t, char> states;
	for (pid_t tid : list_tasks(pid)) {
		auto s = criu::xio::read_file("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/stat");
		if (!s)
			continue; // exited meanwhile
		size_t p = s->rfind(')');
		REQUIRE(p != std::string::npos);
		states[tid] = (*s)[p + 2];
	}
	return states;
}

namespace {
void wait_states(pid_t pid, char state, bool all)
{
	auto dl = std::chrono::steady_clock::now() + std::chrono::milliseconds(kTimeoutMs);
	for (;;) {
		auto states = thread_states(pid);
		size_t n = size_t(std::count_if(states.begin(), states.end(), [state](auto &s) { return s.second == state; }));
		if (n == (all ? states.size() : 0))
			return;
		INFO("waiting for " << (all ? "all" : "none") << " threads of " << pid << " in state " << state);
		REQUIRE(std::chrono::steady_clock::now() < dl);
		struct timespec ts = {0, 200000};
		nanosleep(&ts, nullptr);
	}
}

} // namespace

void wait_all_in_state(pid_t pid, char state) { wait_states(pid, state, true); }
void wait_none_in_state(pid_t pid, char state) { wait_states(pid, state, false); }

std::string status_field(pid_t pid, const std::string &name)
{
	auto s = criu::xio::read_file("/proc/" + std::to_string(pid) + "/status");
	REQUIRE(s.has_value());
	size_t at = s->find("\n" + name + ":");
	REQUIRE(at != std::string::npos);
	at += name.size() + 2;
	size_t end = s->find('\n', at);
	std::string v = s->substr(at, end - at);
	v.erase(0, v.find_first_not_of(" \t"));
	return v;
}

Snapshot snapshot(pid_t pid)
{
	Snapshot s;
	std::string dir = "/proc/" + std::to_string(pid);
	auto maps = criu::xio::read_file(dir + "/maps");
	REQUIRE(maps.has_value());
	s.maps = *maps;
	for (const char *f : {"SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt", "Threads"})
		s.status[f] = status_field(pid, f);
	UniqueFd mem(open((dir + "/mem").c_str(), O_RDONLY | O_CLOEXEC));
	REQUIRE(mem.valid());
	size_t pos = 0;
	while (pos < s.maps.size()) {
		size_t eol = s.maps.find('\n', pos);
		std::string line = s.maps.substr(pos, eol - pos);
		pos = eol + 1;
		unsigned long long start;
		char perms[5] = {};
		if (sscanf(line.c_str(), "%llx-%*x %4s", &start, perms) == 2 && perms[2] == 'x' &&
		    line.find("[vsyscall]") == std::string::npos) {
			char bytes[16];
			REQUIRE(pread(mem.get(), bytes, sizeof(bytes), off_t(start)) == ssize_t(sizeof(bytes)));
			s.code[start] = std::string(bytes, sizeof(bytes));
		}
	}
	DIR *d = opendir((dir + "/fd").c_str());
	REQUIRE(d);
	while (struct dirent *de = readdir(d)) {
		if (de->d_name[0] == '.')
			continue;
		char target[PATH_MAX] = {};
		ssize_t n = readlink((dir + "/fd/" + de->d_name).c_str(), target, sizeof(target) - 1);
		s.fds[atoi(de->d_name)] = n > 0 ? std::string(target, size_t(n)) : "?";
	}
	closedir(d);
	return s;
}

void check_same(const Snapshot &a, const Snapshot &b)
{
	CHECK(a.maps == b.maps);
	for (const auto &[field, value] : a.status) {
		INFO("/proc/PID/status " << field);
		CHECK(value == b.status.at(field));
	}
	CHECK(a.code == b.code);
	CHECK(a.fds.size() == b.fds.size());
	for (const auto &[fd, target] : a.fds) {
		INFO("fd " << fd);
		REQUIRE(b.fds.count(fd) == 1);
		CHECK(target == b.fds.at(fd));
	}
}

} // namespace compel_test
