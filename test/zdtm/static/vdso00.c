/* vdso00: clock_gettime/gettimeofday/time keep working through the vDSO, time moves forward,
 * and [vdso]/[vvar] are still mapped where the auxiliary vector says. */
#include "zdtmtst.h"

#include <string.h>
#include <sys/auxv.h>
#include <sys/time.h>
#include <time.h>

static bool mapped_as(const void *addr, const char *name)
{
	struct map_entry e;

	return maps_find(addr, &e) == 0 && !strcmp(e.path, name);
}

static bool vvar_listed(void)
{
	static char text[1 << 20];

	return read_file("/proc/self/maps", text, sizeof(text)) > 0 && strstr(text, "[vvar");
}

int main(int argc, char **argv)
{
	struct timespec mono0, real0, mono1, real1, cpu;
	struct timeval tv;
	const void *vdso;

	test_init(argc, argv);
	vdso = (const void *)getauxval(AT_SYSINFO_EHDR);
	if (!vdso || !mapped_as(vdso, "[vdso]") || !vvar_listed())
		setup_fail("no vDSO before checkpoint");
	clock_gettime(CLOCK_MONOTONIC, &mono0);
	clock_gettime(CLOCK_REALTIME, &real0);

	test_daemon();
	test_waitsig();

	check(vvar_listed(), "[vvar] not listed");
	check(vdso && mapped_as(vdso, "[vdso]"), "AT_SYSINFO_EHDR %p is not [vdso]", vdso);
	check(clock_gettime(CLOCK_MONOTONIC, &mono1) == 0, "CLOCK_MONOTONIC");
	check(mono1.tv_sec > mono0.tv_sec || (mono1.tv_sec == mono0.tv_sec && mono1.tv_nsec >= mono0.tv_nsec),
	      "CLOCK_MONOTONIC went back");
	check(clock_gettime(CLOCK_REALTIME, &real1) == 0 && real1.tv_sec >= real0.tv_sec, "CLOCK_REALTIME went back");
	check(gettimeofday(&tv, NULL) == 0 && tv.tv_sec - real1.tv_sec <= 1 && tv.tv_sec >= real1.tv_sec,
	      "gettimeofday %ld vs clock_gettime %ld", (long)tv.tv_sec, (long)real1.tv_sec);
	/* time() reads the coarse clock, updated once a tick: it may trail by up to a tick. */
	check(time(NULL) >= real1.tv_sec - 1 && time(NULL) - real1.tv_sec <= 1, "time() %ld vs clock_gettime %ld",
	      (long)time(NULL), (long)real1.tv_sec);
	check(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu) == 0, "CLOCK_PROCESS_CPUTIME_ID");
	check(clock_getres(CLOCK_MONOTONIC, &cpu) == 0 && cpu.tv_nsec > 0, "clock_getres");
	pass();
	return test_result();
}
