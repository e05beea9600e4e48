/*
 * test-util.c: unit tests of the vault's small helpers (vault/util.c).
 *
 * Padmé padding is checked against the definition in Nikitin et al.,
 * "Reducing Metadata Leakage from Encrypted Files and Communication with
 * PURBs" (PETS 2019), computed here from the paper's formula with plain
 * loops rather than bit tricks:
 *
 *   E = floor(log2 L), S = floor(log2 E) + 1, lastBits = E - S,
 *   bitMask = 2^lastBits - 1, padme(L) = (L + bitMask) & ~bitMask
 *
 * (the formula needs L >= 2; lengths 0 and 1 are left as they are), over
 * every length up to 2^17, around every power of two, and a fixed sample
 * of large lengths, together with the properties the design relies on.
 * Hex encoding, little-endian integers, bounded reads, and the atomic
 * write (temp file, fsync, rename) are checked on real files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "vault/internal.h"

/* --- Padmé ----------------------------------------------------------------- */

static unsigned floor_log2(uint64_t x)
{
	unsigned r = 0;
	while (x >= 2) {
		x /= 2;
		r++;
	}
	return r;
}

static uint64_t ref_padme(uint64_t len)
{
	if (len < 2)
		return len;
	unsigned e = floor_log2(len);
	unsigned s = floor_log2(e) + 1;
	unsigned last_bits = e - s;
	uint64_t mask = 1;
	for (unsigned i = 0; i < last_bits; i++)
		mask *= 2;
	mask -= 1;
	return (len + mask) & ~mask;
}

static void check_padme(uint64_t len)
{
	uint64_t got = util_padme(len), want = ref_padme(len);
	ck_assert_msg(got == want,
		      "padme(%llu) = %llu, the definition gives %llu",
		      (unsigned long long)len, (unsigned long long)got,
		      (unsigned long long)want);
	ck_assert_msg(got >= len, "padme(%llu) = %llu is shorter",
		      (unsigned long long)len, (unsigned long long)got);
	if (len >= 256)
		ck_assert_msg((long double)(got - len) <=
				      0.12L * (long double)len,
			      "padme(%llu) = %llu costs more than 12%%",
			      (unsigned long long)len, (unsigned long long)got);
	/* A padded length is its own padding: sizes come in fixed steps. */
	ck_assert_msg(util_padme(got) == got, "padme(padme(%llu)) != padme",
		      (unsigned long long)len);
}

START_TEST(padme_known_answers)
{
	/* Worked by hand from the formula (E, S, lastBits in brackets). */
	static const struct {
		uint64_t len, padded;
	} kat[] = {
		{0, 0},
		{1, 1},
		{2, 2},		/* E=1 S=1 last=0 */
		{3, 3},		/* E=1 S=1 last=0 */
		{9, 10},	/* E=3 S=2 last=1 */
		{100, 104},	/* E=6 S=3 last=3 */
		{1000, 1024},	/* E=9 S=4 last=5 */
		{65535, 65536}, /* E=15 S=4 last=11 */
		{65536, 65536},
		{65537, 67584},			/* E=16 S=5 last=11 */
		{1000000, 1015808},		/* E=19 S=5 last=14 */
		{4294967297ULL, 4362076160ULL}, /* 2^32+1: E=32 S=6 last=26 */
		{9223372036854775807ULL, 9223372036854775808ULL}, /* 2^63-1 */
	};
	for (size_t i = 0; i < sizeof kat / sizeof *kat; i++) {
		ck_assert_msg(util_padme(kat[i].len) == kat[i].padded,
			      "padme(%llu) = %llu, expected %llu",
			      (unsigned long long)kat[i].len,
			      (unsigned long long)util_padme(kat[i].len),
			      (unsigned long long)kat[i].padded);
		ck_assert_msg(ref_padme(kat[i].len) == kat[i].padded,
			      "the test's own Padmé is wrong at %llu",
			      (unsigned long long)kat[i].len);
	}
}
END_TEST

