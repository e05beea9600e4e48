/*
 * test-object.c: unit tests of the encrypted object format (vault/object.c)
 * through the real vault API: a file is ingested and committed, read back
 * with vault_item_read and vault_item_extract, and its object file is
 * checked from outside the library:
 *
 *  - its size is object_ct_size(size) and also the size the format
 *    description gives (header 32 + 64 KiB chunks of Padmé-padded data,
 *    17 bytes of tag each, + 65-byte trailer chunk);
 *  - it decodes with libsodium's secretstream called directly (a second
 *    decoder, following the layout object.c documents): magic, header,
 *    MESSAGE chunks of 64 KiB, zero padding, and a FINAL trailer
 *    "EVTR" | u32 1 | u64 size | SHA-256;
 *  - it contains no run of the plaintext (no 47-byte run, and none of the
 *    text markers planted every 4 KiB of the test data).
 *
 * Sizes: 0, 1, one chunk minus one, one chunk, one chunk plus one, one
 * batch of 16 chunks, a batch plus one, and about 3 MB.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "fixture.h"
#include "vault/internal.h"

#define MARKER "EVAULT-PLAINTEXT-MARKER"
#define RUN 32 /* window length for the common-run search */

static const size_t sizes[] = {
	0, 1, 65535, 65536, 65537, 16 * 65536, 16 * 65536 + 1, 3000017,
};
#define NSIZES (sizeof sizes / sizeof *sizes)

/* Seeded random bytes with a text marker at every 4 KiB. */
static unsigned char *make_content(size_t n, uint64_t seed)
{
	unsigned char *p = fx_random(n, seed);
	char m[64];
	for (size_t off = 0; off < n; off += 4096) {
		int len = snprintf(m, sizeof m, MARKER "-%08zu", off);
		if (off + (size_t)len <= n)
			memcpy(p + off, m, (size_t)len);
	}
	return p;
}

