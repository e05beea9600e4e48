/*
 * test-proof.c: unit tests of the Merkle log's proofs and frontier
 * (vault/merkle.c): inclusion and consistency proofs (RFC 9162 2.1.3 and
 * 2.1.4) and the O(log n) frontier that gives the root after each append.
 *
 * The reference here is RFC 6962 section 2.1 read literally and computed
 * independently of the library: tree hashes level by level with OpenSSL,
 * PATH(m, D[n]) and PROOF(m, D[n]) / SUBPROOF by their recursive
 * definitions, and naive verifiers that rebuild the tree shape from those
 * definitions (the library builds proofs level by level and verifies them
 * with the RFC 9162 bit-walking algorithms).  For every tree of up to 64
 * leaves, every inclusion proof and every consistency proof must equal
 * the reference byte for byte, verify, and fail once tampered with.
 *
 * Known answers: the inclusion and consistency proofs of
 * transparency-dev/merkle proof/verify_test.go (commit 02194e9a) over the
 * leaves of testonly/constants.go.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "fixture.h"
#include "vault/merkle.h"

typedef unsigned char hash[32];

/* An assertion for hot loops: Check's own assertions record every passing
 * check through a pipe, which dominates the run time here. */
#define must(cond)                                                            \
	do {                                                                  \
		if (!(cond))                                                  \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #cond); \
	} while (0)

#define MAXN 300

static hash leaves[MAXN];

static void fill_leaves(void)
{
	for (int i = 0; i < MAXN; i++) {
		char data[32];
		int n = snprintf(data, sizeof data, "record %d\n", i);
		merkle_leaf_hash((const unsigned char *)data, (size_t)n,
				 leaves[i]);
	}
}

/* --- Reference (OpenSSL, RFC 6962 definitions) ------------------------------ */

static EVP_MD_CTX *md_ctx; /* reused: the reference hashes a lot */

static void ref_sha256(const void *a, size_t alen, const void *b, size_t blen,
		       const void *c, size_t clen, unsigned char out[32])
{
	unsigned int n;
	if (!md_ctx)
		md_ctx = EVP_MD_CTX_new();
	must(md_ctx != NULL);
	must(EVP_DigestInit_ex(md_ctx, EVP_sha256(), NULL) == 1);
	must(EVP_DigestUpdate(md_ctx, a, alen) == 1);
	must(EVP_DigestUpdate(md_ctx, b, blen) == 1);
	must(EVP_DigestUpdate(md_ctx, c, clen) == 1);
	must(EVP_DigestFinal_ex(md_ctx, out, &n) == 1);
}

static void ref_node(const unsigned char *l, const unsigned char *r,
		     unsigned char out[32])
{
	static const unsigned char one = 0x01;
	unsigned char tmp[32];
	ref_sha256(&one, 1, l, 32, r, 32, tmp);
	memcpy(out, tmp, 32);
}

/* MTH(D[lo:hi]) level by level: pairs hashed, a lone last node promoted. */
static void ref_mth(uint64_t lo, uint64_t hi, unsigned char out[32])
{
	static hash level[MAXN];
	size_t n = (size_t)(hi - lo);
	if (n == 0) {
		ref_sha256("", 0, "", 0, "", 0, out);
		return;
	}
	memcpy(level, leaves[lo], n * 32);
	while (n > 1) {
		size_t m = 0;
		for (size_t i = 0; i < n; i += 2) {
			if (i + 1 < n)
				ref_node(level[i], level[i + 1], level[m]);
			else
				memcpy(level[m], level[i], 32);
			m++;
		}
		n = m;
	}
	memcpy(out, level[0], 32);
}

static uint64_t ref_split(uint64_t n)
{
	uint64_t k = 1;
	while (k * 2 < n)
		k *= 2;
	return k;
}

/* PATH(m, D[lo:hi]) of RFC 6962 2.1.1. */
static void ref_path(uint64_t m, uint64_t lo, uint64_t hi, hash *out,
		     size_t *count)
{
	uint64_t n = hi - lo;
	if (n <= 1)
		return;
	uint64_t k = ref_split(n);
	if (m < k) {
		ref_path(m, lo, lo + k, out, count);
		ref_mth(lo + k, hi, out[(*count)++]);
	} else {
		ref_path(m - k, lo + k, hi, out, count);
		ref_mth(lo, lo + k, out[(*count)++]);
	}
}

