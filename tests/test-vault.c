/*
 * test-vault.c: unit tests of the vault as its users see it (vault/vault.h):
 * creating, opening and unlocking; every refusal the issue names (wrong
 * passphrase, no vault, a vault already there, a newer format, FIFOs and
 * links, a file that changes while it is read, a second writer); ingest
 * with its provenance, dedup, restoring a lost object from the same bytes,
 * and the single commit point (log/state) that makes staged work durable
 * or leaves no trace of it; id prefixes; passphrase slots; and one tamper
 * test for each thing verify checks:
 * objects (a flipped byte, truncation, deletion, trailing bytes, two
 * objects swapped), log/records, log/leaves, log/state and key slots.
 * Each tamper is made with the vault closed, as an attacker with the
 * directory would, and must be reported with the item or file it hit.
 *
 * With the shared media corpus (EVAULT_CORPUS), every file its
 * MANIFEST.tsv lists is ingested and read back byte for byte.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>

#include "fixture.h"
#include "vault/internal.h"

#define PASS2 "a second passphrase, for the slot tests"
#define PASS2LEN (sizeof PASS2 - 1)

/* --- Helpers ----------------------------------------------------------------- */

static void ok(vault_err e, const char *what)
{
	ck_assert_msg(e == VAULT_OK, "%s: %s: %s", what, vault_strerror(e),
		      vault_errmsg(fx_v));
}

static vault_ingest_result ingest(const char *path,
				  const vault_ingest_opts *opts)
{
	vault_ingest_result r;
	vault_err e = vault_ingest_file(fx_v, path, opts, &r);
	ck_assert_msg(e == VAULT_OK, "ingest '%s': %s: %s", path,
		      vault_strerror(e), vault_errmsg(fx_v));
	return r;
}

/* The object file of an item id (fx_v must be unlocked). */
static char *object_file(const char *id)
{
	unsigned char sha[32];
	char name[65], rel[128];
	ck_assert_int_eq(util_unhex(sha, 32, id), 0);
	object_name(fx_v, sha, name);
	snprintf(rel, sizeof rel, "objects/%.2s/%s", name, name);
	return fx_vpath(rel);
}

static char *object_rel(const char *id)
{
	return object_file(id) + strlen(fx_vdir) + 1;
}

/* Object files under objects/ (two levels). */
static int count_objects(void)
{
	DIR *d = opendir(fx_vpath("objects"));
	struct dirent *e;
	int n = 0;
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char rel[300];
		snprintf(rel, sizeof rel, "objects/%s", e->d_name);
		int k = fx_dir_entries(fx_vpath(rel));
		n += k < 0 ? 1 : k;
	}
	closedir(d);
	return n;
}

static unsigned char *read_all(const char *path, size_t *len)
{
	unsigned char *buf = NULL;
	int rc = fx_read_file(path, &buf, len);
	ck_assert_msg(rc == 0, "cannot read %s: %s", path, strerror(-rc));
	return fx_keep(buf);
}

/* Open the vault in handle v with flags and, if pass is not NULL, unlock
 * it; the results are passed back. */
static void open_handle(vault *v, unsigned flags, const char *pass,
			vault_err *open_err, vault_err *unlock_err)
{
	vault_open_opts o = VAULT_OPEN_OPTS_INIT;
	o.flags = flags;
	*open_err = vault_open(v, fx_vdir, &o);
	if (*open_err == VAULT_OK && pass)
		*unlock_err = vault_unlock(v, pass, strlen(pass));
}

/* A second handle on the vault, closed at teardown at the latest. */
static vault *open_other(unsigned flags, const char *pass, vault_err *open_err,
			 vault_err *unlock_err)
{
	vault *v = fx_handle();
	open_handle(v, flags, pass, open_err, unlock_err);
	return v;
}

/* Close fx_v and open it again as open_handle() does. */
static void reopen_main(unsigned flags, const char *pass, vault_err *open_err,
			vault_err *unlock_err)
{
	vault_free(fx_v);
	fx_v = fx_new();
	ck_assert_ptr_nonnull(fx_v);
	open_handle(fx_v, flags, pass, open_err, unlock_err);
}

typedef struct {
	int calls;
	int done_once;
	const char *path;
	int grow; /* append a byte, else rewrite a byte in place */
} change_ctx;

/* --- Create, open, unlock ---------------------------------------------------- */

