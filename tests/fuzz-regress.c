/*
 * fuzz-regress.c: replays stored inputs through one of evault's fuzz
 * targets (fuzz/fuzz_<target>.c, linked in without libFuzzer), so that
 * every crash the fuzzers ever found stays fixed and every seed still
 * runs clean, in the normal test run (plain, and under ASan+UBSan).
 *
 * Usage: fuzz-regress DIR...  Every regular file in each DIR (sorted by
 * name; a missing DIR counts as empty) is one input.  A broken invariant
 * or a memory error aborts the process, which fails the test; otherwise it
 * prints how many inputs of each directory it replayed, and fails if there
 * were none at all (a test that ran nothing proves nothing).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz/fuzz.h"

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Replay every file of dir; returns how many, or -1 if it cannot be
 * listed (other than being absent). */
static long replay_dir(const char *dir)
{
	struct dirent **ents;
	long done = 0;
	int n = scandir(dir, &ents, NULL, by_name);
	if (n < 0)
		return errno == ENOENT ? 0 : -1;
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", dir, ents[i]->d_name);
		if (ents[i]->d_name[0] != '.' && stat(path, &st) == 0 &&
		    S_ISREG(st.st_mode)) {
			size_t len;
			unsigned char *data = fuzz_read_file(path, &len);
			printf("  %s (%zu bytes)\n", path, len);
			fflush(stdout);
			LLVMFuzzerTestOneInput(data, len);
			free(data);
			done++;
		}
		free(ents[i]);
	}
	free(ents);
	return done;
}

int main(int argc, char **argv)
{
	long total = 0;
	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR...\n", argv[0]);
		return 2;
	}
	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		long n = replay_dir(argv[i]);
		if (n < 0) {
			printf("not ok - cannot list %s: %s\n", argv[i],
			       strerror(errno));
			return 1;
		}
		printf("ok - replayed %ld input%s of %s\n", n, n == 1 ? "" : "s",
		       argv[i]);
		total += n;
	}
	if (total == 0) {
		printf("not ok - no input to replay\n");
		return 1;
	}
	return 0;
}