/* SUBPROOF(m, D[lo:hi], b) of RFC 6962 2.1.2. */
static void ref_subproof(uint64_t m, uint64_t lo, uint64_t hi, int b, hash *out,
			 size_t *count)
{
	uint64_t n = hi - lo;
	if (m == n) {
		if (!b)
			ref_mth(lo, hi, out[(*count)++]);
		return;
	}
	uint64_t k = ref_split(n);
	if (m <= k) {
		ref_subproof(m, lo, lo + k, b, out, count);
		ref_mth(lo + k, hi, out[(*count)++]);
	} else {
		ref_subproof(m - k, lo + k, hi, 0, out, count);
		ref_mth(lo, lo + k, out[(*count)++]);
	}
}

static void ref_consistency(uint64_t m, uint64_t n, hash *out, size_t *count)
{
	*count = 0;
	if (m > 0 && m < n)
		ref_subproof(m, 0, n, 1, out, count);
}

/* Naive inclusion verifier: the shape of PATH(m, D[n]) rebuilt from its
 * definition, the proof consumed from its end (the root's child) down. */
static int ref_incl_root(uint64_t m, uint64_t n, const unsigned char *leaf,
			 const hash *proof, size_t *left, unsigned char out[32])
{
	if (n == 1) {
		memcpy(out, leaf, 32);
		return 0;
	}
	if (*left == 0)
		return -1;
	const unsigned char *sib = proof[--(*left)];
	uint64_t k = ref_split(n);
	unsigned char sub[32];
	if (m < k) {
		if (ref_incl_root(m, k, leaf, proof, left, sub) < 0)
			return -1;
		ref_node(sub, sib, out);
	} else {
		if (ref_incl_root(m - k, n - k, leaf, proof, left, sub) < 0)
			return -1;
		ref_node(sib, sub, out);
	}
	return 0;
}

static int ref_incl_verify(const unsigned char *leaf, uint64_t m, uint64_t n,
			   const hash *proof, size_t count,
			   const unsigned char *root)
{
	unsigned char r[32];
	size_t left = count;
	if (m >= n || ref_incl_root(m, n, leaf, proof, &left, r) < 0 ||
	    left != 0)
		return -1;
	return memcmp(r, root, 32) == 0 ? 0 : -1;
}

/* Naive consistency verifier following SUBPROOF's recursion: returns the
 * old and new subtree hashes the proof implies. */
static int ref_cons_roots(uint64_t m, uint64_t n, int b,
			  const unsigned char *old_root, const hash *proof,
			  size_t *left, unsigned char o[32],
			  unsigned char nw[32])
{
	if (m == n) {
		if (b) {
			memcpy(o, old_root, 32);
			memcpy(nw, old_root, 32);
			return 0;
		}
		if (*left != 1)
			return -1; /* the first hash of the proof */
		*left = 0;
		memcpy(o, proof[0], 32);
		memcpy(nw, proof[0], 32);
		return 0;
	}
	if (*left == 0)
		return -1;
	const unsigned char *sib = proof[--(*left)];
	uint64_t k = ref_split(n);
	unsigned char so[32], sn[32];
	if (m <= k) {
		if (ref_cons_roots(m, k, b, old_root, proof, left, so, sn) < 0)
			return -1;
		memcpy(o, so, 32);
		ref_node(sn, sib, nw);
	} else {
		if (ref_cons_roots(m - k, n - k, 0, old_root, proof, left, so,
				   sn) < 0)
			return -1;
		ref_node(sib, so, o);
		ref_node(sib, sn, nw);
	}
	return 0;
}

static int ref_cons_verify(uint64_t m, uint64_t n, const unsigned char *r1,
			   const unsigned char *r2, const hash *proof,
			   size_t count)
{
	unsigned char o[32], nw[32], empty[32];
	size_t left = count;
	if (m > n)
		return -1;
	if (m == 0) {
		ref_sha256("", 0, "", 0, "", 0, empty);
		return count == 0 && memcmp(r1, empty, 32) == 0 ? 0 : -1;
	}
	if (ref_cons_roots(m, n, 1, r1, proof, &left, o, nw) < 0 || left != 0)
		return -1;
	return memcmp(o, r1, 32) == 0 && memcmp(nw, r2, 32) == 0 ? 0 : -1;
}

/* --- Helpers ----------------------------------------------------------------- */