START_TEST(create_makes_a_vault)
{
	size_t len;
	char want[128];
	struct stat st;
	unsigned n = 0;
	const char *id = vault_id(fx_v);

	ck_assert_uint_eq(strlen(id), 32);
	ck_assert_uint_eq(strspn(id, "0123456789abcdef"), 32);
	unsigned char *text = read_all(fx_vpath("VAULT"), &len);
	snprintf(want, sizeof want, "evault-vault\nformat %d\nid %s\n",
		 VAULT_FORMAT_VERSION, id);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_mem_eq(text, want, len);
	static const char *const dirs[] = {"keys", "objects", "log", "tmp"};
	for (size_t i = 0; i < 4; i++) {
		ck_assert_int_eq(stat(fx_vpath(dirs[i]), &st), 0);
		ck_assert(S_ISDIR(st.st_mode));
	}
	ck_assert_int_eq(stat(fx_vdir, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0700);
	ok(vault_passphrase_count(fx_v, &n), "passphrase count");
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(fx_dir_entries(fx_vpath("keys")), 1);
	ck_assert_uint_eq(vault_log_size(fx_v), 1); /* the init record */
	ck_assert_uint_eq(vault_item_count(fx_v), 0);
	ck_assert_uint_eq(vault_pending(fx_v), 0);
	ck_assert_uint_eq(vault_log_problems(fx_v), 0);
	ck_assert_int_eq(fx_dir_entries(fx_vpath("tmp")), 0);
}
END_TEST

START_TEST(open_and_unlock)
{
	char id[33];
	snprintf(id, sizeof id, "%s", vault_id(fx_v));
	fx_reopen(0);
	ck_assert_str_eq(vault_id(fx_v), id);
	ck_assert_uint_eq(vault_log_size(fx_v), 1);
	ck_assert_uint_eq(vault_log_problems(fx_v), 0);
	fx_reopen(VAULT_OPEN_WRITE);
	ck_assert_str_eq(vault_id(fx_v), id);
	/* Unlocking twice is harmless. */
	ok(vault_unlock(fx_v, FX_PASS, FX_PASSLEN), "second unlock");
}
END_TEST

START_TEST(wrong_passphrase)
{
	vault_err oe, ue = VAULT_OK;
	const vault_item *it;
	reopen_main(0, "not the passphrase", &oe, &ue);
	ck_assert_int_eq(oe, VAULT_OK);
	ck_assert_int_eq(ue, VAULT_E_PASSPHRASE);
	ck_assert_str_ne(vault_errmsg(fx_v), "");
	/* Still locked: nothing can be read. */
	ck_assert_int_eq(vault_item_find(fx_v, "0123456789", &it),
			 VAULT_E_STATE);
	/* A passphrase that differs in its last byte only. */
	char near[] = FX_PASS;
	near[FX_PASSLEN - 1] ^= 1;
	ck_assert_int_eq(vault_unlock(fx_v, near, FX_PASSLEN),
			 VAULT_E_PASSPHRASE);
	/* The right one still works on the same handle. */
	ok(vault_unlock(fx_v, FX_PASS, FX_PASSLEN), "unlock after a wrong try");
}
END_TEST

START_TEST(no_vault_here)
{
	static const char *const where[] = {"absent", ".", "file"};
	fx_write_file("file", "x", 1);
	for (size_t i = 0; i < 3; i++) {
		vault *v = fx_handle();
		char *dir = fx_path(where[i]);
		vault_err e = vault_open(v, dir, NULL);
		ck_assert_msg(e == VAULT_E_NOVAULT, "open '%s': %s (%s)", dir,
			      vault_strerror(e), vault_errmsg(v));
		ck_assert_ptr_nonnull(strstr(vault_errmsg(v), where[i]));
		fx_handle_free(v);
	}
}
END_TEST

START_TEST(create_refuses_existing)
{
	vault *v = fx_handle();
	ck_assert_int_eq(vault_create(v, fx_vdir, "other", 5,
				      VAULT_KDF_INTERACTIVE),
			 VAULT_E_EXISTS);
	fx_handle_free(v);
	/* A directory that holds something else. */
	fx_write_file("stuff", "x", 1);
	v = fx_handle();
	ck_assert_int_eq(vault_create(v, fx_root, "other", 5,
				      VAULT_KDF_INTERACTIVE),
			 VAULT_E_EXISTS);
	fx_handle_free(v);
	/* A regular file where the vault should go. */
	v = fx_handle();
	vault_err e = vault_create(v, fx_path("stuff"), "other", 5,
				   VAULT_KDF_INTERACTIVE);
	char msg[1024];
	snprintf(msg, sizeof msg, "%s", vault_errmsg(v));
	fx_handle_free(v);
	ck_assert_msg(e == VAULT_E_EXISTS, "create over a file: %s (%s)",
		      vault_strerror(e), msg);
	/* An empty passphrase. */
	v = fx_handle();
	ck_assert_int_eq(vault_create(v, fx_path("new"), "", 0,
				      VAULT_KDF_INTERACTIVE),
			 VAULT_E_INVALID);
	fx_handle_free(v);
	/* The existing vault is untouched. */
	fx_reopen(0);
	ck_assert_uint_eq(vault_log_size(fx_v), 1);
}
END_TEST

START_TEST(newer_format_refused)
{
	char text[128];
	vault_err e;
	snprintf(text, sizeof text, "evault-vault\nformat %d\nid %s\n",
		 VAULT_FORMAT_VERSION + 1, vault_id(fx_v));
	vault_free(fx_v);
	fx_v = NULL;
	fx_write_file("vault/VAULT", text, strlen(text));
	vault *v = fx_handle();
	e = vault_open(v, fx_vdir, NULL);
	ck_assert_msg(e == VAULT_E_VERSION, "open: %s (%s)", vault_strerror(e),
		      vault_errmsg(v));
	ck_assert_ptr_nonnull(strstr(vault_errmsg(v), "format"));
	fx_handle_free(v);

	fx_write_file("vault/VAULT", "evault-vault\nformat x\n", 22);
	v = fx_handle();
	ck_assert_int_eq(vault_open(v, fx_vdir, NULL), VAULT_E_CORRUPT);
	fx_handle_free(v);
}
END_TEST

START_TEST(second_writer_is_refused)
{
	vault_err oe, ue;
	vault *v = open_other(VAULT_OPEN_WRITE | VAULT_OPEN_NOWAIT, NULL, &oe,
			      &ue);
	ck_assert_int_eq(oe, VAULT_E_BUSY);
	ck_assert_str_ne(vault_errmsg(v), "");
	fx_handle_free(v);
	v = open_other(VAULT_OPEN_NOWAIT, NULL, &oe, &ue);
	ck_assert_int_eq(oe, VAULT_E_BUSY);
	fx_handle_free(v);
	/* Once the writer is gone, two readers share the vault. */
	vault_free(fx_v);
	fx_v = NULL;
	vault *r1 = open_other(VAULT_OPEN_NOWAIT, NULL, &oe, &ue);
	ck_assert_int_eq(oe, VAULT_OK);
	vault *r2 = open_other(VAULT_OPEN_NOWAIT, NULL, &oe, &ue);
	ck_assert_int_eq(oe, VAULT_OK);
	v = open_other(VAULT_OPEN_WRITE | VAULT_OPEN_NOWAIT, NULL, &oe, &ue);
	ck_assert_int_eq(oe, VAULT_E_BUSY);
	fx_handle_free(v);
	fx_handle_free(r1);
	fx_handle_free(r2);
}
END_TEST

START_TEST(writer_cleans_tmp)
{
	vault_free(fx_v);
	fx_v = NULL;
	fx_write_file("vault/tmp/t-leftover", "half an object", 14);
	fx_reopen(0);
	/* Readers leave tmp/ alone; writers empty it. */
	ck_assert_int_eq(fx_dir_entries(fx_vpath("tmp")), 1);
	fx_reopen(VAULT_OPEN_WRITE);
	ck_assert_int_eq(fx_dir_entries(fx_vpath("tmp")), 0);
}
END_TEST

START_TEST(read_only_and_locked_handles)
{
	vault_ingest_result r;
	char *path = fx_write_file("a", "abc", 3);
	vault_err oe, ue;
	ingest(path, NULL);
	ok(vault_commit(fx_v), "commit");
	fx_reopen(0);
	ck_assert_int_eq(vault_ingest_file(fx_v, path, NULL, &r),
			 VAULT_E_STATE);
	ck_assert_int_eq(vault_passphrase_add(fx_v, PASS2, PASS2LEN,
					      VAULT_KDF_INTERACTIVE),
			 VAULT_E_STATE);
	reopen_main(VAULT_OPEN_WRITE, NULL, &oe, &ue);
	ck_assert_int_eq(oe, VAULT_OK);
	ck_assert_int_eq(vault_ingest_file(fx_v, path, NULL, &r),
			 VAULT_E_STATE);
	ck_assert_int_eq(vault_commit(fx_v), VAULT_E_STATE);
	vault_verify_summary sum;
	ck_assert_int_eq(vault_verify(fx_v, NULL, 0, NULL, &sum),
			 VAULT_E_STATE);
}
END_TEST

/* --- Ingest, provenance, dedup ------------------------------------------- */

START_TEST(ingest_keeps_provenance)
{
	vault_ingest_opts o = VAULT_INGEST_OPTS_INIT;
	unsigned char jpeg[5000];
	struct stat st;
	const vault_item *it;
	char id[65];

	fx_fill(jpeg, sizeof jpeg, 5);
	memcpy(jpeg, "\xff\xd8\xff\xe0", 4);
	char *path = fx_write_file("IMG 0001 (copy).jpg", jpeg, sizeof jpeg);
	char *plain = fx_write_file("plain.bin", "no provenance", 13);
	ck_assert_int_eq(stat(path, &st), 0);
	o.case_name = "Case 2024/017 \xc3\xa9t\xc3\xa9";
	o.source = "phone of witness B";
	o.note = "received on a USB stick, \"sealed\" bag #4";
	vault_ingest_result r = ingest(path, &o);
	ck_assert_int_eq(r.already_held, 0);
	ck_assert_uint_eq(r.size, sizeof jpeg);
	ck_assert_str_eq(r.type, "image/jpeg");
	memcpy(id, r.id, sizeof id);
	ingest(plain, NULL);
	ok(vault_commit(fx_v), "commit");

	fx_reopen(0);
	ck_assert_uint_eq(vault_item_count(fx_v), 2);
	ck_assert_uint_eq(vault_log_size(fx_v), 3);
	ok(vault_item_find(fx_v, id, &it), "find");
	ck_assert_ptr_eq(it, vault_item_at(fx_v, 0));
	ck_assert_str_eq(it->id, id);
	ck_assert_uint_eq(it->size, sizeof jpeg);
	ck_assert_str_eq(it->type, "image/jpeg");
	ck_assert_str_eq(it->name, "IMG 0001 (copy).jpg");
	ck_assert_str_eq(it->path, path);
	ck_assert_int_eq(it->mtime, st.st_mtim.tv_sec);
	ck_assert_str_eq(it->case_name, o.case_name);
	ck_assert_str_eq(it->source, o.source);
	ck_assert_str_eq(it->note, o.note);
	ck_assert_uint_eq(it->record, 1);
	ck_assert_uint_eq(it->receipts, 1);
	ck_assert_ptr_nonnull(it->ingested);
	ck_assert_uint_eq(strlen(it->ingested), 20); /* 2024-01-02T03:04:05Z */
	ck_assert_int_eq(it->ingested[10], 'T');
	ck_assert_int_eq(it->ingested[19], 'Z');

	it = vault_item_at(fx_v, 1);
	ck_assert_ptr_nonnull(it);
	ck_assert_str_eq(it->name, "plain.bin");
	ck_assert_ptr_null(it->case_name);
	ck_assert_ptr_null(it->source);
	ck_assert_ptr_null(it->note);
	ck_assert_ptr_null(vault_item_at(fx_v, 2));
}
END_TEST

START_TEST(dedup_counts_receipts)
{
	unsigned char *data;
	char *a = fx_write_random("a.mp4", 300000, 77, &data);
	char *b = fx_write_file("b-renamed.mp4", data, 300000);
	char *c = fx_write_file("c-again.mp4", data, 300000);
	const vault_item *it;

	vault_ingest_result r1 = ingest(a, NULL);
	ok(vault_commit(fx_v), "commit 1");
	ck_assert_int_eq(count_objects(), 1);
	/* Across a commit, and twice within one batch. */
	vault_ingest_result r2 = ingest(b, NULL);
	vault_ingest_result r3 = ingest(c, NULL);
	ok(vault_commit(fx_v), "commit 2");
	ck_assert_int_eq(r1.already_held, 0);
	ck_assert_int_eq(r2.already_held, 1);
	ck_assert_int_eq(r3.already_held, 1);
	ck_assert_str_eq(r1.id, r2.id);
	ck_assert_str_eq(r1.id, r3.id);
	ck_assert_uint_eq(vault_item_count(fx_v), 1);
	ck_assert_uint_eq(vault_item_at(fx_v, 0)->receipts, 3);
	ck_assert_int_eq(count_objects(), 1);
	ck_assert_int_eq(fx_dir_entries(fx_vpath("tmp")), 0);

	fx_reopen(0);
	ck_assert_uint_eq(vault_item_count(fx_v), 1);
	ck_assert_uint_eq(vault_log_size(fx_v), 4);
	ok(vault_item_find(fx_v, r1.id, &it), "find");
	ck_assert_uint_eq(it->receipts, 3);
	ck_assert_str_eq(it->name, "a.mp4"); /* the first receipt's name */
}
END_TEST

START_TEST(dedup_two_receipts)
{
	unsigned char *data;
	char *a = fx_write_random("one.jpg", 1000, 78, &data);
	char *b = fx_write_file("two.jpg", data, 1000);
	vault_ingest_result r1 = ingest(a, NULL);
	ok(vault_commit(fx_v), "commit");
	vault_ingest_result r2 = ingest(b, NULL);
	ok(vault_commit(fx_v), "commit");
	ck_assert_int_eq(r1.already_held, 0);
	ck_assert_int_eq(r2.already_held, 1);
	fx_reopen(0);
	ck_assert_uint_eq(vault_item_count(fx_v), 1);
	ck_assert_uint_eq(vault_item_at(fx_v, 0)->receipts, 2);
}
END_TEST

START_TEST(missing_object_restored_by_same_bytes)
{
	unsigned char *data;
	char *a = fx_write_random("orig.jpg", 100000, 85, &data);
	char *b = fx_write_file("copy.jpg", data, 100000);
	vault_verify_summary sum;
	vault_ingest_result r = ingest(a, NULL);
	ok(vault_commit(fx_v), "commit");
	char *obj = object_file(r.id);
	ck_assert_int_eq(unlink(obj), 0);
	ok(vault_verify(fx_v, NULL, 0, NULL, &sum), "verify");
	ck_assert_uint_eq(sum.items_damaged, 1);

	/* Staged, not committed: the restored object goes away again. */
	vault_ingest_result r2 = ingest(b, NULL);
	ck_assert_int_eq(r2.already_held, 1);
	ck_assert_int_eq(r2.restored, 1);
	ck_assert_int_eq(access(obj, F_OK), 0);
	fx_reopen(VAULT_OPEN_WRITE);
	ck_assert_int_eq(access(obj, F_OK), -1);

	r2 = ingest(b, NULL);
	ck_assert_int_eq(r2.restored, 1);
	ok(vault_commit(fx_v), "commit");
	fx_reopen(0);
	ok(vault_verify(fx_v, NULL, 0, NULL, &sum), "verify");
	ck_assert_uint_eq(sum.items_ok, 1);
	ck_assert_uint_eq(sum.items_damaged, 0);
	ck_assert_uint_eq(vault_item_at(fx_v, 0)->receipts, 2);

	/* With the object back, the same bytes are simply held. */
	fx_reopen(VAULT_OPEN_WRITE);
	r2 = ingest(b, NULL);
	ck_assert_int_eq(r2.already_held, 1);
	ck_assert_int_eq(r2.restored, 0);
}
END_TEST

START_TEST(staged_ingest_vanishes_without_commit)
{
	char *path = fx_write_random("staged.bin", 150000, 79, NULL);
	char *kept = fx_write_random("kept.bin", 1000, 80, NULL);
	size_t slen, slen2;

	ingest(kept, NULL);
	ok(vault_commit(fx_v), "commit");
	unsigned char *state = read_all(fx_vpath("log/state"), &slen);
	size_t rec_len = (size_t)fx_file_size(fx_vpath("log/records"));

	vault_ingest_result r = ingest(path, NULL);
	char *obj = object_file(r.id);
	ck_assert_uint_eq(vault_pending(fx_v), 1);
	ck_assert_uint_eq(vault_item_count(fx_v), 2);
	ck_assert_int_eq(access(obj, F_OK), 0); /* placed, not committed */
	/* Closed without a commit. */
	vault_free(fx_v);
	fx_v = NULL;

	ck_assert_int_eq(access(obj, F_OK), -1);
	ck_assert_int_eq(count_objects(), 1);
	unsigned char *state2 = read_all(fx_vpath("log/state"), &slen2);
	ck_assert_uint_eq(slen2, slen);
	ck_assert_mem_eq(state2, state, slen);
	ck_assert_int_eq(fx_file_size(fx_vpath("log/records")),
			 (long long)rec_len);

	fx_reopen(VAULT_OPEN_WRITE);
	ck_assert_uint_eq(vault_item_count(fx_v), 1);
	ck_assert_uint_eq(vault_log_size(fx_v), 2);
	ck_assert_uint_eq(vault_pending(fx_v), 0);
	const vault_item *it;
	ck_assert_int_eq(vault_item_find(fx_v, r.id, &it), VAULT_E_NOTFOUND);
	ck_assert_int_eq(fx_dir_entries(fx_vpath("tmp")), 0);

	/* Ingested again, it is new, not "already held". */
	vault_ingest_result again = ingest(path, NULL);
	ck_assert_int_eq(again.already_held, 0);
	ok(vault_commit(fx_v), "commit");
	vault_verify_summary sum;
	ok(vault_verify(fx_v, NULL, 0, NULL, &sum), "verify");
	ck_assert_uint_eq(sum.items_ok, 2);
	ck_assert_uint_eq(sum.unreferenced, 0);
}
END_TEST

START_TEST(commit_point_is_the_state_file)
{
	size_t slen, slen2, slen3;
	char *path = fx_write_random("f.bin", 70000, 81, NULL);
	unsigned char *before = read_all(fx_vpath("log/state"), &slen);

	ingest(path, NULL);
	unsigned char *staged = read_all(fx_vpath("log/state"), &slen2);
	ck_assert_uint_eq(slen2, slen);
	ck_assert_mem_eq(staged, before, slen);
	ck_assert_uint_eq(vault_log_size(fx_v), 1);

	ok(vault_commit(fx_v), "commit");
	ck_assert_uint_eq(vault_log_size(fx_v), 2);
	ck_assert_uint_eq(vault_pending(fx_v), 0);
	unsigned char *after = read_all(fx_vpath("log/state"), &slen3);
	ck_assert_msg(slen3 != slen || memcmp(after, before, slen) != 0,
		      "log/state did not change at commit");
	/* records, leaves, state, checkpoints/: no temporary file left */
	ck_assert_int_eq(fx_dir_entries(fx_vpath("log")), 4);
	/* Committing nothing changes nothing. */
	ok(vault_commit(fx_v), "empty commit");
	unsigned char *again = read_all(fx_vpath("log/state"), &slen2);
	ck_assert_uint_eq(slen2, slen3);
	ck_assert_mem_eq(again, after, slen3);
}
END_TEST

START_TEST(many_items_stay_findable)
{
	/* Enough items to grow the catalogue's arrays and its hash table
	 * (256 slots, grown past half full) while pointers are held. */
	enum { N = 300 };
	char(*ids)[65] = fx_keep(calloc(N, sizeof *ids));
	const vault_item *first = NULL, *it;
	for (int i = 0; i < N; i++) {
		char name[32];
		snprintf(name, sizeof name, "f%03d", i);
		vault_ingest_result r =
			ingest(fx_write_random(name, 64 + (size_t)i,
					       1000 + (uint64_t)i, NULL),
			       NULL);
		memcpy(ids[i], r.id, 65);
		if (i == 0)
			first = vault_item_at(fx_v, 0);
		if (i % 100 == 99)
			ok(vault_commit(fx_v), "commit");
	}
	ok(vault_commit(fx_v), "commit");
	ck_assert_uint_eq(vault_item_count(fx_v), N);
	ck_assert_ptr_eq(vault_item_at(fx_v, 0), first);
	ck_assert_str_eq(first->id, ids[0]);
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < N; i++) {
			ok(vault_item_find(fx_v, ids[i], &it), ids[i]);
			ck_assert_ptr_eq(it, vault_item_at(fx_v, (size_t)i));
			ck_assert_uint_eq(it->size, 64 + (uint64_t)i);
		}
		fx_reopen(0);
		ck_assert_uint_eq(vault_item_count(fx_v), N);
	}
}
END_TEST

