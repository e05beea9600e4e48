/*
 * test-custody.c: unit tests of the chain of custody (vault/custody.c,
 * checkpoint.c, log.c) through the public API, with internal.h to forge
 * what the API refuses to write.
 *
 * Signatures: a record whose actor is a registered custodian but that is
 * signed by another key of the same name, or by another registered
 * custodian, or by a custodian after its removal, is committed with
 * log_stage() directly (bypassing the staging checks) and vault_verify()
 * must name its index; other damage in the log must not hide it.
 *
 * The Merkle log: every stored checkpoint, signed by pub/log.vkey, holds
 * the RFC 6962 root of the first `size` leaf hashes of log/leaves (read
 * from the file, recomputed with merkle_root()); the frontier and the
 * checkpoints survive closing and reopening; 200 appends with random
 * commit points (and a staged tail thrown away) reopen with the committed
 * size and root and a checkpoint at exactly each commit point; every
 * tlog-proof vault_prove() makes in a 40-record log, for every index and
 * every tree size, carries the record and verifies with
 * merkle_inclusion_verify(); every consistency proof between stored
 * checkpoints verifies with merkle_consistency_verify(), and fails for
 * the wrong pair.  A log whose files are put back to an older copy keeps
 * the later checkpoints (the evidence) when opened for writing.
 *
 * Witnessing: vault_witness_cosign() wants no proof the first time, the
 * consistency proof after, refuses a rollback; a cosignature is attached
 * only if it is the named witness's own line.
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "vault/internal.h"

#define MAX_SIZES 1024

/* An assertion for hot loops (Check's own record every passing check). */
#define must(cond)                                                            \
	do {                                                                  \
		if (!(cond))                                                  \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #cond); \
	} while (0)

#define ok(call)                                                              \
	do {                                                                  \
		vault_err e_ = (call);                                        \
		ck_assert_msg(e_ == VAULT_OK, "%s: %s: %s", #call,            \
			      vault_strerror(e_), vault_errmsg(v));           \
	} while (0)

/* --- Identities ------------------------------------------------------------- */

#define KEYPASS "custodian key passphrase"

static vault_identity *ids[8];
static size_t nids;

/* A new key named `name` in fx_root/<file>, opened. */
static vault_identity *make_identity(const char *name, const char *file,
				     int witness)
{
	vault *tmp = fx_handle();
	vault_identity *id = NULL;
	char vkey[VAULT_VKEY_MAX];
	char *path = fx_path(file);
	vault_err e = vault_identity_create(tmp, name, witness, KEYPASS,
					    strlen(KEYPASS),
					    VAULT_KDF_INTERACTIVE, path, vkey,
					    sizeof vkey);
	ck_assert_msg(e == VAULT_OK, "key %s: %s", name, vault_errmsg(tmp));
	e = vault_identity_open(tmp, path, KEYPASS, strlen(KEYPASS), &id);
	ck_assert_msg(e == VAULT_OK, "open key %s: %s", name, vault_errmsg(tmp));
	ck_assert_str_eq(vault_identity_vkey(id), vkey);
	ck_assert_str_eq(vault_identity_name(id), name);
	fx_handle_free(tmp);
	ck_assert_uint_lt(nids, sizeof ids / sizeof *ids);
	ids[nids++] = id;
	return id;
}

static void ids_teardown(void)
{
	for (size_t i = 0; i < nids; i++)
		vault_identity_free(ids[i]);
	nids = 0;
}

/* --- Vaults ------------------------------------------------------------------ */

/* A new vault in fx_vdir created by `creator`, open for writing. */
static vault *create_vault(const vault_identity *creator)
{
	vault *v = fx_handle();
	vault_set_identity(v, creator);
	ok(vault_create(v, fx_vdir, FX_PASS, FX_PASSLEN, VAULT_KDF_INTERACTIVE));
	ck_assert_uint_eq(vault_log_size(v), 1);
	return v;
}

/* Close `old` (if any) and open the vault again, unlocked, acting as `id`
 * (may be NULL for a reader). */
static vault *reopen(vault *old, unsigned flags, const vault_identity *id)
{
	vault_open_opts o = VAULT_OPEN_OPTS_INIT;
	vault *v;
	if (old)
		fx_handle_free(old);
	v = fx_handle();
	if (id)
		vault_set_identity(v, id);
	o.flags = flags;
	ok(vault_open(v, fx_vdir, &o));
	ok(vault_unlock(v, FX_PASS, FX_PASSLEN));
	return v;
}

/* Ingest a small file of seeded content and commit; the item. */
static const vault_item *ingest_one(vault *v, const char *name, uint64_t seed)
{
	vault_ingest_result r;
	const vault_item *it = NULL;
	char *path = fx_write_random(name, 1000 + seed % 500, seed, NULL);
	ok(vault_ingest_file(v, path, NULL, &r));
	ok(vault_commit(v));
	ok(vault_item_find(v, r.id, &it));
	return it;
}

/* --- Verify results ------------------------------------------------------------ */