static void unhex(const char *s, unsigned char out[32])
{
	ck_assert_uint_eq(strlen(s), 64);
	for (int i = 0; i < 32; i++) {
		unsigned v;
		ck_assert_int_eq(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (unsigned char)v;
	}
}

static hash roots[MAXN + 1];

static void fill_roots(void)
{
	for (uint64_t n = 0; n <= MAXN; n++)
		ref_mth(0, n, roots[n]);
}

/* --- Frontier ------------------------------------------------------------------ */

START_TEST(frontier_matches_root)
{
	merkle_frontier f;
	unsigned char got[32], want[32];

	printf("frontier root equals merkle_root and the reference, sizes "
	       "0..%d\n",
	       MAXN);
	merkle_frontier_init(&f);
	for (uint64_t n = 0; n <= MAXN; n++) {
		merkle_frontier_root(&f, got);
		merkle_root((const hash *)leaves, n, want);
		ck_assert_msg(memcmp(got, want, 32) == 0,
			      "frontier root differs at size %llu",
			      (unsigned long long)n);
		ck_assert_msg(memcmp(got, roots[n], 32) == 0,
			      "root differs from the reference at size %llu",
			      (unsigned long long)n);
		ck_assert_uint_eq(f.size, n);
		if (n < MAXN)
			ck_assert_int_eq(merkle_frontier_append(&f, leaves[n]),
					 0);
	}
}
END_TEST

START_TEST(frontier_snapshot_and_full)
{
	merkle_frontier f, snap;
	unsigned char a[32], b[32];

	printf("a frontier copied before appends keeps the old root; a full "
	       "frontier refuses an append\n");
	merkle_frontier_init(&f);
	for (int i = 0; i < 37; i++)
		ck_assert_int_eq(merkle_frontier_append(&f, leaves[i]), 0);
	snap = f;
	for (int i = 37; i < 50; i++)
		ck_assert_int_eq(merkle_frontier_append(&f, leaves[i]), 0);
	merkle_frontier_root(&snap, a);
	ck_assert_mem_eq(a, roots[37], 32);
	merkle_frontier_root(&f, b);
	ck_assert_mem_eq(b, roots[50], 32);

	f.size = UINT64_MAX;
	snap = f;
	ck_assert_int_eq(merkle_frontier_append(&f, leaves[0]), -1);
	ck_assert_mem_eq(&f, &snap, sizeof f);
}
END_TEST

START_TEST(frontier_large)
{
	enum { N = 100000 };
	hash *big = malloc((size_t)N * 32);
	merkle_frontier f;
	unsigned char got[32], want[32];

	printf("frontier over %d leaves: root after each append; equal to "
	       "merkle_root at several sizes\n",
	       N);
	ck_assert_ptr_nonnull(big);
	fx_fill((unsigned char *)big, (size_t)N * 32, 7);
	merkle_frontier_init(&f);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(merkle_frontier_append(&f, big[i]), 0);
		merkle_frontier_root(&f, got);
		if (i + 1 == 1 || i + 1 == 65536 || i + 1 == 65537 ||
		    i + 1 == 99999 || i + 1 == N) {
			merkle_root((const hash *)big, (uint64_t)i + 1, want);
			ck_assert_mem_eq(got, want, 32);
		}
	}
	free(big);
}
END_TEST

/* --- Inclusion ------------------------------------------------------------------ */

/* Every tampering of a valid inclusion proof: the library must agree with
 * the naive verifier, and reject outright where no valid proof can
 * result. */
