/* zdtmtst.c: the zdtm test protocol (see zdtmtst.h). */
#include "zdtmtst.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static struct {
	int argc;
	char **argv;
	const char *pidfile;
	const char *outfile;
	volatile sig_atomic_t sigterm;
	int checks;
	bool failed;
	bool passed;
	bool waited;
} zt;

static void out(const char *fmt, va_list ap)
{
	char buf[4096];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);

	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	/* One write per line: lines from different threads do not interleave. */
	if (write(STDOUT_FILENO, buf, n) < 0)
		return;
}

static void outf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	out(fmt, ap);
	va_end(ap);
}

static void sigterm_handler(int sig)
{
	(void)sig;
	zt.sigterm = 1;
}

static const char *find_opt(int argc, char **argv, const char *name)
{
	size_t len = strlen(name);

	for (int i = 1; i < argc; i++)
		if (!strncmp(argv[i], "--", 2) && !strncmp(argv[i] + 2, name, len) && argv[i][2 + len] == '=')
			return argv[i] + 3 + len;
	return NULL;
}

const char *test_opt(const char *name, const char *def)
{
	const char *v = find_opt(zt.argc, zt.argv, name);

	return v ? v : def;
}

static void redirect_output(void)
{
	int fd = open(zt.outfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0) {
		fprintf(stderr, "zdtm: can't open %s: %m\n", zt.outfile);
		exit(1);
	}
	if (dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0) {
		fprintf(stderr, "zdtm: can't redirect output: %m\n");
		exit(1);
	}
	close(fd);
	setvbuf(stdout, NULL, _IONBF, 0);
	setvbuf(stderr, NULL, _IONBF, 0);
}

void test_init(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = sigterm_handler };
	sigset_t term;

	zt.argc = argc;
	zt.argv = argv;
	zt.pidfile = find_opt(argc, argv, "pidfile");
	zt.outfile = find_opt(argc, argv, "outfile");
	if (!zt.pidfile || !zt.outfile) {
		fprintf(stderr, "usage: %s --pidfile=FILE --outfile=FILE [--NAME=VALUE ...]\n", argv[0]);
		exit(2);
	}
	redirect_output();

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &term, NULL))
		setup_fail("sigprocmask");
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL))
		setup_fail("sigaction(SIGTERM)");
	outf("zdtm: %s started, pid %d\n", argv[0], getpid());
}

void test_daemon(void)
{
	char tmp[4096], buf[32];
	int fd, n;

	snprintf(tmp, sizeof(tmp), "%s.tmp", zt.pidfile);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		setup_fail("open %s", tmp);
	n = snprintf(buf, sizeof(buf), "%d\n", getpid());
	if (write(fd, buf, n) != n)
		setup_fail("write %s", tmp);
	close(fd);
	if (rename(tmp, zt.pidfile))
		setup_fail("rename %s to %s", tmp, zt.pidfile);
}

void test_waitsig(void)
{
	sigset_t mask;

	/* The test's own mask without SIGTERM: signals the test blocked stay blocked (pending). */
	sigprocmask(SIG_BLOCK, NULL, &mask);
	sigdelset(&mask, SIGTERM);
	while (!zt.sigterm)
		sigsuspend(&mask);
	zt.waited = true;
	outf("zdtm: SIGTERM received, checking\n");
}

bool test_stopped(void)
{
	return zt.sigterm;
}

void test_msg_(const char *file, int line, const char *fmt, ...)
{
	char msg[3072];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	outf("%s:%d: %s\n", file, line, msg);
}

void fail_(const char *file, int line, int err, const char *fmt, ...)
{
	char msg[3072];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	zt.failed = true;
	if (err)
		outf("FAIL: %s:%d: %s: %s (errno %d)\n", file, line, msg, strerror(err), err);
	else
		outf("FAIL: %s:%d: %s\n", file, line, msg);
}

void test_checked(void)
{
	__atomic_add_fetch(&zt.checks, 1, __ATOMIC_RELAXED);
}

void pass(void)
{
	if (zt.failed)
		return;
	if (!zt.waited) {
		fail("pass() before test_waitsig()");
		return;
	}
	if (!zt.checks) {
		fail("pass() without a single check");
		return;
	}
	zt.passed = true;
	outf("zdtm: %d checks\nPASS\n", zt.checks);
}

void skip(const char *fmt, ...)
{
	char msg[3072];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	outf("SKIP: %s\n", msg);
	test_checked();
	pass();
}

int test_result(void)
{
	return zt.passed && !zt.failed ? 0 : 1;
}

pid_t sys_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

void fill_pattern(void *buf, size_t len, uint64_t seed)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		p[i] = test_pattern(seed, i);
}

ptrdiff_t check_pattern(const void *buf, size_t len, uint64_t seed)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		if (p[i] != test_pattern(seed, i))
			return (ptrdiff_t)i;
	return -1;
}