START_TEST(non_utf8_name_kept_escaped)
{
	const vault_item *it;
	/* "café.jpg" in Latin-1: not UTF-8, which JSON strings must be. */
	char *path = fx_write_file("caf\xe9.jpg", "\xff\xd8\xff\x00", 4);
	vault_ingest_result r = ingest(path, NULL);
	ok(vault_commit(fx_v), "commit");
	fx_reopen(0);
	ok(vault_item_find(fx_v, r.id, &it), "find");
	ck_assert_str_eq(it->name, "caf\\xe9.jpg");
	ck_assert_ptr_nonnull(strstr(it->path, "caf\\xe9.jpg"));
}
END_TEST

/* --- Bad input ------------------------------------------------------------------ */

static void expect_refused(const char *path, vault_err want, const char *words)
{
	vault_ingest_result r;
	memset(&r, 0x5a, sizeof r);
	vault_err e = vault_ingest_file(fx_v, path, NULL, &r);
	ck_assert_msg(e == want, "ingest '%s': %s (%s), expected %s", path,
		      vault_strerror(e), vault_errmsg(fx_v),
		      vault_strerror(want));
	ck_assert_msg(strstr(vault_errmsg(fx_v), path) != NULL,
		      "message does not name the file: %s", vault_errmsg(fx_v));
	if (words)
		ck_assert_msg(strstr(vault_errmsg(fx_v), words) != NULL,
			      "message lacks '%s': %s", words,
			      vault_errmsg(fx_v));
	ck_assert_uint_eq(((unsigned char *)&r)[0], 0x5a); /* untouched */
	ck_assert_uint_eq(vault_pending(fx_v), 0);
	ck_assert_uint_eq(vault_item_count(fx_v), 0);
	ck_assert_int_eq(fx_dir_entries(fx_vpath("tmp")), 0);
	ck_assert_int_eq(count_objects(), 0);
}

