// Test helpers: a victim process that is not our child, and views of its /proc state.
#pragma once

#include <sys/types.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "common/unique-fd.h"
#include "compel/task.h"

namespace compel_test {

using criu::compel::SeizedProcess;

// The value of r, or the test fails with r's error.
template <typename T> T must(criu::Result<T> r)
{
	if (!r)
		FAIL(r.error().describe());
	if constexpr (!std::is_void_v<T>)
		return std::move(*r);
}

inline SeizedProcess must_seize(pid_t pid, std::chrono::milliseconds timeout = std::chrono::seconds(5))
{
	auto p = SeizedProcess::seize(pid, timeout);
	if (!p)
		FAIL("seize " << pid << ": " << p.error().describe());
	return std::move(*p);
}

// Runs compel-victim with args as the child of a "nanny" process (so the victim is not ours,
// as with a real target). The nanny reports the victim's stops ('S'), continues ('C') and exit
// ('X'). The destructor SIGKILLs the victim by pid and reaps the nanny, which reaps the victim.
class Victim {
public:
	explicit Victim(const std::vector<std::string> &args);
	~Victim();
	Victim(const Victim &) = delete;
	Victim &operator=(const Victim &) = delete;

	pid_t pid() const { return pid_; }
	std::string line();        // next line the victim printed (test fails after 10 s)
	char event();              // next nanny event
	void send(const std::string &data);
	void wait_ready() { expect_line("R"); }
	void expect_line(const std::string &want);

private:
	pid_t nanny_ = -1;
	pid_t pid_ = -1;
	criu::UniqueFd in_, out_, events_;
	std::string buffered_;
};

// Polls /proc/PID/syscall until the leader sleeps in system call nr (there is no handshake for
// "is inside the call now"); fails the test after 10 s.
void wait_in_syscall(pid_t pid, long nr);

std::map<pid_t, char> thread_states(pid_t pid);
// Polls until every thread of pid is in state (fails the test after 10 s).
void wait_all_in_state(pid_t pid, char state);
void wait_none_in_state(pid_t pid, char state);
std::vector<pid_t> list_tasks(pid_t pid);
std::string status_field(pid_t pid, const std::string &name); // e.g. "SigPnd"

// What must be identical before seizing and after release.
struct Snapshot {
	std::string maps;
	std::map<std::string, std::string> status; // SigPnd ShdPnd SigBlk SigIgn SigCgt Threads
	std::map<int, std::string> fds;            // fd -> readlink
	std::map<uint64_t, std::string> code;      // first bytes of each executable mapping
};
Snapshot snapshot(pid_t pid);
void check_same(const Snapshot &a, const Snapshot &b);

} // namespace compel_test