void test_send_fds(int sk, const char *data, const int *fds, int n)
{
	char control[CMSG_SPACE(sizeof(int) * 8)];
	struct iovec iov = { (void *)data, strlen(data) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (n > 8)
		setup_fail("%d fds to send: at most 8", n);
	if (n) {
		mh.msg_control = control;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	}
	if (sendmsg(sk, &mh, 0) != (ssize_t)strlen(data))
		setup_fail("sendmsg");
}

int test_recv_fds(int sk, char *buf, size_t size, int *fds, int max)
{
	char control[CMSG_SPACE(sizeof(int) * 8)];
	struct iovec iov = { buf, size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
			     .msg_controllen = sizeof(control) };
	if (recvmsg(sk, &mh, MSG_DONTWAIT) <= 0)
		return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	int n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
	if (n > max)
		return -1;
	memcpy(fds, CMSG_DATA(c), sizeof(int) * n);
	return n;
}

unsigned long long test_open_fds(void)
{
	unsigned long long set = 0;
	for (int fd = 0; fd < 64; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			set |= 1ull << fd;
	return set;
}

bool test_fd_holds(int fd, const char *text)
{
	char buf[32] = {0};
	return pread(fd, buf, sizeof(buf) - 1, 0) == (ssize_t)strlen(text) && !strcmp(buf, text);
}

ssize_t read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = '\0';
	return (ssize_t)len;
}

int proc_status_field(pid_t tid, const char *key, char *buf, size_t size)
{
	char path[64], text[8192], *p, *end;
	size_t klen = strlen(key);

	if (tid > 0)
		snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	if (read_file(path, text, sizeof(text)) < 0)
		return -1;
	for (p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, key, klen) || p[klen] != ':')
			continue;
		p += klen + 1;
		while (*p == ' ' || *p == '\t')
			p++;
		end = strchrnul(p, '\n');
		snprintf(buf, size, "%.*s", (int)(end - p), p);
		return 0;
	}
	errno = ENOENT;
	return -1;
}

static char maps_text[1 << 20];

int parse_maps_line(const char *line, size_t len, struct map_entry *e)
{
	char buf[1024];
	int path_off = 0;

	snprintf(buf, sizeof(buf), "%.*s", (int)len, line);
	e->path[0] = '\0';
	if (sscanf(buf, "%lx-%lx %4s %*s %*s %*s %n", &e->start, &e->end, e->perms, &path_off) < 3)
		return -1;
	if (path_off)
		snprintf(e->path, sizeof(e->path), "%s", buf + path_off);
	return 0;
}

int maps_find(const void *addr, struct map_entry *e)
{
	unsigned long a = (unsigned long)addr;
	char *p, *nl;

	if (read_file("/proc/self/maps", maps_text, sizeof(maps_text)) < 0)
		return -1;
	for (p = maps_text; *p; p = *nl ? nl + 1 : nl) {
		nl = strchrnul(p, '\n');
		if (parse_maps_line(p, nl - p, e))
			break;
		if (a >= e->start && a < e->end)
			return 0;
	}
	errno = ENOENT;
	return -1;
}

static char smaps_text[4 << 20];

int smaps_vmflags(const void *addr, char *buf, size_t size)
{
	unsigned long a = (unsigned long)addr, start, end;
	bool in = false;
	char *p, *nl;

	if (read_file("/proc/self/smaps", smaps_text, sizeof(smaps_text)) < 0)
		return -1;
	for (p = smaps_text; *p; p = nl + 1) {
		nl = strchrnul(p, '\n');
		if (sscanf(p, "%lx-%lx ", &start, &end) == 2 && strchr(p, ' ') < nl && p[strspn(p, "0123456789abcdef")] == '-')
			in = a >= start && a < end;
		else if (in && !strncmp(p, "VmFlags:", 8)) {
			snprintf(buf, size, "%.*s", (int)(nl - p - 9), p + 9);
			return 0;
		}
		if (!*nl)
			break;
	}
	errno = ENOENT;
	return -1;
}

bool vmflag_has(const char *flags, const char *flag)
{
	for (const char *p = flags; (p = strstr(p, flag)); p++)
		if ((p == flags || p[-1] == ' ') && (p[2] == ' ' || p[2] == '\0'))
			return true;
	return false;
}

#include <setjmp.h>

static __thread sigjmp_buf fault_jmp;

static void fault_handler(int sig)
{
	siglongjmp(fault_jmp, sig);
}

bool faults(void (*fn)(volatile void *), volatile void *arg)
{
	struct sigaction sa = { .sa_handler = fault_handler, .sa_flags = SA_NODEFER }, osegv, obus;
	bool faulted = false;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &osegv);
	sigaction(SIGBUS, &sa, &obus);
	if (sigsetjmp(fault_jmp, 1))
		faulted = true;
	else
		fn(arg);
	sigaction(SIGSEGV, &osegv, NULL);
	sigaction(SIGBUS, &obus, NULL);
	return faulted;
}

void touch_read(volatile void *p)
{
	(void)*(volatile char *)p;
}

void touch_write(volatile void *p)
{
	*(volatile char *)p = 1;
}

bool counter_moves(volatile uint64_t *counter)
{
	struct timespec ms = { 0, 10 * 1000 * 1000 };
	uint64_t start = *counter;

	for (int i = 0; i < 1000; i++) {
		nanosleep(&ms, NULL);
		if (*counter != start)
			return true;
	}
	return false;
}
