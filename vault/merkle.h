/*
 * merkle.h: the Merkle tree of the custody log, as RFC 6962 and RFC 9162
 * section 2.1 define it: leaf hashes, interior node hashes, tree roots, an
 * incremental frontier that gives the root after each append in O(log n),
 * and inclusion and consistency proofs with their verification.
 *
 * Hashes are 32-byte SHA-256 values.  Leaves are passed as an array of
 * leaf hashes (what log/leaves holds), never as the records themselves.
 * Every function that can fail returns 0 on success and -1 otherwise;
 * out-parameters are written only on success.
 */
#ifndef EVAULT_MERKLE_H
#define EVAULT_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH_BYTES 32
/* Bound on the length of any proof this module makes or accepts: no tree
 * of fewer than 2^64 leaves needs more. */
#define MERKLE_MAX_PROOF 64

#define MERKLE_MUST_CHECK __attribute__((warn_unused_result))

/* SHA-256(0x00 || data). */
void merkle_leaf_hash(const unsigned char *data, size_t len,
		      unsigned char out[32]);
/* SHA-256(0x01 || l || r). */
void merkle_node_hash(const unsigned char l[32], const unsigned char r[32],
		      unsigned char out[32]);
/* Root of leaves[0..n): SHA-256("") for n == 0.  O(n) hashes. */
void merkle_root(const unsigned char (*leaves)[32], uint64_t n,
		 unsigned char out[32]);

/* --- Frontier (compact range) ---------------------------------------------
 * The roots of the perfect subtrees that a tree of `size` leaves splits
 * into, one per bit set in `size`, largest (leftmost) first.  Enough to
 * append a leaf and to compute the root, both in O(log n), without the
 * earlier leaves.  A plain value: copy it to keep a snapshot (for example
 * the committed state while new leaves are staged). */
typedef struct merkle_frontier {
	uint64_t size;
	unsigned char node[64][32]; /* popcount(size) entries are used */
} merkle_frontier;

/* An empty tree. */
void merkle_frontier_init(merkle_frontier *f);
/* Append one leaf hash; -1 (and no change) if the tree is full
 * (2^64 - 1 leaves). */
int merkle_frontier_append(merkle_frontier *f,
			   const unsigned char leaf[32]) MERKLE_MUST_CHECK;
/* The root of the tree the frontier stands for: merkle_root() of the
 * same leaves. */
void merkle_frontier_root(const merkle_frontier *f, unsigned char out[32]);

/* --- Inclusion proofs (RFC 9162 2.1.3) -------------------------------------
 * The audit path of leaf `index` in the tree of the first `n` leaves, from
 * the leaf's sibling up to the root's child: *count hashes written to
 * `proof`.  -1 if index >= n.  O(n) hashes. */
int merkle_inclusion_proof(const unsigned char (*leaves)[32], uint64_t n,
			   uint64_t index,
			   unsigned char proof[MERKLE_MAX_PROOF][32],
			   size_t *count) MERKLE_MUST_CHECK;
/* Every node of the tree of n leaves, level by level (about 2n hashes):
 * many inclusion proofs in one tree, as a certificate needs, in O(n) to
 * build and O(log n) each, where merkle_inclusion_proof() is O(n) each.
 * Level L holds the roots of the subtrees of 2^L leaves from the left, the
 * last one partial; a node without a sibling is promoted unchanged, which
 * gives RFC 6962's tree. */
typedef struct {
	unsigned char (*node)[32];
	uint64_t off[65], count[65]; /* per level: first node, how many */
	unsigned levels;
} merkle_tree;
int merkle_tree_build(merkle_tree *t, const unsigned char (*leaves)[32],
		      uint64_t n) MERKLE_MUST_CHECK;
/* The same path merkle_inclusion_proof() gives. */
int merkle_tree_path(const merkle_tree *t, uint64_t index,
		     unsigned char proof[MERKLE_MAX_PROOF][32],
		     size_t *count) MERKLE_MUST_CHECK;
void merkle_tree_free(merkle_tree *t);

/* 0 if `proof` (count hashes) proves that `leaf_hash` is leaf `index` of
 * the tree of `size` leaves whose root is `root`; -1 for any other input,
 * including index >= size, a proof of the wrong length, or a count above
 * MERKLE_MAX_PROOF. */
int merkle_inclusion_verify(const unsigned char leaf_hash[32], uint64_t index,
			    uint64_t size, const unsigned char (*proof)[32],
			    size_t count,
			    const unsigned char root[32]) MERKLE_MUST_CHECK;

/* --- Consistency proofs (RFC 9162 2.1.4) -----------------------------------
 * The proof that the tree of the first `old_size` leaves is a prefix of the
 * tree of the first `new_size` leaves.  Empty when old_size is 0 or equal
 * to new_size; -1 if old_size > new_size.  O(new_size) hashes. */
int merkle_consistency_proof(const unsigned char (*leaves)[32],
			     uint64_t old_size, uint64_t new_size,
			     unsigned char proof[MERKLE_MAX_PROOF][32],
			     size_t *count) MERKLE_MUST_CHECK;
/* 0 if `proof` shows that the tree of old_size leaves with root old_root
 * is a prefix of the tree of new_size leaves with root new_root.  Sizes
 * equal: the proof must be empty and the roots equal.  old_size 0: the
 * proof must be empty and old_root the empty tree's root.  -1 for every
 * other input: old_size > new_size, a proof too short, too long or
 * altered, a wrong root. */
int merkle_consistency_verify(uint64_t old_size, uint64_t new_size,
			      const unsigned char old_root[32],
			      const unsigned char new_root[32],
			      const unsigned char (*proof)[32],
			      size_t count) MERKLE_MUST_CHECK;

#endif
