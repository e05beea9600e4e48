/*
 * fuzz_witness.c: a witness cosigning a checkpoint it is sent
 * (vault_witness_cosign(), vault/witness.c): the log's signed checkpoint,
 * the consistency proof from the size it cosigned last, and its own state
 * file for the log, all three untrusted.
 *
 * Input: "checkpoint NUL proof NUL state": the proof and the state are
 * optional (no NUL: no proof; one NUL: no state file).  The log key is
 * "evault/fuzz" (seed 0x33), the witness "fuzz-witness" (seed 0x22).
 * Checks, when the witness cosigns: the line it returns attaches to the
 * checkpoint and verifies, next to the log's signature; the state file now
 * holds the cosigned size and root; the size never went backwards.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz/fuzz.h"

#define LOG_NAME "evault/fuzz"
static vault *v;
static vault_identity *witness;
static note_signer *logsigner;
static note_verifier keys[2]; /* the log's, the witness's */
static char logvkey[NOTE_VKEY_BYTES], statedir[600], statefile[700];
static note_parsed parsed;

#define TREE 20
static unsigned char leaves[TREE][32];

/* The log's signed checkpoint of the first n leaves (root damaged if
 * `fork`), malloc'd. */
static char *checkpoint(uint64_t n, int fork, size_t *len)
{
	note_checkpoint c;
	char text[512], *note;
	size_t tlen;
	memset(&c, 0, sizeof c);
	snprintf(c.origin, sizeof c.origin, "%s", LOG_NAME);
	c.size = n;
	merkle_root((const unsigned char (*)[32])leaves, n, c.root);
	c.root[0] ^= (unsigned char)fork;
	if (note_checkpoint_format(&c, text, sizeof text, &tlen) != 0 ||
	    note_sign(logsigner, text, tlen, 0, &note, len) != 0)
		abort();
	return note;
}

static void seed(const char *name, const char *cp, size_t cplen,
		 const char *proof, const char *state)
{
	char buf[8192];
	size_t len = cplen;
	memcpy(buf, cp, cplen);
	if (proof) {
		buf[len++] = '\0';
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s", proof);
	}
	if (state) {
		buf[len++] = '\0';
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s", state);
	}
	fuzz_seed(name, buf, len);
}