static void tamper_inclusion(uint64_t m, uint64_t n, const hash *proof,
			     size_t count)
{
	hash t[MERKLE_MAX_PROOF + 2];
	const unsigned char *leaf = leaves[m], *root = roots[n];

	for (size_t i = 0; i < count; i++) {
		for (int bit = 0; bit < 8; bit += 7) {
			memcpy(t, proof, count * 32);
			t[i][(i * 7 + (size_t)bit) % 32] ^=
				(unsigned char)(1 << bit);
			must(merkle_inclusion_verify(leaf, m, n,
						     (const hash *)t, count,
						     root) == -1);
		}
	}
	if (count > 0) {
		/* drop the last, drop the first */
		must(merkle_inclusion_verify(leaf, m, n, proof, count - 1,
					     root) == -1);
		must(merkle_inclusion_verify(leaf, m, n, proof + 1, count - 1,
					     root) == -1);
	}
	/* an extra hash at the end, at the front */
	memcpy(t, proof, count * 32);
	memcpy(t[count], root, 32);
	must(merkle_inclusion_verify(leaf, m, n, (const hash *)t, count + 1,
				     root) == -1);
	memcpy(t[0], leaf, 32);
	memcpy(t + 1, proof, count * 32);
	must(merkle_inclusion_verify(leaf, m, n, (const hash *)t, count + 1,
				     root) == -1);
	/* another leaf, another root */
	must(merkle_inclusion_verify(leaves[n], m, n, proof, count, root) ==
	     -1);
	must(merkle_inclusion_verify(leaf, m, n, proof, count, roots[n - 1]) ==
	     -1);
	/* wrong index or size: the library and the naive verifier agree (a
	 * proof can be valid for another position of the same shape only
	 * if it hashes to the same root) */
	const uint64_t idx[] = {m - 1, m + 1, m ^ 1, m ^ 2, m, m, m, m, n};
	const uint64_t sz[] = {n, n, n, n, n - 1, n + 1, n * 2, n / 2, n};
	for (size_t j = 0; j < sizeof idx / sizeof idx[0]; j++) {
		if ((idx[j] == m && sz[j] == n) || idx[j] > MAXN ||
		    sz[j] > MAXN)
			continue;
		int want = ref_incl_verify(leaf, idx[j], sz[j], proof, count,
					   root);
		int got = merkle_inclusion_verify(leaf, idx[j], sz[j], proof,
						  count, root);
		if (got != want)
			ck_abort_msg(
				"index %llu size %llu (proof of %llu in %llu): "
				"library %d, reference %d",
				(unsigned long long)idx[j],
				(unsigned long long)sz[j],
				(unsigned long long)m, (unsigned long long)n,
				got, want);
		if (idx[j] >= sz[j])
			must(got == -1);
	}
}

START_TEST(inclusion_all_up_to_64)
{
	hash proof[MERKLE_MAX_PROOF], ref[MERKLE_MAX_PROOF];
	size_t count, rcount;
	unsigned long checked = 0;

	printf("inclusion proofs for every leaf of every tree of 1..64 "
	       "leaves: equal to RFC 6962 PATH, verified, tampering "
	       "rejected\n");
	for (uint64_t n = 1; n <= 64; n++) {
		for (uint64_t m = 0; m < n; m++) {
			must(merkle_inclusion_proof((const hash *)leaves, n, m,
						    proof, &count) == 0);
			rcount = 0;
			ref_path(m, 0, n, ref, &rcount);
			if (count != rcount ||
			    memcmp(proof, ref, count * 32) != 0)
				ck_abort_msg("proof of %llu in %llu differs",
					     (unsigned long long)m,
					     (unsigned long long)n);
			must(ref_incl_verify(leaves[m], m, n,
					     (const hash *)proof, count,
					     roots[n]) == 0);
			must(merkle_inclusion_verify(leaves[m], m, n,
						     (const hash *)proof, count,
						     roots[n]) == 0);
			tamper_inclusion(m, n, (const hash *)proof, count);
			checked++;
		}
	}
	ck_assert_uint_eq(checked, 64 * 65 / 2);
}
END_TEST

START_TEST(inclusion_larger_trees)
{
	hash proof[MERKLE_MAX_PROOF], ref[MERKLE_MAX_PROOF];
	size_t count, rcount;

	printf("inclusion proofs in trees of 65..%d leaves (first, last and "
	       "sampled leaves) equal the reference and verify\n",
	       MAXN);
	for (uint64_t n = 65; n <= MAXN; n += 7) {
		const uint64_t ms[] = {0, 1, n / 2, n - 2, n - 1, (n * 5) / 7};
		for (size_t j = 0; j < sizeof ms / sizeof ms[0]; j++) {
			uint64_t m = ms[j];
			ck_assert_int_eq(merkle_inclusion_proof((const hash *)
									leaves,
								n, m, proof,
								&count),
					 0);
			rcount = 0;
			ref_path(m, 0, n, ref, &rcount);
			ck_assert_uint_eq(count, rcount);
			ck_assert_mem_eq(proof, ref, count * 32);
			ck_assert_int_eq(merkle_inclusion_verify(leaves[m], m,
								 n,
								 (const hash *)
									 proof,
								 count,
								 roots[n]),
					 0);
		}
	}
}
END_TEST