static void sha256(const void *data, size_t n, unsigned char out[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	ck_assert_ptr_nonnull(md);
	ck_assert_int_eq(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
	ck_assert_int_eq(EVP_DigestUpdate(md, data, n), 1);
	ck_assert_int_eq(EVP_DigestFinal_ex(md, out, NULL), 1);
	EVP_MD_CTX_free(md);
}

/* The object file of an item, from its id and the vault's name key. */
static char *object_file(const char *id)
{
	unsigned char sha[32];
	char name[65], rel[128];
	ck_assert_int_eq(util_unhex(sha, 32, id), 0);
	object_name(fx_v, sha, name);
	snprintf(rel, sizeof rel, "objects/%.2s/%s", name, name);
	return fx_vpath(rel);
}

/* Ingest `n` bytes of content written to fx_root/name and commit. */
static const vault_item *ingest_bytes(const char *name,
				      const unsigned char *data, size_t n)
{
	vault_ingest_result r;
	const vault_item *it;
	char *path = fx_write_file(name, data, n);
	unsigned char sha[32];
	char hex[65];
	vault_err e = vault_ingest_file(fx_v, path, NULL, &r);
	ck_assert_msg(e == VAULT_OK, "ingest %zu bytes: %s: %s", n,
		      vault_strerror(e), vault_errmsg(fx_v));
	e = vault_commit(fx_v);
	ck_assert_msg(e == VAULT_OK, "commit: %s", vault_errmsg(fx_v));
	sha256(data, n, sha);
	util_hex(hex, sha, 32);
	ck_assert_str_eq(r.id, hex);
	ck_assert_uint_eq(r.size, n);
	ck_assert_int_eq(vault_item_find(fx_v, r.id, &it), VAULT_OK);
	return it;
}

/* --- Reading back into memory ------------------------------------------- */

typedef struct {
	unsigned char *buf;
	size_t cap, len;
	int overflow;
	int calls;
	int fail_after; /* return -1 on this call (1-based), 0 never */
} mem_sink;

/* Runs on the library's worker thread: no assertions here. */
static int mem_write(void *ctx, const void *buf, size_t n)
{
	mem_sink *m = ctx;
	m->calls++;
	if (m->fail_after && m->calls >= m->fail_after)
		return -1;
	if (n > m->cap - m->len) {
		m->overflow = 1;
		return -1;
	}
	memcpy(m->buf + m->len, buf, n);
	m->len += n;
	return 0;
}

/* --- Independent decoder --------------------------------------------------- */

static uint64_t expected_ct_size(uint64_t size)
{
	uint64_t padded = util_padme(size), ct = 8 + 24;
	ct += padded / 65536 * (65536 + 17);
	if (padded % 65536)
		ct += padded % 65536 + 17;
	return ct + 48 + 17;
}

static void decode_object(const unsigned char *obj, size_t objlen,
			  const unsigned char *data, size_t size)
{
	crypto_secretstream_xchacha20poly1305_state st;
	uint64_t padded = util_padme(size);
	unsigned char *pt = fx_keep(malloc(padded + 1));
	unsigned char trailer[48], sha[32], tag = 0xff;
	unsigned long long mlen;
	size_t off = 32, done = 0;

	ck_assert_uint_eq(objlen, expected_ct_size(size));
	ck_assert_mem_eq(obj, "EVAULTO1", 8);
	ck_assert_int_eq(crypto_secretstream_xchacha20poly1305_init_pull(
				 &st, obj + 8, fx_v->keys->object),
			 0);
	while (done < padded) {
		size_t take = padded - done < 65536 ? padded - done : 65536;
		ck_assert_uint_ge(objlen - off, take + 17);
		ck_assert_msg(crypto_secretstream_xchacha20poly1305_pull(
				      &st, pt + done, &mlen, &tag, obj + off,
				      take + 17, NULL, 0) == 0,
			      "chunk at %zu does not decrypt", off);
		ck_assert_uint_eq(mlen, take);
		ck_assert_uint_eq(
			tag, crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
		off += take + 17;
		done += take;
	}
	ck_assert_uint_eq(objlen - off, 48 + 17);
	int rc = crypto_secretstream_xchacha20poly1305_pull(&st, trailer, &mlen,
							    &tag, obj + off,
							    48 + 17, NULL, 0);
	ck_assert_msg(rc == 0, "the trailer does not decrypt");
	ck_assert_uint_eq(mlen, 48);
	ck_assert_uint_eq(tag, crypto_secretstream_xchacha20poly1305_TAG_FINAL);
	ck_assert_mem_eq(trailer, "EVTR\x01\x00\x00\x00", 8);
	ck_assert_uint_eq(util_get_le64(trailer + 8), size);
	sha256(data, size, sha);
	ck_assert_mem_eq(trailer + 16, sha, 32);
	ck_assert_int_eq(memcmp(pt, data, size), 0);
	for (size_t i = size; i < padded; i++)
		ck_assert_msg(pt[i] == 0, "padding byte %zu is %u", i, pt[i]);
}

/* --- Plaintext search ------------------------------------------------------ */

typedef struct {
	uint64_t key;
	size_t off;
} window;

static uint64_t load64(const unsigned char *p)
{
	uint64_t k;
	memcpy(&k, p, 8);
	return k;
}

static int cmp_window(const void *a, const void *b)
{
	uint64_t x = ((const window *)a)->key, y = ((const window *)b)->key;
	return x < y ? -1 : x > y;
}

/* Offset in `pt` of a RUN-byte window that also appears in `ct`, or -1.
 * Windows of ct are taken every 16 bytes, so any common run of at least
 * RUN + 15 bytes is found. */
static long long common_run(const unsigned char *pt, size_t n,
			    const unsigned char *ct, size_t m)
{
	size_t nw = m >= RUN ? (m - RUN) / 16 + 1 : 0;
	window *w = malloc((nw ? nw : 1) * sizeof *w);
	long long found = -1;
	ck_assert_ptr_nonnull(w);
	for (size_t i = 0; i < nw; i++) {
		w[i].off = i * 16;
		w[i].key = load64(ct + i * 16);
	}
	qsort(w, nw, sizeof *w, cmp_window);
	for (size_t i = 0; nw && i + RUN <= n && found < 0; i++) {
		window k = {load64(pt + i), 0};
		window *hit = bsearch(&k, w, nw, sizeof *w, cmp_window);
		if (!hit)
			continue;
		while (hit > w && hit[-1].key == k.key)
			hit--;
		for (; hit < w + nw && hit->key == k.key; hit++)
			if (memcmp(pt + i, ct + hit->off, RUN) == 0) {
				found = (long long)i;
				break;
			}
	}
	free(w);
	return found;
}

/* --- Tests ------------------------------------------------------------------- */

START_TEST(round_trip)
{
	size_t n = sizes[_i];
	unsigned char *data = make_content(n, 0x0b1ec7 + (uint64_t)_i);
	const vault_item *it;
	mem_sink m = {0};
	unsigned char *obj = NULL;
	size_t objlen = 0;
	char name[32];

	snprintf(name, sizeof name, "file-%zu.bin", n);
	it = ingest_bytes(name, data, n);
	ck_assert_uint_eq(it->size, n);

	/* Read back through the API, from a fresh handle so that nothing
	 * comes from memory. */
	char id[65];
	memcpy(id, it->id, sizeof id);
	fx_reopen(0);
	ck_assert_int_eq(vault_item_find(fx_v, id, &it), VAULT_OK);
	ck_assert_str_eq(it->id, id);
	m.cap = n;
	m.buf = fx_keep(malloc(n ? n : 1));
	vault_err e = vault_item_read(fx_v, it, mem_write, &m, NULL, NULL);
	ck_assert_msg(e == VAULT_OK, "read: %s", vault_errmsg(fx_v));
	ck_assert_int_eq(m.overflow, 0);
	ck_assert_uint_eq(m.len, n);
	ck_assert_int_eq(memcmp(m.buf, data, n), 0);

	/* The object file: size, format, and no plaintext. */
	char *file = object_file(it->id);
	ck_assert_int_eq(fx_read_file(file, &obj, &objlen), 0);
	fx_keep(obj);
	ck_assert_uint_eq(objlen, object_ct_size(n));
	ck_assert_uint_eq(object_ct_size(n), expected_ct_size(n));
	decode_object(obj, objlen, data, n);
	if (n >= sizeof MARKER)
		ck_assert_ptr_null(
			memmem(obj, objlen, MARKER, sizeof MARKER - 1));
	long long at = common_run(data, n, obj, objlen);
	ck_assert_msg(at < 0, "the object holds plaintext bytes %lld..%lld", at,
		      at + RUN);
}
END_TEST

START_TEST(plaintext_search_can_fail)
{
	/* The search above must find a planted run, wherever it lands. */
	unsigned char *pt = fx_random(100000, 1), *ct = fx_random(50000, 2);
	for (size_t at = 0; at < 40; at += 7) {
		unsigned char *c = fx_keep(malloc(50000));
		memcpy(c, ct, 50000);
		memcpy(c + 20000 + at, pt + 777, RUN + 15);
		ck_assert_int_eq(common_run(pt, 100000, c, 50000) >= 0, 1);
	}
	ck_assert_int_eq(common_run(pt, 100000, ct, 50000), -1);
}
END_TEST

START_TEST(padding_hides_exact_size)
{
	/* Sizes within one Padmé step give objects of one size. */
	ck_assert_uint_eq(object_ct_size(1000000), object_ct_size(1015808));
	ck_assert_uint_eq(object_ct_size(1000000), object_ct_size(1000001));
	ck_assert_uint_ne(object_ct_size(1015808), object_ct_size(1015809));
	ck_assert_uint_eq(object_ct_size(0), 8 + 24 + 48 + 17);
	ck_assert_uint_eq(object_ct_size(65536), 8 + 24 + 65536 + 17 + 48 + 17);
}
END_TEST

START_TEST(extract_round_trip)
{
	size_t n = 16 * 65536 + 1;
	unsigned char *data = make_content(n, 42), *got = NULL;
	size_t glen = 0;
	const vault_item *it = ingest_bytes("in.bin", data, n);
	char *out = fx_path("out.bin");

	ck_assert_int_eq(vault_item_extract(fx_v, it, out, NULL, NULL),
			 VAULT_OK);
	ck_assert_int_eq(fx_read_file(out, &got, &glen), 0);
	ck_assert_uint_eq(glen, n);
	ck_assert_int_eq(memcmp(got, data, n), 0);
	free(got);
	/* in.bin, out.bin and the vault: no temporary file left. */
	ck_assert_int_eq(fx_dir_entries(fx_root), 3);
}
END_TEST

static void rewrite_at(const char *path, off_t off, const void *buf, size_t n)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, buf, n, off), (ssize_t)n);
	ck_assert_int_eq(close(fd), 0);
}

