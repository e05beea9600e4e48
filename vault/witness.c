/*
 * witness.c: cosigning a vault's checkpoints as a witness.
 *
 * A witness (another custodian, a partner organisation) keeps, for each
 * log origin it follows, the last tree size and root it cosigned.  It
 * cosigns a new checkpoint only if the log's signature verifies and the
 * new tree provably extends the old one (an RFC 9162 consistency proof),
 * so a log that forks its history, or rolls it back to an older copy,
 * can never get a witness's signature again: anyone holding a cosigned
 * checkpoint can catch the rewrite.  This is the C2SP tlog-witness
 * protocol's check, done offline with files.
 *
 * State: <dir>/<hex SHA-256 of the origin>, text "origin\nsize\nbase64
 * root\n", replaced atomically under an flock of <dir>/lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vault/internal.h"
#include "vault/note.h"

#define WITNESS_STATE_MAX 1024

int proof_lines_parse(const char *text, size_t len,
		      unsigned char out[MERKLE_MAX_PROOF][32], size_t *count)
{
	size_t n = 0, pos = 0;
	while (pos < len) {
		size_t end = pos;
		while (end < len && text[end] != '\n')
			end++;
		size_t l = end - pos, got;
		if (l > 0) {
			if (n == MERKLE_MAX_PROOF || l != 44 ||
			    note_b64_decode(out[n], 32, text + pos, l, &got) != 0 ||
			    got != 32)
				return -1;
			n++;
		}
		pos = end + 1;
	}
	*count = n;
	return 0;
}

static void state_name(const char *origin, char out[65])
{
	unsigned char h[32];
	crypto_hash_sha256(h, (const unsigned char *)origin, strlen(origin));
	util_hex(out, h, 32);
}

vault_err vault_witness_cosign(vault *v, const vault_identity *witness,
			       const char *statedir, const char *log_vkey,
			       const char *checkpoint, size_t cplen,
			       const char *proof, size_t prooflen, uint64_t now,
			       char *line, size_t linesize,
			       uint64_t *old_size_out)
{
	note_verifier logkey;
	note_parsed parsed;
	note_checkpoint cp, old;
	unsigned char hashes[MERKLE_MAX_PROOF][32];
	size_t nhashes = 0, linelen;
	char sname[65], text[WITNESS_STATE_MAX], rootb64[64], sig[NOTE_LINE_BYTES];
	unsigned char *prev = NULL;
	size_t prevlen;
	int dfd = -1, lockfd = -1, rc;
	bool have_old = false;
	vault_err e = VAULT_OK;

	if (note_vkey_parse(&logkey, log_vkey, strlen(log_vkey)) != 0 ||
	    logkey.type != NOTE_TYPE_ED25519)
		return vault_fail(v, VAULT_E_INVALID,
				  "'%s' is not a log verifier key", log_vkey);
	note_err ne = note_open(checkpoint, cplen, &logkey, 1, &parsed);
	if (ne != NOTE_OK)
		return vault_fail(v, VAULT_E_CORRUPT,
				  "checkpoint refused: %s (log key %s)",
				  note_strerror(ne), logkey.name);
	if (note_checkpoint_parse(&cp, parsed.text, parsed.text_len) != 0)
		return vault_fail(v, VAULT_E_CORRUPT,
				  "checkpoint refused: its text is not a checkpoint");
	if (strcmp(cp.origin, logkey.name) != 0)
		return vault_fail(v, VAULT_E_CORRUPT,
				  "checkpoint refused: origin '%s' is not the log "
				  "key's name '%s'",
				  cp.origin, logkey.name);
	if (proof && proof_lines_parse(proof, prooflen, hashes, &nhashes) != 0)
		return vault_fail(v, VAULT_E_INVALID,
				  "the consistency proof is not base64 SHA-256 "
				  "hashes, one per line");

	if (mkdir(statedir, 0700) < 0 && errno != EEXIST)
		return vault_fail_errno(v, errno, "cannot create '%s'", statedir);
	dfd = open(statedir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return vault_fail_errno(v, errno, "cannot open '%s'", statedir);
	lockfd = openat(dfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lockfd < 0 || flock(lockfd, LOCK_EX) < 0) {
		e = vault_fail_errno(v, errno, "cannot lock '%s/lock'", statedir);
		goto out;
	}
	state_name(cp.origin, sname);
	rc = util_read_small(dfd, sname, WITNESS_STATE_MAX, &prev, &prevlen);
	if (rc == 0) {
		if (note_checkpoint_parse(&old, (char *)prev, prevlen) != 0 ||
		    strcmp(old.origin, cp.origin) != 0) {
			e = vault_fail(v, VAULT_E_CORRUPT,
				       "'%s/%s': witness state damaged", statedir,
				       sname);
			goto out;
		}
		have_old = true;
	} else if (rc != -ENOENT) {
		e = vault_fail_errno(v, rc, "cannot read '%s/%s'", statedir, sname);
		goto out;
	}
	if (have_old) {
		if (cp.size < old.size) {
			e = vault_fail(v, VAULT_E_CORRUPT,
				       "refused: rollback: this witness cosigned "
				       "size %" PRIu64 " of '%s', the checkpoint "
				       "says %" PRIu64,
				       old.size, cp.origin, cp.size);
			goto out;
		}
		if (merkle_consistency_verify(old.size, cp.size, old.root, cp.root,
					      (const unsigned char (*)[32])hashes,
					      nhashes) != 0) {
			e = vault_fail(v, VAULT_E_CORRUPT,
				       cp.size == old.size
					       ? "refused: fork: same size %" PRIu64
						 " as cosigned before, other root"
					       : "refused: no valid consistency "
						 "proof from the cosigned size "
						 "%" PRIu64 " (a fork, or give "
						 "the proof from 'evault "
						 "consistency')",
				       old.size);
			goto out;
		}
	}
	if (old_size_out)
		*old_size_out = have_old ? old.size : 0;
	/* The state is the checkpoint body the witness accepted. */
	sodium_bin2base64(rootb64, sizeof rootb64, cp.root, 32,
			  sodium_base64_VARIANT_ORIGINAL);
	int n = snprintf(text, sizeof text, "%s\n%" PRIu64 "\n%s\n", cp.origin,
			 cp.size, rootb64);
	if (n < 0 || (size_t)n >= sizeof text) {
		e = vault_fail(v, VAULT_E_INVALID, "origin too long");
		goto out;
	}
	if (note_sign_line(identity_signer(witness), parsed.text,
			   parsed.text_len, now, sig, &linelen) != 0) {
		e = vault_fail(v, VAULT_E_INVALID,
			       "cannot cosign with this key (a witness key is "
			       "made with 'evault key new NAME --witness')");
		goto out;
	}
	rc = util_atomic_write(dfd, sname, text, (size_t)n);
	if (rc < 0) {
		e = vault_fail_errno(v, rc, "cannot write '%s/%s'", statedir, sname);
		goto out;
	}
	snprintf(line, linesize, "%s", sig);
out:
	free(prev);
	if (lockfd >= 0)
		close(lockfd);
	if (dfd >= 0)
		close(dfd);
	return e;
}
