/*
 * bench-log.c: how fast the custody log grows and checks.  Appends N
 * signed records (notes on one item) in batches of B per commit, then
 * reopens the vault (which decrypts every record, checks its leaf and its
 * custodian's signature, and recomputes the Merkle root), runs a full
 * verify, and prints records/s, proof sizes and times.
 *
 * usage: bench-log DIR [N [B]]   (DIR must not exist)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vault/vault.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(vault *v, const char *what)
{
	fprintf(stderr, "bench-log: %s: %s\n", what, v ? vault_errmsg(v) : "");
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench-log DIR [N [BATCH]]\n");
		return 2;
	}
	const char *dir = argv[1];
	long n = argc > 2 ? atol(argv[2]) : 100000;
	long batch = argc > 3 ? atol(argv[3]) : 1000;
	char keypath[4096], sample[4096], note[64];
	snprintf(keypath, sizeof keypath, "%s.key", dir);
	snprintf(sample, sizeof sample, "%s.sample", dir);
	remove(keypath);

	vault *v = vault_new();
	vault_identity *id = NULL;
	if (vault_identity_create(v, "bench", 0, "k", 1, VAULT_KDF_INTERACTIVE,
				  keypath, NULL, 0) != VAULT_OK ||
	    vault_identity_open(v, keypath, "k", 1, &id) != VAULT_OK)
		die(v, "key");
	vault_set_identity(v, id);
	if (vault_create(v, dir, "p", 1, VAULT_KDF_INTERACTIVE) != VAULT_OK)
		die(v, "create");
	FILE *f = fopen(sample, "w");
	fputs("a small item to annotate\n", f);
	fclose(f);
	vault_ingest_result r;
	const vault_item *it;
	if (vault_ingest_file(v, sample, NULL, &r) != VAULT_OK ||
	    vault_commit(v) != VAULT_OK || vault_item_find(v, r.id, &it) != VAULT_OK)
		die(v, "ingest");

	vault_set_autocommit(v, 0);
	double t0 = now();
	for (long i = 0; i < n; i++) {
		snprintf(note, sizeof note, "note %ld", i);
		if (vault_item_note(v, it, note) != VAULT_OK)
			die(v, "note");
		if ((i + 1) % batch == 0 && vault_commit(v) != VAULT_OK)
			die(v, "commit");
	}
	if (vault_commit(v) != VAULT_OK)
		die(v, "commit");
	double append = now() - t0;
	uint64_t size = vault_log_size(v);
	char *proof = NULL;
	size_t plen = 0, clen = 0;
	if (vault_prove(v, size / 2, 0, &proof, &plen) != VAULT_OK)
		die(v, "prove");
	free(proof);
	if (vault_consistency(v, size / 3, 0, &proof, &clen) != VAULT_OK)
		die(v, "consistency");
	free(proof);
	vault_free(v);

	v = vault_new();
	t0 = now();
	if (vault_open(v, dir, NULL) != VAULT_OK ||
	    vault_unlock(v, "p", 1) != VAULT_OK)
		die(v, "reopen");
	double load = now() - t0;
	vault_verify_summary sum;
	t0 = now();
	if (vault_verify(v, NULL, 0, NULL, &sum) != VAULT_OK)
		die(v, "verify");
	double verify = now() - t0;
	if (vault_log_problems(v) || sum.log_problems || sum.items_damaged)
		die(v, "the log did not verify");

	printf("records appended      %ld (batches of %ld)\n", n, batch);
	printf("append rate           %.0f records/s (%.2f s)\n", n / append,
	       append);
	printf("log size              %llu records\n", (unsigned long long)size);
	printf("inclusion proof       %zu bytes (tlog-proof, record %llu)\n", plen,
	       (unsigned long long)size / 2);
	printf("consistency proof     %zu bytes (%llu -> %llu)\n", clen,
	       (unsigned long long)size / 3, (unsigned long long)size);
	printf("open + check log      %.2f s (decrypt, leaf, signature, root)\n",
	       load);
	printf("verify (checkpoints)  %.2f s\n", verify);
	printf("full log verify       %.2f s\n", load + verify);
	vault_free(v);
	vault_identity_free(id);
	remove(sample);
	remove(keypath);
	return 0;
}
