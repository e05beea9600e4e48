/*
 * fixture.h: what every unit test of the vault library shares.  Each test
 * runs in a fresh temporary directory (fx_root) that is removed after it;
 * the vault fixture also creates a vault in fx_root/vault with a known
 * passphrase and the fast (interactive) key derivation, leaving the handle
 * fx_v open for writing and unlocked.  Helpers write test files with given
 * or seeded pseudo-random content, read files back, reopen the vault, and
 * find the shared media corpus through EVAULT_CORPUS (tests may read the
 * environment; the library never does).
 *
 * Strings and buffers the helpers return are owned by the fixture and
 * freed at teardown, unless a helper says otherwise.
 */
#ifndef EVAULT_TESTS_FIXTURE_H
#define EVAULT_TESTS_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include <check.h>

#include "vault/vault.h"

#define FX_PASS "fixture passphrase: correct horse battery staple"
#define FX_PASSLEN (sizeof FX_PASS - 1)

/* Seconds a test case may take (Argon2id and valgrind are slow). */
#define FX_TIMEOUT 900

extern char fx_root[]; /* this test's temporary directory */
extern char fx_vdir[]; /* fx_root/vault */
extern vault *fx_v;    /* the vault handle (vault fixture), or NULL */
extern vault_identity *fx_id; /* the custodian "fixture" the tests act as */

/* A new handle acting as the fixture's custodian. */
vault *fx_new(void);

/* Checked fixtures: a temporary directory only, or one holding a vault. */
void fx_tmp_setup(void);
void fx_vault_setup(void);
void fx_teardown(void);

/* Add the fixture and the long timeout to a test case. */
void fx_tcase_tmp(TCase *tc);
void fx_tcase_vault(TCase *tc);

/* Keep p until teardown, then free() it; returns p. */
void *fx_keep(void *p);

/* fx_root/rel and fx_vdir/rel. */
char *fx_path(const char *rel);
char *fx_vpath(const char *rel);

/* Fill buf with a pseudo-random sequence fixed by seed. */
void fx_fill(unsigned char *buf, size_t n, uint64_t seed);
/* n seeded pseudo-random bytes (kept until teardown). */
unsigned char *fx_random(size_t n, uint64_t seed);

/* Write data to fx_root/rel (creating or replacing it); returns the path. */
char *fx_write_file(const char *rel, const void *data, size_t len);
/* Write n seeded pseudo-random bytes to fx_root/rel; returns the path and,
 * if data is not NULL, the bytes written (kept until teardown). */
char *fx_write_random(const char *rel, size_t n, uint64_t seed,
		      unsigned char **data);

/* Read a whole file into a malloc'd buffer the caller frees; 0 or -errno. */
int fx_read_file(const char *path, unsigned char **data, size_t *len);
/* Size of a file, or -1 if it cannot be stat'ed. */
long long fx_file_size(const char *path);
/* Number of entries (not "." or "..") in a directory, or -1. */
int fx_dir_entries(const char *path);

/* A new vault handle closed at teardown (if the test has not closed it
 * with fx_handle_free), so that a failed assertion leaks nothing. */
vault *fx_handle(void);
void fx_handle_free(vault *v);

/* Close fx_v (discarding anything staged) and open the vault again with
 * `flags` (VAULT_OPEN_*), unlocked with FX_PASS.  Fails the test on error. */
vault *fx_reopen(unsigned flags);

/* The shared media corpus: the directory in EVAULT_CORPUS when it holds a
 * MANIFEST.tsv, else NULL with the reason in why. */
const char *fx_corpus(char *why, size_t whysize);

/* Run a suite with CK_NORMAL output; the process exit status. */
int fx_run(Suite *s);

#endif
