// What /proc tells about a task for dump: stat, status (creds, seccomp), limits, POSIX timers.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace criu {

// Fields of /proc/PID/stat (proc(5) numbering in comments).
struct ProcStat {
	char state = 0;          // 3
	pid_t ppid = 0;          // 4
	pid_t pgid = 0;          // 5
	pid_t sid = 0;           // 6
	uint32_t flags = 0;      // 9: PF_*
	int nice = 0;            // 19
	uint64_t start_code = 0; // 26
	uint64_t end_code = 0;   // 27
	uint64_t start_stack = 0; // 28
	uint32_t rt_priority = 0; // 40
	uint32_t policy = 0;      // 41
	uint64_t start_data = 0, end_data = 0, start_brk = 0; // 45..47
	uint64_t arg_start = 0, arg_end = 0, env_start = 0, env_end = 0; // 48..51
	int exit_code = 0;        // 52
};

// tid 0: the process (/proc/PID/stat), else /proc/PID/task/TID/stat.
[[nodiscard]] Result<ProcStat> parse_stat(pid_t pid, pid_t tid = 0);
// Parses the text of a stat file (exposed for tests).
[[nodiscard]] Result<ProcStat> parse_stat_text(const std::string &text);

// Credentials and seccomp mode of one thread, from /proc/PID/task/TID/status.
struct ProcStatus {
	std::array<uint32_t, 4> uids{}; // real, effective, saved, fs
	std::array<uint32_t, 4> gids{};
	std::vector<uint32_t> groups;
	uint64_t cap_inh = 0, cap_prm = 0, cap_eff = 0, cap_bnd = 0, cap_amb = 0;
	int seccomp = 0;
	bool no_new_privs = false;
};
[[nodiscard]] Result<ProcStatus> parse_status(pid_t pid, pid_t tid);
[[nodiscard]] Result<ProcStatus> parse_status_text(const std::string &text);

constexpr int kRlimCount = 16; // RLIM_NLIMITS
struct Rlimit {
	uint64_t cur, max;
};
// /proc/PID/limits in resource order; "unlimited" is RLIM_INFINITY.
[[nodiscard]] Result<std::array<Rlimit, kRlimCount>> parse_limits(pid_t pid);
[[nodiscard]] Result<std::array<Rlimit, kRlimCount>> parse_limits_text(const std::string &text);

// One entry of /proc/PID/timers.
struct ProcPosixTimer {
	int32_t id = 0;
	int clock_id = 0;
	int signo = 0;
	uint64_t sival_ptr = 0;
	int notify = 0;        // SIGEV_* (| SIGEV_THREAD_ID)
	pid_t notify_tid = 0;  // the pid or tid the kernel shows
};
[[nodiscard]] Result<std::vector<ProcPosixTimer>> parse_posix_timers(pid_t pid);
[[nodiscard]] Result<std::vector<ProcPosixTimer>> parse_posix_timers_text(const std::string &text);

// A small text file of /proc as one unsigned or signed number.
[[nodiscard]] Result<std::string> read_proc_line(const std::string &path);

} // namespace criu
