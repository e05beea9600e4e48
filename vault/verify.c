/*
 * verify.c: checking that nothing held has been altered.  Every object is
 * decrypted completely (each chunk and the final tag authenticated), its
 * SHA-256 and size recomputed and compared with the log, and its keyed
 * name recomputed (object_decrypt); the log's records, leaves, Merkle root
 * and state MAC were checked when the vault was unlocked and their
 * problems are reported here; every passphrase slot's MAC is checked; and
 * objects that no item refers to are listed (never deleted: they are what
 * an interrupted ingest leaves, or something put there by someone else).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vault/internal.h"

typedef struct {
	vault *v;
	const vault_verify_opts *o;
	vault_verify_summary *sum;
	uint64_t done_before;  /* bytes of items already checked */
	uint64_t grand_total;  /* bytes of all items to check */
} verify_ctx;

static void emit(verify_ctx *c, vault_check_kind kind, const vault_item *item,
		 const char *file, const char *detail)
{
	vault_check chk = {kind, item, file, detail};
	if (c->o->on_check)
		c->o->on_check(c->o->check_ctx, &chk);
}

static void slot_damaged(void *ctx, const char *file, const char *why)
{
	verify_ctx *c = ctx;
	c->sum->log_problems++;
	emit(c, VAULT_CHECK_SLOT_DAMAGED, NULL, file, why);
}

static void item_progress(void *ctx, uint64_t done, uint64_t total)
{
	verify_ctx *c = ctx;
	(void)total;
	if (c->o->progress)
		c->o->progress(c->o->progress_ctx, c->done_before + done,
			       c->grand_total);
}

/* The metadata document an item's ingest record names: it must decrypt
 * and match that SHA-256 and size like the item itself.  1 if sound (or
 * there is none). */
static int check_meta(verify_ctx *c, const vault_item *it)
{
	char file[128], why[1100];
	vault_item m;
	if (!it->meta[0])
		return 1;
	memset(&m, 0, sizeof m);
	memcpy(m.id, it->meta, sizeof m.id);
	m.size = it->meta_size;
	vault_err e = object_decrypt(c->v, &m, NULL, NULL, NULL, NULL, file,
				     sizeof file);
	if (e == VAULT_OK)
		return 1;
	snprintf(why, sizeof why, "its metadata document: %s", c->v->err);
	emit(c, e == VAULT_E_NOTFOUND ? VAULT_CHECK_ITEM_MISSING
				      : VAULT_CHECK_ITEM_DAMAGED,
	     it, file, why);
	return 0;
}

static void check_item(verify_ctx *c, const vault_item *it)
{
	char file[128];
	vault_err e = object_decrypt(c->v, it, NULL, NULL, item_progress, c,
				     file, sizeof file);
	c->sum->items_checked++;
	c->done_before += it->size;
	if (e != VAULT_OK)
		emit(c, e == VAULT_E_NOTFOUND ? VAULT_CHECK_ITEM_MISSING
					      : VAULT_CHECK_ITEM_DAMAGED,
		     it, file, c->v->err);
	/* Both are checked and reported, the item counted once. */
	int meta_ok = check_meta(c, it);
	if (e == VAULT_OK && meta_ok) {
		c->sum->items_ok++;
		c->sum->bytes += it->size;
		emit(c, VAULT_CHECK_ITEM_OK, it, file, NULL);
		return;
	}
	c->sum->items_damaged++;
}


typedef struct {
	verify_ctx *c;
	char (*names)[65]; /* expected names, sorted */
	size_t n;
} orphan_ctx;

static int cmp_name(const void *a, const void *b)
{
	return memcmp(a, b, 64);
}

static int orphan_check(void *ctx, const char *name)
{
	orphan_ctx *oc = ctx;
	char file[128];
	if (strlen(name) == 64 &&
	    bsearch(name, oc->names, oc->n, sizeof *oc->names, cmp_name))
		return 0;
	oc->c->v->store->ops->locate(oc->c->v->store, name, file, sizeof file);
	oc->c->sum->unreferenced++;
	emit(oc->c, VAULT_CHECK_UNREFERENCED, NULL, file,
	     "no item refers to this object (left by an interrupted ingest, "
	     "or not written by this vault); kept");
	return 0;
}

static vault_err find_orphans(verify_ctx *c)
{
	vault *v = c->v;
	orphan_ctx oc = {c, NULL, v->cat.n};
	oc.names = malloc((oc.n ? oc.n * 2 : 1) * sizeof *oc.names);
	if (!oc.names)
		return vault_fail(v, VAULT_E_NOMEM, "out of memory");
	for (size_t i = 0, n = oc.n; i < n; i++) {
		unsigned char sha[32];
		util_unhex(sha, 32, v->cat.items[i]->id);
		object_name(v, sha, oc.names[i]);
		if (v->cat.items[i]->meta[0]) {
			util_unhex(sha, 32, v->cat.items[i]->meta);
			object_name(v, sha, oc.names[oc.n++]);
		}
	}
	qsort(oc.names, oc.n, sizeof *oc.names, cmp_name);
	int rc = v->store->ops->list(v->store, orphan_check, &oc);
	free(oc.names);
	if (rc < 0)
		return vault_fail_errno(v, rc, "cannot list the objects of '%s'",
					v->dir);
	return VAULT_OK;
}

