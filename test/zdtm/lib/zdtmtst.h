/* zdtmtst.h: the protocol every zdtm test program follows (after CRIU's zdtm).
 *
 *	int main(int argc, char **argv)
 *	{
 *		test_init(argc, argv);	// --pidfile=F --outfile=O [--NAME=VALUE ...]
 *		... set up state ...
 *		test_daemon();		// state is ready: pid goes to the pidfile
 *		test_waitsig();		// sleeps until SIGTERM (checkpoint/restore happen here)
 *		... check every piece of state with check()/fail() ...
 *		pass();			// "PASS", unless a check failed or none was made
 *		return test_result();
 *	}
 *
 * SIGTERM stays blocked in every thread except the main thread while it sits in test_waitsig(),
 * so threads started after test_init() never swallow it. All output goes to the outfile.
 */
#ifndef ZDTM_ZDTMTST_H
#define ZDTM_ZDTMTST_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>

void test_init(int argc, char **argv);
/* Value of a test-specific option --NAME=VALUE, or def when absent. */
const char *test_opt(const char *name, const char *def);
void test_daemon(void);
void test_waitsig(void);
/* True once SIGTERM has arrived (for tests whose main thread polls). */
bool test_stopped(void);

void test_msg_(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void fail_(const char *file, int line, int err, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void pass(void);
/* pass() with a note: the feature is missing here, the test could not check it. */
void skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Exit status for main(): 0 after pass(), 1 otherwise. */
int test_result(void);
/* Counts one verification; pass() refuses when nothing was checked. */
void test_checked(void);

#define test_msg(fmt, ...) test_msg_(__FILE__, __LINE__, fmt, ##__VA_ARGS__)
/* FAIL: reason (no errno). */
#define fail(fmt, ...) fail_(__FILE__, __LINE__, 0, fmt, ##__VA_ARGS__)
/* FAIL: reason: strerror(errno). */
#define fail_errno(fmt, ...) fail_(__FILE__, __LINE__, errno, fmt, ##__VA_ARGS__)
/* Setup failed: nothing to check, the test cannot go on. */
#define pr_perror(fmt, ...) fail_(__FILE__, __LINE__, errno, fmt, ##__VA_ARGS__)
#define setup_fail(fmt, ...) do { pr_perror(fmt, ##__VA_ARGS__); _exit(1); } while (0)

/* check(cond, fmt, ...): counts a check; on false reports FAIL and evaluates to false. */
#define check(cond, fmt, ...) ({						\
	bool __ok = (cond);							\
	test_checked();								\
	if (!__ok)								\
		fail_(__FILE__, __LINE__, 0, "%s: " fmt, #cond, ##__VA_ARGS__);	\
	__ok;									\
})

/* Helpers shared by several tests. */
pid_t sys_gettid(void);
/* Deterministic pattern byte for offset off of a region tagged seed. */
static inline uint8_t test_pattern(uint64_t seed, uint64_t off)
{
	uint64_t x = (seed + 1) * 0x9E3779B97F4A7C15ULL ^ (off * 0xC2B2AE3D27D4EB4FULL);
	x ^= x >> 29;
	return (uint8_t)(x ^ (x >> 17));
}
void fill_pattern(void *buf, size_t len, uint64_t seed);
/* Offset of the first byte that differs from the pattern, or -1. */
ptrdiff_t check_pattern(const void *buf, size_t len, uint64_t seed);
/* Waits (up to 10s: CPUs may be busy) until *counter moves past its current value. */
bool counter_moves(volatile uint64_t *counter);
/* The fds below 64 open in this fd table, as a bit set (fcntl only: safe in a CLONE_VM child). */
unsigned long long test_open_fds(void);
/* True if fd reads exactly text from offset 0 (text shorter than 32 bytes). */
bool test_fd_holds(int fd, const char *text);
/* Sends data on sk with the n fds (n <= 8) as SCM_RIGHTS (none when n is 0); setup_fail on error. */
void test_send_fds(int sk, const char *data, const int *fds, int n);
/* Receives one message from sk without waiting: up to size bytes into buf, and the fds of its
 * SCM_RIGHTS (at most max) into fds. Returns how many fds came, or -1 (no message, no rights,
 * more than max). */
int test_recv_fds(int sk, char *buf, size_t size, int *fds, int max);
/* Reads a whole small file into buf (NUL-terminated); returns length or -1. */
ssize_t read_file(const char *path, char *buf, size_t size);
/* Value of "Key:" in /proc/self/status (or /proc/self/task/TID/status when tid > 0). */
int proc_status_field(pid_t tid, const char *key, char *buf, size_t size);
/* The /proc/self/maps line of the mapping containing addr: start, end, perms ("rw-p"), path. */
struct map_entry {
	unsigned long start, end;
	char perms[5];
	char path[512];
};
int maps_find(const void *addr, struct map_entry *e);
/* Parses one maps line of len bytes (no newline needed). */
int parse_maps_line(const char *line, size_t len, struct map_entry *e);
/* VmFlags of that mapping from /proc/self/smaps ("rd wr mr mw me ac"). */
int smaps_vmflags(const void *addr, char *buf, size_t size);
/* True when the two-letter flag is among VmFlags. */
bool vmflag_has(const char *flags, const char *flag);
/* Runs fn(arg) and reports whether it raised SIGSEGV or SIGBUS (probing guards and protections). */
bool faults(void (*fn)(volatile void *), volatile void *arg);
void touch_read(volatile void *p);
void touch_write(volatile void *p);

#endif