START_TEST(fifo_and_links_refused)
{
	char *fifo = fx_path("pipe");
	char *target = fx_write_file("target.jpg", "\xff\xd8\xff", 3);
	char *link = fx_path("link.jpg");
	char *dlink = fx_path("dangling");

	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_int_eq(symlink(target, link), 0);
	ck_assert_int_eq(symlink("nowhere", dlink), 0);
	expect_refused(fifo, VAULT_E_FILETYPE, "FIFO");
	expect_refused(link, VAULT_E_FILETYPE, "symbolic link");
	expect_refused(dlink, VAULT_E_FILETYPE, "symbolic link");
	expect_refused(fx_root, VAULT_E_FILETYPE, "directory");
	expect_refused("/dev/null", VAULT_E_FILETYPE, "device");
}
END_TEST

START_TEST(missing_file_refused)
{
	expect_refused(fx_path("no such file.jpg"), VAULT_E_IO, NULL);
}
END_TEST

static void change_file(void *ctx, uint64_t done, uint64_t total)
{
	change_ctx *c = ctx;
	(void)done;
	(void)total;
	c->calls++;
	if (c->done_once)
		return;
	c->done_once = 1;
	int fd = open(c->path, O_WRONLY | O_CLOEXEC | (c->grow ? O_APPEND : 0));
	if (fd < 0)
		return;
	if (c->grow) {
		if (write(fd, "+", 1) != 1)
			c->done_once = -1;
	} else if (pwrite(fd, "!", 1, 10) != 1) {
		c->done_once = -1;
	}
	close(fd);
}

