/*
 * keyslot.c: passphrase slots and the key schedule.
 *
 * A vault has one random 32-byte master key.  Each passphrase slot
 * (keys/slot-<16 hex>) holds that key encrypted under a key derived from
 * one passphrase with Argon2id (crypto_pwhash), so passphrases can be
 * added, changed and removed without re-encrypting anything.  Each slot
 * also carries a MAC made with a master-derived key, so that verify can
 * check slots whose passphrase it does not know.
 *
 * Slot file, 152 bytes, little-endian (docs/formats.md):
 *   0   "EVKEYSL1"
 *   8   u32 algorithm (2 = Argon2id v1.3)   12  u32 reserved (0)
 *   16  u64 opslimit                          24  u64 memlimit
 *   32  salt[16]                              48  nonce[24]
 *   72  XChaCha20-Poly1305(master key)[48], AD = bytes 0..71 || vault id
 *   120 HMAC-SHA-512/256(slot subkey, bytes 0..119)[32]
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "vault/internal.h"

#define SLOT_MAGIC "EVKEYSL1"
#define SLOT_BYTES 152
#define SLOT_ALG_ARGON2ID13 2
/* Bounds on costs read from a slot file, so a tampered slot cannot make
 * unlocking allocate or spin without end. */
#define SLOT_MAX_OPSLIMIT 64ULL
#define SLOT_MAX_MEMLIMIT (4ULL << 30)

void keys_derive(vault_keys *k)
{
	crypto_kdf_derive_from_key(k->object, 32, KEYID_OBJECT,
				   VAULT_KDF_CONTEXT, k->master);
	crypto_kdf_derive_from_key(k->name, 32, KEYID_NAME, VAULT_KDF_CONTEXT,
				   k->master);
	crypto_kdf_derive_from_key(k->record, 32, KEYID_RECORD,
				   VAULT_KDF_CONTEXT, k->master);
	crypto_kdf_derive_from_key(k->state, 32, KEYID_STATE, VAULT_KDF_CONTEXT,
				   k->master);
	crypto_kdf_derive_from_key(k->slot, 32, KEYID_SLOT, VAULT_KDF_CONTEXT,
				   k->master);
}

void keyslot_costs(vault_kdf kdf, uint64_t *ops, uint64_t *mem)
{
	switch (kdf) {
	case VAULT_KDF_INTERACTIVE:
		*ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		*mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
		break;
	case VAULT_KDF_SENSITIVE:
		*ops = crypto_pwhash_OPSLIMIT_SENSITIVE;
		*mem = crypto_pwhash_MEMLIMIT_SENSITIVE;
		break;
	case VAULT_KDF_MODERATE:
	default:
		*ops = crypto_pwhash_OPSLIMIT_MODERATE;
		*mem = crypto_pwhash_MEMLIMIT_MODERATE;
		break;
	}
}

static void slot_ad(const vault *v, const unsigned char *slot,
		    unsigned char ad[72 + 16])
{
	memcpy(ad, slot, 72);
	memcpy(ad + 72, v->id, 16);
}

/* Derive the wrapping key for a slot; 0 or -1 (out of memory). */
static int slot_wrap_key(unsigned char key[32], const char *pass, size_t len,
			 const unsigned char *slot)
{
	uint64_t ops = util_get_le64(slot + 16), mem = util_get_le64(slot + 24);
	return crypto_pwhash(key, 32, pass, len, slot + 32, ops, (size_t)mem,
			     crypto_pwhash_ALG_ARGON2ID13);
}

vault_err keyslot_create(vault *v, const char *pass, size_t len,
			 vault_kdf kdf, const char *prefix, char hexout[17])
{
	unsigned char slot[SLOT_BYTES], ad[88], rnd[8];
	unsigned char *key = NULL;
	uint64_t ops, mem;
	char rel[64], hex[17];
	vault_err e = VAULT_OK;
	int rc;

	if (len == 0)
		return vault_fail(v, VAULT_E_INVALID, "empty passphrase");
	keyslot_costs(kdf, &ops, &mem);
	memset(slot, 0, sizeof slot);
	memcpy(slot, SLOT_MAGIC, 8);
	util_le32(slot + 8, SLOT_ALG_ARGON2ID13);
	util_le64(slot + 16, ops);
	util_le64(slot + 24, mem);
	randombytes_buf(slot + 32, 16);
	randombytes_buf(slot + 48, 24);
	key = sodium_malloc(32);
	if (!key)
		return vault_fail(v, VAULT_E_NOMEM, "out of memory");
	if (slot_wrap_key(key, pass, len, slot) != 0) {
		e = vault_fail(v, VAULT_E_NOMEM,
			       "not enough memory for the passphrase key "
			       "derivation");
		goto out;
	}
	slot_ad(v, slot, ad);
	crypto_aead_xchacha20poly1305_ietf_encrypt(slot + 72, NULL,
						   v->keys->master, 32, ad,
						   sizeof ad, NULL, slot + 48, key);
	crypto_auth_hmacsha512256(slot + 120, slot, 120, v->keys->slot);
	randombytes_buf(rnd, sizeof rnd);
	util_hex(hex, rnd, sizeof rnd);
	snprintf(rel, sizeof rel, "%s%s", prefix, hex);
	rc = util_atomic_write(v->dirfd, rel, slot, sizeof slot);
	if (rc < 0)
		e = vault_fail_errno(v, rc, "cannot write '%s/%s'", v->dir, rel);
	else if (hexout)
		memcpy(hexout, hex, 17);
out:
	sodium_free(key);
	return e;
}

