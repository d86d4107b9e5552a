/* make demo: a process with a secret in memory. Reads the secret from SECRET_FILE (which the
 * demo then deletes), keeps it in a heap buffer, and every 0.5 s prints a counter and a hash of
 * the secret, so anyone can see it runs on after a restore with the same secret.
 *   secret-holder SECRET_FILE */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s SECRET_FILE\n", argv[0]);
		return 2;
	}
	char *secret = calloc(1, 256);
	FILE *f = fopen(argv[1], "r");
	if (!secret || !f || !fgets(secret, 256, f)) {
		perror(argv[1]);
		return 1;
	}
	fclose(f);
	secret[strcspn(secret, "\n")] = '\0';
	size_t len = strlen(secret);
	setvbuf(stdout, NULL, _IOLBF, 0);

	struct timespec half = {0, 500 * 1000 * 1000};
	for (unsigned long counter = 1;; counter++) {
		printf("counter %lu  secret hash %016llx\n", counter, (unsigned long long)fnv1a(secret, len));
		nanosleep(&half, NULL);
	}
}