START_TEST(padme_every_small_length)
{
	uint64_t prev = 0;
	for (uint64_t len = 0; len <= (1u << 17); len++) {
		check_padme(len);
		uint64_t p = util_padme(len);
		ck_assert_msg(p >= prev, "padme is not monotonic at %llu",
			      (unsigned long long)len);
		prev = p;
	}
}
END_TEST

START_TEST(padme_powers_of_two)
{
	for (unsigned k = 0; k < 63; k++) {
		uint64_t p = 1ULL << k;
		ck_assert_msg(util_padme(p) == p, "padme(2^%u) != 2^%u", k, k);
		check_padme(p);
		check_padme(p + 1);
		check_padme(p - 1);
	}
	check_padme((1ULL << 32) + 1);
	check_padme((1ULL << 63) - 1);
	check_padme(1ULL << 63);
}
END_TEST

START_TEST(padme_large_sample)
{
	/* Lengths a file can have: below 2^63 (off_t).  Spread over every
	 * magnitude by drawing the bit length first. */
	uint64_t r[2];
	for (unsigned i = 0; i < 200000; i++) {
		fx_fill((unsigned char *)r, sizeof r, i);
		unsigned bits = (unsigned)(r[0] % 63) + 1;
		uint64_t len = r[1] & ((1ULL << bits) - 1);
		check_padme(len);
	}
}
END_TEST

/* --- Hex and integers --------------------------------------------------- */