static void write_seeds(void)
{
	unsigned char proof[MERKLE_MAX_PROOF][32];
	char p[4096] = "", state7[256], state13[256], root[64], *cp7, *cp13,
	     *fork7, *cosigned;
	size_t n7, n13, nf, nc, count, off = 0, llen;
	char line[NOTE_LINE_BYTES];

	cp7 = checkpoint(7, 0, &n7);
	cp13 = checkpoint(13, 0, &n13);
	fork7 = checkpoint(7, 1, &nf);
	if (merkle_consistency_proof((const unsigned char (*)[32])leaves, 7, 13,
				     proof, &count) != 0)
		abort();
	for (size_t i = 0; i < count; i++) {
		sodium_bin2base64(p + off, 64, proof[i], 32,
				  sodium_base64_VARIANT_ORIGINAL);
		off += strlen(p + off);
		p[off++] = '\n';
	}
	p[off] = '\0';
	merkle_root((const unsigned char (*)[32])leaves, 7, proof[0]);
	sodium_bin2base64(root, sizeof root, proof[0], 32,
			  sodium_base64_VARIANT_ORIGINAL);
	snprintf(state7, sizeof state7, "%s\n7\n%s\n", LOG_NAME, root);
	merkle_root((const unsigned char (*)[32])leaves, 13, proof[0]);
	sodium_bin2base64(root, sizeof root, proof[0], 32,
			  sodium_base64_VARIANT_ORIGINAL);
	snprintf(state13, sizeof state13, "%s\n13\n%s\n", LOG_NAME, root);
	seed("first-cosignature", cp7, n7, NULL, NULL);
	seed("consistent-growth", cp13, n13, p, state7);
	seed("rollback", cp7, n7, "", state13);
	seed("fork", fork7, nf, "", state7);
	seed("same-size", cp7, n7, "", state7);
	/* a checkpoint already cosigned, sent again */
	if (note_open(cp7, n7, keys, 1, &parsed) != NOTE_OK ||
	    note_sign_line(identity_signer(witness), parsed.text,
			   parsed.text_len, 1700000000, line, &llen) != 0 ||
	    note_add_signature(cp7, n7, line, llen, &cosigned, &nc) != 0)
		abort();
	seed("already-cosigned", cosigned, nc, "", state7);
	free(cosigned);
	free(cp7);
	free(cp13);
	free(fork7);
	fuzz_seeds_done();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[700], name[65];
	unsigned char h[32];
	(void)argc;
	(void)argv;
	fuzz_init();
	v = vault_new();
	snprintf(path, sizeof path, "%s/witness.key", fuzz_tmpdir());
	fuzz_keyfile(path, "fuzz-witness", NOTE_TYPE_COSIG, 0x22, NULL, NULL);
	if (!v || vault_identity_open(v, path, FUZZ_PASS, strlen(FUZZ_PASS),
				      &witness) != VAULT_OK)
		abort();
	logsigner = fuzz_signer(LOG_NAME, NOTE_TYPE_ED25519, 0x33);
	keys[0] = *note_signer_verifier(logsigner);
	keys[1] = *note_signer_verifier(identity_signer(witness));
	if (note_vkey_format(&keys[0], logvkey) != 0)
		abort();
	snprintf(statedir, sizeof statedir, "%s/witness-state", fuzz_tmpdir());
	crypto_hash_sha256(h, (const unsigned char *)LOG_NAME, strlen(LOG_NAME));
	util_hex(name, h, 32);
	snprintf(statefile, sizeof statefile, "%s/%s", statedir, name);
	for (int i = 0; i < TREE; i++) {
		char s[32];
		int n = snprintf(s, sizeof s, "record %d", i);
		merkle_leaf_hash((const unsigned char *)s, (size_t)n, leaves[i]);
	}
	if (fuzz_seed_dir())
		write_seeds();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *piece[3];
	size_t len[3], n, prooflen = 0, cplen, llen;
	char line[NOTE_LINE_BYTES], *out = NULL;
	uint64_t old = 0;
	note_checkpoint cp, st;

	n = fuzz_split(data, size, 0, piece, len, 3);
	if (mkdir(statedir, 0700) < 0 && errno != EEXIST)
		abort();
	if (n == 3)
		fuzz_write_file(statefile, piece[2], len[2]);
	else if (unlink(statefile) < 0 && errno != ENOENT)
		abort();
	const char *proof = NULL;
	if (n >= 2) {
		proof = (const char *)piece[1];
		prooflen = len[1];
	}
	const char *cptext = (const char *)piece[0];
	cplen = len[0];
	vault_err e = vault_witness_cosign(v, witness, statedir, logvkey, cptext,
					   cplen, proof, prooflen, 1700000000,
					   line, sizeof line, &old);
	fuzz_say("witness: %s", e == VAULT_OK ? "cosigned" : vault_errmsg(v));
	if (e != VAULT_OK)
		return 0;
	/* The cosignature attaches and verifies next to the log's. */
	FUZZ_CHECK(note_add_signature(cptext, cplen, line, strlen(line), &out,
				      &llen) == 0,
		   "the cosignature line does not attach: %s", line);
	note_err ne = note_open(out, llen, keys, 2, &parsed);
	FUZZ_CHECK(ne == NOTE_OK, "cosigned checkpoint: %s", note_strerror(ne));
	bool by_log = false, by_witness = false;
	for (size_t i = 0; i < parsed.nsigs; i++) {
		by_log |= parsed.sigs[i].key == 0;
		by_witness |= parsed.sigs[i].key == 1;
	}
	FUZZ_CHECK(by_log && by_witness, "log %d, witness %d", by_log,
		   by_witness);
	FUZZ_CHECK(note_checkpoint_parse(&cp, parsed.text, parsed.text_len) == 0,
		   "cosigned a text that is not a checkpoint");
	free(out);
	/* The state now holds what was cosigned; it never went back. */
	size_t slen;
	unsigned char *s = fuzz_read_file(statefile, &slen);
	FUZZ_CHECK(note_checkpoint_parse(&st, (char *)s, slen) == 0 &&
			   strcmp(st.origin, cp.origin) == 0 &&
			   st.size == cp.size && memcmp(st.root, cp.root, 32) == 0,
		   "state file does not hold the cosigned checkpoint");
	free(s);
	FUZZ_CHECK(old <= cp.size, "cosigned size %llu after %llu",
		   (unsigned long long)cp.size, (unsigned long long)old);
	return 0;
}
