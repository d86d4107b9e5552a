// A process for the dump tests to checkpoint. Sets up state whose image form the tests check,
// writes what it set up to INFO (key value lines, atomically), then waits forever.
//   dump-victim INFO MAPFILE [--child] [--seccomp] [--uffd]
// State: a second thread with a sigaltstack and a known ymm7; a SIGUSR1 handler (SA_RESTART,
// mask SIGINT); ITIMER_REAL (interval 100 s, value 200 s); a POSIX timer (CLOCK_MONOTONIC,
// SIGUSR2, sival_ptr 0x1234, interval 7 s, value 300 s); RLIMIT_NOFILE soft 321; SIGUSR2 and
// SIGHUP blocked, SIGHUP pending; MAPFILE mapped privately. --child: a child that waits too;
// --seccomp: a seccomp filter (allows everything) in every thread; --uffd: a userfaultfd open.
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

alignas(32) const uint64_t kYmm[4] = {0x1111222233334444ull, 0x5555666677778888ull, 0x99990000aaaabbbbull,
				      0xccccddddeeeeffffull};
constexpr size_t kAltSize = 64 * 1024;
char *altstack;
std::string info;
volatile pid_t thread_tid;

void die(const char *what)
{
	perror(what);
	_exit(2);
}

void on_usr1(int) {}

// Never returns; ymm7 holds kYmm and nothing here touches it.
void *thread_main(void *)
{
	stack_t ss{};
	ss.ss_sp = altstack;
	ss.ss_size = kAltSize;
	if (sigaltstack(&ss, nullptr))
		die("sigaltstack");
	pid_t tid = pid_t(syscall(SYS_gettid));
	asm volatile("vmovdqu %0, %%ymm7" : : "m"(kYmm) : "xmm7");
	thread_tid = tid;
	for (;;)
		asm volatile("syscall" : : "a"(SYS_pause) : "rcx", "r11", "memory");
	return nullptr;
}

void setup_signals()
{
	struct sigaction sa{};
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGINT);
	if (sigaction(SIGUSR1, &sa, nullptr))
		die("sigaction");
	info += "handler " + std::to_string(uintptr_t(&on_usr1)) + "\n";
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &block, nullptr))
		die("sigprocmask");
	kill(getpid(), SIGHUP); // stays pending (shared)
}

void setup_timers()
{
	struct itimerval it{};
	it.it_interval.tv_sec = 100;
	it.it_value.tv_sec = 200;
	if (setitimer(ITIMER_REAL, &it, nullptr))
		die("setitimer");
	struct sigevent sev{};
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGUSR2;
	sev.sigev_value.sival_ptr = reinterpret_cast<void *>(0x1234);
	timer_t t;
	if (timer_create(CLOCK_MONOTONIC, &sev, &t))
		die("timer_create");
	struct itimerspec its{};
	its.it_interval.tv_sec = 7;
	its.it_value.tv_sec = 300;
	if (timer_settime(t, 0, &its, nullptr))
		die("timer_settime");
	info += "timer " + std::to_string(intptr_t(t)) + "\n";
}

void setup_memory(const char *mapfile)
{
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = 321;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("setrlimit");
	int fd = open(mapfile, O_RDONLY);
	if (fd < 0)
		die("open mapfile");
	void *m = mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		die("mmap");
	close(fd);
	info += "map " + std::to_string(uintptr_t(m)) + "\n";
}

void allow_all_filter()
{
	struct sock_filter f[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
	struct sock_fprog prog = {1, f};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		die("seccomp");
}

bool has_opt(int argc, char **argv, const std::string &opt)
{
	for (int i = 3; i < argc; i++)
		if (opt == argv[i])
			return true;
	return false;
}

void write_info(const char *path)
{
	std::string tmp = std::string(path) + ".tmp";
	FILE *f = fopen(tmp.c_str(), "w");
	if (!f || fputs(info.c_str(), f) < 0 || fclose(f))
		die("write info");
	if (rename(tmp.c_str(), path))
		die("rename info");
}

} // namespace

int main(int argc, char **argv)
{
	if (argc < 3)
		return 1;
	syscall(SYS_close_range, 3, ~0u, 0);
	setup_signals();
	setup_timers();
	setup_memory(argv[2]);
	if (has_opt(argc, argv, "--seccomp"))
		allow_all_filter();
	if (has_opt(argc, argv, "--uffd") && syscall(SYS_userfaultfd, O_CLOEXEC) < 0)
		die("userfaultfd");
	if (has_opt(argc, argv, "--child")) {
		pid_t c = fork();
		if (c == 0)
			for (;;)
				pause();
		info += "child " + std::to_string(c) + "\n";
	}
	altstack = static_cast<char *>(malloc(kAltSize));
	pthread_t th;
	if (pthread_create(&th, nullptr, thread_main, nullptr))
		die("pthread_create");
	while (!thread_tid)
		usleep(1000);
	info += "tid " + std::to_string(thread_tid) + "\n";
	info += "ss_sp " + std::to_string(uintptr_t(altstack)) + "\n";
	info += "ss_size " + std::to_string(kAltSize) + "\n";
	write_info(argv[1]);
	for (;;)
		pause();
}