/* Call fn(ctx, relpath) for each keys/<prefix>* file, in directory
 * order: "slot-" the slots, "pending-" those whose addition may not have
 * been committed. */
static vault_err each_file(vault *v, const char *prefix,
			   int (*fn)(void *ctx, const char *rel), void *ctx)
{
	int fd = openat(v->dirfd, "keys", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return vault_fail_errno(v, errno, "cannot open '%s/keys'", v->dir);
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return vault_fail_errno(v, errno, "cannot list '%s/keys'", v->dir);
	}
	struct dirent *ent;
	char rel[300];
	while ((ent = readdir(d)) != NULL) {
		if (strncmp(ent->d_name, prefix, strlen(prefix)) != 0)
			continue;
		snprintf(rel, sizeof rel, "keys/%s", ent->d_name);
		if (fn(ctx, rel))
			break;
	}
	closedir(d);
	return VAULT_OK;
}

static vault_err each_slot(vault *v, int (*fn)(void *ctx, const char *rel),
			   void *ctx)
{
	return each_file(v, "slot-", fn, ctx);
}

/* Read a slot file and check its fixed fields; 0, or -1 with *why set. */
static int slot_read(vault *v, const char *rel, unsigned char slot[SLOT_BYTES],
		     const char **why)
{
	unsigned char *buf = NULL;
	size_t len;
	int rc = util_read_small(v->dirfd, rel, SLOT_BYTES, &buf, &len);
	if (rc < 0) {
		*why = rc == -EFBIG ? "longer than a slot" : "cannot be read";
		return -1;
	}
	if (len != SLOT_BYTES) {
		free(buf);
		*why = "wrong size for a slot";
		return -1;
	}
	memcpy(slot, buf, SLOT_BYTES);
	free(buf);
	if (memcmp(slot, SLOT_MAGIC, 8) != 0 ||
	    util_get_le32(slot + 8) != SLOT_ALG_ARGON2ID13) {
		*why = "not a version 1 Argon2id slot";
		return -1;
	}
	uint64_t ops = util_get_le64(slot + 16), mem = util_get_le64(slot + 24);
	if (ops < crypto_pwhash_OPSLIMIT_MIN || ops > SLOT_MAX_OPSLIMIT ||
	    mem < crypto_pwhash_MEMLIMIT_MIN || mem > SLOT_MAX_MEMLIMIT) {
		*why = "key derivation costs out of bounds";
		return -1;
	}
	return 0;
}

struct try_ctx {
	vault *v;
	const char *pass;
	size_t len;
	unsigned char *key;    /* sodium_malloc'd wrapping key scratch */
	unsigned char *master; /* where to put the master key */
	char *found;           /* slot name that opened */
	size_t foundsize;
	int opened;
	int nslots;
	int nomem;
};

static int try_slot(void *ctx, const char *rel)
{
	struct try_ctx *t = ctx;
	unsigned char slot[SLOT_BYTES], ad[88];
	const char *why;

	t->nslots++;
	if (slot_read(t->v, rel, slot, &why) < 0)
		return 0;
	if (slot_wrap_key(t->key, t->pass, t->len, slot) != 0) {
		t->nomem = 1;
		return 0;
	}
	slot_ad(t->v, slot, ad);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    t->master, NULL, NULL, slot + 72, 48, ad, sizeof ad,
		    slot + 48, t->key) != 0)
		return 0;
	t->opened = 1;
	if (t->found)
		snprintf(t->found, t->foundsize, "%s", rel);
	return 1;
}

