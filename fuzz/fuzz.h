/*
 * fuzz.h: what evault's fuzz targets share.  Each fuzz/fuzz_<target>.c
 * defines the two libFuzzer entry points below; the same file is linked
 * either with libFuzzer (scripts/fuzz.sh, clang -fsanitize=fuzzer) or with
 * tests/fuzz-regress.c, which replays stored inputs through it in the
 * normal test run.  fuzz/common.c holds the helpers declared here:
 *
 *  - deterministic randomness, so that the fixture vault, its keys and the
 *    custodians' keys are the same in every process, and the seeds written
 *    for them (objects, slots, signed notes) stay valid from run to run;
 *  - a private scratch directory (under $FUZZ_TMP, else /dev/shm, else
 *    /tmp), removed at exit;
 *  - key files in evault's format with the cheapest Argon2id costs, so a
 *    target can open hundreds of them a second;
 *  - the fixture: a small unlocked vault holding a few items and a custody
 *    log of every record kind;
 *  - seed writing: with FUZZ_WRITE_SEEDS=DIR set, a target's initialiser
 *    writes the seeds only it can make (they depend on the fixed keys) to
 *    DIR and exits (scripts/fuzz.sh --make-seeds).
 */
#ifndef EVAULT_FUZZ_H
#define EVAULT_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "vault/internal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant: print where and why, then abort() so that libFuzzer
 * (or the regression test) records the input as a crash. */
#define FUZZ_CHECK(cond, ...)                                               \
	do {                                                                \
		if (!(cond))                                                \
			fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
	} while (0)
void fuzz_fail(const char *file, int line, const char *cond, const char *fmt,
	       ...) __attribute__((noreturn, format(printf, 4, 5)));

/* With FUZZ_VERBOSE set, print what a target made of an input (to
 * stderr): how to see that the seeds reach the deep paths. */
void fuzz_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Options for AddressSanitizer builds (read before $ASAN_OPTIONS): fill
 * the whole of every new allocation, not only its first 4 KiB, with a
 * non-zero byte, so that a scan that runs past the data it was given into
 * bytes never written goes on to the end of the allocation, where ASan
 * catches it.  Unused in other builds. */
const char *__asan_default_options(void);

/* Install the deterministic random generator and initialise libsodium.
 * Every target calls it first. */
void fuzz_init(void);
/* Restart the random sequence (for example before each input, so that
 * what a target does with an input never depends on the inputs before). */
void fuzz_rng_reset(uint64_t seed);

/* The scratch directory of this process (created on first use). */
const char *fuzz_tmpdir(void);
/* Replace path with data; aborts on failure (the harness is broken). */
void fuzz_write_file(const char *path, const void *data, size_t size);
/* Read a whole file (malloc'd, NUL after it); aborts on failure. */
unsigned char *fuzz_read_file(const char *path, size_t *size);

/* The passphrase of every key file and of the fixture vault. */
#define FUZZ_PASS "fuzz passphrase"
/* A deterministic signer: seed = 32 bytes of `seedbyte`. */
note_signer *fuzz_signer(const char *name, unsigned char type,
			 unsigned char seedbyte);
/* Write a key file for the signer of (name, type, seedbyte), sealed with
 * FUZZ_PASS at the minimum Argon2id costs; the text in *out (malloc'd)
 * if out is not NULL. */
void fuzz_keyfile(const char *path, const char *name, unsigned char type,
		  unsigned char seedbyte, char **out, size_t *outlen);
/* A minimum-cost passphrase slot (152 bytes) for FUZZ_PASS wrapping the
 * master key of v. */
void fuzz_slot(const vault *v, unsigned char slot[152]);

/* The fixture vault, made on first call: custodians "alice" (seed 0xa1)
 * and "bob" (0xb0), items of 0, 37, 1000 and 65537 bytes, and records of
 * every kind (init, ingest, note, access, custodian-add, transfer,
 * accept, verify, custodian-remove).  Its only slot is the minimum-cost
 * slot of FUZZ_PASS.  The handle is unlocked and open for writing. */
typedef struct {
	vault *v;
	char dir[512];
	vault_identity *alice, *bob;
} fuzz_fixture;
fuzz_fixture *fuzz_fixture_get(void);
/* The fixture if it was made, else NULL (never makes it). */
fuzz_fixture *fuzz_fixture_get_if_made(void);
/* Record i of the fixture's log (the signed note), malloc'd. */
char *fuzz_fixture_record(uint64_t i, size_t *len);
/* Make room for n leaf hashes in the fixture's in-memory log, for targets
 * that replay records of their own into its catalogue (the catalogue
 * reads the leaf of a transfer that an acceptance names). */
void fuzz_fixture_leaves(size_t n);
/* Check the catalogue of v after replaying `nrecords` records: every
 * item well formed and found by its id, the hash table consistent, the
 * custodian registry pointing at its own strings with unique active
 * names. */
void fuzz_check_catalog(const vault *v, size_t nrecords);
/* Close the fixture handle (to release the vault's lock); its directory
 * stays. */
void fuzz_fixture_close(void);

/* Seed writing (FUZZ_WRITE_SEEDS).  fuzz_seed_dir() is the directory, or
 * NULL when seeds are not being written. */
const char *fuzz_seed_dir(void);
void fuzz_seed(const char *name, const void *data, size_t size);
/* Exit after writing seeds (status 0). */
void fuzz_seeds_done(void) __attribute__((noreturn));

/* Split data at each `sep` byte into at most max pieces (the last takes
 * the rest).  Returns the number of pieces. */
size_t fuzz_split(const uint8_t *data, size_t size, uint8_t sep,
		  const uint8_t **piece, size_t *len, size_t max);

#endif