typedef struct {
	char details[32][256];
	char files[32][64];
	size_t n;
	size_t items_bad;
} problems;

static void collect(void *ctx, const vault_check *c)
{
	problems *p = ctx;
	if (c->kind == VAULT_CHECK_ITEM_MISSING || c->kind == VAULT_CHECK_ITEM_DAMAGED)
		p->items_bad++;
	if (c->kind != VAULT_CHECK_LOG_DAMAGED || p->n == 32)
		return;
	snprintf(p->details[p->n], sizeof p->details[0], "%s",
		 c->detail ? c->detail : "");
	snprintf(p->files[p->n], sizeof p->files[0], "%s", c->file ? c->file : "");
	p->n++;
}

static void run_verify(vault *v, problems *p, vault_verify_summary *sum)
{
	vault_verify_opts o = VAULT_VERIFY_OPTS_INIT;
	memset(p, 0, sizeof *p);
	o.on_check = collect;
	o.check_ctx = p;
	ok(vault_verify(v, NULL, 0, &o, sum));
}

/* Whether a log problem of `file` names "record <index> " and `why`. */
static bool has_problem(const problems *p, const char *file, uint64_t index,
			const char *why)
{
	char rec[64];
	snprintf(rec, sizeof rec, "record %" PRIu64 " ", index);
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->files[i], file) == 0 && strstr(p->details[i], rec) &&
		    (!why || strstr(p->details[i], why)))
			return true;
	return false;
}

static void dump_problems(const problems *p)
{
	for (size_t i = 0; i < p->n; i++)
		fprintf(stderr, "  problem: %s: %s\n", p->files[i], p->details[i]);
}

/* --- Forging records -------------------------------------------------------------- */

/* Commit a note record about `item` whose body names `actor`, signed by
 * `signer`, through log_stage() (the API would refuse it).  Its index. */
static uint64_t forge_note(vault *v, const char *actor,
			   const vault_identity *signer, const vault_item *item,
			   const char *text)
{
	unsigned char nonce[16];
	char hexnonce[33], body[1024], *note = NULL;
	size_t notelen;
	randombytes_buf(nonce, sizeof nonce);
	util_hex(hexnonce, nonce, sizeof nonce);
	int n = snprintf(body, sizeof body,
			 "{\"v\":1,\"kind\":\"note\",\"time\":\"2026-01-02T03:04:05Z\","
			 "\"nonce\":\"%s\",\"actor\":\"%s\",\"item\":\"%s\","
			 "\"text\":\"%s\"}\n",
			 hexnonce, actor, item->id, text);
	ck_assert_int_lt(n, (int)sizeof body);
	ck_assert_int_eq(note_sign(identity_signer(signer), body, (size_t)n, 0,
				   &note, &notelen),
			 0);
	uint64_t index = vault_log_size(v) + vault_pending(v);
	ok(log_stage(v, note, notelen));
	free(note);
	ok(vault_commit(v));
	ck_assert_uint_eq(vault_log_size(v), index + 1);
	return index;
}

/* --- Signatures ---------------------------------------------------------------------- */

START_TEST(test_unregistered_signer)
{
	vault_identity *alice = make_identity("alice", "alice.key", 0);
	vault_identity *bob = make_identity("bob", "bob.key", 0);
	vault_identity *bob2 = make_identity("bob", "bob2.key", 0);
	vault_identity *carol = make_identity("carol", "carol.key", 0);
	ck_assert_str_ne(vault_identity_vkey(bob), vault_identity_vkey(bob2));

	vault *v = create_vault(alice);
	const vault_item *it = ingest_one(v, "a.bin", 1);
	char id[65];
	memcpy(id, it->id, 65);
	ok(vault_custodian_add(v, "bob", vault_identity_vkey(bob)));
	vault_set_identity(v, bob);
	ok(vault_item_note(v, it, "a note bob really signed"));
	uint64_t legit = vault_log_size(v) - 1;

	/* Through the API, neither the impostor nor a stranger may act. */
	uint64_t before = vault_log_size(v);
	vault_set_identity(v, bob2);
	ck_assert_int_eq(vault_item_note(v, it, "impostor"), VAULT_E_DENIED);
	ck_assert_ptr_nonnull(strstr(vault_errmsg(v), "not the registered key"));
	vault_set_identity(v, carol);
	ck_assert_int_eq(vault_item_note(v, it, "stranger"), VAULT_E_DENIED);
	ck_assert_ptr_nonnull(strstr(vault_errmsg(v), "carol"));
	ck_assert_uint_eq(vault_log_size(v), before);
	ck_assert_uint_eq(vault_pending(v), 0);

	/* Forged past the staging check. */
	uint64_t impostor = forge_note(v, "bob", bob2, it, "signed by another bob");
	uint64_t mismatch = forge_note(v, "bob", alice, it, "alice signing as bob");
	uint64_t stranger_as_alice =
		forge_note(v, "alice", carol, it, "carol signing as alice");
	vault_set_identity(v, alice);
	ok(vault_item_note(v, it, "a later genuine note"));

	v = reopen(v, 0, NULL);
	ck_assert_msg(vault_log_problems(v) == 0,
		      "opening checks no signature, yet: %s",
		      vault_log_problem(v, 0));
	ok(vault_item_find(v, id, &it));
	problems p;
	vault_verify_summary sum;
	run_verify(v, &p, &sum);
	dump_problems(&p);
	ck_assert_msg(has_problem(&p, "log/records", impostor,
				  "not signed by a custodian registered"),
		      "record %" PRIu64 " (signed by a second key named bob) "
		      "not reported",
		      impostor);
	ck_assert_msg(has_problem(&p, "log/records", mismatch,
				  "not signed by the custodian it names"),
		      "record %" PRIu64 " (alice signing as bob) not reported",
		      mismatch);
	ck_assert_msg(has_problem(&p, "log/records", stranger_as_alice, NULL),
		      "record %" PRIu64 " (carol signing as alice) not reported",
		      stranger_as_alice);
	ck_assert(!has_problem(&p, "log/records", legit, NULL));
	ck_assert_uint_eq(sum.log_problems, 3);
	ck_assert_uint_eq(sum.items_damaged, 0);
	ck_assert_uint_eq(sum.items_ok, 1);
	ids_teardown();
}
END_TEST

