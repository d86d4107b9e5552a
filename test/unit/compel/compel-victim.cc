// A process for compel's tests to seize. Talks over stdin/stdout:
//   prints "R" once set up, then in mode
//     read (default): blocks in read(0): prints "D <data> H <signals handled>", or "E <errno>"
//     sleep MS:       nanosleep(MS) via the raw syscall: prints "S <ret> <errno>"
// options (before the mode):
//   --threads N   N extra threads: even ones spin, odd ones block in read() on a private pipe
//   --spawner     one extra thread that keeps creating short-lived threads
//   --block SIG   block SIG in every thread
//   --handler SIG count deliveries of SIG (SA_RESTART)
//   --seccomp     a seccomp filter that kills the process if it calls getppid()
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

std::atomic<int> handled{0};
std::atomic<unsigned long> spins{0};

void on_signal(int) { handled++; }

void say(const std::string &s)
{
	std::string line = s + "\n";
	if (write(STDOUT_FILENO, line.data(), line.size()) != ssize_t(line.size()))
		_exit(3);
}

void *spinner(void *)
{
	for (;;)
		spins++;
	return nullptr;
}

void *blocker(void *)
{
	int p[2];
	if (pipe(p))
		_exit(4);
	char c;
	for (;;)
		(void)!read(p[0], &c, 1);
	return nullptr;
}

void *short_lived(void *) { return nullptr; }

void *spawner(void *)
{
	for (;;) {
		pthread_t t;
		if (pthread_create(&t, nullptr, short_lived, nullptr) == 0)
			pthread_detach(t);
	}
	return nullptr;
}

void kill_on_getppid()
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {sizeof(f) / sizeof(f[0]), f};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		_exit(6);
}

void start(void *(*fn)(void *))
{
	pthread_t t;
	if (pthread_create(&t, nullptr, fn, nullptr))
		_exit(5);
}

int do_read()
{
	char buf[256];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf) - 1);
	if (n < 0) {
		say("E " + std::to_string(errno));
		return 1;
	}
	buf[n] = 0;
	say("D " + std::string(buf) + " H " + std::to_string(handled.load()));
	return 0;
}

int do_sleep(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	errno = 0;
	long r = syscall(SYS_nanosleep, &ts, nullptr);
	say("S " + std::to_string(r) + " " + std::to_string(r ? errno : 0));
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	sigset_t block;
	sigemptyset(&block);
	int threads = 0;
	bool spawn = false;
	int i = 1;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		std::string opt = argv[i];
		if (opt == "--spawner") {
			spawn = true;
			continue;
		}
		if (opt == "--seccomp") {
			kill_on_getppid();
			continue;
		}
		if (i + 1 >= argc)
			return 2;
		int v = atoi(argv[++i]);
		if (opt == "--threads") {
			threads = v;
		} else if (opt == "--block") {
			sigaddset(&block, v);
		} else if (opt == "--handler") {
			struct sigaction sa = {};
			sa.sa_handler = on_signal;
			sa.sa_flags = SA_RESTART;
			sigaction(v, &sa, nullptr);
		} else {
			return 2;
		}
	}
	sigprocmask(SIG_BLOCK, &block, nullptr);
	for (int t = 0; t < threads; t++)
		start(t % 2 ? blocker : spinner);
	if (spawn)
		start(spawner);
	say("R");
	std::string mode = i < argc ? argv[i] : "read";
	if (mode == "sleep" && i + 1 < argc)
		return do_sleep(atol(argv[i + 1]));
	return do_read();
}
