/*
 * log.c: the vault's log of actions, and its single commit point.
 *
 * Every change to a vault is a record appended to the log: the catalogue
 * of items is nothing but the replay of the records.  Three files:
 *
 *   log/records  encrypted records, each: u32 length | nonce[24] | AEAD
 *                ciphertext (XChaCha20-Poly1305, AD = "evault-record-v1"
 *                || vault id || u64 index) of u32 record length | record |
 *                zeros to a multiple of 256 bytes; so a record cannot be
 *                moved, swapped between vaults, read without the key, or
 *                measured to guess a file name's length;
 *   log/leaves   the RFC 6962 leaf hash of each record, SHA-256(0x00 ||
 *                record), 32 bytes each, in plain: the Merkle tree over
 *                them is what checkpoints will sign;
 *   log/state    the commit point: record count, byte length of records,
 *                Merkle root, MAC.  It is replaced atomically (temp,
 *                fsync, rename, fsync of log/) once the records and leaves
 *                it covers are on disk, so after a crash the log is
 *                exactly its last committed prefix.  Bytes past the
 *                committed lengths are leftovers of an interrupted commit;
 *                the next commit truncates them.
 *
 * A record is one line of JSON (UTF-8, ASCII-escaped) ending in "\n", with
 * a random nonce so that its leaf hash cannot be guessed from its content.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "vault/internal.h"

#define STATE_MAX 4096
#define RECORD_MAX (16u << 20) /* bound on one record's length */
#define RECORD_AD_LABEL "evault-record-v1"
#define ENTRY_HEAD (4 + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
/* Records are padded before encryption to a multiple of this, so the
 * length of a file name or a note does not show through. */
#define RECORD_PAD 256

/* Sealed plaintext of a record: u32 length | record | zeros. */
static size_t padded_len(size_t len)
{
	return (4 + len + RECORD_PAD - 1) / RECORD_PAD * RECORD_PAD;
}

void log_problem(vault_log *l, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	char **p = realloc(l->problems, (l->nproblems + 1) * sizeof *p);
	if (!p)
		return;
	l->problems = p;
	p[l->nproblems] = strdup(buf);
	if (p[l->nproblems])
		l->nproblems++;
}

static void clear_problems(vault_log *l)
{
	for (size_t i = 0; i < l->nproblems; i++)
		free(l->problems[i]);
	free(l->problems);
	l->problems = NULL;
	l->nproblems = 0;
}

void log_release(vault_log *l)
{
	clear_problems(l);
	free(l->leaves);
	free(l->offsets);
	note_signer_free(l->signer);
	free(l->cur_text);
	for (int i = 0; i < 4; i++)
		free(l->cur_fields[i]);
	if (l->pend) {
		sodium_memzero(l->pend, l->pend_cap);
		free(l->pend);
	}
	memset(l, 0, sizeof *l);
}

static int leaves_reserve(vault_log *l, uint64_t n)
{
	if (n <= l->leaves_cap)
		return 0;
	size_t cap = l->leaves_cap ? l->leaves_cap : 64;
	while (cap < n)
		cap *= 2;
	void *p = realloc(l->leaves, cap * 32);
	if (!p)
		return -1;
	l->leaves = p;
	p = realloc(l->offsets, cap * sizeof *l->offsets);
	if (!p)
		return -1;
	l->offsets = p;
	l->leaves_cap = cap;
	return 0;
}

static void record_ad(const vault *v, uint64_t index, unsigned char ad[40])
{
	memcpy(ad, RECORD_AD_LABEL, 16);
	memcpy(ad + 16, v->id, 16);
	util_le64(ad + 32, index);
}

/* --- State file ---------------------------------------------------------- */