/* The whole tree built once (for certificates) gives the same paths as
 * the reference, and its top node is the root, for every tree up to MAXN
 * leaves and every leaf. */
START_TEST(tree_paths_equal_reference)
{
	hash proof[MERKLE_MAX_PROOF], ref[MERKLE_MAX_PROOF];
	size_t count, rcount;
	merkle_tree t;

	printf("merkle_tree: every path of every tree of 1..%d leaves equals "
	       "RFC 6962 PATH; its top node is the root\n", MAXN);
	for (uint64_t n = 1; n <= MAXN; n++) {
		must(merkle_tree_build(&t, (const hash *)leaves, n) == 0);
		must(memcmp(t.node[t.off[t.levels - 1]], roots[n], 32) == 0);
		for (uint64_t m = 0; m < n; m++) {
			must(merkle_tree_path(&t, m, proof, &count) == 0);
			rcount = 0;
			ref_path(m, 0, n, ref, &rcount);
			if (count != rcount || memcmp(proof, ref, count * 32) != 0)
				ck_abort_msg("tree path of %llu in %llu differs",
					     (unsigned long long)m,
					     (unsigned long long)n);
		}
		must(merkle_tree_path(&t, n, proof, &count) == -1);
		merkle_tree_free(&t);
	}
	must(merkle_tree_build(&t, (const hash *)leaves, 0) == -1);
}
END_TEST

START_TEST(inclusion_bad_arguments)
{
	hash proof[MERKLE_MAX_PROOF];
	size_t count = 99;

	printf("inclusion: index >= size refused when proving and when "
	       "verifying; over-long and NULL proofs refused\n");
	ck_assert_int_eq(merkle_inclusion_proof((const hash *)leaves, 0, 0,
						proof, &count),
			 -1);
	ck_assert_int_eq(merkle_inclusion_proof((const hash *)leaves, 5, 5,
						proof, &count),
			 -1);
	ck_assert_uint_eq(count, 99); /* untouched on failure */
	/* size 1: the root is the leaf, the proof empty */
	ck_assert_int_eq(merkle_inclusion_verify(leaves[0], 0, 1, NULL, 0,
						 leaves[0]),
			 0);
	ck_assert_int_eq(merkle_inclusion_verify(leaves[0], 1, 1, NULL, 0,
						 leaves[0]),
			 -1);
	ck_assert_int_eq(merkle_inclusion_verify(leaves[0], 0, 0, NULL, 0,
						 roots[0]),
			 -1);
	ck_assert_int_eq(merkle_inclusion_verify(leaves[1], 0, 1, NULL, 0,
						 leaves[0]),
			 -1);
	ck_assert_int_eq(merkle_inclusion_verify(leaves[0], 0, 2, NULL, 1,
						 roots[2]),
			 -1);
	/* a huge tree: 64 hashes are the most a path can have */
	static hash many[MERKLE_MAX_PROOF + 1];
	ck_assert_int_eq(merkle_inclusion_verify(leaves[0], 0, UINT64_MAX,
						 (const hash *)many,
						 MERKLE_MAX_PROOF + 1,
						 roots[1]),
			 -1);
	ck_assert_int_eq(merkle_inclusion_verify(leaves[0], UINT64_MAX,
						 UINT64_MAX, (const hash *)many,
						 64, roots[1]),
			 -1);
}
END_TEST

/* --- Consistency ---------------------------------------------------------------- */