START_TEST(damaged_object_is_not_extracted)
{
	size_t n = 200000;
	unsigned char *data = make_content(n, 43);
	const vault_item *it = ingest_bytes("in.bin", data, n);
	char *file = object_file(it->id), *out = fx_path("out.bin");
	unsigned char b;
	mem_sink m = {0};

	/* Flip one bit of the last data chunk. */
	off_t off = (off_t)object_ct_size(n) - 65 - 100;
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &b, 1, off), 1);
	close(fd);
	b ^= 0x10;
	rewrite_at(file, off, &b, 1);

	vault_err e = vault_item_extract(fx_v, it, out, NULL, NULL);
	ck_assert_int_eq(e, VAULT_E_CORRUPT);
	ck_assert_ptr_nonnull(strstr(vault_errmsg(fx_v), "objects/"));
	ck_assert_int_eq(access(out, F_OK), -1);
	ck_assert_int_eq(fx_dir_entries(fx_root), 2); /* in.bin, vault */

	m.cap = n;
	m.buf = fx_keep(malloc(n));
	ck_assert_int_eq(vault_item_read(fx_v, it, mem_write, &m, NULL, NULL),
			 VAULT_E_CORRUPT);
}
END_TEST

START_TEST(swapped_chunks_are_caught)
{
	size_t n = 3 * 65536;
	unsigned char *data = make_content(n, 44), *obj = NULL;
	size_t objlen = 0;
	const vault_item *it = ingest_bytes("in.bin", data, n);
	char *file = object_file(it->id);
	mem_sink m = {0};

	ck_assert_int_eq(fx_read_file(file, &obj, &objlen), 0);
	fx_keep(obj);
	/* Chunks 0 and 1, each 65536 + 17 bytes after the 32-byte header. */
	rewrite_at(file, 32, obj + 32 + 65553, 65553);
	rewrite_at(file, 32 + 65553, obj + 32, 65553);
	m.cap = n;
	m.buf = fx_keep(malloc(n));
	ck_assert_int_eq(vault_item_read(fx_v, it, mem_write, &m, NULL, NULL),
			 VAULT_E_CORRUPT);
	ck_assert_ptr_nonnull(strstr(vault_errmsg(fx_v), "chunk 0"));
}
END_TEST