START_TEST(changing_file_refused)
{
	vault_ingest_opts o = VAULT_INGEST_OPTS_INIT;
	change_ctx c = {0, 0, NULL, _i};
	vault_ingest_result r;

	c.path = fx_write_random("growing.mov", 3 << 20, 82, NULL);
	/* Date the file an hour back, so that a write in place within the
	 * same clock tick as its creation still moves its modification time. */
	struct timespec past[2];
	clock_gettime(CLOCK_REALTIME, &past[0]);
	past[0].tv_sec -= 3600;
	past[1] = past[0];
	ck_assert_int_eq(utimensat(AT_FDCWD, c.path, past, 0), 0);
	o.progress = change_file;
	o.progress_ctx = &c;
	vault_err e = vault_ingest_file(fx_v, c.path, &o, &r);
	ck_assert_int_eq(c.done_once, 1);
	ck_assert_msg(e == VAULT_E_CHANGED, "%s while the file %s: %s",
		      vault_strerror(e), _i ? "grew" : "was rewritten",
		      vault_errmsg(fx_v));
	ck_assert_ptr_nonnull(strstr(vault_errmsg(fx_v), c.path));
	ck_assert_uint_eq(vault_pending(fx_v), 0);
	ck_assert_uint_eq(vault_item_count(fx_v), 0);
	ck_assert_int_eq(fx_dir_entries(fx_vpath("tmp")), 0);
	ck_assert_int_eq(count_objects(), 0);
	/* Once it stops changing it goes in. */
	ingest(c.path, NULL);
	ok(vault_commit(fx_v), "commit");
}
END_TEST

/* --- Item ids ------------------------------------------------------------------ */

/* A hand-made ingest record, as log_stage_json writes them. */
static void apply_fake_item(const char *sha, uint64_t index)
{
	char rec[512];
	int n = snprintf(rec, sizeof rec,
			 "{\"v\":1,\"kind\":\"ingest\",\"time\":"
			 "\"2024-01-01T00:00:00Z\",\"nonce\":"
			 "\"00112233445566778899aabbccddeeff\",\"actor\":\"fixture\","
			 "\"item\":{"
			 "\"sha256\":\"%s\",\"size\":4,\"type\":\"text/plain\","
			 "\"name\":\"fake\",\"path\":\"/fake\",\"mtime\":0}}\n",
			 sha);
	ok(catalog_apply(fx_v, rec, (size_t)n, index), "catalog_apply");
}

START_TEST(item_find_prefixes)
{
	const vault_item *it = NULL;
	char *a = fx_write_random("a", 100, 83, NULL);
	char *b = fx_write_random("b", 100, 84, NULL);
	vault_ingest_result ra = ingest(a, NULL), rb = ingest(b, NULL);
	char p[80];
	ok(vault_commit(fx_v), "commit");

	ck_assert_int_eq(vault_item_find(fx_v, "", &it), VAULT_E_INVALID);
	snprintf(p, sizeof p, "%.7s", ra.id);
	ck_assert_int_eq(vault_item_find(fx_v, p, &it), VAULT_E_INVALID);
	ck_assert_ptr_null(it);
	snprintf(p, sizeof p, "%s0", ra.id); /* 65 digits */
	ck_assert_int_eq(vault_item_find(fx_v, p, &it), VAULT_E_INVALID);
	ck_assert_int_eq(vault_item_find(fx_v, "0123456z", &it),
			 VAULT_E_INVALID);
	ck_assert_int_eq(vault_item_find(fx_v, "01234567 ", &it),
			 VAULT_E_INVALID);

	snprintf(p, sizeof p, "%.8s", ra.id);
	ok(vault_item_find(fx_v, p, &it), "8 digits");
	ck_assert_str_eq(it->id, ra.id);
	for (char *q = p; *q; q++)
		if (*q >= 'a' && *q <= 'f')
			*q = (char)(*q - 'a' + 'A');
	ok(vault_item_find(fx_v, p, &it), "upper case");
	ck_assert_str_eq(it->id, ra.id);
	ok(vault_item_find(fx_v, rb.id, &it), "64 digits");
	ck_assert_str_eq(it->id, rb.id);

	/* Not held: the first digit changed. */
	snprintf(p, sizeof p, "%.12s", ra.id);
	p[0] = p[0] == '0' ? '1' : '0';
	if (strncmp(p, rb.id, 12) == 0)
		p[1] = p[1] == '0' ? '1' : '0';
	it = NULL;
	ck_assert_int_eq(vault_item_find(fx_v, p, &it), VAULT_E_NOTFOUND);
	ck_assert_ptr_null(it);
}
END_TEST

START_TEST(item_find_ambiguous)
{
	/* Two ids sharing their first 10 hex digits. */
	char a[65], b[65];
	const vault_item *it = NULL;
	memcpy(a, "abcdef0123", 10);
	memset(a + 10, '4', 54);
	a[64] = '\0';
	memcpy(b, a, 10);
	memset(b + 10, '5', 54);
	b[64] = '\0';
	ck_assert_uint_eq(strlen(a), 64);
	apply_fake_item(a, 1);
	apply_fake_item(b, 2);
	ck_assert_uint_eq(vault_item_count(fx_v), 2);

	ck_assert_int_eq(vault_item_find(fx_v, "abcdef0123", &it),
			 VAULT_E_AMBIGUOUS);
	ck_assert_ptr_null(it);
	ck_assert_ptr_nonnull(strstr(vault_errmsg(fx_v), "abcdef0123"));
	ck_assert_int_eq(vault_item_find(fx_v, "ABCDEF01", &it),
			 VAULT_E_AMBIGUOUS);
	ok(vault_item_find(fx_v, "abcdef01234", &it), "11 digits, first");
	ck_assert_str_eq(it->id, a);
	ok(vault_item_find(fx_v, "abcdef01235", &it), "11 digits, second");
	ck_assert_str_eq(it->id, b);
	ck_assert_int_eq(vault_item_find(fx_v, "abcdef01236", &it),
			 VAULT_E_NOTFOUND);
}
END_TEST

/* --- Passphrase slots ------------------------------------------------------- */

