/*
 * fuzz_note.c: signed notes (vault/note.c) as a verifier meets them, and
 * the attachment of a cosignature line.
 *
 * Input: a note (text, blank line, signature lines), opened against three
 * known keys (an Ed25519 signer, a witness's cosignature key, a log key),
 * against none, and against two keys that share a name and key id; or,
 * if it holds a NUL byte, "note NUL line", given to note_add_signature().
 *
 * Beyond "no crash", it checks what callers rely on: the three openings
 * agree on whether the note is well formed; what note_open() returns
 * points into the message; a line verified by a known key is exactly the
 * line that key makes (signatures and their encoding are canonical, so a
 * note cannot be re-encoded into another that still verifies); and
 * note_add_signature() always gives a well-formed note that ends with the
 * added line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"

#define NKNOWN 3
static note_signer *signers[NKNOWN];
static note_verifier known[NKNOWN];
static note_verifier twins[2]; /* same name and key id, other keys */
static note_parsed parsed, parsed2;

static void write_seeds(void)
{
	static const char text[] = "evault fuzz seed\nsecond line\n";
	static const char cp[] =
		"evault/fuzz\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
	char *a = NULL, *b = NULL, line[NOTE_LINE_BYTES];
	size_t alen, blen, llen;

	if (note_sign(signers[0], text, strlen(text), 0, &a, &alen) != 0)
		abort();
	fuzz_seed("signed-note", a, alen);
	/* a checkpoint signed by its log and cosigned by a witness */
	free(a);
	if (note_sign(signers[2], cp, strlen(cp), 0, &a, &alen) != 0 ||
	    note_sign_line(signers[1], cp, strlen(cp), 1700000000, line, &llen) !=
		    0 ||
	    note_add_signature(a, alen, line, llen, &b, &blen) != 0)
		abort();
	fuzz_seed("cosigned-checkpoint", b, blen);
	/* the add-signature form: note NUL line */
	char *c = malloc(alen + 1 + llen);
	if (!c)
		abort();
	memcpy(c, a, alen);
	c[alen] = '\0';
	memcpy(c + alen + 1, line, llen);
	fuzz_seed("add-cosignature", c, alen + 1 + llen);
	free(c);
	/* a line of an unknown key next to a known one */
	free(a);
	a = malloc(blen + 64);
	if (!a)
		abort();
	memcpy(a, b, blen);
	memcpy(a + blen, "\xe2\x80\x94 stranger AAAAAAAAAAAA\n", 27);
	fuzz_seed("unknown-line", a, blen + 27);
	free(a);
	free(b);
	fuzz_seeds_done();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	signers[0] = fuzz_signer("fuzz-signer", NOTE_TYPE_ED25519, 0x11);
	signers[1] = fuzz_signer("fuzz-witness", NOTE_TYPE_COSIG, 0x22);
	signers[2] = fuzz_signer("evault/fuzz", NOTE_TYPE_ED25519, 0x33);
	for (int i = 0; i < NKNOWN; i++)
		known[i] = *note_signer_verifier(signers[i]);
	twins[0] = known[0];
	twins[1] = known[0];
	twins[1].key[0] ^= 1;
	if (fuzz_seed_dir())
		write_seeds();
	return 0;
}

/* What note_open() filled in lies inside the message and is consistent. */
static void check_parsed(const char *msg, size_t len, note_err e,
			 const note_parsed *p, size_t nknown)
{
	FUZZ_CHECK(p->text == msg, "text does not start the message");
	FUZZ_CHECK(p->text_len > 0 && p->text_len < len &&
			   msg[p->text_len - 1] == '\n',
		   "text length %zu of %zu", p->text_len, len);
	FUZZ_CHECK(p->nsigs >= 1 && p->nsigs <= NOTE_MAX_SIGS, "%zu signatures",
		   p->nsigs);
	FUZZ_CHECK(p->nverified <= p->nsigs, "verified more than present");
	FUZZ_CHECK(e != NOTE_OK || p->nverified >= 1, "OK but nothing verified");
	FUZZ_CHECK(e != NOTE_E_UNVERIFIED || p->nverified == 0,
		   "UNVERIFIED but %zu verified", p->nverified);
	FUZZ_CHECK(e != NOTE_E_BADSIG || p->bad < p->nsigs, "bad index %zu",
		   p->bad);
	for (size_t i = 0; i < p->nsigs; i++) {
		const note_sig *s = &p->sigs[i];
		FUZZ_CHECK(s->line >= msg + p->text_len &&
				   s->line + s->line_len <= msg + len,
			   "signature line %zu outside the message", i);
		FUZZ_CHECK(s->name > s->line &&
				   s->name + s->name_len <= s->line + s->line_len,
			   "name of line %zu outside its line", i);
		FUZZ_CHECK(note_name_valid(s->name, s->name_len),
			   "line %zu has an invalid name", i);
		FUZZ_CHECK(s->key >= -1 && s->key < (int)nknown, "key index %d",
			   s->key);
	}
}

