/*
 * fuzz_catalog.c: the replay of record bodies into the catalogue and the
 * custodian registry (catalog_apply(), vault/catalog.c): the step that
 * turns a vault's log into what `ls`, `show` and every custody rule see.
 *
 * Input: record bodies, one JSON text per line, replayed in order as
 * records 0, 1, 2... (at most MAX_RECORDS) into the fixture vault's
 * catalogue, emptied before each input.  The leaf hash of record i is the
 * leaf hash of line i, so that an acceptance can name its transfer.  A
 * body the catalogue refuses is skipped, as log_load() does.  After the
 * replay the catalogue must be consistent (fuzz_check_catalog()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz/fuzz.h"

#define MAX_RECORDS 64
static vault *v;

/* The fixture's log as body lines; the acceptance's transfer_leaf names
 * the leaf of its transfer's line. */
static void write_seeds(void)
{
	size_t n = (size_t)vault_log_size(v), total = 0, tlen, blen;
	char **lines = calloc(n, sizeof *lines);
	char *all = NULL, hex[65];
	unsigned char leaf[32];
	if (!lines)
		abort();
	for (size_t i = 0; i < n; i++) {
		char *text = fuzz_fixture_record(i, &tlen);
		const char *body;
		if (custody_body(text, tlen, &body, &blen) != 0)
			abort();
		json_t *rec = json_loadb(body, blen, 0, NULL);
		json_t *tr = json_object_get(rec, "transfer");
		if (json_is_integer(tr)) {
			const char *t = lines[json_integer_value(tr)];
			merkle_leaf_hash((const unsigned char *)t, strlen(t), leaf);
			util_hex(hex, leaf, 32);
			json_object_set_new(rec, "transfer_leaf", json_string(hex));
		}
		lines[i] = json_dumps(rec, JSON_COMPACT | JSON_ENSURE_ASCII |
						   JSON_PRESERVE_ORDER);
		json_decref(rec);
		free(text);
		if (!lines[i])
			abort();
		total += strlen(lines[i]) + 1;
	}
	all = malloc(total + 1);
	if (!all)
		abort();
	for (size_t k = 1; k <= n; k++) {
		size_t len = 0;
		for (size_t i = 0; i < k; i++)
			len += (size_t)sprintf(all + len, "%s\n", lines[i]);
		char name[32];
		snprintf(name, sizeof name, "log-%02zu", k);
		if (k == 1 || k == 2 || k == 6 || k == n)
			fuzz_seed(name, all, len);
	}
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	free(all);
	fuzz_seeds_done();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	v = fuzz_fixture_get()->v;
	if (fuzz_seed_dir())
		write_seeds();
	fuzz_fixture_leaves(MAX_RECORDS);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *piece[MAX_RECORDS];
	size_t len[MAX_RECORDS];
	/* a final newline ends the last line; it does not start another */
	size_t n = fuzz_split(data, size && data[size - 1] == '\n' ? size - 1
								 : size,
			      '\n', piece, len, MAX_RECORDS);

	catalog_release(&v->cat);
	for (size_t i = 0; i < n; i++)
		merkle_leaf_hash(piece[i], len[i], v->log.leaves[i]);
	for (size_t i = 0; i < n; i++)
		if (catalog_apply(v, (const char *)piece[i], len[i], i) != VAULT_OK)
			fuzz_say("catalog: record %zu: %s", i, vault_errmsg(v));
	fuzz_check_catalog(v, n);
	fuzz_say("catalog: %zu records: %zu items, %zu custodians", n, v->cat.n,
		 v->cat.ncust);
	catalog_release(&v->cat);
	return 0;
}