START_TEST(passphrase_add_remove)
{
	unsigned n = 0;
	vault_err oe, ue = VAULT_OK;

	ck_assert_int_eq(vault_passphrase_add(fx_v, "", 0,
					      VAULT_KDF_INTERACTIVE),
			 VAULT_E_INVALID);
	ok(vault_passphrase_add(fx_v, PASS2, PASS2LEN, VAULT_KDF_INTERACTIVE),
	   "add");
	ok(vault_passphrase_count(fx_v, &n), "count");
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(vault_log_size(fx_v), 2); /* a record of the change */
	ck_assert_int_eq(vault_passphrase_remove(fx_v, "wrong", 5),
			 VAULT_E_PASSPHRASE);

	/* Open with the new passphrase and remove the first one. */
	reopen_main(VAULT_OPEN_WRITE, PASS2, &oe, &ue);
	ck_assert_int_eq(oe, VAULT_OK);
	ok(ue, "unlock with the second passphrase");
	ok(vault_passphrase_remove(fx_v, FX_PASS, FX_PASSLEN), "remove first");
	ok(vault_passphrase_count(fx_v, &n), "count");
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(fx_dir_entries(fx_vpath("keys")), 1);

	/* The last one stays. */
	ck_assert_int_eq(vault_passphrase_remove(fx_v, PASS2, PASS2LEN),
			 VAULT_E_LASTSLOT);
	ok(vault_passphrase_count(fx_v, &n), "count");
	ck_assert_uint_eq(n, 1);

	reopen_main(0, FX_PASS, &oe, &ue);
	ck_assert_int_eq(ue, VAULT_E_PASSPHRASE);
	reopen_main(0, PASS2, &oe, &ue);
	ok(ue, "unlock after the removals");
	ck_assert_uint_eq(vault_log_size(fx_v), 3);
	vault_verify_summary sum;
	ok(vault_verify(fx_v, NULL, 0, NULL, &sum), "verify");
	ck_assert_uint_eq(sum.log_problems, 0);
}
END_TEST

/* --- Verify and tampering ------------------------------------------------- */

typedef struct {
	vault_check_kind kind;
	char id[65];
	char file[128];
	char detail[256];
} seen;

typedef struct {
	seen c[64];
	size_t n;
} seen_log;

static void on_check(void *ctx, const vault_check *c)
{
	seen_log *l = ctx;
	if (l->n == sizeof l->c / sizeof *l->c)
		return;
	seen *s = &l->c[l->n++];
	s->kind = c->kind;
	snprintf(s->id, sizeof s->id, "%s", c->item ? c->item->id : "");
	snprintf(s->file, sizeof s->file, "%s", c->file ? c->file : "");
	snprintf(s->detail, sizeof s->detail, "%s", c->detail ? c->detail : "");
}

static vault_verify_summary verify_all(seen_log *log)
{
	vault_verify_opts o = VAULT_VERIFY_OPTS_INIT;
	vault_verify_summary sum;
	memset(log, 0, sizeof *log);
	o.on_check = on_check;
	o.check_ctx = log;
	ok(vault_verify(fx_v, NULL, 0, &o, &sum), "verify");
	return sum;
}

static const seen *find_seen(const seen_log *l, vault_check_kind kind,
			     const char *file_prefix)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->c[i].kind == kind && strncmp(l->c[i].file, file_prefix,
						    strlen(file_prefix)) == 0)
			return &l->c[i];
	return NULL;
}

static void dump(const seen_log *l)
{
	for (size_t i = 0; i < l->n; i++)
		fprintf(stderr, "  check kind %d item %.12s file %s: %s\n",
			(int)l->c[i].kind, l->c[i].id, l->c[i].file,
			l->c[i].detail);
}

static void flip_byte(const char *path, long long off)
{
	unsigned char b;
	int fd = open(path, O_RDWR | O_CLOEXEC);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	if (off < 0)
		off += fx_file_size(path);
	ck_assert_int_eq(pread(fd, &b, 1, (off_t)off), 1);
	b ^= 0x01;
	ck_assert_int_eq(pwrite(fd, &b, 1, (off_t)off), 1);
	ck_assert_int_eq(close(fd), 0);
}

enum tamper {
	T_NONE,
	T_OBJ_FLIP,
	T_OBJ_TRUNCATE,
	T_OBJ_DELETE,
	T_OBJ_APPEND,
	T_OBJ_SWAP,
	T_RECORDS,
	T_RECORDS_CUT,
	T_LEAVES,
	T_LEAVES_CUT,
	T_STATE,
	T_SLOT_MAC,
	T_SLOT_KEY,
	T_COUNT
};

static const char *const tamper_name[T_COUNT] = {
	"nothing",
	"object byte flipped",
	"object truncated",
	"object deleted",
	"object with trailing bytes",
	"two objects swapped",
	"log/records byte",
	"log/records truncated",
	"log/leaves byte",
	"log/leaves truncated",
	"log/state byte",
	"slot MAC byte",
	"second slot key byte",
};

/* The slot file in keys/ that is not `other` (NULL: the only one). */
static char *slot_file(const char *other)
{
	DIR *d = opendir(fx_vpath("keys"));
	struct dirent *e;
	char *found = NULL;
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "slot-", 5) != 0)
			continue;
		char rel[300];
		snprintf(rel, sizeof rel, "keys/%s", e->d_name);
		if (other && strcmp(rel, other) == 0)
			continue;
		found = fx_keep(strdup(rel));
	}
	closedir(d);
	ck_assert_ptr_nonnull(found);
	return found;
}

