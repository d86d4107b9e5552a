/* rseq00: glibc's rseq registration survives: registering the same area again says EBUSY, and
 * the kernel keeps cpu_id in the area up to date when the thread is moved to another CPU. */
#include "zdtmtst.h"

#include <sched.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef RSEQ_SIG
#define RSEQ_SIG 0x53053053
#endif

static volatile struct rseq *rseq_area(void)
{
	return (volatile struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
}

static bool pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) == 0;
}

int main(int argc, char **argv)
{
	int ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	bool registered;

	test_init(argc, argv);
	registered = __rseq_size > 0 && (int)rseq_area()->cpu_id >= 0;
	if (registered && !pin(0))
		setup_fail("sched_setaffinity");

	test_daemon();
	test_waitsig();

	if (!registered) {
		skip("glibc did not register rseq (GLIBC_TUNABLES=glibc.pthread.rseq=0?)");
		return test_result();
	}
	/* glibc registers 32 bytes (struct rseq) whatever __rseq_size says about its fields. */
	check(syscall(SYS_rseq, rseq_area(), __rseq_size > 32 ? __rseq_size : 32, 0, RSEQ_SIG) < 0 && errno == EBUSY,
	      "rseq area is not registered any more");
	check((int)rseq_area()->cpu_id == sched_getcpu(), "cpu_id %d, sched_getcpu %d", (int)rseq_area()->cpu_id,
	      sched_getcpu());
	for (int cpu = 0; cpu < ncpu && cpu < 4; cpu++) {
		if (!pin(cpu))
			continue;
		check((int)rseq_area()->cpu_id == cpu && (int)rseq_area()->cpu_id_start == cpu,
		      "on cpu %d, rseq says %d", cpu, (int)rseq_area()->cpu_id);
	}
	pass();
	return test_result();
}