static size_t state_text(const vault *v, uint64_t size, uint64_t bytes,
			 const unsigned char root[32], char *out, size_t n)
{
	char roothex[65], machex[65];
	unsigned char mac[32];
	util_hex(roothex, root, 32);
	int len = snprintf(out, n,
			   "evault-state 1\nvault %s\nsize %" PRIu64
			   "\nrecords %" PRIu64 "\nroot %s\n",
			   v->id_hex, size, bytes, roothex);
	crypto_auth_hmacsha512256(mac, (unsigned char *)out, (size_t)len,
				  v->keys->state);
	util_hex(machex, mac, 32);
	len += snprintf(out + len, n - (size_t)len, "mac %s\n", machex);
	return (size_t)len;
}

/* Parse and authenticate log/state; 0, or -1 with a problem noted. */
static int state_read(vault *v, uint64_t *size, uint64_t *bytes,
		      unsigned char root[32])
{
	unsigned char *buf = NULL, mac[32];
	size_t len;
	char idhex[33], roothex[65], machex[65];
	int consumed = 0;
	int rc = util_read_small(v->dirfd, "log/state", STATE_MAX, &buf, &len);
	if (rc < 0) {
		log_problem(&v->log, "log/state: cannot be read: %s",
			    strerror(-rc));
		return -1;
	}
	if (sscanf((char *)buf,
		   "evault-state 1\nvault %32[0-9a-f]\nsize %" SCNu64
		   "\nrecords %" SCNu64 "\nroot %64[0-9a-f]\n%n",
		   idhex, size, bytes, roothex, &consumed) != 4 ||
	    consumed == 0 || strlen(roothex) != 64 ||
	    sscanf((char *)buf + consumed, "mac %64[0-9a-f]\n", machex) != 1 ||
	    strlen(machex) != 64 || len != (size_t)consumed + 69) {
		free(buf);
		log_problem(&v->log, "log/state: not a valid state file");
		return -1;
	}
	util_unhex(mac, 32, machex);
	if (crypto_auth_hmacsha512256_verify(mac, buf, (size_t)consumed,
					     v->keys->state) != 0) {
		free(buf);
		log_problem(&v->log, "log/state: MAC does not verify "
				     "(altered, or from another vault)");
		return -1;
	}
	free(buf);
	if (strcmp(idhex, v->id_hex) != 0) {
		log_problem(&v->log, "VAULT: vault id %s does not match the "
				     "log's vault id %s",
			    v->id_hex, idhex);
		return -1;
	}
	util_unhex(root, 32, roothex);
	/* One exact spelling: written back, the text must be the file, byte
	 * for byte (sscanf's white space would let the last byte change). */
	char again[STATE_MAX];
	unsigned char *file = NULL;
	size_t flen, alen = state_text(v, *size, *bytes, root, again,
				       sizeof again);
	if (util_read_small(v->dirfd, "log/state", STATE_MAX, &file, &flen) < 0 ||
	    flen != alen || memcmp(file, again, alen) != 0) {
		free(file);
		log_problem(&v->log, "log/state: not in its exact form (altered)");
		return -1;
	}
	free(file);
	return 0;
}

static vault_err state_write(vault *v, uint64_t size, uint64_t bytes,
			     const unsigned char root[32])
{
	char text[STATE_MAX];
	size_t len = state_text(v, size, bytes, root, text, sizeof text);
	int rc = util_atomic_write(v->dirfd, "log/state", text, len);
	if (rc < 0)
		return vault_fail_errno(v, rc, "cannot commit '%s/log/state'",
					v->dir);
	return VAULT_OK;
}

