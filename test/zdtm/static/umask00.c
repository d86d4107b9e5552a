/* umask00: the umask survives and applies to files created after restore. */
#include "zdtmtst.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct stat st;
	int fd;

	test_init(argc, argv);
	umask(0027);

	test_daemon();
	test_waitsig();

	check(umask(0027) == 0027, "umask changed");
	fd = open("umask00.file", O_CREAT | O_EXCL | O_WRONLY, 0666);
	check(fd >= 0 && fstat(fd, &st) == 0 && (st.st_mode & 0777) == 0640, "new file mode %o", st.st_mode & 0777);
	pass();
	return test_result();
}
