/*
 * merkle.c: the Merkle tree hashing of RFC 6962 (and RFC 9162 section 2.1)
 * over the log's records.  Leaves are SHA-256(0x00 || data), interior
 * nodes SHA-256(0x01 || left || right); a tree of n leaves splits at the
 * largest power of two below n, and no node is ever duplicated.  These
 * small hashes use libsodium; bulk hashing of evidence uses OpenSSL.
 */
#include <string.h>

#include "vault/internal.h"

void merkle_leaf_hash(const unsigned char *data, size_t len,
		      unsigned char out[32])
{
	crypto_hash_sha256_state st;
	unsigned char prefix = 0x00;
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &prefix, 1);
	crypto_hash_sha256_update(&st, data, len);
	crypto_hash_sha256_final(&st, out);
}

void merkle_node_hash(const unsigned char l[32], const unsigned char r[32],
		      unsigned char out[32])
{
	unsigned char buf[65];
	buf[0] = 0x01;
	memcpy(buf + 1, l, 32);
	memcpy(buf + 33, r, 32);
	crypto_hash_sha256(out, buf, sizeof buf);
}

/* Largest power of two strictly less than n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
	uint64_t k = 1;
	while (k << 1 < n)
		k <<= 1;
	return k;
}

static void subtree_root(const unsigned char (*leaves)[32], uint64_t n,
			 unsigned char out[32])
{
	if (n == 1) {
		memcpy(out, leaves[0], 32);
		return;
	}
	uint64_t k = split_point(n);
	unsigned char l[32], r[32];
	subtree_root(leaves, k, l);
	subtree_root(leaves + k, n - k, r);
	merkle_node_hash(l, r, out);
}

void merkle_root(const unsigned char (*leaves)[32], uint64_t n,
		 unsigned char out[32])
{
	if (n == 0) {
		crypto_hash_sha256(out, (const unsigned char *)"", 0);
		return;
	}
	subtree_root(leaves, n, out);
}
