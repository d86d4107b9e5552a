/* file-pos: file positions survive: an O_RDWR fd at 1234, a dup of it (shared offset), an
 * O_WRONLY|O_APPEND fd (still appends), and a second open of the file (own offset). */
#include "zdtmtst.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SIZE 10000

int main(int argc, char **argv)
{
	const char *name = test_opt("filename", "file-pos.data");
	uint8_t *data = malloc(SIZE), buf[16];
	int rw, dup_rw, app, other;
	struct stat st;

	test_init(argc, argv);
	fill_pattern(data, SIZE, 5);
	rw = open(name, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (rw < 0 || write(rw, data, SIZE) != SIZE)
		setup_fail("write %s", name);
	lseek(rw, 1234, SEEK_SET);
	dup_rw = dup(rw);
	app = open(name, O_WRONLY | O_APPEND);
	other = open(name, O_RDONLY);
	if (dup_rw < 0 || app < 0 || other < 0)
		setup_fail("open");
	lseek(other, 4321, SEEK_SET);

	test_daemon();
	test_waitsig();

	check(lseek(rw, 0, SEEK_CUR) == 1234, "rw offset %ld", (long)lseek(rw, 0, SEEK_CUR));
	check(lseek(other, 0, SEEK_CUR) == 4321, "second open offset %ld", (long)lseek(other, 0, SEEK_CUR));
	check((fcntl(rw, F_GETFL) & O_ACCMODE) == O_RDWR && (fcntl(other, F_GETFL) & O_ACCMODE) == O_RDONLY,
	      "access modes");
	check((fcntl(app, F_GETFL) & (O_APPEND | O_ACCMODE)) == (O_APPEND | O_WRONLY), "flags %#x",
	      fcntl(app, F_GETFL));
	check(read(dup_rw, buf, 16) == 16 && !memcmp(buf, data + 1234, 16), "read at the restored offset");
	check(lseek(rw, 0, SEEK_CUR) == 1250, "dup does not share the offset any more");
	check(write(app, "tail", 4) == 4 && fstat(app, &st) == 0 && st.st_size == SIZE + 4, "O_APPEND did not append");
	check(pread(other, buf, 4, SIZE) == 4 && !memcmp(buf, "tail", 4), "appended data");
	check(lseek(other, 0, SEEK_CUR) == 4321, "pread moved the offset");
	pass();
	return test_result();
}
