/*
 * merkle.c: the Merkle tree hashing of RFC 6962 (and RFC 9162 section 2.1)
 * over the log's records.  Leaves are SHA-256(0x00 || data), interior
 * nodes SHA-256(0x01 || left || right); a tree of n leaves splits at the
 * largest power of two below n, and no node is ever duplicated.  These
 * small hashes use libsodium; bulk hashing of evidence uses OpenSSL.
 *
 * The same tree seen level by level: node (L, i) covers leaves
 * [i * 2^L, (i + 1) * 2^L) clipped to the tree's size, and a node whose
 * right child would start past the last leaf is its left child, promoted
 * unchanged.  Proofs are built in that view (a walk from a node up to the
 * root, picking each sibling that exists), which is how the verification
 * algorithms of RFC 9162 2.1.3.2 and 2.1.4.2 read them back.  The frontier
 * keeps the roots of the perfect subtrees of the tree so far, so appending
 * a leaf and reading the root cost O(log n).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "vault/merkle.h"

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

static void empty_root(unsigned char out[32])
{
	crypto_hash_sha256(out, (const unsigned char *)"", 0);
}

void merkle_root(const unsigned char (*leaves)[32], uint64_t n,
		 unsigned char out[32])
{
	if (n == 0) {
		empty_root(out);
		return;
	}
	subtree_root(leaves, n, out);
}

/* --- Frontier -------------------------------------------------------------- */

void merkle_frontier_init(merkle_frontier *f)
{
	memset(f, 0, sizeof *f);
}

int merkle_frontier_append(merkle_frontier *f, const unsigned char leaf[32])
{
	if (f->size == UINT64_MAX)
		return -1;
	/* One entry per bit set in size, the lowest bit last.  Adding a leaf
	 * carries through the trailing one bits: each merges the last entry
	 * with the subtree being built. */
	int n = __builtin_popcountll(f->size);
	unsigned char h[32];
	memcpy(h, leaf, 32);
	for (uint64_t s = f->size; s & 1; s >>= 1) {
		n--;
		merkle_node_hash(f->node[n], h, h);
	}
	memcpy(f->node[n], h, 32);
	f->size++;
	return 0;
}

void merkle_frontier_root(const merkle_frontier *f, unsigned char out[32])
{
	int n = __builtin_popcountll(f->size);
	if (n == 0) {
		empty_root(out);
		return;
	}
	/* The right border of the tree: smaller subtrees fold into the
	 * larger ones on their left. */
	unsigned char h[32];
	memcpy(h, f->node[n - 1], 32);
	for (int i = n - 2; i >= 0; i--)
		merkle_node_hash(f->node[i], h, h);
	memcpy(out, h, 32);
}

/* --- Proofs ------------------------------------------------------------------ */

/* Append to proof the siblings met on the way from node (level, index) of
 * the tree of n leaves up to its root, skipping levels where the node has
 * no sibling (it is promoted).  The node must exist: index << level < n. */
static int node_path(const unsigned char (*leaves)[32], uint64_t n,
		     unsigned level, uint64_t index,
		     unsigned char proof[MERKLE_MAX_PROOF][32], size_t *count)
{
	uint64_t last = n - 1; /* index of the last leaf */
	for (unsigned L = level; L < 64 && (last >> L) != 0; L++) {
		uint64_t i = index >> (L - level);
		uint64_t sib = i ^ 1;
		if (sib > last >> L)
			continue; /* no sibling: the node is promoted */
		uint64_t start = sib << L;
		uint64_t len = n - start;
		if (len > (UINT64_C(1) << L))
			len = UINT64_C(1) << L;
		if (*count >= MERKLE_MAX_PROOF)
			return -1;
		subtree_root(leaves + start, len, proof[(*count)++]);
	}
	return 0;
}

int merkle_inclusion_proof(const unsigned char (*leaves)[32], uint64_t n,
			   uint64_t index,
			   unsigned char proof[MERKLE_MAX_PROOF][32],
			   size_t *count)
{
	unsigned char tmp[MERKLE_MAX_PROOF][32];
	size_t c = 0;
	if (index >= n || node_path(leaves, n, 0, index, tmp, &c) < 0)
		return -1;
	memcpy(proof, tmp, c * 32);
	*count = c;
	return 0;
}

int merkle_tree_build(merkle_tree *t, const unsigned char (*leaves)[32],
		      uint64_t n)
{
	uint64_t total = 0, c = n;
	memset(t, 0, sizeof *t);
	if (n == 0 || n > (UINT64_MAX >> 7))
		return -1;
	for (unsigned L = 0;; L++) {
		t->off[L] = total;
		t->count[L] = c;
		total += c;
		t->levels = L + 1;
		if (c == 1)
			break;
		c = (c + 1) / 2;
	}
	if (total > SIZE_MAX / 32 || !(t->node = malloc((size_t)total * 32)))
		return -1;
	memcpy(t->node, leaves, (size_t)n * 32);
	for (unsigned L = 1; L < t->levels; L++) {
		unsigned char (*below)[32] = t->node + t->off[L - 1];
		unsigned char (*here)[32] = t->node + t->off[L];
		for (uint64_t i = 0; i < t->count[L]; i++) {
			if (2 * i + 1 < t->count[L - 1])
				merkle_node_hash(below[2 * i], below[2 * i + 1], here[i]);
			else
				memcpy(here[i], below[2 * i], 32); /* promoted */
		}
	}
	return 0;
}