static void tamper_consistency(uint64_t m, uint64_t n, const hash *proof,
			       size_t count)
{
	hash t[MERKLE_MAX_PROOF + 2];
	const unsigned char *r1 = roots[m], *r2 = roots[n];

	for (size_t i = 0; i < count; i++) {
		for (int bit = 0; bit < 8; bit += 5) {
			memcpy(t, proof, count * 32);
			t[i][(i * 11 + (size_t)bit) % 32] ^=
				(unsigned char)(1 << bit);
			must(merkle_consistency_verify(m, n, r1, r2,
						       (const hash *)t,
						       count) == -1);
		}
	}
	if (count > 0) {
		must(merkle_consistency_verify(m, n, r1, r2, proof,
					       count - 1) == -1);
		must(merkle_consistency_verify(m, n, r1, r2, proof + 1,
					       count - 1) == -1);
		/* swapped roots, wrong roots */
		must(merkle_consistency_verify(m, n, r2, r1, proof, count) ==
		     -1);
		must(merkle_consistency_verify(m, n, roots[m + 1], r2, proof,
					       count) == -1);
		must(merkle_consistency_verify(m, n, r1, roots[n - 1], proof,
					       count) == -1);
	}
	/* extra hashes: at the end (each root), at the front */
	const unsigned char *extra[] = {r1, r2, count ? proof[0] : r1};
	for (size_t e = 0; e < 3; e++) {
		memcpy(t, proof, count * 32);
		memcpy(t[count], extra[e], 32);
		must(merkle_consistency_verify(m, n, r1, r2, (const hash *)t,
					       count + 1) == -1);
		memcpy(t[0], extra[e], 32);
		memcpy(t + 1, proof, count * 32);
		must(merkle_consistency_verify(m, n, r1, r2, (const hash *)t,
					       count + 1) == -1);
	}
	/* wrong sizes: library and reference agree; old > new never passes */
	const uint64_t o[] = {m - 1, m + 1, m ^ 2, m, m, m, m, n};
	const uint64_t s[] = {n, n, n, n - 1, n + 1, n * 2, n / 2, m};
	for (size_t j = 0; j < sizeof o / sizeof o[0]; j++) {
		if ((o[j] == m && s[j] == n) || o[j] > MAXN || s[j] > MAXN)
			continue;
		int want = ref_cons_verify(o[j], s[j], r1, r2, proof, count);
		int got = merkle_consistency_verify(o[j], s[j], r1, r2, proof,
						    count);
		if (got != want)
			ck_abort_msg("sizes %llu..%llu (proof of %llu..%llu): "
				     "library %d, reference %d",
				     (unsigned long long)o[j],
				     (unsigned long long)s[j],
				     (unsigned long long)m,
				     (unsigned long long)n, got, want);
		if (o[j] > s[j])
			must(got == -1);
	}
}

START_TEST(consistency_all_up_to_64)
{
	hash proof[MERKLE_MAX_PROOF], ref[MERKLE_MAX_PROOF];
	size_t count, rcount;
	unsigned long checked = 0;

	printf("consistency proofs for every pair 0 <= old <= new <= 64: "
	       "equal to RFC 6962 PROOF, verified, tampering rejected\n");
	for (uint64_t n = 0; n <= 64; n++) {
		for (uint64_t m = 0; m <= n; m++) {
			must(merkle_consistency_proof((const hash *)leaves, m,
						      n, proof, &count) == 0);
			ref_consistency(m, n, ref, &rcount);
			if (count != rcount ||
			    memcmp(proof, ref, count * 32) != 0)
				ck_abort_msg(
					"consistency proof %llu..%llu differs "
					"(%zu hashes, reference %zu)",
					(unsigned long long)m,
					(unsigned long long)n, count, rcount);
			must(ref_cons_verify(m, n, roots[m], roots[n],
					     (const hash *)proof, count) == 0);
			must(merkle_consistency_verify(m, n, roots[m], roots[n],
						       (const hash *)proof,
						       count) == 0);
			if (m > 0 && m < n)
				tamper_consistency(m, n, (const hash *)proof,
						   count);
			checked++;
		}
	}
	ck_assert_uint_eq(checked, 65 * 66 / 2);
}
END_TEST

START_TEST(consistency_larger_trees)
{
	hash proof[MERKLE_MAX_PROOF], ref[MERKLE_MAX_PROOF];
	size_t count, rcount;

	printf("consistency proofs between sampled sizes up to %d equal the "
	       "reference and verify\n",
	       MAXN);
	for (uint64_t n = 65; n <= MAXN; n += 11) {
		for (uint64_t m = 1; m <= n; m += 1 + m / 3) {
			ck_assert_int_eq(
				merkle_consistency_proof((const hash *)leaves,
							 m, n, proof, &count),
				0);
			ref_consistency(m, n, ref, &rcount);
			ck_assert_uint_eq(count, rcount);
			ck_assert_mem_eq(proof, ref, count * 32);
			ck_assert_int_eq(merkle_consistency_verify(
						 m, n, roots[m], roots[n],
						 (const hash *)proof, count),
					 0);
		}
	}
}
END_TEST