vault_err log_create(vault *v)
{
	unsigned char root[32];
	char vkey[NOTE_VKEY_BYTES + 1];
	static const char *const files[] = {"log/records", "log/leaves"};
	vault_err e = custody_log_key(v);
	if (e != VAULT_OK)
		return e;
	if (mkdirat(v->dirfd, "log/checkpoints", 0700) < 0)
		return vault_fail_errno(v, errno, "cannot create '%s/log/checkpoints'",
					v->dir);
	note_vkey_format(&v->log.vkey, vkey);
	strcat(vkey, "\n");
	int wrc = util_atomic_write(v->dirfd, "pub/log.vkey", vkey, strlen(vkey));
	if (wrc < 0)
		return vault_fail_errno(v, wrc, "cannot write '%s/pub/log.vkey'",
					v->dir);
	merkle_frontier_init(&v->log.frontier);
	v->log.pend_frontier = v->log.frontier;
	for (int i = 0; i < 2; i++) {
		int fd = openat(v->dirfd, files[i],
				O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			return vault_fail_errno(v, errno, "cannot create '%s/%s'",
						v->dir, files[i]);
		fsync(fd);
		close(fd);
	}
	merkle_root(NULL, 0, root);
	memcpy(v->log.root, root, 32);
	return state_write(v, 0, 0, root);
}

/* --- Loading -------------------------------------------------------------- */

static int load_leaves(vault *v, uint64_t size)
{
	int fd = openat(v->dirfd, "log/leaves", O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0) {
		log_problem(&v->log, "log/leaves: cannot be opened: %s",
			    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		close(fd);
		log_problem(&v->log, "log/leaves: cannot stat: %s", strerror(errno));
		return -1;
	}
	if (leaves_reserve(&v->log, size + 1) < 0) {
		close(fd);
		return -1;
	}
	/* A file cut short is reported; the leaves it lacks stay zero, so
	 * each of their records is reported too, and every record that is
	 * there is still replayed (each is sealed with its own position). */
	uint64_t have = (uint64_t)st.st_size / 32 < size ? (uint64_t)st.st_size / 32
							 : size;
	if (have < size)
		log_problem(&v->log,
			    "log/leaves: %" PRIu64 " leaves, shorter than the %" PRIu64
			    " the state commits to",
			    have, size);
	memset(v->log.leaves, 0, size * 32);
	ssize_t r = util_read_full(fd, v->log.leaves, have * 32);
	close(fd);
	if (r < 0 || (uint64_t)r != have * 32) {
		log_problem(&v->log, "log/leaves: read failed");
		return -1;
	}
	return 0;
}

/* Decrypt entry `index` (ciphertext ct of len bytes under nonce) into pt
 * (len bytes) and strip its padding: the record is pt[0..*rlen), followed
 * by a NUL.  0, or -1 with *why set. */
static int open_entry(const vault *v, uint64_t index,
		      const unsigned char *nonce,
		      const unsigned char *ct, uint32_t len, unsigned char *pt,
		      size_t *rlen, const char **why)
{
	unsigned char ad[40];
	unsigned long long ptlen;
	record_ad(v, index, ad);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &ptlen, NULL, ct, len,
						       ad, sizeof ad, nonce,
						       v->keys->record) != 0) {
		*why = "does not authenticate";
		return -1;
	}
	uint32_t n = ptlen >= 4 ? util_get_le32(pt) : 0;
	if (ptlen < 4 || n == 0 || n > ptlen - 4 || padded_len(n) != ptlen) {
		*why = "has a bad inner length";
		return -1;
	}
	memmove(pt, pt + 4, n);
	pt[n] = '\0';
	*rlen = n;
	return 0;
}

/* Check one decrypted record's leaf and replay its body into the
 * catalogue.  Signatures are checked by verify, on both cores
 * (custody_verify_signatures): the records are authenticated by the
 * vault's key already, and opening a vault must stay fast. */
static void replay_record(vault *v, uint64_t i, const char *rec, size_t len)
{
	unsigned char leaf[32];
	const char *body;
	size_t bodylen;

	merkle_leaf_hash((const unsigned char *)rec, len, leaf);
	if (memcmp(leaf, v->log.leaves[i], 32) != 0)
		log_problem(&v->log,
			    "log/leaves: leaf %" PRIu64
			    " does not match the hash of record %" PRIu64,
			    i, i);
	if (custody_body(rec, len, &body, &bodylen) < 0) {
		log_problem(&v->log, "log/records: record %" PRIu64
				     " is not a signed note",
			    i);
		return;
	}
	if (catalog_apply(v, body, bodylen, i) != VAULT_OK)
		log_problem(&v->log, "log/records: record %" PRIu64
				     " is not a valid record: %s",
			    i, v->err);
}