/* A line that a known key's signature verified on is that key's line. */
static void check_canonical(const note_parsed *p)
{
	char line[NOTE_LINE_BYTES];
	size_t llen;
	for (size_t i = 0; i < p->nsigs; i++) {
		const note_sig *s = &p->sigs[i];
		if (s->key < 0)
			continue;
		FUZZ_CHECK(note_sign_line(signers[s->key], p->text, p->text_len,
					  s->timestamp, line, &llen) == 0,
			   "cannot re-sign a verified text");
		FUZZ_CHECK(llen == s->line_len + 1 &&
				   memcmp(line, s->line, s->line_len) == 0,
			   "verified line %zu is not the one its key makes", i);
	}
}

static void add_signature(const uint8_t *data, size_t size)
{
	const uint8_t *piece[2];
	size_t len[2];
	char *out = NULL;
	size_t outlen;

	fuzz_split(data, size, 0, piece, len, 2);
	if (note_add_signature((const char *)piece[0], len[0],
			       (const char *)piece[1], len[1], &out,
			       &outlen) != 0)
		return;
	FUZZ_CHECK(strlen(out) == outlen, "length %zu, string %zu", outlen,
		   strlen(out));
	note_err e = note_open(out, outlen, NULL, 0, &parsed);
	FUZZ_CHECK(e == NOTE_E_UNVERIFIED, "result does not parse: %s",
		   note_strerror(e));
	check_parsed(out, outlen, e, &parsed, 0);
	size_t llen = len[1];
	if (llen > 0 && piece[1][llen - 1] == '\n')
		llen--;
	const note_sig *last = &parsed.sigs[parsed.nsigs - 1];
	FUZZ_CHECK(last->line_len == llen &&
			   memcmp(last->line, piece[1], llen) == 0,
		   "the added line is not the last one");
	FUZZ_CHECK(parsed.text_len < len[0] &&
			   memcmp(parsed.text, piece[0], parsed.text_len) == 0,
		   "the text changed");
	e = note_open(out, outlen, known, NKNOWN, &parsed);
	if (e == NOTE_OK)
		check_canonical(&parsed);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *msg = (const char *)data;

	if (memchr(data, 0, size)) {
		add_signature(data, size);
		return 0;
	}
	note_err e = note_open(msg, size, known, NKNOWN, &parsed);
	FUZZ_CHECK(e >= NOTE_E_NOMEM && e <= NOTE_OK, "unknown result %d", e);
	note_err e0 = note_open(msg, size, NULL, 0, &parsed2);
	FUZZ_CHECK((e == NOTE_E_MALFORMED) == (e0 == NOTE_E_MALFORMED),
		   "with keys: %s, without: %s", note_strerror(e),
		   note_strerror(e0));
	FUZZ_CHECK(e0 == NOTE_E_MALFORMED || e0 == NOTE_E_UNVERIFIED,
		   "without keys: %s", note_strerror(e0));
	if (e0 == NOTE_E_UNVERIFIED)
		check_parsed(msg, size, e0, &parsed2, 0);
	if (e == NOTE_OK || e == NOTE_E_UNVERIFIED || e == NOTE_E_BADSIG) {
		check_parsed(msg, size, e, &parsed, NKNOWN);
		if (e == NOTE_OK)
			check_canonical(&parsed);
		note_checkpoint cp;
		if (note_checkpoint_parse(&cp, parsed.text, parsed.text_len) == 0)
			FUZZ_CHECK(cp.origin[0] != '\0', "empty origin");
	}
	e = note_open(msg, size, twins, 2, &parsed);
	FUZZ_CHECK(e != NOTE_OK, "two keys under one name and id both verify");
	return 0;
}
