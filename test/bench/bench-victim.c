/* A process for bench-e2e to checkpoint: holds SIZE_MIB of incompressible anonymous memory
 * (xorshift64* output, so no page is zero, equal to another or compressible), writes its PID
 * to READY_FILE once filled, then sleeps until killed.
 *   bench-victim SIZE_MIB READY_FILE */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void fill(uint64_t *p, size_t words, uint64_t seed)
{
	uint64_t x = seed | 1;
	for (size_t i = 0; i < words; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		p[i] = x * 0x2545F4914F6CDD1Dull;
	}
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s SIZE_MIB READY_FILE\n", argv[0]);
		return 2;
	}
	size_t size = strtoull(argv[1], NULL, 10) << 20;
	uint64_t *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	fill(mem, size / sizeof(uint64_t), (uint64_t)getpid() * 0x9E3779B97F4A7C15ull);

	char tmp[4096], buf[32];
	snprintf(tmp, sizeof(tmp), "%s.tmp", argv[2]);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (fd < 0 || write(fd, buf, n) != n || close(fd) || rename(tmp, argv[2])) {
		perror(argv[2]);
		return 1;
	}
	for (;;)
		pause();
}