int merkle_tree_path(const merkle_tree *t, uint64_t index,
		     unsigned char proof[MERKLE_MAX_PROOF][32], size_t *count)
{
	size_t c = 0;
	if (!t->node || index >= t->count[0])
		return -1;
	for (unsigned L = 0; L + 1 < t->levels; L++) {
		uint64_t sib = (index >> L) ^ 1;
		if (sib >= t->count[L])
			continue; /* no sibling: the node is promoted */
		if (c >= MERKLE_MAX_PROOF)
			return -1;
		memcpy(proof[c++], t->node[t->off[L] + sib], 32);
	}
	*count = c;
	return 0;
}

void merkle_tree_free(merkle_tree *t)
{
	free(t->node);
	memset(t, 0, sizeof *t);
}

int merkle_consistency_proof(const unsigned char (*leaves)[32],
			     uint64_t old_size, uint64_t new_size,
			     unsigned char proof[MERKLE_MAX_PROOF][32],
			     size_t *count)
{
	unsigned char tmp[MERKLE_MAX_PROOF][32];
	size_t c = 0;
	if (old_size > new_size)
		return -1;
	if (old_size > 0 && old_size < new_size) {
		/* The old tree's last perfect subtree, node (level, index):
		 * the proof is that node (unless it is the whole old tree,
		 * whose root the verifier has) and its path in the new tree. */
		unsigned level = (unsigned)__builtin_ctzll(old_size);
		uint64_t index = (old_size - 1) >> level;
		if (index != 0)
			subtree_root(leaves + (index << level),
				     UINT64_C(1) << level, tmp[c++]);
		if (node_path(leaves, new_size, level, index, tmp, &c) < 0)
			return -1;
	}
	memcpy(proof, tmp, c * 32);
	*count = c;
	return 0;
}

static int hash_eq(const unsigned char a[32], const unsigned char b[32])
{
	return memcmp(a, b, 32) == 0;
}

/* RFC 9162 2.1.3.2. */
int merkle_inclusion_verify(const unsigned char leaf_hash[32], uint64_t index,
			    uint64_t size, const unsigned char (*proof)[32],
			    size_t count, const unsigned char root[32])
{
	unsigned char r[32];
	uint64_t fn = index, sn;

	if (index >= size || count > MERKLE_MAX_PROOF ||
	    (count > 0 && proof == NULL))
		return -1;
	sn = size - 1;
	memcpy(r, leaf_hash, 32);
	for (size_t i = 0; i < count; i++) {
		if (sn == 0)
			return -1; /* more hashes than the path has levels */
		if ((fn & 1) || fn == sn) {
			merkle_node_hash(proof[i], r, r);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			merkle_node_hash(r, proof[i], r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && hash_eq(r, root) ? 0 : -1;
}

/* RFC 9162 2.1.4.2, with the trivial cases (an empty old tree, equal
 * sizes) that need an empty proof. */
int merkle_consistency_verify(uint64_t old_size, uint64_t new_size,
			      const unsigned char old_root[32],
			      const unsigned char new_root[32],
			      const unsigned char (*proof)[32], size_t count)
{
	unsigned char fr[32], sr[32], empty[32];
	uint64_t fn, sn;
	size_t i = 0;

	if (old_size > new_size || count > MERKLE_MAX_PROOF ||
	    (count > 0 && proof == NULL))
		return -1;
	if (old_size == 0) {
		empty_root(empty);
		return count == 0 && hash_eq(old_root, empty) ? 0 : -1;
	}
	if (old_size == new_size)
		return count == 0 && hash_eq(old_root, new_root) ? 0 : -1;
	if (count == 0)
		return -1;

	/* When old_size is a power of two the old root is the first node
	 * of the path; otherwise the proof begins with it. */
	if ((old_size & (old_size - 1)) == 0) {
		memcpy(fr, old_root, 32);
	} else {
		memcpy(fr, proof[0], 32);
		i = 1;
	}
	memcpy(sr, fr, 32);
	fn = old_size - 1;
	sn = new_size - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < count; i++) {
		if (sn == 0)
			return -1;
		if ((fn & 1) || fn == sn) {
			merkle_node_hash(proof[i], fr, fr);
			merkle_node_hash(proof[i], sr, sr);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			merkle_node_hash(sr, proof[i], sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && hash_eq(fr, old_root) && hash_eq(sr, new_root) ? 0
									 : -1;
}