START_TEST(consistency_edge_cases)
{
	hash proof[MERKLE_MAX_PROOF];
	size_t count = 99;
	static hash many[MERKLE_MAX_PROOF + 1];

	printf("consistency: old > new refused; empty old tree and equal sizes "
	       "need an empty proof and the right roots\n");
	ck_assert_int_eq(merkle_consistency_proof((const hash *)leaves, 5, 4,
						  proof, &count),
			 -1);
	ck_assert_uint_eq(count, 99);
	ck_assert_int_eq(merkle_consistency_verify(5, 4, roots[5], roots[4],
						   NULL, 0),
			 -1);
	/* from the empty tree */
	ck_assert_int_eq(merkle_consistency_verify(0, 7, roots[0], roots[7],
						   NULL, 0),
			 0);
	ck_assert_int_eq(merkle_consistency_verify(0, 0, roots[0], roots[0],
						   NULL, 0),
			 0);
	ck_assert_int_eq(merkle_consistency_verify(0, 7, roots[3], roots[7],
						   NULL, 0),
			 -1);
	ck_assert_int_eq(merkle_consistency_verify(0, 7, roots[0], roots[7],
						   (const hash *)roots, 1),
			 -1);
	/* equal sizes */
	ck_assert_int_eq(merkle_consistency_verify(7, 7, roots[7], roots[7],
						   NULL, 0),
			 0);
	ck_assert_int_eq(merkle_consistency_verify(7, 7, roots[7], roots[6],
						   NULL, 0),
			 -1);
	ck_assert_int_eq(merkle_consistency_verify(7, 7, roots[7], roots[7],
						   (const hash *)roots, 1),
			 -1);
	/* a proper extension with an empty proof; NULL with a count */
	ck_assert_int_eq(merkle_consistency_verify(4, 8, roots[4], roots[8],
						   NULL, 0),
			 -1);
	ck_assert_int_eq(merkle_consistency_verify(3, 8, roots[3], roots[8],
						   NULL, 3),
			 -1);
	ck_assert_int_eq(merkle_consistency_verify(3, 8, roots[3], roots[8],
						   NULL, 0),
			 -1);
	ck_assert_int_eq(merkle_consistency_verify(1, UINT64_MAX, roots[1],
						   roots[8], (const hash *)many,
						   MERKLE_MAX_PROOF + 1),
			 -1);
	/* a history rewritten: the same sizes over different leaves */
	hash saved;
	memcpy(saved, leaves[2], 32);
	leaves[2][0] ^= 1;
	unsigned char forged[32];
	ck_assert_int_eq(merkle_consistency_proof((const hash *)leaves, 5, 9,
						  proof, &count),
			 0);
	merkle_root((const hash *)leaves, 9, forged);
	memcpy(leaves[2], saved, 32);
	ck_assert_int_eq(merkle_consistency_verify(5, 9, roots[5], forged,
						   (const hash *)proof, count),
			 -1);
}
END_TEST

/* --- Known answers ---------------------------------------------------------------- */

static const struct {
	const char *data;
	size_t len;
} kat_inputs[8] = {
	{"", 0},
	{"\x00", 1},
	{"\x10", 1},
	{"\x20\x21", 2},
	{"\x30\x31", 2},
	{"\x40\x41\x42\x43", 4},
	{"\x50\x51\x52\x53\x54\x55\x56\x57", 8},
	{"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
	 16},
};

