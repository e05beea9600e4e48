/*
 * fuzz_record.c: the log's load path after decryption (vault/log.c's
 * replay_record(): custody_body() then catalog_apply()), the code that
 * meets a record whose bytes authenticated but whose content is hostile
 * (a custodian's own key can seal anything).  The AEAD layer before it is
 * not fuzzed: without the key every mutation is refused there.
 *
 * Input: signed notes separated by NUL bytes (a note holds no NUL),
 * replayed as records 0, 1, 2... (at most MAX_RECORDS) into the fixture
 * vault's emptied catalogue, each with its leaf hash as log/leaves would
 * hold it.  Checks: a body taken from a record lies inside it and ends in
 * a newline; after the replay the catalogue is consistent.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"

#define MAX_RECORDS 64
static vault *v;

static void write_seeds(void)
{
	size_t n = (size_t)vault_log_size(v), len = 0, tlen;
	char *all = NULL;
	for (size_t i = 0; i < n; i++) {
		char *text = fuzz_fixture_record(i, &tlen);
		char *p = realloc(all, len + tlen + 1);
		if (!p)
			abort();
		all = p;
		memcpy(all + len, text, tlen);
		len += tlen;
		free(text);
		if (i == 0 || i == 4 || i == 9)
			fuzz_seed(i == 0 ? "log-init" : i == 4 ? "log-ingests"
							      : "log-transfer",
				  all, len);
		all[len++] = '\0';
	}
	fuzz_seed("log-all", all, len - 1);
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
	size_t n = fuzz_split(data, size, 0, piece, len, MAX_RECORDS);

	catalog_release(&v->cat);
	for (size_t i = 0; i < n; i++)
		merkle_leaf_hash(piece[i], len[i], v->log.leaves[i]);
	for (size_t i = 0; i < n; i++) {
		const char *note = (const char *)piece[i], *body;
		size_t blen;
		if (custody_body(note, len[i], &body, &blen) != 0) {
			fuzz_say("record: %zu is not a signed note", i);
			continue;
		}
		FUZZ_CHECK(body == note && blen > 0 && blen < len[i] &&
				   body[blen - 1] == '\n',
			   "record %zu: body of %zu bytes in %zu", i, blen,
			   len[i]);
		if (catalog_apply(v, body, blen, i) != VAULT_OK)
			fuzz_say("record: %zu: %s", i, vault_errmsg(v));
	}
	fuzz_check_catalog(v, n);
	fuzz_say("record: %zu records: %zu items, %zu custodians", n, v->cat.n,
		 v->cat.ncust);
	catalog_release(&v->cat);
	return 0;
}