static vault_err slot_search(vault *v, const char *pass, size_t len,
			     unsigned char *master, char *found,
			     size_t foundsize)
{
	char rel[300] = "";
	struct try_ctx t = {v, pass, len, NULL, master, rel, sizeof rel,
			    0, 0, 0};
	vault_err e;
	t.key = sodium_malloc(32);
	if (!t.key)
		return vault_fail(v, VAULT_E_NOMEM, "out of memory");
	e = each_slot(v, try_slot, &t);
	/* A slot whose addition a crash interrupted: it opens the vault only
	 * if the log records the addition (keyslot_settle). */
	int nslots = t.nslots;
	if (e == VAULT_OK && !t.opened)
		e = each_file(v, "pending-", try_slot, &t);
	sodium_free(t.key);
	if (e != VAULT_OK)
		return e;
	if (t.opened) {
		const char *dash = strrchr(rel, '-');
		snprintf(v->unlock_slot, sizeof v->unlock_slot, "%s",
			 dash ? dash + 1 : "");
		v->unlock_pending = strncmp(rel, "keys/pending-", 13) == 0;
		if (found)
			snprintf(found, foundsize, "%s", rel);
		return VAULT_OK;
	}
	if (nslots == 0)
		return vault_fail(v, VAULT_E_CORRUPT,
				  "'%s/keys' holds no passphrase slot", v->dir);
	if (t.nomem)
		return vault_fail(v, VAULT_E_NOMEM,
				  "not enough memory for the passphrase key "
				  "derivation");
	return vault_fail(v, VAULT_E_PASSPHRASE,
			  "wrong passphrase for vault '%s' (no passphrase slot "
			  "opens with it; if it is right, VAULT (the vault id) "
			  "or keys/ were altered)",
			  v->dir);
}

vault_err keyslot_unlock(vault *v, const char *pass, size_t len)
{
	return slot_search(v, pass, len, v->keys->master, NULL, 0);
}

/* Finish (or undo) what the log says about pending and removed slots. */
static int settle_pending(void *ctx, const char *rel)
{
	vault *v = ctx;
	char to[64];
	const char *hex = rel + strlen("keys/pending-");
	if (catalog_slot_added(&v->cat, hex) && !catalog_slot_removed(&v->cat, hex)) {
		snprintf(to, sizeof to, "keys/slot-%s", hex);
		renameat(v->dirfd, rel, v->dirfd, to);
	} else {
		unlinkat(v->dirfd, rel, 0);
	}
	return 0;
}

static int settle_removed(void *ctx, const char *rel)
{
	vault *v = ctx;
	if (catalog_slot_removed(&v->cat, rel + strlen("keys/slot-")))
		unlinkat(v->dirfd, rel, 0);
	return 0;
}

vault_err keyslot_settle(vault *v)
{
	const char *why = NULL;
	if (v->unlock_pending && !catalog_slot_added(&v->cat, v->unlock_slot))
		why = "its addition was interrupted before the log recorded it";
	else if (catalog_slot_removed(&v->cat, v->unlock_slot))
		why = "the log records its removal";
	if (why) {
		sodium_memzero(v->keys, sizeof *v->keys);
		return vault_fail(v, VAULT_E_PASSPHRASE,
				  "that passphrase does not open vault '%s': %s",
				  v->dir, why);
	}
	if (v->writable && v->log.nproblems == 0 &&
	    (v->cat.nadded || v->cat.nremoved)) {
		each_file(v, "pending-", settle_pending, v);
		each_slot(v, settle_removed, v);
		util_fsync_dir(v->dirfd, "keys");
	} else if (v->writable && v->log.nproblems == 0) {
		/* Nothing recorded: any pending slot is an uncommitted one. */
		each_file(v, "pending-", settle_pending, v);
	}
	return VAULT_OK;
}

vault_err keyslot_find(vault *v, const char *pass, size_t len, char *rel,
		       size_t relsize)
{
	unsigned char *scratch = sodium_malloc(32);
	vault_err e;
	if (!scratch)
		return vault_fail(v, VAULT_E_NOMEM, "out of memory");
	e = slot_search(v, pass, len, scratch, rel, relsize);
	if (e == VAULT_OK && sodium_memcmp(scratch, v->keys->master, 32) != 0)
		e = vault_fail(v, VAULT_E_PASSPHRASE,
			       "that passphrase opens a slot of another key");
	sodium_free(scratch);
	return e;
}

static int count_slot(void *ctx, const char *rel)
{
	(void)rel;
	(*(unsigned *)ctx)++;
	return 0;
}

/* A pending slot whose addition the log records counts: it unlocks, and
 * the next writer puts it in place. */
struct count_ctx {
	vault *v;
	unsigned n;
};

static int count_recorded(void *ctx, const char *rel)
{
	struct count_ctx *c = ctx;
	if (catalog_slot_added(&c->v->cat, rel + strlen("keys/pending-")))
		c->n++;
	return 0;
}

