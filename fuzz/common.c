/*
 * common.c: the helpers evault's fuzz targets share (see fuzz.h): fixed
 * randomness, a scratch directory, cheap key files and passphrase slots,
 * the fixture vault, and seed writing.
 *
 * Nothing here is fuzzed; it only sets the stage.  Every failure of the
 * stage aborts with a message, so that a broken harness is never mistaken
 * for a quiet run.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* nftw, mkdtemp */
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "fuzz/fuzz.h"

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt,
	       ...)
{
	va_list ap;
	fprintf(stderr, "%s:%d: invariant broken: %s: ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

const char *__asan_default_options(void)
{
	return "malloc_fill_byte=190:max_malloc_fill_size=268435456";
}

void fuzz_say(const char *fmt, ...)
{
	static int verbose = -1;
	va_list ap;
	if (verbose < 0) {
		const char *e = getenv("FUZZ_VERBOSE");
		verbose = e && *e && strcmp(e, "0") != 0;
	}
	if (!verbose)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* --- Deterministic randomness ----------------------------------------------
 * splitmix64: not a cryptographic generator, and it must not be one here:
 * the point is that every process makes the same keys. */
static uint64_t rng_state = 0x6576617566757a7aULL; /* "evaufuzz" */

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static const char *rng_name(void)
{
	return "evault-fuzz-deterministic";
}

static uint32_t rng_random(void)
{
	return (uint32_t)rng_next();
}

static void rng_buf(void *const buf, const size_t size)
{
	unsigned char *p = buf;
	for (size_t i = 0; i < size; i += 8) {
		uint64_t x = rng_next();
		size_t n = size - i < 8 ? size - i : 8;
		memcpy(p + i, &x, n);
	}
}

static randombytes_implementation rng_impl = {
	rng_name, rng_random, NULL, NULL, rng_buf, NULL,
};

void fuzz_rng_reset(uint64_t seed)
{
	rng_state = seed;
}

void fuzz_init(void)
{
	static int done;
	if (done)
		return;
	if (randombytes_set_implementation(&rng_impl) != 0 ||
	    sodium_init() < 0) {
		fprintf(stderr, "fuzz: cannot initialise libsodium\n");
		abort();
	}
	done = 1;
}

/* --- Scratch directory ---------------------------------------------------- */

static char tmpdir[256];
static pid_t tmp_owner;

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void cleanup(void)
{
	fuzz_fixture_close();
	fuzz_fixture *f = fuzz_fixture_get_if_made();
	if (f) {
		vault_identity_free(f->alice);
		vault_identity_free(f->bob);
		f->alice = f->bob = NULL;
	}
	if (tmpdir[0] && getpid() == tmp_owner)
		nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_tmpdir(void)
{
	if (tmpdir[0])
		return tmpdir;
	const char *base = getenv("FUZZ_TMP");
	struct stat st;
	if (!base || !*base)
		base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
				       access("/dev/shm", W_OK) == 0
			       ? "/dev/shm"
			       : "/tmp";
	snprintf(tmpdir, sizeof tmpdir, "%s/evault-fuzz.XXXXXX", base);
	if (!mkdtemp(tmpdir)) {
		fprintf(stderr, "fuzz: cannot make a directory in %s: %s\n", base,
			strerror(errno));
		abort();
	}
	tmp_owner = getpid();
	atexit(cleanup);
	return tmpdir;
}

void fuzz_write_file(const char *path, const void *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || util_write_all(fd, data, size) != 0 || close(fd) != 0) {
		fprintf(stderr, "fuzz: cannot write '%s': %s\n", path,
			strerror(errno));
		abort();
	}
}

unsigned char *fuzz_read_file(const char *path, size_t *size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char *buf = NULL;
	if (fd >= 0 && fstat(fd, &st) == 0) {
		buf = malloc((size_t)st.st_size + 1);
		if (buf && util_read_full(fd, buf, (size_t)st.st_size) !=
				   (ssize_t)st.st_size) {
			free(buf);
			buf = NULL;
		}
	}
	if (fd >= 0)
		close(fd);
	if (!buf) {
		fprintf(stderr, "fuzz: cannot read '%s': %s\n", path,
			strerror(errno));
		abort();
	}
	buf[st.st_size] = '\0';
	*size = (size_t)st.st_size;
	return buf;
}

/* --- Keys ------------------------------------------------------------------ */

note_signer *fuzz_signer(const char *name, unsigned char type,
			 unsigned char seedbyte)
{
	unsigned char seed[32];
	memset(seed, seedbyte, sizeof seed);
	note_signer *s = note_signer_new(name, type, seed);
	if (!s) {
		fprintf(stderr, "fuzz: cannot make signer '%s'\n", name);
		abort();
	}
	return s;
}

void fuzz_keyfile(const char *path, const char *name, unsigned char type,
		  unsigned char seedbyte, char **out, size_t *outlen)
{
	unsigned char salt[16], nonce[24], key[32];
	unsigned char sealed[NOTE_SKEY_BYTES + 16];
	char skey[NOTE_SKEY_BYTES], vkey[NOTE_VKEY_BYTES], text[4096];
	char bsalt[64], bnonce[64];
	char bsec[sodium_base64_ENCODED_LEN(sizeof sealed,
					    sodium_base64_VARIANT_ORIGINAL)];
	note_signer *s = fuzz_signer(name, type, seedbyte);
	unsigned long long clen;

	memset(salt, seedbyte ^ 0x55, sizeof salt);
	memset(nonce, seedbyte ^ 0xaa, sizeof nonce);
	if (note_signer_format(s, skey) != 0 ||
	    note_vkey_format(note_signer_verifier(s), vkey) != 0) {
		fprintf(stderr, "fuzz: cannot format key '%s'\n", name);
		abort();
	}
	note_signer_free(s);
	sodium_bin2base64(bsalt, sizeof bsalt, salt, sizeof salt,
			  sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(bnonce, sizeof bnonce, nonce, sizeof nonce,
			  sodium_base64_VARIANT_ORIGINAL);
	int head = snprintf(text, sizeof text,
			    "evault-key 1\nname %s\nvkey %s\nkdf argon2id13 "
			    "%llu %zu\nsalt %s\nnonce %s\n",
			    name, vkey,
			    (unsigned long long)crypto_pwhash_OPSLIMIT_MIN,
			    (size_t)crypto_pwhash_MEMLIMIT_MIN, bsalt, bnonce);
	if (crypto_pwhash(key, sizeof key, FUZZ_PASS, strlen(FUZZ_PASS), salt,
			  crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN,
			  crypto_pwhash_ALG_ARGON2ID13) != 0) {
		fprintf(stderr, "fuzz: key derivation failed\n");
		abort();
	}
	crypto_aead_xchacha20poly1305_ietf_encrypt(
		sealed, &clen, (unsigned char *)skey, strlen(skey),
		(unsigned char *)text, (size_t)head, NULL, nonce, key);
	sodium_bin2base64(bsec, sizeof bsec, sealed, (size_t)clen,
			  sodium_base64_VARIANT_ORIGINAL);
	int n = snprintf(text + head, sizeof text - (size_t)head, "secret %s\n",
			 bsec);
	size_t len = (size_t)head + (size_t)n;
	if (path)
		fuzz_write_file(path, text, len);
	if (out) {
		*out = malloc(len + 1);
		if (!*out)
			abort();
		memcpy(*out, text, len + 1);
		*outlen = len;
	}
	sodium_memzero(skey, sizeof skey);
	sodium_memzero(key, sizeof key);
}

void fuzz_slot(const vault *v, unsigned char slot[152])
{
	unsigned char key[32], ad[88];
	memset(slot, 0, 152);
	memcpy(slot, "EVKEYSL1", 8);
	util_le32(slot + 8, 2);
	util_le64(slot + 16, crypto_pwhash_OPSLIMIT_MIN);
	util_le64(slot + 24, crypto_pwhash_MEMLIMIT_MIN);
	memset(slot + 32, 0x5a, 16);
	memset(slot + 48, 0x6b, 24);
	if (crypto_pwhash(key, sizeof key, FUZZ_PASS, strlen(FUZZ_PASS),
			  slot + 32, crypto_pwhash_OPSLIMIT_MIN,
			  crypto_pwhash_MEMLIMIT_MIN,
			  crypto_pwhash_ALG_ARGON2ID13) != 0)
		abort();
	memcpy(ad, slot, 72);
	memcpy(ad + 72, v->id, 16);
	crypto_aead_xchacha20poly1305_ietf_encrypt(slot + 72, NULL,
						   v->keys->master, 32, ad,
						   sizeof ad, NULL, slot + 48, key);
	crypto_auth_hmacsha512256(slot + 120, slot, 120, v->keys->slot);
	sodium_memzero(key, sizeof key);
}

/* --- The fixture vault ------------------------------------------------------ */

static fuzz_fixture fixture;
static int fixture_made;

fuzz_fixture *fuzz_fixture_get_if_made(void)
{
	return fixture_made ? &fixture : NULL;
}

static void must(vault *v, vault_err e, const char *what)
{
	if (e != VAULT_OK) {
		fprintf(stderr, "fuzz: fixture: %s: %s\n", what,
			v ? vault_errmsg(v) : vault_strerror(e));
		abort();
	}
}

static vault_identity *open_identity(const char *name, unsigned char seedbyte)
{
	char path[600];
	vault_identity *id = NULL;
	vault *v = vault_new();
	snprintf(path, sizeof path, "%s/%s.key", fuzz_tmpdir(), name);
	fuzz_keyfile(path, name, NOTE_TYPE_ED25519, seedbyte, NULL, NULL);
	must(v, vault_identity_open(v, path, FUZZ_PASS, strlen(FUZZ_PASS), &id),
	     "open key");
	vault_free(v);
	return id;
}

/* Leave the minimum-cost slot as the vault's only slot. */
static void cheap_slot(vault *v)
{
	unsigned char slot[152];
	fuzz_slot(v, slot);
	DIR *d = fdopendir(openat(v->dirfd, "keys", O_RDONLY | O_DIRECTORY));
	struct dirent *ent;
	char rel[300];
	if (!d)
		abort();
	while ((ent = readdir(d)) != NULL) {
		if (strncmp(ent->d_name, "slot-", 5) != 0)
			continue;
		snprintf(rel, sizeof rel, "keys/%s", ent->d_name);
		unlinkat(v->dirfd, rel, 0);
	}
	closedir(d);
	if (util_atomic_write(v->dirfd, "keys/slot-0000000000000000", slot,
			      sizeof slot) != 0)
		abort();
}

static void ingest_bytes(vault *v, const char *name, size_t size)
{
	char path[600];
	unsigned char *buf = malloc(size ? size : 1);
	vault_ingest_result res;
	if (!buf)
		abort();
	for (size_t i = 0; i < size; i++)
		buf[i] = (unsigned char)(i * 7 + size);
	snprintf(path, sizeof path, "%s/%s", fuzz_tmpdir(), name);
	fuzz_write_file(path, buf, size);
	free(buf);
	must(v, vault_ingest_file(v, path, NULL, &res), "ingest");
	must(v, vault_commit(v), "commit");
	unlink(path);
}

fuzz_fixture *fuzz_fixture_get(void)
{
	if (fixture_made && fixture.v)
		return &fixture;
	fuzz_init();
	fuzz_rng_reset(0x6669787475726531ULL); /* the same keys every time */
	if (!fixture_made) {
		snprintf(fixture.dir, sizeof fixture.dir, "%s/vault",
			 fuzz_tmpdir());
		fixture.alice = open_identity("alice", 0xa1);
		fixture.bob = open_identity("bob", 0xb0);
		vault_identity *carol = open_identity("carol", 0xc0);
		vault *v = vault_new();
		if (!v)
			abort();
		vault_set_identity(v, fixture.alice);
		must(v, vault_create(v, fixture.dir, FUZZ_PASS, strlen(FUZZ_PASS),
				     VAULT_KDF_INTERACTIVE),
		     "create");
		cheap_slot(v);
		ingest_bytes(v, "empty", 0);
		ingest_bytes(v, "small.bin", 37);
		ingest_bytes(v, "page.txt", 1000);
		ingest_bytes(v, "two-chunks.bin", 65537);
		const vault_item *it1 = vault_item_at(v, 1);
		const vault_item *it2 = vault_item_at(v, 2);
		must(v, vault_item_note(v, it1, "seen at the checkpoint, 14:02"),
		     "note");
		must(v, vault_item_access(v, it1, "extract"), "access");
		must(v, vault_custodian_add(v, "bob",
					    vault_identity_vkey(fixture.bob)),
		     "custodian add");
		must(v, vault_custodian_add(v, "carol",
					    vault_identity_vkey(carol)),
		     "custodian add");
		must(v, vault_item_transfer(v, it2, "bob"), "transfer");
		vault_set_identity(v, fixture.bob);
		must(v, vault_item_accept(v, it2), "accept");
		vault_set_identity(v, fixture.alice);
		vault_verify_summary sum;
		memset(&sum, 0, sizeof sum);
		sum.items_checked = sum.items_ok = 4;
		must(v, vault_record_verify(v, &sum), "verify record");
		must(v, vault_custodian_remove(v, "carol"), "custodian remove");
		vault_identity_free(carol);
		fixture.v = v;
		fixture_made = 1;
		return &fixture;
	}
	/* Reopen after fuzz_fixture_close(). */
	fixture.v = vault_new();
	if (!fixture.v)
		abort();
	vault_open_opts o = VAULT_OPEN_OPTS_INIT;
	o.flags = VAULT_OPEN_WRITE;
	must(fixture.v, vault_open(fixture.v, fixture.dir, &o), "open");
	vault_set_identity(fixture.v, fixture.alice);
	must(fixture.v,
	     vault_unlock(fixture.v, FUZZ_PASS, strlen(FUZZ_PASS)), "unlock");
	return &fixture;
}

char *fuzz_fixture_record(uint64_t i, size_t *len)
{
	char *text = NULL;
	fuzz_fixture *f = fuzz_fixture_get();
	must(f->v, log_read_record(f->v, i, &text, len), "read record");
	return text;
}

void fuzz_fixture_leaves(size_t n)
{
	vault_log *l = &fuzz_fixture_get()->v->log;
	if (l->leaves_cap >= n)
		return;
	void *p = realloc(l->leaves, n * 32);
	if (!p)
		abort();
	l->leaves = p;
	p = realloc(l->offsets, n * sizeof *l->offsets);
	if (!p)
		abort();
	l->offsets = p;
	l->leaves_cap = n;
}

void fuzz_check_catalog(const vault *v, size_t nrecords)
{
	const vault_catalog *c = &v->cat;
	FUZZ_CHECK(c->n <= c->cap, "%zu items, room for %zu", c->n, c->cap);
	FUZZ_CHECK(c->n == 0 || (c->tcap >= 2 * c->n &&
				 (c->tcap & (c->tcap - 1)) == 0),
		   "table of %zu for %zu items", c->tcap, c->n);
	for (size_t i = 0; i < c->n; i++) {
		const vault_item *it = c->items[i];
		FUZZ_CHECK(strlen(it->id) == 64 &&
				   strspn(it->id, "0123456789abcdef") == 64,
			   "item %zu id '%s'", i, it->id);
		FUZZ_CHECK(catalog_lookup(c, it->id) == it, "item %zu not found",
			   i);
		FUZZ_CHECK(it->name && it->path && it->ingested && it->holder,
			   "item %zu lacks a field", i);
		FUZZ_CHECK(memchr(it->type, 0, sizeof it->type) != NULL,
			   "item %zu type not terminated", i);
		FUZZ_CHECK(it->record < nrecords && it->receipts >= 1,
			   "item %zu record %llu receipts %u", i,
			   (unsigned long long)it->record, it->receipts);
		FUZZ_CHECK(!it->pending_to || (it->pending_record > it->record &&
					       it->pending_record < nrecords),
			   "item %zu pending record %llu", i,
			   (unsigned long long)it->pending_record);
		for (size_t k = 0; k < i; k++)
			FUZZ_CHECK(strcmp(c->items[k]->id, it->id) != 0,
				   "items %zu and %zu share an id", k, i);
	}
	FUZZ_CHECK(c->ncust <= c->capcust, "custodians");
	for (size_t i = 0; i < c->ncust; i++) {
		const custodian_entry *ce = &c->cust[i];
		FUZZ_CHECK(ce->pub.name == ce->ver.name && ce->pub.vkey == ce->vkey,
			   "custodian %zu points elsewhere", i);
		FUZZ_CHECK(ce->pub.added < nrecords &&
				   (ce->removed == UINT64_MAX ||
				    (ce->removed > ce->pub.added &&
				     ce->removed < nrecords)),
			   "custodian %zu added %llu removed %llu", i,
			   (unsigned long long)ce->pub.added,
			   (unsigned long long)ce->removed);
		for (size_t k = 0; k < i && ce->removed == UINT64_MAX; k++)
			FUZZ_CHECK(c->cust[k].removed != UINT64_MAX ||
					   strcmp(c->cust[k].ver.name,
						  ce->ver.name) != 0,
				   "two active custodians named '%s'",
				   ce->ver.name);
	}
	FUZZ_CHECK(c->ncust == 0 || catalog_custodians_active(c) >= 1,
		   "every custodian removed");
}

void fuzz_fixture_close(void)
{
	if (fixture.v) {
		vault_free(fixture.v);
		fixture.v = NULL;
	}
}

/* --- Seeds ------------------------------------------------------------------ */

const char *fuzz_seed_dir(void)
{
	const char *d = getenv("FUZZ_WRITE_SEEDS");
	return d && *d ? d : NULL;
}

void fuzz_seed(const char *name, const void *data, size_t size)
{
	char path[1024];
	const char *dir = fuzz_seed_dir();
	if (!dir)
		return;
	mkdir(dir, 0755);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || util_write_all(fd, data, size) != 0 || close(fd) != 0) {
		fprintf(stderr, "fuzz: cannot write seed '%s'\n", path);
		abort();
	}
	printf("seed %s (%zu bytes)\n", path, size);
}

void fuzz_seeds_done(void)
{
	fflush(stdout);
	exit(0);
}

size_t fuzz_split(const uint8_t *data, size_t size, uint8_t sep,
		  const uint8_t **piece, size_t *len, size_t max)
{
	size_t n = 0, start = 0;
	if (max == 0)
		return 0;
	for (size_t i = 0; i < size && n + 1 < max; i++) {
		if (data[i] != sep)
			continue;
		piece[n] = data + start;
		len[n++] = i - start;
		start = i + 1;
	}
	piece[n] = data + start;
	len[n++] = size - start;
	return n;
}