/* Read and check the committed records, feeding each to the catalogue. */
static void load_records(vault *v, uint64_t size, uint64_t bytes)
{
	unsigned char head[ENTRY_HEAD];
	unsigned char *ct = NULL, *pt = NULL;
	uint64_t off = 0, i;
	int fd = openat(v->dirfd, "log/records", O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0) {
		log_problem(&v->log, "log/records: cannot be opened: %s",
			    strerror(errno));
		return;
	}
	if (fstat(fd, &st) < 0) {
		log_problem(&v->log, "log/records: cannot stat: %s", strerror(errno));
		close(fd);
		return;
	}
	if ((uint64_t)st.st_size < bytes) {
		/* Cut short: say so, and still replay the records that fit. */
		log_problem(&v->log,
			    "log/records: shorter (%jd bytes) than the %" PRIu64
			    " bytes the state commits to",
			    (intmax_t)st.st_size, bytes);
		bytes = (uint64_t)st.st_size;
	}
	for (i = 0; i < size; i++) {
		v->log.offsets[i] = off;
		if (bytes - off < ENTRY_HEAD ||
		    util_read_full(fd, head, ENTRY_HEAD) != ENTRY_HEAD) {
			log_problem(&v->log, "log/records: record %" PRIu64
					     " is cut short",
				    i);
			break;
		}
		uint32_t len = util_get_le32(head);
		off += ENTRY_HEAD;
		if (len < crypto_aead_xchacha20poly1305_ietf_ABYTES + 1 ||
		    len > RECORD_MAX || len > bytes - off) {
			log_problem(&v->log,
				    "log/records: record %" PRIu64
				    " has an impossible length (%u); the records "
				    "after it cannot be located",
				    i, len);
			break;
		}
		free(ct);
		free(pt);
		ct = malloc(len);
		pt = malloc(len + 1);
		if (!ct || !pt || util_read_full(fd, ct, len) != (ssize_t)len) {
			log_problem(&v->log, "log/records: record %" PRIu64
					     " cannot be read",
				    i);
			break;
		}
		off += len;
		size_t rlen;
		const char *why;
		if (open_entry(v, i, head + 4, ct, len, pt, &rlen, &why) < 0) {
			log_problem(&v->log, "log/records: record %" PRIu64 " %s",
				    i, why);
			continue;
		}
		replay_record(v, i, (char *)pt, rlen);
		sodium_memzero(pt, rlen);
	}
	if (i == size && off != bytes)
		log_problem(&v->log, "log/records: %" PRIu64
				     " records end at byte %" PRIu64
				     ", the state says %" PRIu64,
			    size, off, bytes);
	free(ct);
	free(pt);
	close(fd);
}

int log_read_record_fd(const vault *v, int fd, uint64_t index, char **out,
		       size_t *len, const char **why)
{
	unsigned char head[ENTRY_HEAD], leaf[32], *ct = NULL, *pt = NULL;
	size_t rlen;
	int rc = -1;

	if (index >= v->log.size) {
		*why = "is not in the committed log";
		return -1;
	}
	if (pread(fd, head, ENTRY_HEAD, (off_t)v->log.offsets[index]) !=
	    ENTRY_HEAD) {
		*why = "is cut short";
		return -1;
	}
	uint32_t clen = util_get_le32(head);
	if (clen < crypto_aead_xchacha20poly1305_ietf_ABYTES + 1 ||
	    clen > RECORD_MAX) {
		*why = "has an impossible length";
		return -1;
	}
	ct = malloc(clen);
	pt = malloc((size_t)clen + 1);
	if (!ct || !pt) {
		*why = "cannot be read: out of memory";
		goto out;
	}
	if (pread(fd, ct, clen, (off_t)(v->log.offsets[index] + ENTRY_HEAD)) !=
	    (ssize_t)clen) {
		*why = "is cut short";
		goto out;
	}
	if (open_entry(v, index, head + 4, ct, clen, pt, &rlen, why) < 0)
		goto out;
	merkle_leaf_hash(pt, rlen, leaf);
	if (memcmp(leaf, v->log.leaves[index], 32) != 0) {
		*why = "does not match its leaf";
		goto out;
	}
	*out = (char *)pt;
	*len = rlen;
	pt = NULL;
	rc = 0;
out:
	free(ct);
	free(pt);
	return rc;
}