START_TEST(test_removed_custodian)
{
	vault_identity *alice = make_identity("alice", "alice.key", 0);
	vault_identity *bob = make_identity("bob", "bob.key", 0);
	vault *v = create_vault(alice);
	const vault_item *it = ingest_one(v, "a.bin", 2);
	char id[65];
	memcpy(id, it->id, 65);
	ok(vault_custodian_add(v, "bob", vault_identity_vkey(bob)));
	vault_set_identity(v, bob);
	ok(vault_item_note(v, it, "while registered"));
	uint64_t before_removal = vault_log_size(v) - 1;
	vault_set_identity(v, alice);
	ok(vault_custodian_remove(v, "bob"));
	ck_assert_uint_eq(vault_custodian_count(v), 1);
	ck_assert_str_eq(vault_custodian_at(v, 0)->name, "alice");

	/* The API refuses bob now. */
	vault_set_identity(v, bob);
	ck_assert_int_eq(vault_item_note(v, it, "after removal"), VAULT_E_DENIED);

	/* His records before the removal still verify. */
	v = reopen(v, VAULT_OPEN_WRITE, alice);
	problems p;
	vault_verify_summary sum;
	run_verify(v, &p, &sum);
	dump_problems(&p);
	ck_assert_uint_eq(sum.log_problems, 0);

	/* A record he signs after his removal is caught. */
	ok(vault_item_find(v, id, &it));
	uint64_t late = forge_note(v, "bob", bob, it, "signed after removal");
	v = reopen(v, 0, NULL);
	run_verify(v, &p, &sum);
	dump_problems(&p);
	ck_assert_msg(has_problem(&p, "log/records", late, NULL),
		      "record %" PRIu64 " by a removed custodian not reported",
		      late);
	ck_assert(!has_problem(&p, "log/records", before_removal, NULL));
	ck_assert_uint_ge(sum.log_problems, 1);
	ids_teardown();
}
END_TEST

/* One damaged record must not hide a forged signature elsewhere. */
START_TEST(test_damage_does_not_hide_forgery)
{
	vault_identity *alice = make_identity("alice", "alice.key", 0);
	vault_identity *alice2 = make_identity("alice", "alice2.key", 0);
	vault *v = create_vault(alice);
	const vault_item *it = ingest_one(v, "a.bin", 3);
	for (int i = 0; i < 4; i++)
		ok(vault_item_note(v, it, "filler"));
	uint64_t forged = forge_note(v, "alice", alice2, it, "impostor");
	ok(vault_item_note(v, it, "after"));
	/* Damage record 3's ciphertext (its last byte: the AEAD tag). */
	uint64_t damaged = 3;
	uint64_t end = v->log.offsets[damaged + 1];
	fx_handle_free(v);
	char *rec = fx_vpath("log/records");
	FILE *f = fopen(rec, "r+b");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, (long)end - 1, SEEK_SET), 0);
	int c = fgetc(f);
	ck_assert_int_ne(c, EOF);
	ck_assert_int_eq(fseek(f, (long)end - 1, SEEK_SET), 0);
	fputc(c ^ 0xff, f);
	fclose(f);

	v = reopen(NULL, 0, NULL);
	problems p;
	vault_verify_summary sum;
	run_verify(v, &p, &sum);
	dump_problems(&p);
	ck_assert_msg(has_problem(&p, "log/records", damaged, "authenticate"),
		      "damaged record %" PRIu64 " not reported", damaged);
	ck_assert_msg(has_problem(&p, "log/records", forged,
				  "not signed by a custodian registered"),
		      "the forged record %" PRIu64 " is not reported when "
		      "another record is damaged",
		      forged);
	ids_teardown();
}
END_TEST

