// A victim for the security tests of sealed checkpoints. It reads a 32-byte secret (the canary)
// from stdin, which it then closes, and keeps copies of it in: the heap, a static buffer, the
// stack of a second thread, a file in DIR (argv[1]) that it unlinks while keeping it open, and
// a shared anonymous mapping, and a pipe's buffer. Every 10 ms it checks all copies and appends a line to stdout:
//   "tick N HASH ok"   (HASH: FNV-1a 64 of the canary, in hex; "BROKEN" once a copy differs)
// The canary itself is never printed, in any form.
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define CANARY_SIZE 32

static unsigned char static_copy[CANARY_SIZE];
static unsigned char *heap_copy;
static unsigned char *shared_copy;
static int pipe_fds[2]; /* the canary waits in this pipe's buffer */
static int file_fd = -1;
static volatile int stack_ok = 1;
static volatile unsigned long stack_checks;

static void *stack_holder(void *arg)
{
	volatile unsigned char on_stack[CANARY_SIZE];

	(void)arg;
	for (int i = 0; i < CANARY_SIZE; i++)
		on_stack[i] = heap_copy[i];
	for (;;) {
		for (int i = 0; i < CANARY_SIZE; i++)
			if (on_stack[i] != heap_copy[i])
				stack_ok = 0;
		stack_checks++;
		usleep(5000);
	}
	return NULL;
}

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static int read_canary(unsigned char *buf)
{
	size_t got = 0;

	while (got < CANARY_SIZE) {
		ssize_t n = read(0, buf + got, CANARY_SIZE - got);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	close(0);
	return 0;
}

static int make_copies(const char *dir, const unsigned char *canary)
{
	char path[4096];

	heap_copy = malloc(4096);
	shared_copy = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!heap_copy || shared_copy == MAP_FAILED)
		return -1;
	memcpy(heap_copy, canary, CANARY_SIZE);
	memcpy(static_copy, canary, CANARY_SIZE);
	memcpy(shared_copy, canary, CANARY_SIZE);
	snprintf(path, sizeof(path), "%s/canary-file", dir);
	file_fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (file_fd < 0 || write(file_fd, canary, CANARY_SIZE) != CANARY_SIZE || unlink(path))
		return -1;
	int p[2];
	if (pipe(p) || dup2(p[0], 100) < 0 || dup2(p[1], 101) < 0 || close(p[0]) || close(p[1]))
		return -1;
	pipe_fds[0] = 100, pipe_fds[1] = 101; /* out of the way of stdin's number */
	if (write(pipe_fds[1], canary, CANARY_SIZE) != CANARY_SIZE)
		return -1;
	return 0;
}

/* The pipe still holds the canary: a copy taken with tee() leaves it there. */
static int pipe_agrees(void)
{
	unsigned char p[CANARY_SIZE];
	int scratch[2], ok;

	if (pipe(scratch))
		return 0;
	ok = tee(pipe_fds[0], scratch[1], CANARY_SIZE, 0) == CANARY_SIZE &&
	     read(scratch[0], p, CANARY_SIZE) == CANARY_SIZE && !memcmp(p, heap_copy, CANARY_SIZE);
	close(scratch[0]);
	close(scratch[1]);
	return ok;
}

static int copies_agree(void)
{
	unsigned char f[CANARY_SIZE];

	if (pread(file_fd, f, CANARY_SIZE, 0) != CANARY_SIZE)
		return 0;
	return stack_ok && !memcmp(f, heap_copy, CANARY_SIZE) && !memcmp(static_copy, heap_copy, CANARY_SIZE) &&
	       !memcmp(shared_copy, heap_copy, CANARY_SIZE) && pipe_agrees();
}

int main(int argc, char **argv)
{
	unsigned char buf[CANARY_SIZE];
	pthread_t t;
	char line[128];

	if (argc != 2 || read_canary(buf) || make_copies(argv[1], buf)) {
		fprintf(stderr, "canary: usage: canary DIR < 32 bytes (or setup failed)\n");
		return 1;
	}
	explicit_bzero(buf, sizeof(buf));
	if (pthread_create(&t, NULL, stack_holder, NULL))
		return 1;
	while (!stack_checks)
		usleep(1000);
	for (unsigned long tick = 0;; tick++) {
		int n = snprintf(line, sizeof(line), "tick %lu %016llx %s\n", tick,
				 (unsigned long long)fnv1a(heap_copy, CANARY_SIZE), copies_agree() ? "ok" : "BROKEN");
		if (write(1, line, (size_t)n) != n)
			return 1;
		usleep(10 * 1000);
	}
}