vault_err log_read_record(vault *v, uint64_t index, char **out, size_t *len)
{
	const char *why;
	int fd = openat(v->dirfd, "log/records", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vault_fail_errno(v, errno, "cannot open '%s/log/records'",
					v->dir);
	int rc = log_read_record_fd(v, fd, index, out, len, &why);
	close(fd);
	if (rc < 0)
		return vault_fail(v, VAULT_E_CORRUPT,
				  "log/records: record %" PRIu64 " %s", index, why);
	return VAULT_OK;
}

vault_err log_load(vault *v)
{
	uint64_t size = 0, bytes = 0;
	unsigned char root[32], got[32];
	char *vk = NULL;
	size_t vklen;
	vault_err e;

	log_release(&v->log);
	if ((e = custody_log_key(v)) != VAULT_OK)
		return e;
	char want[NOTE_VKEY_BYTES];
	note_vkey_format(&v->log.vkey, want);
	if (util_read_small(v->dirfd, "pub/log.vkey", NOTE_VKEY_BYTES + 1,
			    (unsigned char **)&vk, &vklen) < 0 ||
	    vklen != strlen(want) + 1 || memcmp(vk, want, vklen - 1) != 0 ||
	    vk[vklen - 1] != '\n')
		log_problem(&v->log, "pub/log.vkey: missing or not this vault's "
				     "log key");
	free(vk);
	merkle_frontier_init(&v->log.frontier);
	v->log.pend_frontier = v->log.frontier;
	if (state_read(v, &size, &bytes, root) < 0)
		return VAULT_OK; /* problem noted; the catalogue stays empty */
	if (size > (1ULL << 40) / 32) {
		log_problem(&v->log, "log/state: impossible size %" PRIu64, size);
		return VAULT_OK;
	}
	if (load_leaves(v, size) < 0)
		return VAULT_OK;
	for (uint64_t i = 0; i < size; i++)
		if (merkle_frontier_append(&v->log.frontier, v->log.leaves[i]) != 0)
			break;
	v->log.pend_frontier = v->log.frontier;
	merkle_frontier_root(&v->log.frontier, got);
	if (memcmp(got, root, 32) != 0)
		log_problem(&v->log, "log/leaves: Merkle root of the %" PRIu64
				     " leaves differs from the committed root",
			    size);
	v->log.size = size;
	v->log.rec_bytes = bytes;
	memcpy(v->log.root, root, 32);
	load_records(v, size, bytes);
	v->cat.committed = v->cat.n;
	return VAULT_OK;
}

/* --- Appending ------------------------------------------------------------- */

vault_err log_stage(vault *v, const char *record, size_t len)
{
	vault_log *l = &v->log;
	uint64_t index = l->size + l->pend_count;
	size_t plen = padded_len(len);
	size_t need = ENTRY_HEAD + plen + crypto_aead_xchacha20poly1305_ietf_ABYTES;
	unsigned char ad[40], *plain;

	if (len == 0 || len > RECORD_MAX - 64)
		return vault_fail(v, VAULT_E_INVALID, "record too long");
	if (l->pend_len + need > l->pend_cap) {
		size_t cap = l->pend_cap ? l->pend_cap : 4096;
		while (cap < l->pend_len + need)
			cap *= 2;
		unsigned char *p = malloc(cap);
		if (!p)
			return vault_fail(v, VAULT_E_NOMEM, "out of memory");
		if (l->pend) {
			memcpy(p, l->pend, l->pend_len);
			sodium_memzero(l->pend, l->pend_cap);
			free(l->pend);
		}
		l->pend = p;
		l->pend_cap = cap;
	}
	if (leaves_reserve(l, index + 1) < 0)
		return vault_fail(v, VAULT_E_NOMEM, "out of memory");
	plain = calloc(1, plen);
	if (!plain)
		return vault_fail(v, VAULT_E_NOMEM, "out of memory");
	util_le32(plain, (uint32_t)len);
	memcpy(plain + 4, record, len);
	unsigned char *e = l->pend + l->pend_len;
	util_le32(e, (uint32_t)(plen + crypto_aead_xchacha20poly1305_ietf_ABYTES));
	randombytes_buf(e + 4, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	record_ad(v, index, ad);
	crypto_aead_xchacha20poly1305_ietf_encrypt(e + ENTRY_HEAD, NULL, plain,
						   plen, ad, sizeof ad, NULL,
						   e + 4, v->keys->record);
	sodium_memzero(plain, plen);
	free(plain);
	merkle_leaf_hash((const unsigned char *)record, len, l->leaves[index]);
	if (merkle_frontier_append(&l->pend_frontier, l->leaves[index]) != 0)
		return vault_fail(v, VAULT_E_INVALID, "the log is full");
	l->offsets[index] = l->rec_bytes + l->pend_len;
	l->pend_len += need;
	l->pend_count++;
	return VAULT_OK;
}

vault_err log_stage_json(vault *v, const char *kind, void *json_fields)
{
	json_t *rec = json_object(), *fields = json_fields;
	unsigned char nonce[16];
	char hexnonce[33], now[32];
	vault_err e;

	if (!rec) {
		json_decref(fields);
		return vault_fail(v, VAULT_E_NOMEM, "out of memory");
	}
	randombytes_buf(nonce, sizeof nonce);
	util_hex(hexnonce, nonce, sizeof nonce);
	util_iso8601_now(now);
	json_object_set_new(rec, "v", json_integer(1));
	json_object_set_new(rec, "kind", json_string(kind));
	json_object_set_new(rec, "time", json_string(now));
	json_object_set_new(rec, "nonce", json_string(hexnonce));
	if (!v->actor) {
		json_decref(fields);
		json_decref(rec);
		return custody_sign(v, NULL, 0, NULL, NULL); /* says why */
	}
	/* Refuse at once what verify would flag: a key that is not the one
	 * registered under its name. */
	const custodian_entry *ce =
		catalog_custodian(&v->cat, vault_identity_name(v->actor));
	if (strcmp(kind, "init") != 0 &&
	    (!ce || strcmp(ce->vkey, vault_identity_vkey(v->actor)) != 0)) {
		json_decref(fields);
		json_decref(rec);
		return vault_fail(v, VAULT_E_DENIED,
				  ce ? "key %s is not the registered key of "
				       "custodian '%s'"
				     : "key %s: '%s' is not a registered "
				       "custodian of this vault",
				  vault_identity_vkey(v->actor),
				  vault_identity_name(v->actor));
	}
	if (v->actor)
		json_object_set_new(rec, "actor",
				    json_string(vault_identity_name(v->actor)));
	if (fields)
		json_object_update(rec, fields);
	json_decref(fields);
	char *text = json_dumps(rec, JSON_COMPACT | JSON_ENSURE_ASCII |
					     JSON_PRESERVE_ORDER);
	if (!text) {
		json_decref(rec);
		return vault_fail(v, VAULT_E_NOMEM, "out of memory");
	}
	size_t len = strlen(text);
	char *line = malloc(len + 2);
	if (!line) {
		free(text);
		json_decref(rec);
		return vault_fail(v, VAULT_E_NOMEM, "out of memory");
	}
	memcpy(line, text, len);
	line[len] = '\n';
	line[len + 1] = '\0';
	free(text);
	/* The record is the body signed by the acting custodian (a C2SP
	 * signed note); the catalogue replays the body. */
	char *note = NULL;
	size_t notelen;
	e = custody_sign(v, line, len + 1, &note, &notelen);
	if (e == VAULT_OK)
		e = log_stage(v, note, notelen);
	if (e == VAULT_OK)
		e = catalog_apply_json(v, rec, v->log.size + v->log.pend_count - 1);
	json_decref(rec);
	sodium_memzero(line, len + 1);
	free(line);
	if (note) {
		sodium_memzero(note, notelen);
		free(note);
	}
	return e;
}

void log_discard(vault *v)
{
	v->log.pend_len = 0;
	v->log.pend_count = 0;
	v->log.pend_frontier = v->log.frontier;
}

/* Write `n` bytes at `off` of a log file after cutting it to `off`. */
static vault_err append_at(vault *v, const char *rel, uint64_t off,
			   const void *buf, size_t n)
{
	int fd = openat(v->dirfd, rel, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	int rc = 0;
	if (fd < 0)
		return vault_fail_errno(v, errno, "cannot open '%s/%s'", v->dir,
					rel);
	if (ftruncate(fd, (off_t)off) < 0 || lseek(fd, (off_t)off, SEEK_SET) < 0)
		rc = -errno;
	if (rc == 0)
		rc = util_write_all(fd, buf, n);
	if (rc == 0 && fdatasync(fd) < 0)
		rc = -errno;
	if (rc < 0) {
		/* Leave no half-written tail behind when the disk is full. */
		if (ftruncate(fd, (off_t)off) == 0)
			fdatasync(fd);
	}
	close(fd);
	if (rc < 0)
		return vault_fail_errno(v, rc, "cannot append to '%s/%s'", v->dir,
					rel);
	return VAULT_OK;
}

vault_err log_commit(vault *v)
{
	vault_log *l = &v->log;
	uint64_t newsize = l->size + l->pend_count;
	unsigned char root[32];
	vault_err e;

	if (l->nproblems > 0)
		return vault_fail(v, VAULT_E_CORRUPT,
				  "the log of '%s' is damaged (%s); refusing to "
				  "append to it: run 'evault verify'",
				  v->dir, l->problems[0]);
	if (l->pend_count == 0)
		return VAULT_OK;
	e = append_at(v, "log/records", l->rec_bytes, l->pend, l->pend_len);
	if (e == VAULT_OK)
		e = append_at(v, "log/leaves", l->size * 32, l->leaves[l->size],
			      (size_t)l->pend_count * 32);
	if (e != VAULT_OK)
		return e;
	merkle_frontier_root(&l->pend_frontier, root);
	/* The checkpoint is written before the state: a crash between the
	 * two leaves a checkpoint beyond the committed size, which the next
	 * writer removes (custody_checkpoint_cleanup); never a committed log
	 * without its checkpoint. */
	e = custody_checkpoint_write(v, newsize, root);
	if (e == VAULT_OK)
		e = state_write(v, newsize, l->rec_bytes + l->pend_len, root);
	if (e != VAULT_OK)
		return e;
	l->frontier = l->pend_frontier;
	l->size = newsize;
	l->rec_bytes += l->pend_len;
	memcpy(l->root, root, 32);
	sodium_memzero(l->pend, l->pend_len);
	l->pend_len = 0;
	l->pend_count = 0;
	return VAULT_OK;
}

size_t vault_log_problems(const vault *v)
{
	return v->log.nproblems;
}

const char *vault_log_problem(const vault *v, size_t i)
{
	return i < v->log.nproblems ? v->log.problems[i] : NULL;
}