static void log_damaged(void *ctx, const char *file, const char *why)
{
	verify_ctx *c = ctx;
	c->sum->log_problems++;
	emit(c, VAULT_CHECK_LOG_DAMAGED, NULL, file, why);
}

/* Every stored checkpoint against the leaves; the latest must be the
 * committed size; and the trusted checkpoint, if given, still in the
 * log.  `committed` is 0 when checking without the key. */
static void verify_checkpoints(verify_ctx *c, const unsigned char (*leaves)[32],
			       uint64_t nleaves, uint64_t committed)
{
	vault *v = c->v;
	uint64_t latest = 0;
	char msg[256];
	custody_check_checkpoints(v, leaves, nleaves,
				  committed ? committed : UINT64_MAX, &latest,
				  log_damaged, c);
	c->sum->log_checked = latest;
	if (committed && latest != committed) {
		snprintf(msg, sizeof msg,
			 "the latest valid checkpoint is for %" PRIu64
			 " records, the log has %" PRIu64,
			 latest, committed);
		log_damaged(c, "log/checkpoints", msg);
	}
	if (!committed && latest == 0)
		log_damaged(c, "log/checkpoints", "no valid checkpoint");
	if (c->o->trusted_checkpoint) {
		const char *why = custody_check_trusted(
			v, c->o->trusted_checkpoint, c->o->trusted_len, leaves,
			committed ? committed : latest);
		if (why)
			log_damaged(c, "log", why);
	}
}

vault_err vault_verify(vault *v, const vault_item *const *items, size_t n,
		       const vault_verify_opts *opts, vault_verify_summary *out)
{
	vault_verify_opts defaults = VAULT_VERIFY_OPTS_INIT;
	vault_verify_summary sum;
	verify_ctx c = {v, opts ? opts : &defaults, &sum, 0, 0};
	vault_err e;

	memset(&sum, 0, sizeof sum);
	if (!v->unlocked)
		return vault_fail(v, VAULT_E_STATE, "vault is locked");
	for (size_t i = 0; i < v->log.nproblems; i++) {
		char file[64];
		const char *p = v->log.problems[i];
		size_t flen = strcspn(p, ":");
		snprintf(file, sizeof file, "%.*s", (int)flen, p);
		sum.log_problems++;
		emit(&c, VAULT_CHECK_LOG_DAMAGED, NULL, file,
		     p[flen] ? p + flen + 2 : p);
	}
	if ((e = keyslot_check_all(v, slot_damaged, &c)) != VAULT_OK)
		return e;
	/* Also when other records are damaged: damage must not hide a
	 * forgery elsewhere. */
	custody_verify_signatures(v, log_damaged, &c);
	/* With the state unreadable the committed size is unknown, and that
	 * problem is reported already: no cascade over every checkpoint. */
	if (v->log.size > 0 || v->log.nproblems == 0)
		verify_checkpoints(&c, (const unsigned char (*)[32])v->log.leaves,
				   v->log.size, v->log.size);
	size_t count = n ? n : v->cat.n;
	for (size_t i = 0; i < count; i++)
		c.grand_total += (n ? items[i] : v->cat.items[i])->size;
	for (size_t i = 0; i < count; i++)
		check_item(&c, n ? items[i] : v->cat.items[i]);
	if (n == 0 && (e = find_orphans(&c)) != VAULT_OK)
		return e;
	*out = sum;
	return VAULT_OK;
}

vault_err vault_verify_public(vault *v, const vault_verify_opts *opts,
			      vault_verify_summary *out)
{
	vault_verify_opts defaults = VAULT_VERIFY_OPTS_INIT;
	vault_verify_summary sum;
	verify_ctx c = {v, opts ? opts : &defaults, &sum, 0, 0};
	unsigned char (*leaves)[32] = NULL;
	uint64_t n = 0;
	vault_err e;

	memset(&sum, 0, sizeof sum);
	if (v->dirfd < 0)
		return vault_fail(v, VAULT_E_STATE, "vault not open");
	if ((e = custody_load_public(v, &leaves, &n)) != VAULT_OK)
		return e;
	if (strcmp(v->log.vkey.name, v->log.origin) != 0) {
		char msg[400];
		snprintf(msg, sizeof msg,
			 "the key of log '%s', not of this vault's log '%s' "
			 "(log/ and pub/ of another vault?)",
			 v->log.vkey.name, v->log.origin);
		log_damaged(&c, "pub/log.vkey", msg);
	}
	verify_checkpoints(&c, (const unsigned char (*)[32])leaves, n, 0);
	free(leaves);
	*out = sum;
	return VAULT_OK;
}
