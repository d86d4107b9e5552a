/* fd-high: the fd table keeps high fds (1000, 1001, 1023) and gaps: exactly the same fd numbers
 * are open after restore, each still the same file. */
#include "zdtmtst.h"

#include <dirent.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FDS 64

static int list_fds(int *fds)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)) && n < MAX_FDS)
		if (de->d_name[0] != '.' && atoi(de->d_name) != dirfd(d))
			fds[n++] = atoi(de->d_name);
	closedir(d);
	return n;
}

static int cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int main(int argc, char **argv)
{
	const int want[] = { 5, 7, 8, 100, 1000, 1001, 1023 };
	int nwant = sizeof(want) / sizeof(want[0]), before[MAX_FDS], after[MAX_FDS], nb, na;
	struct stat st;

	test_init(argc, argv);
	for (int i = 0; i < nwant; i++) {
		char name[32];
		int fd;

		snprintf(name, sizeof(name), "fd-high.%d", want[i]);
		fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(fd, want[i]) != want[i])
			setup_fail("dup2 %d", want[i]);
		if (fd != want[i])
			close(fd);
		if (ftruncate(want[i], want[i]))
			setup_fail("ftruncate");
	}
	nb = list_fds(before);
	qsort(before, nb, sizeof(int), cmp);

	test_daemon();
	test_waitsig();

	na = list_fds(after);
	qsort(after, na, sizeof(int), cmp);
	check(na == nb && !memcmp(before, after, nb * sizeof(int)), "fd table changed (%d fds, was %d)", na, nb);
	for (int i = 0; i < nwant; i++)
		check(fstat(want[i], &st) == 0 && st.st_size == want[i], "fd %d is another file", want[i]);
	pass();
	return test_result();
}
