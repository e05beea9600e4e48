/*
 * checkpoint.c: the public face of the custody log.
 *
 * After every commit the vault signs a checkpoint of its log (C2SP
 * tlog-checkpoint: origin "evault/<vault id>", tree size, Merkle root)
 * with the log key, a key derived from the master key whose public half
 * is pub/log.vkey.  Checkpoints are kept, one file per size, in
 * log/checkpoints/<size>; witnesses' cosignatures are attached to them.
 * Leaf hashes and checkpoints are plaintext, so that anyone holding a copy
 * of the vault directory (no passphrase) can check that the log's history
 * is a single append-only line (verify --public), and so that a record
 * can be proven to be in the log (tlog-proof) without revealing others.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vault/internal.h"

#define CHECKPOINT_MAX (64u << 10)

static void cp_path(uint64_t size, char *buf, size_t n)
{
	snprintf(buf, n, "log/checkpoints/%" PRIu64, size);
}

vault_err custody_checkpoint_write(vault *v, uint64_t size,
				   const unsigned char root[32])
{
	note_checkpoint cp;
	char text[512], rel[64], *note = NULL;
	size_t tlen, nlen;
	int rc;

	memset(&cp, 0, sizeof cp);
	snprintf(cp.origin, sizeof cp.origin, "%s", v->log.origin);
	cp.size = size;
	memcpy(cp.root, root, 32);
	if (note_checkpoint_format(&cp, text, sizeof text, &tlen) != 0 ||
	    note_sign(v->log.signer, text, tlen, 0, &note, &nlen) != 0)
		return vault_fail(v, VAULT_E_INVALID, "cannot sign checkpoint");
	cp_path(size, rel, sizeof rel);
	/* A checkpoint already there for a size this commit reaches was not
	 * left by an interrupted commit (the writer removed that one): it is
	 * evidence of a rolled-back log, and is never overwritten. */
	if (faccessat(v->dirfd, rel, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		free(note);
		return vault_fail(v, VAULT_E_CORRUPT,
				  "'%s/%s' exists beyond the committed log: the log "
				  "may have been rolled back; refusing to overwrite "
				  "the evidence (run 'evault verify')",
				  v->dir, rel);
	}
	rc = util_atomic_write(v->dirfd, rel, note, nlen);
	free(note);
	if (rc < 0)
		return vault_fail_errno(v, rc, "cannot write '%s/%s'", v->dir, rel);
	return VAULT_OK;
}

