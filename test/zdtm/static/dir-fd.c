/* dir-fd: an O_DIRECTORY fd still refers to the same directory: fstat, openat and readdir
 * through it work, and its path is the same. */
#include "zdtmtst.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char path[64], before[4096], after[4096];
	struct stat st0, st;
	ssize_t n;
	int fd, f;

	test_init(argc, argv);
	if (mkdir("dir-fd.dir", 0750) || close(open("dir-fd.dir/inside", O_CREAT | O_WRONLY, 0644)))
		setup_fail("mkdir");
	fd = open("dir-fd.dir", O_RDONLY | O_DIRECTORY);
	if (fd < 0 || fstat(fd, &st0))
		setup_fail("open dir");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, before, sizeof(before) - 1);
	before[n > 0 ? n : 0] = '\0';

	test_daemon();
	test_waitsig();

	check(fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && st.st_ino == st0.st_ino && st.st_dev == st0.st_dev,
	      "not the same directory");
	n = readlink(path, after, sizeof(after) - 1);
	after[n > 0 ? n : 0] = '\0';
	check(!strcmp(before, after), "path '%s', was '%s'", after, before);
	f = openat(fd, "inside", O_RDONLY);
	check(f >= 0, "openat through the dir fd");
	{
		DIR *d = fdopendir(dup(fd));
		struct dirent *de;
		bool seen = false;

		while (d && (de = readdir(d)))
			seen |= !strcmp(de->d_name, "inside");
		check(seen, "readdir does not list 'inside'");
	}
	pass();
	return test_result();
}