/* --- Checkpoints --------------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Sizes of the stored checkpoints (log/checkpoints/<size>), sorted. */
static size_t stored_sizes(uint64_t *out, size_t max)
{
	DIR *d = opendir(fx_vpath("log/checkpoints"));
	struct dirent *e;
	size_t n = 0;
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		char *end;
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		unsigned long long s = strtoull(e->d_name, &end, 10);
		ck_assert_msg(*end == '\0', "odd file log/checkpoints/%s",
			      e->d_name);
		ck_assert_uint_lt(n, max);
		out[n++] = s;
	}
	closedir(d);
	qsort(out, n, sizeof *out, cmp_u64);
	return n;
}

/* The log's verifier key, read from pub/log.vkey (not from the handle). */
static void log_verifier(note_verifier *ver)
{
	unsigned char *text;
	size_t len;
	ck_assert_int_eq(fx_read_file(fx_vpath("pub/log.vkey"), &text, &len), 0);
	ck_assert_uint_gt(len, 1);
	ck_assert_int_eq(text[len - 1], '\n');
	ck_assert_int_eq(note_vkey_parse(ver, (char *)text, len - 1), 0);
	free(text);
}

/* Open a checkpoint note signed by `ver`; 0, or -1 if it does not verify
 * or is not a checkpoint. */
static int open_checkpoint(const char *text, size_t len,
			   const note_verifier *ver, note_checkpoint *cp)
{
	note_parsed *p = malloc(sizeof *p);
	must(p != NULL);
	int rc = note_open(text, len, ver, 1, p) == NOTE_OK &&
				 note_checkpoint_parse(cp, p->text, p->text_len) == 0
			 ? 0
			 : -1;
	free(p);
	cp->ext = NULL;
	cp->ext_len = 0;
	return rc;
}

/* log/leaves as written, malloc'd; *n leaves. */
static unsigned char (*file_leaves(uint64_t *n))[32]
{
	unsigned char *data;
	size_t len;
	ck_assert_int_eq(fx_read_file(fx_vpath("log/leaves"), &data, &len), 0);
	ck_assert_uint_eq(len % 32, 0);
	*n = len / 32;
	return (unsigned char (*)[32])data;
}

/* Every stored checkpoint: signed by pub/log.vkey, origin evault/<id>,
 * root = merkle_root of the first `size` leaves of log/leaves; the largest
 * is the committed size.  Returns the number of checkpoints. */
static size_t check_all_checkpoints(vault *v)
{
	static uint64_t sizes[MAX_SIZES];
	note_verifier ver;
	char origin[64];
	uint64_t nleaves;
	unsigned char (*leaves)[32] = file_leaves(&nleaves);
	size_t n = stored_sizes(sizes, MAX_SIZES);

	log_verifier(&ver);
	snprintf(origin, sizeof origin, "evault/%s", vault_id(v));
	ck_assert_str_eq(ver.name, origin);
	ck_assert_uint_ge(n, 1);
	ck_assert_uint_eq(sizes[n - 1], vault_log_size(v));
	ck_assert_uint_ge(nleaves, vault_log_size(v));
	for (size_t i = 0; i < n; i++) {
		char *text;
		size_t len;
		note_checkpoint cp;
		unsigned char root[32];
		ok(vault_checkpoint_get(v, sizes[i], &text, &len));
		ck_assert_msg(open_checkpoint(text, len, &ver, &cp) == 0,
			      "checkpoint %" PRIu64 " does not verify", sizes[i]);
		free(text);
		ck_assert_str_eq(cp.origin, origin);
		ck_assert_uint_eq(cp.size, sizes[i]);
		merkle_root((const unsigned char (*)[32])leaves, sizes[i], root);
		ck_assert_msg(memcmp(root, cp.root, 32) == 0,
			      "checkpoint %" PRIu64 ": root is not the Merkle root "
			      "of the first %" PRIu64 " leaves",
			      sizes[i], sizes[i]);
	}
	char *latest, *last;
	size_t llen, lastlen;
	ok(vault_checkpoint_latest(v, &latest, &llen));
	ok(vault_checkpoint_get(v, vault_log_size(v), &last, &lastlen));
	ck_assert_uint_eq(llen, lastlen);
	ck_assert_int_eq(memcmp(latest, last, llen), 0);
	free(latest);
	free(last);
	free(leaves);
	return n;
}

