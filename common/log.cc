#include "common/log.h"

#include <time.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "common/unique-fd.h"
#include "common/xio.h"

namespace criu::log {
namespace {

struct Sink {
	int fd = STDERR_FILENO;
	int level = Warn;
	bool timestamps = false;
	struct timespec start {};
};

Sink &sink()
{
	static Sink s;
	return s;
}

} // namespace

void init(int fd, int lvl, bool timestamps)
{
	Sink &s = sink();
	s.fd = fd;
	s.level = lvl;
	s.timestamps = timestamps;
	clock_gettime(CLOCK_MONOTONIC, &s.start);
}

int level() { return sink().level; }
int fd() { return sink().fd; }
void set_fd(int fd) { sink().fd = fd; }

void vprint(Level lvl, std::string_view prefix, const char *file, int line, fmt::string_view f,
	    fmt::format_args args)
{
	const Sink &s = sink();
	std::string out;
	if (s.timestamps) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long sec = now.tv_sec - s.start.tv_sec;
		long usec = (now.tv_nsec - s.start.tv_nsec) / 1000;
		if (usec < 0) {
			sec--;
			usec += 1000000;
		}
		out = fmt::format("({:02}.{:06}) ", sec, usec);
	}
	while (strncmp(file, "../", 3) == 0) // Meson builds in build/: name files from the top
		file += 3;
	if (lvl == Err)
		out += fmt::format("Error ({}:{}): ", file, line);
	else if (lvl == Warn)
		out += fmt::format("Warn  ({}:{}): ", file, line);
	out += prefix;
	out += fmt::vformat(f, args);
	if (out.empty() || out.back() != '\n')
		out += '\n';
	(void)xio::write_full(BorrowedFd(s.fd), xio::as_bytes(out.data(), out.size()));
}

} // namespace criu::log
