// For tests of fd dumping: a forked child holding only the fds its setup made, and must() to
// unwrap a Result or fail the test. Header-only (uses Catch2's macros).
#pragma once

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <type_traits>

#include "common/result.h"

namespace criu::test {

template <typename T> T must(Result<T> r)
{
	if (!r)
		FAIL(r.error().describe());
	if constexpr (!std::is_void_v<T>)
		return std::move(*r);
}

// A forked child with only the fds setup() made, sleeping; killed and reaped by pid on scope exit.
struct Victim {
	static constexpr int kPipeFd = 1010; // the child's end of the ready pipe, closed before the dump
	pid_t pid = -1;

	explicit Victim(const std::function<void()> &setup)
	{
		int p[2];
		REQUIRE(pipe(p) == 0);
		pid = fork();
		REQUIRE(pid >= 0);
		if (pid == 0) {
			if (dup2(p[1], kPipeFd) < 0)
				_exit(1);
			close_range(0, kPipeFd - 1, 0);
			close_range(kPipeFd + 1, ~0u, 0);
			setup();
			(void)!write(kPipeFd, "R", 1);
			close(kPipeFd);
			for (;;)
				pause();
		}
		close(p[1]);
		char c = 0;
		REQUIRE(read(p[0], &c, 1) == 1);
		REQUIRE(c == 'R');
		REQUIRE(read(p[0], &c, 1) == 0); // the child has closed its end: its fd table is final
		close(p[0]);
	}
	Victim(const Victim &) = delete;
	~Victim() { stop(); }
	void stop()
	{
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, nullptr, 0);
			pid = -1;
		}
	}
};

} // namespace criu::test