START_TEST(test_checkpoint_roots)
{
	vault_identity *alice = make_identity("alice", "alice.key", 0);
	vault *v = create_vault(alice);
	check_all_checkpoints(v);
	const vault_item *it = ingest_one(v, "a.bin", 4);
	for (int i = 0; i < 10; i++)
		ok(vault_item_note(v, it, "one more"));
	vault_set_autocommit(v, 0);
	for (int i = 0; i < 7; i++)
		ok(vault_item_note(v, it, "batched"));
	ok(vault_commit(v));
	size_t n = check_all_checkpoints(v);
	/* init, ingest, 10 notes, one batch of 7 */
	ck_assert_uint_eq(n, 13);
	ck_assert_uint_eq(vault_log_size(v), 19);

	/* The checker fails when a checkpoint lies. */
	char *text;
	size_t len;
	note_verifier ver;
	note_checkpoint cp;
	unsigned char root[32];
	uint64_t nleaves;
	unsigned char (*leaves)[32] = file_leaves(&nleaves);
	log_verifier(&ver);
	ok(vault_checkpoint_get(v, 12, &text, &len));
	ck_assert_int_eq(open_checkpoint(text, len, &ver, &cp), 0);
	merkle_root((const unsigned char (*)[32])leaves, 11, root);
	ck_assert_int_ne(memcmp(root, cp.root, 32), 0);
	text[len - 10] ^= 1; /* in the signature's base64 */
	ck_assert_int_eq(open_checkpoint(text, len, &ver, &cp), -1);
	free(text);
	free(leaves);
	ids_teardown();
}
END_TEST

START_TEST(test_frontier_survives_reopen)
{
	vault_identity *alice = make_identity("alice", "alice.key", 0);
	vault *v = create_vault(alice);
	const vault_item *it = ingest_one(v, "a.bin", 5);
	char id[65];
	memcpy(id, it->id, 65);
	for (int i = 0; i < 12; i++)
		ok(vault_item_note(v, it, "before reopen"));
	merkle_frontier f = v->log.frontier;
	unsigned char root[32];
	memcpy(root, v->log.root, 32);
	uint64_t size = vault_log_size(v);
	static uint64_t s1[MAX_SIZES], s2[MAX_SIZES];
	size_t n1 = stored_sizes(s1, MAX_SIZES);
	char *cp1;
	size_t cp1len;
	ok(vault_checkpoint_latest(v, &cp1, &cp1len));

	v = reopen(v, VAULT_OPEN_WRITE, alice);
	ck_assert_uint_eq(vault_log_size(v), size);
	ck_assert_uint_eq(v->log.frontier.size, f.size);
	for (int k = 0; k < __builtin_popcountll(f.size); k++)
		ck_assert_int_eq(memcmp(v->log.frontier.node[k], f.node[k], 32), 0);
	ck_assert_int_eq(memcmp(v->log.root, root, 32), 0);
	size_t n2 = stored_sizes(s2, MAX_SIZES);
	ck_assert_uint_eq(n1, n2);
	ck_assert_int_eq(memcmp(s1, s2, n1 * sizeof *s1), 0);
	char *cp2;
	size_t cp2len;
	ok(vault_checkpoint_latest(v, &cp2, &cp2len));
	ck_assert_uint_eq(cp1len, cp2len);
	ck_assert_int_eq(memcmp(cp1, cp2, cp1len), 0);
	free(cp1);
	free(cp2);

	/* Appending after the reopen continues the same tree. */
	ok(vault_item_find(v, id, &it));
	for (int i = 0; i < 5; i++)
		ok(vault_item_note(v, it, "after reopen"));
	check_all_checkpoints(v);
	uint64_t nleaves;
	unsigned char (*leaves)[32] = file_leaves(&nleaves);
	merkle_root((const unsigned char (*)[32])leaves, vault_log_size(v), root);
	ck_assert_int_eq(memcmp(v->log.root, root, 32), 0);
	free(leaves);
	ids_teardown();
}
END_TEST

START_TEST(test_random_appends)
{
	vault_identity *alice = make_identity("alice", "alice.key", 0);
	vault *v = create_vault(alice);
	const vault_item *it = ingest_one(v, "a.bin", 6);
	char id[65];
	memcpy(id, it->id, 65);
	static uint64_t commits[MAX_SIZES], sizes[MAX_SIZES];
	size_t ncommits = 0;
	commits[ncommits++] = 1;
	commits[ncommits++] = 2;
	unsigned char rnd[400];
	fx_fill(rnd, sizeof rnd, 20261129);

	vault_set_autocommit(v, 0);
	for (int i = 0; i < 200; i++) {
		char text[32];
		snprintf(text, sizeof text, "append %d", i);
		ok(vault_item_note(v, it, text));
		if (rnd[i] % 4 == 0 || i == 199) {
			ok(vault_commit(v));
			commits[ncommits++] = vault_log_size(v);
		}
	}
	uint64_t size = vault_log_size(v);
	ck_assert_uint_eq(size, 202);
	unsigned char root[32];
	memcpy(root, v->log.root, 32);
	/* A staged tail that is never committed. */
	for (int i = 0; i < 1 + rnd[300] % 9; i++)
		ok(vault_item_note(v, it, "never committed"));
	ck_assert_uint_gt(vault_pending(v), 0);
	fx_handle_free(v);

	v = reopen(NULL, VAULT_OPEN_WRITE, alice);
	ck_assert_uint_eq(vault_log_size(v), size);
	ck_assert_int_eq(memcmp(v->log.root, root, 32), 0);
	ck_assert_uint_eq(vault_log_problems(v), 0);
	/* A checkpoint at exactly each commit point. */
	size_t n = stored_sizes(sizes, MAX_SIZES);
	ck_assert_uint_eq(n, ncommits);
	ck_assert_int_eq(memcmp(sizes, commits, n * sizeof *sizes), 0);
	check_all_checkpoints(v);
	uint64_t nleaves;
	unsigned char (*leaves)[32] = file_leaves(&nleaves);
	unsigned char want[32];
	merkle_root((const unsigned char (*)[32])leaves, size, want);
	ck_assert_int_eq(memcmp(want, root, 32), 0);
	free(leaves);
	problems p;
	vault_verify_summary sum;
	run_verify(v, &p, &sum);
	dump_problems(&p);
	ck_assert_uint_eq(sum.log_problems, 0);
	ids_teardown();
}
END_TEST