START_TEST(sink_failure_stops_reading)
{
	size_t n = 5 << 20;
	unsigned char *data = make_content(n, 45);
	const vault_item *it = ingest_bytes("in.bin", data, n);
	mem_sink m = {0};

	m.cap = n;
	m.buf = fx_keep(malloc(n));
	m.fail_after = 2;
	ck_assert_int_eq(vault_item_read(fx_v, it, mem_write, &m, NULL, NULL),
			 VAULT_E_WRITE);
	ck_assert_int_lt(m.len, n);
}
END_TEST

static Suite *object_suite(void)
{
	Suite *s = suite_create("object");
	TCase *tc = tcase_create("round-trip");
	fx_tcase_vault(tc);
	tcase_add_loop_test(tc, round_trip, 0, NSIZES);
	tcase_add_test(tc, plaintext_search_can_fail);
	tcase_add_test(tc, padding_hides_exact_size);
	tcase_add_test(tc, extract_round_trip);
	suite_add_tcase(s, tc);

	tc = tcase_create("damage");
	fx_tcase_vault(tc);
	tcase_add_test(tc, damaged_object_is_not_extracted);
	tcase_add_test(tc, swapped_chunks_are_caught);
	tcase_add_test(tc, sink_failure_stops_reading);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fx_run(object_suite());
}