/* Strict decimal without leading zeros; -1 if not a checkpoint name. */
static int parse_size_name(const char *s, uint64_t *out)
{
	uint64_t x = 0;
	if (!*s || (s[0] == '0' && s[1]) || strlen(s) > 19)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*out = x;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Sizes of the stored checkpoints, sorted; names that are not sizes are
 * reported through fn. */
static int list_sizes(vault *v, uint64_t **out, size_t *n,
		      custody_problem_fn fn, void *ctx)
{
	int fd = openat(v->dirfd, "log/checkpoints",
			O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	uint64_t *sizes = NULL;
	size_t cnt = 0, cap = 0;
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		uint64_t s;
		if (e->d_name[0] == '.')
			continue;
		if (parse_size_name(e->d_name, &s) < 0) {
			if (strncmp(e->d_name, "t-", 2) != 0 && fn) {
				char file[300];
				snprintf(file, sizeof file, "log/checkpoints/%s",
					 e->d_name);
				fn(ctx, file, "not a checkpoint file name");
			}
			continue;
		}
		if (cnt == cap) {
			cap = cap ? cap * 2 : 64;
			uint64_t *p = realloc(sizes, cap * sizeof *p);
			if (!p) {
				free(sizes);
				closedir(d);
				return -ENOMEM;
			}
			sizes = p;
		}
		sizes[cnt++] = s;
	}
	closedir(d);
	qsort(sizes, cnt, sizeof *sizes, cmp_u64);
	*out = sizes;
	*n = cnt;
	return 0;
}

/* Read and verify the checkpoint stored for `size`. */
static int read_checkpoint(vault *v, uint64_t size, char **text, size_t *len,
			   note_checkpoint *cp, const char **why)
{
	char rel[64];
	unsigned char *buf = NULL;
	size_t blen;
	note_parsed *p = malloc(sizeof *p);
	int rc;

	*why = NULL;
	if (!p) {
		*why = "out of memory";
		return -1;
	}
	cp_path(size, rel, sizeof rel);
	rc = util_read_small(v->dirfd, rel, CHECKPOINT_MAX, &buf, &blen);
	if (rc < 0) {
		*why = rc == -ENOENT ? "missing" : "cannot be read";
		free(p);
		return -1;
	}
	note_err ne = note_open((char *)buf, blen, &v->log.vkey, 1, p);
	if (ne != NOTE_OK)
		*why = ne == NOTE_E_UNVERIFIED ? "not signed by the vault's log key"
		       : ne == NOTE_E_BADSIG   ? "the log key's signature does "
						 "not verify"
					       : "not a valid signed note";
	else if (note_checkpoint_parse(cp, p->text, p->text_len) != 0)
		*why = "not a checkpoint";
	else if (strcmp(cp->origin, v->log.origin) != 0)
		*why = "origin is not this vault's log";
	else if (cp->size != size)
		*why = "its size differs from its file name";
	free(p);
	if (*why) {
		free(buf);
		return -1;
	}
	cp->ext = NULL; /* pointed into p */
	cp->ext_len = 0;
	if (text) {
		*text = (char *)buf;
		*len = blen;
	} else {
		free(buf);
	}
	return 0;
}

/* The size of the checkpoint an interrupted commit left, or 0.  Such a
 * checkpoint is the only one beyond the committed size, and its root is
 * the root of the committed leaves followed by the uncommitted leaves
 * still in log/leaves.  Anything else beyond the committed size (several
 * checkpoints, or one that does not match) is evidence of a rollback and
 * is kept. */
static uint64_t leftover_checkpoint(vault *v)
{
	uint64_t *sizes = NULL, found = 0;
	size_t n = 0;
	note_checkpoint cp;
	const char *why;
	if (list_sizes(v, &sizes, &n, NULL, NULL) < 0)
		return 0;
	uint64_t last = n ? sizes[n - 1] : 0;
	bool one = n > 0 && last > v->log.size &&
		   (n == 1 || sizes[n - 2] <= v->log.size);
	free(sizes);
	if (!one || last - v->log.size > (1u << 20) ||
	    read_checkpoint(v, last, NULL, NULL, &cp, &why) < 0)
		return 0;
	uint64_t extra = last - v->log.size;
	unsigned char (*more)[32] = malloc((size_t)extra * 32);
	int fd = openat(v->dirfd, "log/leaves", O_RDONLY | O_CLOEXEC);
	if (more && fd >= 0 &&
	    pread(fd, more, (size_t)extra * 32, (off_t)(v->log.size * 32)) ==
		    (ssize_t)(extra * 32)) {
		merkle_frontier f = v->log.frontier;
		unsigned char root[32];
		for (uint64_t i = 0; i < extra; i++)
			if (merkle_frontier_append(&f, more[i]) != 0)
				break;
		merkle_frontier_root(&f, root);
		if (f.size == last && memcmp(root, cp.root, 32) == 0)
			found = last;
	}
	if (fd >= 0)
		close(fd);
	free(more);
	return found;
}

void custody_checkpoint_cleanup(vault *v)
{
	char rel[64];
	uint64_t size = leftover_checkpoint(v);
	if (size) {
		cp_path(size, rel, sizeof rel);
		unlinkat(v->dirfd, rel, 0);
	}
}

int custody_check_checkpoints(vault *v, const unsigned char (*leaves)[32],
			      uint64_t nleaves, uint64_t committed,
			      uint64_t *latest, custody_problem_fn fn, void *ctx)
{
	uint64_t *sizes = NULL;
	size_t n = 0;
	int bad = 0, rc;
	merkle_frontier f;
	char rel[64], msg[160];

	*latest = 0;
	rc = list_sizes(v, &sizes, &n, fn, ctx);
	if (rc < 0) {
		fn(ctx, "log/checkpoints", "cannot be listed");
		return 1;
	}
	merkle_frontier_init(&f);
	/* A commit interrupted between checkpoint and state leaves one
	 * checkpoint of the uncommitted leaves; the next writer removes it.
	 * It is not damage; anything else beyond the committed size is. */
	if (committed != UINT64_MAX && n > 0 && sizes[n - 1] > committed &&
	    leftover_checkpoint(v) == sizes[n - 1])
		n--;
	for (size_t i = 0; i < n; i++) {
		note_checkpoint cp;
		const char *why;
		unsigned char root[32];
		cp_path(sizes[i], rel, sizeof rel);
		if (read_checkpoint(v, sizes[i], NULL, NULL, &cp, &why) < 0) {
			fn(ctx, rel, why);
			bad++;
			continue;
		}
		if (cp.size > nleaves) {
			snprintf(msg, sizeof msg,
				 "checkpoint of size %" PRIu64
				 " is beyond the log's %" PRIu64
				 " leaves (the log was cut back or replaced by an "
				 "older copy)",
				 cp.size, nleaves);
			fn(ctx, rel, msg);
			bad++;
			continue;
		}
		while (f.size < cp.size)
			if (merkle_frontier_append(&f, leaves[f.size]) != 0)
				break;
		merkle_frontier_root(&f, root);
		if (memcmp(root, cp.root, 32) != 0) {
			fn(ctx, rel, "its root is not the root of the log's leaves "
				     "(history rewritten, or a leaf altered)");
			bad++;
			continue;
		}
		*latest = cp.size;
	}
	free(sizes);
	return bad;
}

/* --- Public calls ----------------------------------------------------------- */

static vault_err need_unlocked(vault *v)
{
	if (!v->unlocked)
		return vault_fail(v, VAULT_E_STATE, "vault is locked");
	return VAULT_OK;
}

vault_err vault_checkpoint_get(vault *v, uint64_t size, char **out, size_t *len)
{
	note_checkpoint cp;
	const char *why;
	vault_err e = need_unlocked(v);
	if (e != VAULT_OK)
		return e;
	if (size > v->log.size)
		return vault_fail(v, VAULT_E_NOTFOUND,
				  "no checkpoint of size %" PRIu64
				  ": the log has %" PRIu64 " records",
				  size, v->log.size);
	if (read_checkpoint(v, size, out, len, &cp, &why) < 0) {
		if (size < v->log.size && strcmp(why, "missing") == 0)
			return vault_fail(v, VAULT_E_NOTFOUND,
					  "no checkpoint of size %" PRIu64
					  ": checkpoints are made at each commit, "
					  "and records committed together share one "
					  "(see log/checkpoints/)",
					  size);
		return vault_fail(v, VAULT_E_CORRUPT,
				  "log/checkpoints/%" PRIu64 ": %s", size, why);
	}
	return VAULT_OK;
}

vault_err vault_checkpoint_latest(vault *v, char **out, size_t *len)
{
	return vault_checkpoint_get(v, v->log.size, out, len);
}

vault_err vault_log_vkey(vault *v, char *out, size_t n)
{
	vault_err e = need_unlocked(v);
	if (e != VAULT_OK)
		return e;
	note_vkey_format(&v->log.vkey, out);
	(void)n;
	return VAULT_OK;
}

/* Whether `line` is a valid signature by `witness` on checkpoint text
 * `cp`; the cosigned note in *out when it is. */
static bool cosigned_by(vault *v, const char *cp, size_t len, const char *line,
			const note_verifier *witness, char **out, size_t *outlen)
{
	note_verifier keys[2] = {v->log.vkey, *witness};
	note_parsed *p = malloc(sizeof *p);
	bool ok = false;
	if (!p || note_add_signature(cp, len, line, strlen(line), out, outlen) != 0) {
		free(p);
		return false;
	}
	size_t ll = strcspn(line, "\n");
	if (note_open(*out, *outlen, keys, 2, p) == NOTE_OK)
		for (size_t i = 0; i < p->nsigs; i++)
			ok |= p->sigs[i].key == 1 && p->sigs[i].line_len == ll &&
			      memcmp(p->sigs[i].line, line, ll) == 0;
	free(p);
	if (!ok) {
		free(*out);
		*out = NULL;
	}
	return ok;
}

vault_err vault_checkpoint_add_cosignature(vault *v, const char *line,
					   const char *witness_vkey)
{
	note_verifier w;
	uint64_t *sizes = NULL;
	size_t n = 0;
	char *cp = NULL, *next = NULL, rel[64];
	size_t len, nlen;
	vault_err e = need_unlocked(v);
	if (e != VAULT_OK)
		return e;
	if (!v->writable)
		return vault_fail(v, VAULT_E_STATE, "vault not open for writing");
	if (!witness_vkey ||
	    note_vkey_parse(&w, witness_vkey, strlen(witness_vkey)) != 0)
		return vault_fail(v, VAULT_E_INVALID,
				  "a cosignature is attached only once checked: give "
				  "the witness's verifier key (--witness VKEY)");
	if (list_sizes(v, &sizes, &n, NULL, NULL) < 0)
		return vault_fail(v, VAULT_E_IO, "cannot list '%s/log/checkpoints'",
				  v->dir);
	/* The checkpoint it signs: usually the latest, so look from there. */
	for (size_t i = n; i-- > 0 && !next;) {
		if (sizes[i] > v->log.size)
			continue;
		if (vault_checkpoint_get(v, sizes[i], &cp, &len) != VAULT_OK)
			continue;
		if (cosigned_by(v, cp, len, line, &w, &next, &nlen))
			cp_path(sizes[i], rel, sizeof rel);
		free(cp);
		cp = NULL;
	}
	free(sizes);
	if (!next)
		return vault_fail(v, VAULT_E_CORRUPT,
				  "the line is not a valid cosignature by '%s' of any "
				  "checkpoint of this vault",
				  w.name);
	int rc = util_atomic_write(v->dirfd, rel, next, nlen);
	free(next);
	if (rc < 0)
		return vault_fail_errno(v, rc, "cannot write '%s/%s'", v->dir, rel);
	snprintf(v->err, sizeof v->err, "%s", rel); /* where it went */
	return VAULT_OK;
}

vault_err vault_prove(vault *v, uint64_t index, uint64_t size, char **out,
		      size_t *len)
{
	unsigned char proof[MERKLE_MAX_PROOF][32];
	size_t count;
	char *cp = NULL, *rec = NULL, line[64];
	size_t cplen, reclen;
	textbuf t = {0};
	vault_err e = need_unlocked(v);
	if (e != VAULT_OK)
		return e;
	if (size == 0)
		size = v->log.size;
	if (index >= size || size > v->log.size)
		return vault_fail(v, VAULT_E_INVALID,
				  "no record %" PRIu64 " in a tree of %" PRIu64
				  " records (the log has %" PRIu64 ")",
				  index, size, v->log.size);
	if ((e = vault_checkpoint_get(v, size, &cp, &cplen)) != VAULT_OK)
		return e;
	if ((e = log_read_record(v, index, &rec, &reclen)) != VAULT_OK)
		goto out;
	if (merkle_inclusion_proof((const unsigned char (*)[32])v->log.leaves,
				   size, index, proof, &count) != 0) {
		e = vault_fail(v, VAULT_E_INVALID, "cannot make the proof");
		goto out;
	}
	size_t b64len = sodium_base64_ENCODED_LEN(reclen,
						  sodium_base64_VARIANT_ORIGINAL);
	char *b = malloc(b64len);
	if (!b) {
		e = vault_fail(v, VAULT_E_NOMEM, "out of memory");
		goto out;
	}
	sodium_bin2base64(b, b64len, (unsigned char *)rec, reclen,
			  sodium_base64_VARIANT_ORIGINAL);
	tb_add(&t, "c2sp.org/tlog-proof@v1\nextra ", 29);
	tb_add(&t, b, strlen(b));
	free(b);
	snprintf(line, sizeof line, "\nindex %" PRIu64 "\n", index);
	tb_add(&t, line, strlen(line));
	for (size_t i = 0; i < count; i++)
		tb_hash(&t, proof[i]);
	tb_add(&t, "\n", 1);
	tb_add(&t, cp, cplen);
	if (t.failed) {
		e = vault_fail(v, VAULT_E_NOMEM, "out of memory");
		goto out;
	}
	*out = t.p;
	*len = t.len;
	t.p = NULL;
out:
	free(t.p);
	free(cp);
	if (rec) {
		sodium_memzero(rec, reclen);
		free(rec);
	}
	return e;
}

vault_err vault_consistency(vault *v, uint64_t old_size, uint64_t new_size,
			    char **out, size_t *len)
{
	unsigned char proof[MERKLE_MAX_PROOF][32];
	size_t count;
	textbuf t = {0};
	vault_err e = need_unlocked(v);
	if (e != VAULT_OK)
		return e;
	if (new_size == 0)
		new_size = v->log.size;
	if (new_size > v->log.size || old_size > new_size)
		return vault_fail(v, VAULT_E_INVALID,
				  "sizes %" PRIu64 " and %" PRIu64
				  " do not fit a log of %" PRIu64 " records",
				  old_size, new_size, v->log.size);
	if (merkle_consistency_proof((const unsigned char (*)[32])v->log.leaves,
				     old_size, new_size, proof, &count) != 0)
		return vault_fail(v, VAULT_E_INVALID, "cannot make the proof");
	tb_add(&t, "", 0);
	for (size_t i = 0; i < count; i++)
		tb_hash(&t, proof[i]);
	if (t.failed) {
		free(t.p);
		return vault_fail(v, VAULT_E_NOMEM, "out of memory");
	}
	*out = t.p;
	*len = t.len;
	return VAULT_OK;
}

const char *custody_check_trusted(vault *v, const char *text, size_t len,
				  const unsigned char (*leaves)[32],
				  uint64_t nleaves)
{
	static char why[256];
	note_parsed *p = malloc(sizeof *p);
	note_checkpoint cp;
	merkle_frontier f;
	unsigned char root[32];

	if (!p)
		return "out of memory";
	note_err ne = note_open(text, len, &v->log.vkey, 1, p);
	int ok = ne == NOTE_OK &&
		 note_checkpoint_parse(&cp, p->text, p->text_len) == 0 &&
		 strcmp(cp.origin, v->log.origin) == 0;
	free(p);
	if (!ok)
		return "the checkpoint given is not a checkpoint of this vault "
		       "signed by its log key";
	if (cp.size > nleaves) {
		snprintf(why, sizeof why,
			 "ROLLBACK: a checkpoint kept outside the vault has %" PRIu64
			 " records, the vault's log only %" PRIu64
			 " (replaced by an older copy?)",
			 cp.size, nleaves);
		return why;
	}
	merkle_frontier_init(&f);
	for (uint64_t i = 0; i < cp.size; i++)
		if (merkle_frontier_append(&f, leaves[i]) != 0)
			break;
	merkle_frontier_root(&f, root);
	if (memcmp(root, cp.root, 32) != 0) {
		snprintf(why, sizeof why,
			 "FORK: the log's first %" PRIu64
			 " records are not those of the checkpoint kept outside "
			 "the vault (history rewritten)",
			 cp.size);
		return why;
	}
	return NULL;
}

vault_err custody_load_public(vault *v, unsigned char (**leaves)[32],
			      uint64_t *n)
{
	unsigned char *vk = NULL;
	size_t vklen;
	struct stat st;
	int rc = util_read_small(v->dirfd, "pub/log.vkey", NOTE_VKEY_BYTES + 1,
				 &vk, &vklen);
	if (rc < 0)
		return vault_fail_errno(v, rc, "cannot read '%s/pub/log.vkey'",
					v->dir);
	while (vklen > 0 && vk[vklen - 1] == '\n')
		vklen--;
	if (note_vkey_parse(&v->log.vkey, (char *)vk, vklen) != 0) {
		free(vk);
		return vault_fail(v, VAULT_E_CORRUPT,
				  "'%s/pub/log.vkey' is not a verifier key", v->dir);
	}
	free(vk);
	/* The origin comes from VAULT; a pub/log.vkey of another log shows
	 * up as a problem of every checkpoint (verify reports it first). */
	snprintf(v->log.origin, sizeof v->log.origin, "evault/%s", v->id_hex);
	int fd = openat(v->dirfd, "log/leaves", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return vault_fail_errno(v, errno, "cannot open '%s/log/leaves'",
					v->dir);
	}
	uint64_t count = (uint64_t)st.st_size / 32;
	if (count > (1ULL << 32)) {
		close(fd);
		return vault_fail(v, VAULT_E_CORRUPT, "log/leaves: impossibly large");
	}
	unsigned char (*l)[32] = malloc((size_t)(count ? count : 1) * 32);
	if (!l || util_read_full(fd, l, (size_t)count * 32) != (ssize_t)(count * 32)) {
		free(l);
		close(fd);
		return vault_fail(v, VAULT_E_IO, "cannot read '%s/log/leaves'",
				  v->dir);
	}
	close(fd);
	*leaves = l;
	*n = count;
	return VAULT_OK;
}
