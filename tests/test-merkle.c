/*
 * test-merkle.c: unit tests of the log's Merkle tree (vault/merkle.c)
 * against RFC 6962 section 2.1.
 *
 * Known answers come from transparency-dev/merkle, file
 * testonly/constants.go (commit 582a6ad190b6848f1d26f8bf08ddef29955d9db1),
 * the vectors shared with Certificate Transparency's merkle_tree_test:
 *
 *   LeafInputs(): "", "00", "10", "2021", "3031", "40414243",
 *                 "5051525354555657", "606162636465666768696a6b6c6d6e6f"
 *   NodeHashes()[0] (leaf hashes) and RootHashes() for sizes 0..8, where
 *   RootHashes()[0] = EmptyRootHash() = SHA-256("").
 *
 * Beyond them, merkle_root is compared for every size up to 64 with a
 * naive recursive recomputation of the RFC's definition, hashed here with
 * OpenSSL (the library hashes these with libsodium), and shown to change
 * whenever one leaf changes or two leaves swap.
 */
#include <string.h>

#include <openssl/evp.h>

#include "fixture.h"
#include "vault/internal.h"

static const struct {
	const char *data;
	size_t len;
} leaf_inputs[8] = {
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

/* testonly/constants.go, NodeHashes()[0]: the leaf hashes. */
static const char *const leaf_hashes[8] = {
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
	"0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
	"07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
	"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
	"4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
	"b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
	"46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
};

/* testonly/constants.go, RootHashes(): roots of the first n leaves. */
static const char *const root_hashes[9] = {
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

/* testonly/constants.go, NodeHashes()[1][0]: the node over leaves 0, 1. */
#define NODE_0_1 \
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"

static void hex_of(char out[65], const unsigned char h[32])
{
	static const char d[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		out[2 * i] = d[h[i] >> 4];
		out[2 * i + 1] = d[h[i] & 15];
	}
	out[64] = '\0';
}

/* SHA-256(prefix || a || b) with OpenSSL; prefix < 0 means none. */
static void sha256_parts(int prefix, const void *a, size_t alen, const void *b,
			 size_t blen, unsigned char out[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char p = (unsigned char)prefix;
	ck_assert_ptr_nonnull(md);
	ck_assert_int_eq(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
	if (prefix >= 0)
		ck_assert_int_eq(EVP_DigestUpdate(md, &p, 1), 1);
	ck_assert_int_eq(EVP_DigestUpdate(md, a, alen), 1);
	ck_assert_int_eq(EVP_DigestUpdate(md, b, blen), 1);
	ck_assert_int_eq(EVP_DigestFinal_ex(md, out, NULL), 1);
	EVP_MD_CTX_free(md);
}

START_TEST(leaf_hash_vectors)
{
	unsigned char h[32];
	char hex[65];
	for (int i = 0; i < 8; i++) {
		merkle_leaf_hash((const unsigned char *)leaf_inputs[i].data,
				 leaf_inputs[i].len, h);
		hex_of(hex, h);
		ck_assert_msg(strcmp(hex, leaf_hashes[i]) == 0,
			      "leaf %d: %s, expected %s", i, hex,
			      leaf_hashes[i]);
	}
}
END_TEST

START_TEST(node_hash_vector)
{
	unsigned char l[32], r[32], h[32];
	char hex[65];
	merkle_leaf_hash((const unsigned char *)leaf_inputs[0].data, 0, l);
	merkle_leaf_hash((const unsigned char *)leaf_inputs[1].data, 1, r);
	merkle_node_hash(l, r, h);
	hex_of(hex, h);
	ck_assert_str_eq(hex, NODE_0_1);
	/* Order matters. */
	merkle_node_hash(r, l, h);
	hex_of(hex, h);
	ck_assert_str_ne(hex, NODE_0_1);
}
END_TEST

START_TEST(root_vectors)
{
	unsigned char leaves[8][32], root[32];
	char hex[65];
	for (int i = 0; i < 8; i++)
		merkle_leaf_hash((const unsigned char *)leaf_inputs[i].data,
				 leaf_inputs[i].len, leaves[i]);
	for (int n = 0; n <= 8; n++) {
		memset(root, 0xaa, sizeof root);
		merkle_root((const unsigned char(*)[32])leaves, (uint64_t)n,
			    root);
		hex_of(hex, root);
		ck_assert_msg(strcmp(hex, root_hashes[n]) == 0,
			      "root of %d leaves: %s, expected %s", n, hex,
			      root_hashes[n]);
	}
}
END_TEST

/* --- Naive recomputation ------------------------------------------------- */

#define MAX_LEAVES 64

typedef struct {
	unsigned char data[MAX_LEAVES][40];
	size_t len[MAX_LEAVES];
} leaf_set;

static void make_leaves(leaf_set *ls, uint64_t seed)
{
	for (size_t i = 0; i < MAX_LEAVES; i++) {
		ls->len[i] = (i * 7 + (size_t)seed) % 41; /* 0..40 bytes */
		fx_fill(ls->data[i], ls->len[i], seed * 1000 + i);
	}
}

/* MTH(D[n]) as RFC 6962 section 2.1 writes it, straight from the data:
 * MTH({}) = SHA-256(), MTH({d0}) = SHA-256(0x00 || d0), and for n > 1,
 * with k the largest power of two smaller than n,
 * MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])). */
static void naive_mth(const leaf_set *ls, size_t from, size_t n,
		      unsigned char out[32])
{
	if (n == 0) {
		sha256_parts(-1, "", 0, "", 0, out);
		return;
	}
	if (n == 1) {
		sha256_parts(0x00, ls->data[from], ls->len[from], "", 0, out);
		return;
	}
	size_t k = MAX_LEAVES;
	while (k >= n)
		k /= 2;
	unsigned char both[64];
	naive_mth(ls, from, k, both);
	naive_mth(ls, from + k, n - k, both + 32);
	sha256_parts(0x01, both, 64, "", 0, out);
}

static void lib_root(const leaf_set *ls, size_t n, unsigned char out[32])
{
	unsigned char hashes[MAX_LEAVES][32];
	for (size_t i = 0; i < n; i++)
		merkle_leaf_hash(ls->data[i], ls->len[i], hashes[i]);
	merkle_root((const unsigned char(*)[32])hashes, n, out);
}

START_TEST(root_matches_naive)
{
	leaf_set *ls = fx_keep(malloc(sizeof *ls));
	unsigned char want[32], got[32], leaf[32];
	char wh[65], gh[65];

	make_leaves(ls, (uint64_t)_i + 1);
	for (size_t i = 0; i < MAX_LEAVES; i++) {
		sha256_parts(0x00, ls->data[i], ls->len[i], "", 0, want);
		merkle_leaf_hash(ls->data[i], ls->len[i], leaf);
		ck_assert_mem_eq(leaf, want, 32);
	}
	for (size_t n = 0; n <= MAX_LEAVES; n++) {
		naive_mth(ls, 0, n, want);
		lib_root(ls, n, got);
		hex_of(wh, want);
		hex_of(gh, got);
		ck_assert_msg(strcmp(wh, gh) == 0,
			      "seed %d, %zu leaves: root %s, recomputed %s", _i,
			      n, gh, wh);
	}
}
END_TEST

START_TEST(root_changes_with_any_leaf)
{
	leaf_set *ls = fx_keep(malloc(sizeof *ls));
	unsigned char base[32], got[32];

	make_leaves(ls, 99);
	for (size_t n = 1; n <= 24; n++) {
		lib_root(ls, n, base);
		for (size_t i = 0; i < n; i++) {
			/* Change one leaf: its first byte, or its length. */
			if (ls->len[i] > 0) {
				ls->data[i][0] ^= 1;
				lib_root(ls, n, got);
				ls->data[i][0] ^= 1;
			} else {
				ls->len[i] = 1;
				ls->data[i][0] = 0;
				lib_root(ls, n, got);
				ls->len[i] = 0;
			}
			ck_assert_msg(
				memcmp(got, base, 32) != 0,
				"%zu leaves: changing leaf %zu keeps the root",
				n, i);
		}
		/* Swapping two different leaves changes the root too. */
		if (n >= 2) {
			leaf_set *sw = fx_keep(malloc(sizeof *sw));
			*sw = *ls;
			memcpy(sw->data[0], ls->data[n - 1],
			       sizeof sw->data[0]);
			sw->len[0] = ls->len[n - 1];
			memcpy(sw->data[n - 1], ls->data[0],
			       sizeof sw->data[0]);
			sw->len[n - 1] = ls->len[0];
			lib_root(sw, n, got);
			ck_assert_msg(
				memcmp(got, base, 32) != 0,
				"%zu leaves: swapping first and last keeps "
				"the root",
				n);
		}
		lib_root(ls, n, got);
		ck_assert_mem_eq(got, base, 32);
	}
}
END_TEST

static Suite *merkle_suite(void)
{
	Suite *s = suite_create("merkle");
	TCase *tc = tcase_create("rfc6962-vectors");
	tcase_add_test(tc, leaf_hash_vectors);
	tcase_add_test(tc, node_hash_vector);
	tcase_add_test(tc, root_vectors);
	suite_add_tcase(s, tc);

	tc = tcase_create("naive");
	fx_tcase_tmp(tc);
	tcase_add_loop_test(tc, root_matches_naive, 0, 4);
	tcase_add_test(tc, root_changes_with_any_leaf);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fx_run(merkle_suite());
}
