// Logging in CRIU's format and levels: -v0 (messages only) .. -v4 (debug).
// A file may define LOG_PREFIX ("img: ") before including this header.
#pragma once

#include <fmt/format.h>

#include <string_view>

#ifndef LOG_PREFIX
#define LOG_PREFIX ""
#endif

namespace criu::log {

enum Level : int { Msg = 0, Err = 1, Warn = 2, Info = 3, Debug = 4 };

// Process-wide sink, set up once by main(): where lines go and how much is said.
void init(int fd, int level, bool timestamps);
int level();
// The fd lines go to, and moving them to another (a restoring child moves its fds out of the way).
int fd();
void set_fd(int fd);
void vprint(Level lvl, std::string_view prefix, const char *file, int line, fmt::string_view f,
	    fmt::format_args args);

} // namespace criu::log

#define CR_LOG(lvl, f, ...)                                                                       \
	do {                                                                                      \
		if (int(lvl) <= ::criu::log::level())                                             \
			::criu::log::vprint(lvl, LOG_PREFIX, __FILE__, __LINE__, f,               \
					    fmt::make_format_args(__VA_ARGS__));                  \
	} while (0)

#define pr_msg(f, ...)   CR_LOG(::criu::log::Msg, f __VA_OPT__(,) __VA_ARGS__)
#define pr_err(f, ...)   CR_LOG(::criu::log::Err, f __VA_OPT__(,) __VA_ARGS__)
#define pr_warn(f, ...)  CR_LOG(::criu::log::Warn, f __VA_OPT__(,) __VA_ARGS__)
#define pr_info(f, ...)  CR_LOG(::criu::log::Info, f __VA_OPT__(,) __VA_ARGS__)
#define pr_debug(f, ...) CR_LOG(::criu::log::Debug, f __VA_OPT__(,) __VA_ARGS__)
