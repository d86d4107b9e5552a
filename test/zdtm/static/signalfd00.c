/* signalfd00: a signalfd keeps its mask and O_NONBLOCK; a signal pending at dump is read through
 * it after restore. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct signalfd_siginfo si;
	sigset_t mask;
	int sfd;

	test_init(argc, argv);
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGRTMIN + 2);
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		setup_fail("sigprocmask");
	sfd = signalfd(-1, &mask, SFD_NONBLOCK);
	if (sfd < 0)
		setup_fail("signalfd");
	if (kill(getpid(), SIGUSR1))
		setup_fail("kill");

	test_daemon();
	test_waitsig();

	check(fcntl(sfd, F_GETFL) & O_NONBLOCK, "lost O_NONBLOCK");
	check(read(sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo == SIGUSR1 && si.ssi_pid == (uint32_t)getpid(),
	      "no pending SIGUSR1 read (signo %u)", si.ssi_signo);
	check(read(sfd, &si, sizeof(si)) < 0 && errno == EAGAIN, "more than one signal pending");
	/* The mask: SIGRTMIN+2 comes through it, SIGUSR2 (blocked, not in the mask) does not. */
	sigaddset(&mask, SIGUSR2);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	kill(getpid(), SIGUSR2);
	kill(getpid(), SIGRTMIN + 2);
	check(read(sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo == (uint32_t)(SIGRTMIN + 2),
	      "SIGRTMIN+2 not read (signo %u)", si.ssi_signo);
	check(read(sfd, &si, sizeof(si)) < 0 && errno == EAGAIN, "the signalfd reads a signal outside its mask");
	pass();
	return test_result();
}