static const char *const kat_roots[9] = {
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

/* verify_test.go: {leaf (1-based), size, proof}. */
static const struct {
	uint64_t leaf, size;
	size_t n;
	const char *proof[3];
} kat_inclusion[] = {
	{1, 1, 0, {NULL}},
	{1,
	 8,
	 3,
	 {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
	  "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	  "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
	{6,
	 8,
	 3,
	 {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
	  "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
	  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
	{3,
	 3,
	 1,
	 {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
	{2,
	 5,
	 3,
	 {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	  "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	  "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

static const struct {
	uint64_t size1, size2;
	size_t n;
	const char *proof[3];
} kat_consistency[] = {
	{1, 1, 0, {NULL}},
	{1,
	 8,
	 3,
	 {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
	  "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	  "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
	{6,
	 8,
	 3,
	 {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
	  "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
	  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
	{2,
	 5,
	 2,
	 {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	  "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
	{6,
	 7,
	 3,
	 {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
	  "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
	  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
};

START_TEST(known_answers)
{
	hash kl[8], want[3], proof[MERKLE_MAX_PROOF], root;
	size_t count;
	merkle_frontier f;

	printf("transparency-dev/merkle vectors: roots of 0..8 leaves (also "
	       "by the frontier), inclusion and consistency proofs\n");
	merkle_frontier_init(&f);
	for (int i = 0; i < 8; i++)
		merkle_leaf_hash((const unsigned char *)kat_inputs[i].data,
				 kat_inputs[i].len, kl[i]);
	for (uint64_t n = 0; n <= 8; n++) {
		unsigned char r[32];
		unhex(kat_roots[n], root);
		merkle_root((const hash *)kl, n, r);
		ck_assert_mem_eq(r, root, 32);
		merkle_frontier_root(&f, r);
		ck_assert_mem_eq(r, root, 32);
		if (n < 8)
			ck_assert_int_eq(merkle_frontier_append(&f, kl[n]), 0);
	}
	for (size_t t = 0; t < sizeof kat_inclusion / sizeof *kat_inclusion;
	     t++) {
		uint64_t m = kat_inclusion[t].leaf - 1,
			 n = kat_inclusion[t].size;
		for (size_t i = 0; i < kat_inclusion[t].n; i++)
			unhex(kat_inclusion[t].proof[i], want[i]);
		ck_assert_int_eq(merkle_inclusion_proof((const hash *)kl, n, m,
							proof, &count),
				 0);
		ck_assert_uint_eq(count, kat_inclusion[t].n);
		ck_assert_mem_eq(proof, want, count * 32);
		unhex(kat_roots[n], root);
		ck_assert_int_eq(merkle_inclusion_verify(kl[m], m, n,
							 (const hash *)want,
							 count, root),
				 0);
	}
	for (size_t t = 0; t < sizeof kat_consistency / sizeof *kat_consistency;
	     t++) {
		uint64_t m = kat_consistency[t].size1,
			 n = kat_consistency[t].size2;
		unsigned char r1[32];
		for (size_t i = 0; i < kat_consistency[t].n; i++)
			unhex(kat_consistency[t].proof[i], want[i]);
		ck_assert_int_eq(merkle_consistency_proof((const hash *)kl, m,
							  n, proof, &count),
				 0);
		ck_assert_uint_eq(count, kat_consistency[t].n);
		ck_assert_mem_eq(proof, want, count * 32);
		unhex(kat_roots[m], r1);
		unhex(kat_roots[n], root);
		ck_assert_int_eq(merkle_consistency_verify(m, n, r1, root,
							   (const hash *)want,
							   count),
				 0);
	}
}
END_TEST

static Suite *proof_suite(void)
{
	Suite *s = suite_create("proof");
	TCase *tc = tcase_create("frontier");
	tcase_set_timeout(tc, FX_TIMEOUT);
	tcase_add_unchecked_fixture(tc, fill_leaves, NULL);
	tcase_add_unchecked_fixture(tc, fill_roots, NULL);
	tcase_add_test(tc, frontier_matches_root);
	tcase_add_test(tc, frontier_snapshot_and_full);
	tcase_add_test(tc, frontier_large);
	suite_add_tcase(s, tc);

	tc = tcase_create("inclusion");
	tcase_set_timeout(tc, FX_TIMEOUT);
	tcase_add_unchecked_fixture(tc, fill_leaves, NULL);
	tcase_add_unchecked_fixture(tc, fill_roots, NULL);
	tcase_add_test(tc, inclusion_all_up_to_64);
	tcase_add_test(tc, inclusion_larger_trees);
	tcase_add_test(tc, inclusion_bad_arguments);
	tcase_add_test(tc, tree_paths_equal_reference);
	suite_add_tcase(s, tc);

	tc = tcase_create("consistency");
	tcase_set_timeout(tc, FX_TIMEOUT);
	tcase_add_unchecked_fixture(tc, fill_leaves, NULL);
	tcase_add_unchecked_fixture(tc, fill_roots, NULL);
	tcase_add_test(tc, consistency_all_up_to_64);
	tcase_add_test(tc, consistency_larger_trees);
	tcase_add_test(tc, consistency_edge_cases);
	suite_add_tcase(s, tc);

	tc = tcase_create("known-answers");
	tcase_add_test(tc, known_answers);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int rc = fx_run(proof_suite());
	EVP_MD_CTX_free(md_ctx);
	return rc;
}