START_TEST(tamper_is_detected)
{
	enum tamper t = (enum tamper)_i;
	/* Items 0 and 1 pad to the same size: swapped, only their content
	 * (the trailer and SHA-256) tells them apart. */
	static const size_t sizes[3] = {70001, 70000, 300000};
	char ids[3][65], objs[3][128];
	char *first_slot = slot_file(NULL), *second_slot = NULL;
	seen_log *log = fx_keep(malloc(sizeof *log));
	const seen *s;

	for (int i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof name, "item%d", i);
		vault_ingest_result r =
			ingest(fx_write_random(name, sizes[i], 90 + (uint64_t)i,
					       NULL),
			       NULL);
		memcpy(ids[i], r.id, 65);
		snprintf(objs[i], sizeof objs[i], "%s", object_rel(r.id));
	}
	ok(vault_commit(fx_v), "commit");
	if (t == T_SLOT_KEY) {
		ok(vault_passphrase_add(fx_v, PASS2, PASS2LEN,
					VAULT_KDF_INTERACTIVE),
		   "add");
		second_slot = slot_file(first_slot);
	}
	/* Control: all is well before the tamper. */
	vault_verify_summary sum = verify_all(log);
	ck_assert_uint_eq(sum.items_checked, 3);
	ck_assert_uint_eq(sum.items_ok, 3);
	ck_assert_uint_eq(sum.items_damaged, 0);
	ck_assert_uint_eq(sum.log_problems, 0);
	ck_assert_uint_eq(sum.unreferenced, 0);
	ck_assert_uint_eq(sum.bytes, 440001);
	ck_assert_uint_eq(log->n, 3);
	vault_free(fx_v);
	fx_v = NULL;

	/* The target is item 1 (70000 bytes: two chunks). */
	char *obj = fx_vpath(objs[1]);
	switch (t) {
	case T_NONE:
	case T_COUNT:
		break;
	case T_OBJ_FLIP:
		flip_byte(obj, 32 + 65553 + 100); /* second chunk */
		break;
	case T_OBJ_TRUNCATE:
		ck_assert_int_eq(truncate(obj, fx_file_size(obj) - 1), 0);
		break;
	case T_OBJ_DELETE:
		ck_assert_int_eq(unlink(obj), 0);
		break;
	case T_OBJ_APPEND: {
		int fd = open(obj, O_WRONLY | O_APPEND | O_CLOEXEC);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(write(fd, "extra", 5), 5);
		close(fd);
		break;
	}
	case T_OBJ_SWAP: {
		char *o0 = fx_vpath(objs[0]), *tmp = fx_path("swap");
		ck_assert_int_eq(rename(o0, tmp), 0);
		ck_assert_int_eq(rename(obj, o0), 0);
		ck_assert_int_eq(rename(tmp, obj), 0);
		break;
	}
	case T_RECORDS:
		flip_byte(fx_vpath("log/records"),
			  fx_file_size(fx_vpath("log/records")) / 2);
		break;
	case T_RECORDS_CUT: {
		char *rec = fx_vpath("log/records");
		ck_assert_int_eq(truncate(rec, fx_file_size(rec) - 1), 0);
		break;
	}
	case T_LEAVES:
		flip_byte(fx_vpath("log/leaves"), 2 * 32 + 7);
		break;
	case T_LEAVES_CUT:
		ck_assert_int_eq(truncate(fx_vpath("log/leaves"), 3 * 32), 0);
		break;
	case T_STATE: {
		size_t len;
		unsigned char *st = read_all(fx_vpath("log/state"), &len);
		unsigned char *root = memmem(st, len, "\nroot ", 6);
		ck_assert_ptr_nonnull(root);
		root[6] = root[6] == '0' ? '1' : '0';
		fx_write_file("vault/log/state", st, len);
		break;
	}
	case T_SLOT_MAC:
		flip_byte(fx_vpath(first_slot), 140);
		break;
	case T_SLOT_KEY:
		flip_byte(fx_vpath(second_slot), 90);
		break;
	}

	fx_reopen(0);
	sum = verify_all(log);
	if (t != T_NONE)
		fprintf(stderr, "tamper '%s':\n", tamper_name[t]);
	dump(log);

	switch (t) {
	case T_NONE:
	case T_COUNT:
		ck_assert_uint_eq(sum.items_ok, 3);
		ck_assert_uint_eq(sum.log_problems + sum.items_damaged +
					  sum.unreferenced,
				  0);
		break;
	case T_OBJ_FLIP:
	case T_OBJ_TRUNCATE:
	case T_OBJ_APPEND:
	case T_OBJ_DELETE:
		ck_assert_uint_eq(sum.items_checked, 3);
		ck_assert_uint_eq(sum.items_ok, 2);
		ck_assert_uint_eq(sum.items_damaged, 1);
		ck_assert_uint_eq(sum.log_problems, 0);
		s = find_seen(log,
			      t == T_OBJ_DELETE ? VAULT_CHECK_ITEM_MISSING
						: VAULT_CHECK_ITEM_DAMAGED,
			      objs[1]);
		ck_assert_msg(s != NULL, "%s: no report naming %s",
			      tamper_name[t], objs[1]);
		ck_assert_str_eq(s->id, ids[1]);
		ck_assert_str_ne(s->detail, "");
		break;
	case T_OBJ_SWAP:
		ck_assert_uint_eq(sum.items_damaged, 2);
		ck_assert_uint_eq(sum.items_ok, 1);
		for (int i = 0; i < 2; i++) {
			s = find_seen(log, VAULT_CHECK_ITEM_DAMAGED, objs[i]);
			ck_assert_msg(s != NULL, "swap: %s not reported",
				      objs[i]);
			ck_assert_str_eq(s->id, ids[i]);
		}
		break;
	case T_RECORDS:
	case T_RECORDS_CUT:
	case T_LEAVES:
	case T_LEAVES_CUT:
	case T_STATE: {
		const char *file =
			t == T_RECORDS || t == T_RECORDS_CUT ? "log/records"
			: t == T_LEAVES || t == T_LEAVES_CUT ? "log/leaves"
							     : "log/state";
		ck_assert_uint_ge(sum.log_problems, 1);
		ck_assert_uint_ge(vault_log_problems(fx_v), 1);
		s = find_seen(log, VAULT_CHECK_LOG_DAMAGED, file);
		ck_assert_msg(s != NULL, "%s: no report naming %s",
			      tamper_name[t], file);
		ck_assert_str_eq(s->file, file);
		ck_assert_str_ne(s->detail, "");
		/* "A vault with log problems can be read and verified"
		 * (vault.h): the items whose records are intact are still
		 * listed and checked. */
		if (t == T_RECORDS_CUT)
			/* Only the last record is cut. */
			ck_assert_msg(
				sum.items_ok >= 2,
				"a one-byte cut at the end of log/records "
				"leaves %llu of the 2 intact items verified",
				(unsigned long long)sum.items_ok);
		if (t == T_LEAVES_CUT)
			/* Every record is intact and authenticates. */
			ck_assert_msg(
				sum.items_ok == 3,
				"with log/leaves cut short, %llu of the 3 "
				"items whose records are intact are verified",
				(unsigned long long)sum.items_ok);
		/* A damaged log takes no new records. */
		vault_ingest_result r;
		fx_reopen(VAULT_OPEN_WRITE);
		ck_assert_int_eq(vault_ingest_file(fx_v, fx_path("item0"), NULL,
						   &r),
				 VAULT_E_CORRUPT);
		break;
	}
	case T_SLOT_MAC:
	case T_SLOT_KEY: {
		const char *file = t == T_SLOT_MAC ? first_slot : second_slot;
		ck_assert_uint_ge(sum.log_problems, 1);
		ck_assert_uint_eq(sum.items_ok, 3);
		s = find_seen(log, VAULT_CHECK_SLOT_DAMAGED, file);
		ck_assert_msg(s != NULL, "%s: no report naming %s",
			      tamper_name[t], file);
		ck_assert_str_eq(s->file, file);
		break;
	}
	}
}
END_TEST

START_TEST(unreferenced_object_reported_and_kept)
{
	char rel[80], planted[90];
	char *path = fx_write_random("real", 5000, 95, NULL);
	seen_log *log = fx_keep(malloc(sizeof *log));
	ingest(path, NULL);
	ok(vault_commit(fx_v), "commit");
	vault_free(fx_v);
	fx_v = NULL;
	/* A well-formed name that no item has. */
	snprintf(rel, sizeof rel, "objects/00/%064d", 0);
	snprintf(planted, sizeof planted, "vault/%s", rel);
	ck_assert_int_eq(mkdir(fx_vpath("objects/00"), 0700) == 0 ||
				 errno == EEXIST,
			 1);
	fx_write_file(planted, "planted", 7);
	fx_reopen(0);
	vault_verify_summary sum = verify_all(log);
	ck_assert_uint_eq(sum.items_ok, 1);
	ck_assert_uint_eq(sum.unreferenced, 1);
	const seen *s = find_seen(log, VAULT_CHECK_UNREFERENCED, rel);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s->file, rel);
	ck_assert_int_eq(access(fx_vpath(rel), F_OK), 0);
}
END_TEST

START_TEST(verify_selected_items)
{
	const vault_item *items[1];
	vault_verify_summary sum;
	ingest(fx_write_random("x", 1234, 96, NULL), NULL);
	ingest(fx_write_random("y", 4321, 97, NULL), NULL);
	ok(vault_commit(fx_v), "commit");
	items[0] = vault_item_at(fx_v, 1);
	ok(vault_verify(fx_v, items, 1, NULL, &sum), "verify");
	ck_assert_uint_eq(sum.items_checked, 1);
	ck_assert_uint_eq(sum.items_ok, 1);
	ck_assert_uint_eq(sum.bytes, 4321);
}
END_TEST

