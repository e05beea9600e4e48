/*
 * fuzz_proof.c: Merkle proofs as a witness receives them: base64 SHA-256
 * hashes one per line (proof_lines_parse(), vault/witness.c), checked by
 * the RFC 9162 verifiers of vault/merkle.c.
 *
 * Input: a first line "OLD NEW" (two decimal numbers), then the proof
 * lines.  The proof is checked as a consistency proof from the tree of OLD
 * leaves to that of NEW, and as an inclusion proof of leaf OLD in the tree
 * of NEW.  For trees of up to TREE_MAX leaves (leaf i = the leaf hash of
 * "leaf i") the true roots are used, and a proof the verifiers accept must
 * be exactly the one vault/merkle.c makes: there is one valid proof per
 * question, so an accepted forgery is a bug.  Larger sizes (up to 2^64 - 1)
 * run the verifiers on arbitrary roots, for their arithmetic.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"

#define TREE_MAX 300
static unsigned char leaves[TREE_MAX][32];
static unsigned char hashes[MERKLE_MAX_PROOF][32];
static unsigned char real[MERKLE_MAX_PROOF][32];

static int parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t x = 0;
	if (n == 0 || n > 20)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		unsigned d = (unsigned)(s[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*out = x;
	return 0;
}

static void add_hash(char *buf, size_t *len, const unsigned char h[32])
{
	sodium_bin2base64(buf + *len, 64, h, 32, sodium_base64_VARIANT_ORIGINAL);
	*len += strlen(buf + *len);
	buf[(*len)++] = '\n';
}

static void write_seeds(void)
{
	static const uint64_t pairs[][2] = {{5, 13}, {4, 8}, {1, 2}, {7, 7},
					    {0, 9}, {6, 300}, {255, 256}};
	char buf[8192], name[64];
	size_t count;
	for (size_t k = 0; k < sizeof pairs / sizeof *pairs; k++) {
		uint64_t o = pairs[k][0], n = pairs[k][1];
		size_t len = (size_t)snprintf(buf, sizeof buf, "%llu %llu\n",
					      (unsigned long long)o,
					      (unsigned long long)n);
		if (merkle_consistency_proof((const unsigned char (*)[32])leaves,
					     o, n, real, &count) != 0)
			abort();
		for (size_t i = 0; i < count; i++)
			add_hash(buf, &len, real[i]);
		snprintf(name, sizeof name, "consistency-%llu-%llu",
			 (unsigned long long)o, (unsigned long long)n);
		fuzz_seed(name, buf, len);
		if (o >= n)
			continue;
		len = (size_t)snprintf(buf, sizeof buf, "%llu %llu\n",
				       (unsigned long long)o,
				       (unsigned long long)n);
		if (merkle_inclusion_proof((const unsigned char (*)[32])leaves, n,
					   o, real, &count) != 0)
			abort();
		for (size_t i = 0; i < count; i++)
			add_hash(buf, &len, real[i]);
		snprintf(name, sizeof name, "inclusion-%llu-%llu",
			 (unsigned long long)o, (unsigned long long)n);
		fuzz_seed(name, buf, len);
	}
	static const char huge[] =
		"9223372036854775808 18446744073709551615\n"
		"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";
	fuzz_seed("huge-sizes", huge, strlen(huge));
	fuzz_seeds_done();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	for (int i = 0; i < TREE_MAX; i++) {
		char s[32];
		int n = snprintf(s, sizeof s, "leaf %d", i);
		merkle_leaf_hash((const unsigned char *)s, (size_t)n, leaves[i]);
	}
	if (fuzz_seed_dir())
		write_seeds();
	return 0;
}

static size_t nonempty_lines(const char *s, size_t n)
{
	size_t lines = 0, start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '\n') {
			lines += i > start;
			start = i + 1;
		}
	}
	return lines;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	const unsigned char (*L)[32] = (const unsigned char (*)[32])leaves;
	const unsigned char (*P)[32] = (const unsigned char (*)[32])hashes;
	const unsigned char (*R)[32] = (const unsigned char (*)[32])real;
	unsigned char r_old[32], r_new[32];
	uint64_t o, n;
	size_t count, rcount;

	const char *nl = memchr(s, '\n', size);
	const char *sp = nl ? memchr(s, ' ', (size_t)(nl - s)) : NULL;
	if (!sp || parse_u64(s, (size_t)(sp - s), &o) != 0 ||
	    parse_u64(sp + 1, (size_t)(nl - sp - 1), &n) != 0) {
		if (proof_lines_parse(s, size, hashes, &count) == 0)
			FUZZ_CHECK(count == nonempty_lines(s, size),
				   "%zu hashes", count);
		return 0;
	}
	const char *rest = nl + 1;
	size_t restlen = size - (size_t)(rest - s);
	if (proof_lines_parse(rest, restlen, hashes, &count) != 0)
		return 0;
	FUZZ_CHECK(count <= MERKLE_MAX_PROOF &&
			   count == nonempty_lines(rest, restlen),
		   "%zu hashes", count);

	if (n > TREE_MAX || o > n) {
		memset(r_old, 0, 32);
		memcpy(r_new, hashes[0], 32);
		int c = merkle_consistency_verify(o, n, r_old, r_new, P, count);
		int i = merkle_inclusion_verify(r_old, o, n, P, count, r_new);
		FUZZ_CHECK((c == 0 || c == -1) && (i == 0 || i == -1),
			   "results %d %d", c, i);
		return 0;
	}
	merkle_root(L, o, r_old);
	merkle_root(L, n, r_new);
	FUZZ_CHECK(merkle_consistency_proof(L, o, n, real, &rcount) == 0,
		   "no consistency proof %llu %llu", (unsigned long long)o,
		   (unsigned long long)n);
	FUZZ_CHECK(merkle_consistency_verify(o, n, r_old, r_new, R, rcount) == 0,
		   "the true consistency proof fails");
	if (merkle_consistency_verify(o, n, r_old, r_new, P, count) == 0)
		FUZZ_CHECK(count == rcount && memcmp(hashes, real, 32 * count) == 0,
			   "another consistency proof %llu -> %llu verifies",
			   (unsigned long long)o, (unsigned long long)n);
	if (o < n) {
		FUZZ_CHECK(merkle_inclusion_proof(L, n, o, real, &rcount) == 0,
			   "no inclusion proof");
		FUZZ_CHECK(merkle_inclusion_verify(leaves[o], o, n, R, rcount,
						   r_new) == 0,
			   "the true inclusion proof fails");
		if (merkle_inclusion_verify(leaves[o], o, n, P, count, r_new) == 0)
			FUZZ_CHECK(count == rcount &&
					   memcmp(hashes, real, 32 * count) == 0,
				   "another inclusion proof of %llu in %llu "
				   "verifies",
				   (unsigned long long)o, (unsigned long long)n);
	}
	return 0;
}
