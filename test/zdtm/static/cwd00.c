/* cwd00: the working directory (a new directory below the start one) survives, and relative
 * paths resolve in it. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *dir = test_opt("dirname", "cwd00.dir");
	char want[PATH_MAX], cur[PATH_MAX];
	struct stat before, after;

	test_init(argc, argv);
	if (mkdir(dir, 0755) || chdir(dir) || !getcwd(want, sizeof(want)) || stat(".", &before))
		setup_fail("mkdir/chdir %s", dir);
	close(open("marker", O_CREAT | O_WRONLY, 0644));

	test_daemon();
	test_waitsig();

	check(getcwd(cur, sizeof(cur)) && !strcmp(cur, want), "cwd '%s', want '%s'", cur, want);
	check(stat(".", &after) == 0 && after.st_ino == before.st_ino && after.st_dev == before.st_dev,
	      "cwd is another directory");
	check(access("marker", F_OK) == 0, "relative path does not resolve");
	pass();
	return test_result();
}