/* A log whose files (records, leaves, state) are put back to an older
 * copy, the later checkpoints left in place: opening it for writing must
 * not delete those checkpoints (the evidence of the rollback), and verify
 * must report them. */
START_TEST(test_rollback_evidence_kept)
{
	static const char *const files[] = {"vault/log/records",
					    "vault/log/leaves", "vault/log/state"};
	unsigned char *old[3];
	size_t oldlen[3];
	vault_identity *alice = make_identity("alice", "alice.key", 0);
	vault *v = create_vault(alice);
	const vault_item *it = ingest_one(v, "a.bin", 8);
	for (int i = 0; i < 3; i++)
		ok(vault_item_note(v, it, "before the copy"));
	uint64_t s0 = vault_log_size(v);
	for (int k = 0; k < 3; k++)
		ck_assert_int_eq(fx_read_file(fx_path(files[k]), &old[k], &oldlen[k]),
				 0);
	for (int i = 0; i < 3; i++)
		ok(vault_item_note(v, it, "after the copy"));
	fx_handle_free(v);
	for (int k = 0; k < 3; k++) {
		fx_write_file(files[k], old[k], oldlen[k]);
		free(old[k]);
	}

	v = reopen(NULL, VAULT_OPEN_WRITE, alice);
	ck_assert_uint_eq(vault_log_size(v), s0);
	for (uint64_t s = s0 + 1; s <= s0 + 3; s++) {
		char rel[64];
		snprintf(rel, sizeof rel, "log/checkpoints/%" PRIu64, s);
		ck_assert_msg(fx_file_size(fx_vpath(rel)) > 0,
			      "opening the rolled-back vault for writing deleted "
			      "%s, the evidence of the rollback",
			      rel);
	}
	problems p;
	vault_verify_summary sum;
	run_verify(v, &p, &sum);
	dump_problems(&p);
	ck_assert_uint_ge(sum.log_problems, 1);
	ids_teardown();
}
END_TEST

/* Witnessing through the API: the first checkpoint needs no proof, the
 * next one the consistency proof; a rollback is refused; a cosignature is
 * attached only if it is the given witness's own, valid line. */
START_TEST(test_witness_and_cosignatures)
{
	vault_identity *alice = make_identity("alice", "alice.key", 0);
	vault_identity *w1 = make_identity("w1", "w1.key", 1);
	vault_identity *w2 = make_identity("w2", "w2.key", 1);
	vault *v = create_vault(alice);
	const vault_item *it = ingest_one(v, "a.bin", 9);
	char logkey[VAULT_VKEY_MAX], line1[512], line2[512], line2b[512];
	char *cp1, *cp2, *proof, *state1 = fx_path("w1state");
	size_t cp1len, cp2len, prooflen;
	uint64_t old = 99;
	ok(vault_log_vkey(v, logkey, sizeof logkey));
	ok(vault_checkpoint_latest(v, &cp1, &cp1len));
	uint64_t s1 = vault_log_size(v);
	ok(vault_witness_cosign(v, w1, state1, logkey, cp1, cp1len, NULL, 0,
				1700000000, line1, sizeof line1, &old));
	ck_assert_uint_eq(old, 0);
	for (int i = 0; i < 3; i++)
		ok(vault_item_note(v, it, "more"));
	ok(vault_checkpoint_latest(v, &cp2, &cp2len));
	ck_assert_int_eq(vault_witness_cosign(v, w1, state1, logkey, cp2, cp2len,
					      NULL, 0, 1700000001, line2,
					      sizeof line2, &old),
			 VAULT_E_CORRUPT);
	ok(vault_consistency(v, s1, 0, &proof, &prooflen));
	ok(vault_witness_cosign(v, w1, state1, logkey, cp2, cp2len, proof,
				prooflen, 1700000002, line2, sizeof line2, &old));
	ck_assert_uint_eq(old, s1);
	ck_assert_int_eq(vault_witness_cosign(v, w1, state1, logkey, cp1, cp1len,
					      NULL, 0, 1700000003, line1,
					      sizeof line1, &old),
			 VAULT_E_CORRUPT);
	ok(vault_witness_cosign(v, w2, fx_path("w2state"), logkey, cp2, cp2len,
				NULL, 0, 1700000004, line2b, sizeof line2b, &old));
	free(proof);
	free(cp1);
	free(cp2);

	line2[strcspn(line2, "\n")] = '\0';
	line2b[strcspn(line2b, "\n")] = '\0';
	/* w2's line checked against w1's key: refused, before and after w1
	 * has cosigned the checkpoint. */
	ck_assert_int_ne(vault_checkpoint_add_cosignature(
				 v, line2b, vault_identity_vkey(w1)),
			 VAULT_OK);
	ok(vault_checkpoint_add_cosignature(v, line2, vault_identity_vkey(w1)));
	ck_assert_msg(vault_checkpoint_add_cosignature(
			      v, line2b, vault_identity_vkey(w1)) != VAULT_OK,
		      "w2's cosignature was attached as w1's once w1 had "
		      "cosigned");
	problems p;
	vault_verify_summary sum;
	run_verify(v, &p, &sum);
	dump_problems(&p);
	ck_assert_uint_eq(sum.log_problems, 0);
	ids_teardown();
}
END_TEST

