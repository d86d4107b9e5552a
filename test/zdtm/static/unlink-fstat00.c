/* unlink-fstat00: a file deleted while open keeps its contents, size, mode, offset and nlink 0. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SIZE 20000

int main(int argc, char **argv)
{
	const char *name = test_opt("filename", "unlink-fstat00.data");
	char path[64], link[4096];
	uint8_t data[SIZE], buf[SIZE];
	struct stat st;
	ssize_t n;
	int fd;

	test_init(argc, argv);
	fill_pattern(data, SIZE, 10);
	fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0640);
	if (fd < 0 || write(fd, data, SIZE) != SIZE || lseek(fd, 777, SEEK_SET) != 777 || unlink(name))
		setup_fail("create and unlink %s", name);

	test_daemon();
	test_waitsig();

	check(fstat(fd, &st) == 0 && st.st_nlink == 0 && st.st_size == SIZE && (st.st_mode & 0777) == 0640,
	      "nlink %ld size %ld mode %o", (long)st.st_nlink, (long)st.st_size, st.st_mode & 0777);
	check(lseek(fd, 0, SEEK_CUR) == 777, "offset %ld", (long)lseek(fd, 0, SEEK_CUR));
	check(pread(fd, buf, SIZE, 0) == SIZE && !memcmp(buf, data, SIZE), "contents differ");
	check(access(name, F_OK) < 0, "%s came back", name);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	check(n > 10 && !strcmp(link + n - 10, " (deleted)") && strstr(link, name), "fd link '%s'", link);
	pass();
	return test_result();
}