START_TEST(hex_known_answer)
{
	static const unsigned char in[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
	unsigned char back[sizeof in];
	char out[2 * sizeof in + 1];

	util_hex(out, in, sizeof in);
	ck_assert_str_eq(out, "00017f80abff");
	ck_assert_int_eq(util_unhex(back, sizeof back, "00017F80ABFF"), 0);
	ck_assert_mem_eq(back, in, sizeof in);
	util_hex(out, in, 0);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(hex_round_trip)
{
	unsigned char in[64], back[64];
	char hex[129];
	for (size_t n = 0; n <= sizeof in; n++) {
		fx_fill(in, n, 1000 + n);
		memset(back, 0xee, sizeof back);
		util_hex(hex, in, n);
		ck_assert_uint_eq(strlen(hex), 2 * n);
		for (size_t i = 0; i < 2 * n; i++)
			ck_assert_msg(strchr("0123456789abcdef", hex[i]) !=
					      NULL,
				      "util_hex wrote '%c'", hex[i]);
		ck_assert_int_eq(util_unhex(back, n, hex), 0);
		ck_assert_mem_eq(back, in, n);
		/* Nothing written past n bytes. */
		for (size_t i = n; i < sizeof back; i++)
			ck_assert_uint_eq(back[i], 0xee);
	}
}
END_TEST

START_TEST(hex_rejects_non_hex)
{
	/* The last: byte 0xff, then '0'. */
	static const char *const bad[] = {"0g", "g0", " 0", "0 ", "-1",
					  "0x", "0",  "",   "zz", "\3770"};
	unsigned char out[1];
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		ck_assert_msg(util_unhex(out, 1, bad[i]) == -1,
			      "util_unhex accepted \"%s\"", bad[i]);
}
END_TEST

START_TEST(little_endian)
{
	unsigned char b[8];
	util_le32(b, 0x04030201u);
	ck_assert_mem_eq(b, "\x01\x02\x03\x04", 4);
	ck_assert_uint_eq(util_get_le32(b), 0x04030201u);
	util_le64(b, 0x0807060504030201ULL);
	ck_assert_mem_eq(b, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	ck_assert_uint_eq(util_get_le64(b), 0x0807060504030201ULL);
	util_le64(b, UINT64_MAX);
	ck_assert_uint_eq(util_get_le64(b), UINT64_MAX);
}
END_TEST

/* --- Files ----------------------------------------------------------------- */

static int open_root(void)
{
	int fd = open(fx_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	return fd;
}

static void expect_content(const char *path, const void *data, size_t len)
{
	unsigned char *got = NULL;
	size_t glen = 0;
	ck_assert_int_eq(fx_read_file(path, &got, &glen), 0);
	ck_assert_uint_eq(glen, len);
	ck_assert_int_eq(memcmp(got, data, len), 0);
	free(got);
}

START_TEST(atomic_write_new_and_replace)
{
	int dfd = open_root();
	struct stat st;
	unsigned char *big = fx_random(1 << 20, 7);

	ck_assert_int_eq(mkdir(fx_path("sub"), 0700), 0);
	ck_assert_int_eq(util_atomic_write(dfd, "sub/file", "hello", 5), 0);
	expect_content(fx_path("sub/file"), "hello", 5);
	ck_assert_int_eq(stat(fx_path("sub/file"), &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	/* The temporary file is gone: only the target is in the directory. */
	ck_assert_int_eq(fx_dir_entries(fx_path("sub")), 1);

	ck_assert_int_eq(util_atomic_write(dfd, "sub/file", big, 1 << 20), 0);
	expect_content(fx_path("sub/file"), big, 1 << 20);
	ck_assert_int_eq(fx_dir_entries(fx_path("sub")), 1);

	ck_assert_int_eq(util_atomic_write(dfd, "sub/file", "", 0), 0);
	ck_assert_int_eq(fx_file_size(fx_path("sub/file")), 0);
	ck_assert_int_eq(fx_dir_entries(fx_path("sub")), 1);

	/* A name without a directory part lands in dirfd itself. */
	ck_assert_int_eq(util_atomic_write(dfd, "top", "xyz", 3), 0);
	expect_content(fx_path("top"), "xyz", 3);
	ck_assert_int_eq(fx_dir_entries(fx_root), 2);
	close(dfd);
}
END_TEST

START_TEST(atomic_write_failure_leaves_nothing)
{
	int dfd = open_root();
	int rc = util_atomic_write(dfd, "missing/file", "data", 4);
	ck_assert_int_eq(rc, -ENOENT);
	ck_assert_int_eq(fx_dir_entries(fx_root), 0);

	/* Cannot replace a directory with a file: the old one stays and the
	 * temporary file is removed. */
	ck_assert_int_eq(mkdir(fx_path("d"), 0700), 0);
	ck_assert_int_eq(mkdir(fx_path("d/target"), 0700), 0);
	rc = util_atomic_write(dfd, "d/target", "data", 4);
	ck_assert_int_lt(rc, 0);
	ck_assert_int_eq(fx_dir_entries(fx_path("d")), 1);
	close(dfd);
}
END_TEST

START_TEST(read_small_bounds)
{
	int dfd = open_root();
	unsigned char *buf = NULL;
	size_t len = 0;

	fx_write_file("ten", "0123456789", 10);
	ck_assert_int_eq(util_read_small(dfd, "ten", 10, &buf, &len), 0);
	ck_assert_uint_eq(len, 10);
	ck_assert_mem_eq(buf, "0123456789", 10);
	ck_assert_uint_eq(buf[10], 0); /* NUL after the content */
	free(buf);
	buf = NULL;
	ck_assert_int_eq(util_read_small(dfd, "ten", 9, &buf, &len), -EFBIG);
	ck_assert_ptr_null(buf);
	ck_assert_int_eq(util_read_small(dfd, "absent", 9, &buf, &len),
			 -ENOENT);
	ck_assert_int_eq(symlink("ten", fx_path("link")), 0);
	ck_assert_int_eq(util_read_small(dfd, "link", 10, &buf, &len), -ELOOP);
	close(dfd);
}
END_TEST

static Suite *util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("padme");
	tcase_add_test(tc, padme_known_answers);
	tcase_add_test(tc, padme_every_small_length);
	tcase_add_test(tc, padme_powers_of_two);
	tcase_add_test(tc, padme_large_sample);
	tcase_set_timeout(tc, FX_TIMEOUT);
	suite_add_tcase(s, tc);

	tc = tcase_create("encoding");
	tcase_add_test(tc, hex_known_answer);
	tcase_add_test(tc, hex_round_trip);
	tcase_add_test(tc, hex_rejects_non_hex);
	tcase_add_test(tc, little_endian);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	fx_tcase_tmp(tc);
	tcase_add_test(tc, atomic_write_new_and_replace);
	tcase_add_test(tc, atomic_write_failure_leaves_nothing);
	tcase_add_test(tc, read_small_bounds);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fx_run(util_suite());
}