/* --- Proofs ------------------------------------------------------------------------------ */

/* A vault of 40 records, each committed alone (a checkpoint per size). */
static vault *forty(void)
{
	vault_identity *alice = make_identity("alice", "alice.key", 0);
	vault *v = create_vault(alice);
	const vault_item *it = ingest_one(v, "a.bin", 7);
	while (vault_log_size(v) < 40) {
		char text[32];
		snprintf(text, sizeof text, "note %" PRIu64, vault_log_size(v));
		ok(vault_item_note(v, it, text));
	}
	return v;
}

typedef struct {
	unsigned char *record; /* extra, decoded */
	size_t reclen;
	uint64_t index;
	unsigned char hashes[MERKLE_MAX_PROOF][32];
	size_t count;
	const char *cp; /* into the proof text */
	size_t cplen;
} tlog_proof;

static int b64_hash(const char *s, size_t len, unsigned char out[32])
{
	size_t got;
	return len == 44 && sodium_base642bin(out, 32, s, len, NULL, &got, NULL,
					      sodium_base64_VARIANT_ORIGINAL) ==
					    0 &&
			       got == 32
		       ? 0
		       : -1;
}

/* Parse a C2SP tlog-proof; 0 or -1. */
static int parse_tlog_proof(const char *text, size_t len, tlog_proof *p)
{
	static const char head[] = "c2sp.org/tlog-proof@v1\nextra ";
	const char *s = text, *end = text + len, *nl;
	memset(p, 0, sizeof *p);
	if (len < sizeof head - 1 || memcmp(s, head, sizeof head - 1) != 0)
		return -1;
	s += sizeof head - 1;
	if (!(nl = memchr(s, '\n', (size_t)(end - s))))
		return -1;
	p->record = malloc((size_t)(nl - s));
	if (!p->record ||
	    sodium_base642bin(p->record, (size_t)(nl - s), s, (size_t)(nl - s),
			      NULL, &p->reclen, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	s = nl + 1;
	if (end - s < 7 || memcmp(s, "index ", 6) != 0)
		return -1;
	char *iend;
	p->index = strtoull(s + 6, &iend, 10);
	if (*iend != '\n')
		return -1;
	s = iend + 1;
	while (s < end && *s != '\n') {
		if (!(nl = memchr(s, '\n', (size_t)(end - s))) ||
		    p->count == MERKLE_MAX_PROOF ||
		    b64_hash(s, (size_t)(nl - s), p->hashes[p->count]) != 0)
			return -1;
		p->count++;
		s = nl + 1;
	}
	if (s >= end)
		return -1;
	p->cp = s + 1;
	p->cplen = (size_t)(end - s - 1);
	return 0;
}

START_TEST(test_prove_every_index)
{
	vault *v = forty();
	note_verifier ver;
	static uint64_t sizes[MAX_SIZES];
	size_t n = stored_sizes(sizes, MAX_SIZES);
	size_t checked = 0;
	log_verifier(&ver);
	ck_assert_uint_eq(n, 40); /* init, ingest, 38 notes: every size */
	for (size_t k = 0; k < n; k++) {
		uint64_t size = sizes[k];
		for (uint64_t i = 0; i < size; i++) {
			char *text;
			size_t len;
			tlog_proof p;
			note_checkpoint cp;
			unsigned char leaf[32];
			ok(vault_prove(v, i, size == vault_log_size(v) ? 0 : size,
				       &text, &len));
			must(parse_tlog_proof(text, len, &p) == 0);
			must(p.index == i);
			must(open_checkpoint(p.cp, p.cplen, &ver, &cp) == 0);
			must(cp.size == size);
			/* extra is the record itself, as the log shows it */
			vault_record r;
			ok(vault_record_at(v, i, &r));
			must(r.text_len == p.reclen);
			must(memcmp(r.text, p.record, p.reclen) == 0);
			merkle_leaf_hash(p.record, p.reclen, leaf);
			must(memcmp(leaf, v->log.leaves[i], 32) == 0);
			must(merkle_inclusion_verify(
				     leaf, i, size,
				     (const unsigned char (*)[32])p.hashes,
				     p.count, cp.root) == 0);
			/* and fails for another leaf, or an altered path */
			if (p.count > 0) {
				must(merkle_inclusion_verify(
					     v->log.leaves[(i + 1) % size], i, size,
					     (const unsigned char (*)[32])p.hashes,
					     p.count, cp.root) != 0);
				p.hashes[p.count / 2][7] ^= 0x20;
				must(merkle_inclusion_verify(
					     leaf, i, size,
					     (const unsigned char (*)[32])p.hashes,
					     p.count, cp.root) != 0);
			}
			free(p.record);
			free(text);
			checked++;
		}
	}
	ck_assert_uint_eq(checked, 40 * 41 / 2);
	/* Out of range, and a size without a stored checkpoint. */
	char *text;
	size_t len;
	ck_assert_int_ne(vault_prove(v, 40, 0, &text, &len), VAULT_OK);
	ck_assert_int_ne(vault_prove(v, 3, 41, &text, &len), VAULT_OK);
	ids_teardown();
}
END_TEST

START_TEST(test_consistency_every_pair)
{
	vault *v = forty();
	/* and a batch, so that some sizes have no checkpoint */
	const vault_item *it = vault_item_at(v, 0);
	vault_set_autocommit(v, 0);
	for (int i = 0; i < 6; i++)
		ok(vault_item_note(v, it, "batched"));
	ok(vault_commit(v));
	note_verifier ver;
	static uint64_t sizes[MAX_SIZES];
	static unsigned char roots[MAX_SIZES][32];
	size_t n = stored_sizes(sizes, MAX_SIZES);
	size_t checked = 0;
	log_verifier(&ver);
	ck_assert_uint_eq(sizes[n - 1], 46);
	ck_assert_uint_eq(sizes[n - 2], 40);
	for (size_t k = 0; k < n; k++) {
		char *text;
		size_t len;
		note_checkpoint cp;
		ok(vault_checkpoint_get(v, sizes[k], &text, &len));
		ck_assert_int_eq(open_checkpoint(text, len, &ver, &cp), 0);
		memcpy(roots[k], cp.root, 32);
		free(text);
	}
	for (size_t a = 0; a < n; a++) {
		for (size_t b = a; b < n; b++) {
			char *text;
			size_t len, count;
			unsigned char proof[MERKLE_MAX_PROOF][32];
			ok(vault_consistency(v, sizes[a], sizes[b], &text, &len));
			must(proof_lines_parse(text, len, proof, &count) == 0);
			/* one base64 hash a line, nothing else */
			must(len == count * 45);
			free(text);
			must(merkle_consistency_verify(
				     sizes[a], sizes[b], roots[a], roots[b],
				     (const unsigned char (*)[32])proof, count) == 0);
			/* the wrong pair fails */
			if (a > 0 && a < b)
				must(merkle_consistency_verify(
					     sizes[a - 1], sizes[b], roots[a - 1],
					     roots[b],
					     (const unsigned char (*)[32])proof,
					     count) != 0);
			if (count > 0) {
				proof[count - 1][0] ^= 1;
				must(merkle_consistency_verify(
					     sizes[a], sizes[b], roots[a], roots[b],
					     (const unsigned char (*)[32])proof,
					     count) != 0);
			}
			checked++;
		}
	}
	ck_assert_uint_eq(checked, n * (n + 1) / 2);
	/* NEW defaults to the latest size; sizes beyond the log refused. */
	char *t1, *t2;
	size_t l1, l2;
	ok(vault_consistency(v, 20, 0, &t1, &l1));
	ok(vault_consistency(v, 20, 46, &t2, &l2));
	ck_assert_uint_eq(l1, l2);
	ck_assert_int_eq(memcmp(t1, t2, l1), 0);
	free(t1);
	free(t2);
	ck_assert_int_ne(vault_consistency(v, 20, 47, &t1, &l1), VAULT_OK);
	ck_assert_int_ne(vault_consistency(v, 30, 20, &t1, &l1), VAULT_OK);
	ids_teardown();
}
END_TEST

static Suite *custody_suite(void)
{
	Suite *s = suite_create("custody");
	TCase *tc = tcase_create("signatures");
	fx_tcase_tmp(tc);
	tcase_add_test(tc, test_unregistered_signer);
	tcase_add_test(tc, test_removed_custodian);
	tcase_add_test(tc, test_damage_does_not_hide_forgery);
	suite_add_tcase(s, tc);
	tc = tcase_create("checkpoints");
	fx_tcase_tmp(tc);
	tcase_add_test(tc, test_checkpoint_roots);
	tcase_add_test(tc, test_frontier_survives_reopen);
	tcase_add_test(tc, test_random_appends);
	tcase_add_test(tc, test_rollback_evidence_kept);
	tcase_add_test(tc, test_witness_and_cosignatures);
	suite_add_tcase(s, tc);
	tc = tcase_create("proofs");
	fx_tcase_tmp(tc);
	tcase_add_test(tc, test_prove_every_index);
	tcase_add_test(tc, test_consistency_every_pair);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fx_run(custody_suite());
}