vault_err keyslot_count(vault *v, unsigned *out)
{
	unsigned n = 0;
	vault_err e = each_slot(v, count_slot, &n);
	if (e == VAULT_OK && v->unlocked) {
		struct count_ctx c = {v, 0};
		each_file(v, "pending-", count_recorded, &c);
		n += c.n;
	}
	if (e == VAULT_OK)
		*out = n;
	return e;
}

struct check_ctx {
	vault *v;
	void (*fn)(void *ctx, const char *file, const char *why);
	void *ctx;
};

static int check_slot(void *ctx, const char *rel)
{
	struct check_ctx *c = ctx;
	unsigned char slot[SLOT_BYTES];
	const char *why;
	if (slot_read(c->v, rel, slot, &why) < 0) {
		c->fn(c->ctx, rel, why);
		return 0;
	}
	if (crypto_auth_hmacsha512256_verify(slot + 120, slot, 120,
					     c->v->keys->slot) != 0)
		c->fn(c->ctx, rel, "slot MAC does not verify (altered or foreign)");
	return 0;
}

vault_err keyslot_check_all(vault *v,
			    void (*fn)(void *ctx, const char *file,
				       const char *why),
			    void *ctx)
{
	struct check_ctx c = {v, fn, ctx};
	return each_slot(v, check_slot, &c);
}

/* --- Public: passphrase management ------------------------------------- */

static vault_err need_writer(vault *v)
{
	if (!v->unlocked || !v->writable)
		return vault_fail(v, VAULT_E_STATE,
				  "vault must be unlocked and open for writing");
	return VAULT_OK;
}

/* A passphrase change and its record must not part company, whatever
 * fails or crashes in between.  The new slot is written as
 * keys/pending-<hex> (never used to unlock unless the log records it), the
 * `passphrase-add` record naming <hex> is committed, then the slot is
 * renamed keys/slot-<hex>.  A removal commits its record naming the slot,
 * then deletes it.  Whatever the crash left half done, the next writer to
 * open the vault finishes as the log says (keyslot_settle), and until then
 * unlocking obeys the log too. */
vault_err vault_passphrase_add(vault *v, const char *pass, size_t passlen,
			       vault_kdf kdf)
{
	char hex[17], from[64], to[64];
	vault_err e = need_writer(v);
	if (e == VAULT_OK)
		e = keyslot_create(v, pass, passlen, kdf, "keys/pending-", hex);
	if (e != VAULT_OK)
		return e;
	snprintf(from, sizeof from, "keys/pending-%s", hex);
	snprintf(to, sizeof to, "keys/slot-%s", hex);
	/* log_stage_json() takes the fields (and frees them). */
	json_t *f = json_pack("{s:s}", "slot", hex);
	e = f ? log_stage_json(v, "passphrase-add", f)
	      : vault_fail(v, VAULT_E_NOMEM, "out of memory");
	if (e == VAULT_OK)
		e = vault_commit(v);
	if (e != VAULT_OK) {
		unlinkat(v->dirfd, from, 0);
		return e;
	}
	/* Committed: from here on the addition stands; a failure to rename
	 * is finished by the next writer. */
	if (renameat(v->dirfd, from, v->dirfd, to) == 0)
		util_fsync_dir(v->dirfd, "keys");
	return VAULT_OK;
}

vault_err vault_passphrase_remove(vault *v, const char *pass, size_t passlen)
{
	char rel[300];
	unsigned n;
	vault_err e = need_writer(v);
	if (e != VAULT_OK)
		return e;
	if ((e = keyslot_count(v, &n)) != VAULT_OK)
		return e;
	if ((e = keyslot_find(v, pass, passlen, rel, sizeof rel)) != VAULT_OK)
		return e;
	if (strncmp(rel, "keys/slot-", 10) != 0)
		return vault_fail(v, VAULT_E_STATE, "that passphrase's slot is "
				  "still being added; open the vault again first");
	if (n <= 1)
		return vault_fail(v, VAULT_E_LASTSLOT,
				  "refusing to remove the only passphrase of '%s': "
				  "add another first",
				  v->dir);
	json_t *f = json_pack("{s:s}", "slot", rel + 10);
	e = f ? log_stage_json(v, "passphrase-remove", f)
	      : vault_fail(v, VAULT_E_NOMEM, "out of memory");
	if (e != VAULT_OK)
		return e;
	if ((e = vault_commit(v)) != VAULT_OK)
		return e;
	if (unlinkat(v->dirfd, rel, 0) == 0)
		util_fsync_dir(v->dirfd, "keys");
	return VAULT_OK;
}

vault_err vault_passphrase_count(vault *v, unsigned *out)
{
	return keyslot_count(v, out);
}