/* --- The shared corpus ------------------------------------------------------ */

typedef struct {
	unsigned char *buf;
	size_t cap, len;
	int overflow;
} mem_sink;

static int mem_write(void *ctx, const void *buf, size_t n)
{
	mem_sink *m = ctx;
	if (n > m->cap - m->len) {
		m->overflow = 1;
		return -1;
	}
	memcpy(m->buf + m->len, buf, n);
	m->len += n;
	return 0;
}

START_TEST(corpus_round_trip)
{
	char why[512];
	const char *corpus = fx_corpus(why, sizeof why);
	size_t mlen, nfiles = 0, col_path = (size_t)-1, col_sha = (size_t)-1;
	char mpath[4096];

	ck_assert_msg(corpus != NULL, "%s", why);
	snprintf(mpath, sizeof mpath, "%s/MANIFEST.tsv", corpus);
	char *manifest = (char *)read_all(mpath, &mlen);
	manifest[mlen] = '\0';

	/* Header: find the relpath and sha256 columns by name. */
	char *save = NULL, *line = strtok_r(manifest, "\n", &save);
	ck_assert_ptr_nonnull(line);
	{
		size_t col = 0;
		for (char *f = line; f; col++) {
			char *tab = strchr(f, '\t');
			size_t flen = tab ? (size_t)(tab - f) : strlen(f);
			if (flen == 7 && strncmp(f, "relpath", 7) == 0)
				col_path = col;
			if (flen == 6 && strncmp(f, "sha256", 6) == 0)
				col_sha = col;
			f = tab ? tab + 1 : NULL;
		}
	}
	ck_assert_msg(col_path != (size_t)-1 && col_sha != (size_t)-1,
		      "MANIFEST.tsv lacks relpath or sha256 columns");

	char(*shas)[65] = fx_keep(calloc(4096, sizeof *shas));
	char **paths = fx_keep(calloc(4096, sizeof *paths));
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		char *fields[32] = {0};
		size_t nf = 0;
		for (char *f = line; f && nf < 32;) {
			fields[nf++] = f;
			char *tab = strchr(f, '\t');
			if (tab)
				*tab = '\0';
			f = tab ? tab + 1 : NULL;
		}
		if (nf <= col_path || nf <= col_sha || !*fields[col_path])
			continue;
		ck_assert_uint_lt(nfiles, 4096);
		ck_assert_uint_eq(strlen(fields[col_sha]), 64);
		snprintf(shas[nfiles], 65, "%s", fields[col_sha]);
		size_t plen = strlen(corpus) + strlen(fields[col_path]) + 2;
		paths[nfiles] = fx_keep(malloc(plen));
		snprintf(paths[nfiles], plen, "%s/%s", corpus,
			 fields[col_path]);

		vault_ingest_result r = ingest(paths[nfiles], NULL);
		ck_assert_msg(strcmp(r.id, shas[nfiles]) == 0,
			      "%s: item id %s, MANIFEST says %s", paths[nfiles],
			      r.id, shas[nfiles]);
		nfiles++;
	}
	ck_assert_uint_gt(nfiles, 0);
	ok(vault_commit(fx_v), "commit");
	fprintf(stderr, "corpus: %zu files ingested from %s\n", nfiles, corpus);

	fx_reopen(0);
	for (size_t i = 0; i < nfiles; i++) {
		const vault_item *it;
		size_t flen;
		unsigned char *orig = NULL;
		mem_sink m = {0};
		ok(vault_item_find(fx_v, shas[i], &it), paths[i]);
		ck_assert_int_eq(fx_read_file(paths[i], &orig, &flen), 0);
		ck_assert_uint_eq(it->size, flen);
		m.cap = flen;
		m.buf = malloc(flen ? flen : 1);
		ck_assert_ptr_nonnull(m.buf);
		vault_err e =
			vault_item_read(fx_v, it, mem_write, &m, NULL, NULL);
		int same = e == VAULT_OK && !m.overflow && m.len == flen &&
			   memcmp(m.buf, orig, flen) == 0;
		free(m.buf);
		free(orig);
		ck_assert_msg(same, "%s does not read back identical (%s)",
			      paths[i], vault_errmsg(fx_v));
	}
	seen_log *log = fx_keep(malloc(sizeof *log));
	vault_verify_summary sum = verify_all(log);
	ck_assert_uint_eq(sum.items_ok, vault_item_count(fx_v));
	ck_assert_uint_eq(sum.items_damaged + sum.log_problems +
				  sum.unreferenced,
			  0);
}
END_TEST

static Suite *vault_suite(void)
{
	Suite *s = suite_create("vault");
	TCase *tc = tcase_create("lifecycle");
	fx_tcase_vault(tc);
	tcase_add_test(tc, create_makes_a_vault);
	tcase_add_test(tc, open_and_unlock);
	tcase_add_test(tc, wrong_passphrase);
	tcase_add_test(tc, no_vault_here);
	tcase_add_test(tc, create_refuses_existing);
	tcase_add_test(tc, newer_format_refused);
	tcase_add_test(tc, second_writer_is_refused);
	tcase_add_test(tc, writer_cleans_tmp);
	tcase_add_test(tc, read_only_and_locked_handles);
	suite_add_tcase(s, tc);

	tc = tcase_create("ingest");
	fx_tcase_vault(tc);
	tcase_add_test(tc, ingest_keeps_provenance);
	tcase_add_test(tc, dedup_two_receipts);
	tcase_add_test(tc, dedup_counts_receipts);
	tcase_add_test(tc, staged_ingest_vanishes_without_commit);
	tcase_add_test(tc, missing_object_restored_by_same_bytes);
	tcase_add_test(tc, commit_point_is_the_state_file);
	tcase_add_test(tc, many_items_stay_findable);
	tcase_add_test(tc, non_utf8_name_kept_escaped);
	tcase_add_test(tc, fifo_and_links_refused);
	tcase_add_test(tc, missing_file_refused);
	tcase_add_loop_test(tc, changing_file_refused, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("ids-and-slots");
	fx_tcase_vault(tc);
	tcase_add_test(tc, item_find_prefixes);
	tcase_add_test(tc, item_find_ambiguous);
	tcase_add_test(tc, passphrase_add_remove);
	suite_add_tcase(s, tc);

	tc = tcase_create("verify");
	fx_tcase_vault(tc);
	tcase_add_loop_test(tc, tamper_is_detected, T_NONE, T_COUNT);
	tcase_add_test(tc, unreferenced_object_reported_and_kept);
	tcase_add_test(tc, verify_selected_items);
	suite_add_tcase(s, tc);

	char why[512];
	if (fx_corpus(why, sizeof why)) {
		tc = tcase_create("corpus");
		fx_tcase_vault(tc);
		tcase_add_test(tc, corpus_round_trip);
		suite_add_tcase(s, tc);
	} else {
		printf("SKIP corpus round trip: %s\n", why);
	}
	return s;
}

int main(void)
{
	return fx_run(vault_suite());
}
