/* A process (or tree of processes) for bench-e2e to checkpoint. Each task holds SIZE_MIB of
 * incompressible anonymous memory (xorshift64* output seeded by its pid, so no page is zero, equal
 * to another or compressible). With TASKS > 1 the root forks a 4-ary tree of TASKS processes in
 * all (task i's parent is task (i-1)/4: parents, children and grandchildren), each filling its
 * own memory. The root writes its PID to READY_FILE once every task is filled, then every task
 * sleeps until killed.
 *   bench-victim SIZE_MIB READY_FILE [TASKS] */
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

static uint64_t *mem; /* this task's memory; a child unmaps its parent's */

static int hold_memory(size_t size)
{
	if (mem)
		munmap(mem, size);
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("mmap");
		return -1;
	}
	fill(mem, size / sizeof(uint64_t), (uint64_t)getpid() * 0x9E3779B97F4A7C15ull);
	return 0;
}

/* Forks the children of task `index` (4 * index + 1 .. 4 * index + 4, below tasks); each child
 * fills its memory, forks its own children, writes one byte to done[1] and sleeps with no fd of
 * the pipe open. */
static int spawn(long index, long tasks, size_t size, const int done[2])
{
	for (long k = 1; k <= 4; k++) {
		long child = 4 * index + k;
		if (child >= tasks)
			return 0;
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			return -1;
		}
		if (pid)
			continue;
		close(done[0]);
		if (hold_memory(size) || spawn(child, tasks, size, done) || write(done[1], "", 1) != 1)
			_exit(1);
		close(done[1]);
		for (;;)
			pause();
	}
	return 0;
}

static int write_ready(const char *path)
{
	char tmp[4096], buf[32];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (fd < 0 || write(fd, buf, n) != n || close(fd) || rename(tmp, path)) {
		perror(path);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: %s SIZE_MIB READY_FILE [TASKS]\n", argv[0]);
		return 2;
	}
	size_t size = strtoull(argv[1], NULL, 10) << 20;
	long tasks = argc == 4 ? strtol(argv[3], NULL, 10) : 1;
	int done[2];
	if (tasks < 1 || pipe(done)) {
		fprintf(stderr, "bad TASKS or no pipe\n");
		return 2;
	}
	if (hold_memory(size) || spawn(0, tasks, size, done))
		return 1;
	close(done[1]);
	char c;
	for (long i = 1; i < tasks; i++)
		if (read(done[0], &c, 1) != 1) {
			fprintf(stderr, "a task of the tree failed\n");
			return 1;
		}
	close(done[0]);
	if (write_ready(argv[2]))
		return 1;
	for (;;)
		pause();
}
