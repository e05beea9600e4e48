/*
 * fuzz_vkey.c: key strings (vault/note.c): verifier keys
 * "name+hex8+base64(type || key)", as custodian records, witness options
 * and pub/log.vkey carry them, and signer keys "PRIVATE+KEY+name+hex8+
 * base64(type || seed)", as sealed inside key files.
 *
 * Input: one key string (no newline needed).  Checks: a parsed verifier
 * key formats to a string that parses to the same key and equals the
 * input up to the case of its hex digits; a parsed signer key formats back
 * to the input (same rule), and what it signs verifies under its public
 * half.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz/fuzz.h"

static note_parsed parsed;

/* The key string a (as formatted) equals b (blen bytes) but for the case
 * of the 8 hex digits of the key id, after the first '+' past `skip`. */
static int same_key(const char *a, const uint8_t *b, size_t blen, size_t skip)
{
	const char *plus = strchr(a + skip, '+');
	if (strlen(a) != blen || !plus)
		return 0;
	size_t h = (size_t)(plus - a) + 1;
	return memcmp(a, b, h) == 0 &&
	       strncasecmp(a + h, (const char *)b + h, 8) == 0 &&
	       memcmp(a + h + 8, b + h + 8, blen - h - 8) == 0;
}

static int same_verifier(const note_verifier *a, const note_verifier *b)
{
	return strcmp(a->name, b->name) == 0 && a->type == b->type &&
	       a->id == b->id && memcmp(a->key, b->key, 32) == 0;
}

static void write_seeds(void)
{
	char s[NOTE_SKEY_BYTES], vk[NOTE_VKEY_BYTES];
	note_signer *a = fuzz_signer("alice", NOTE_TYPE_ED25519, 0xa1);
	note_signer *w = fuzz_signer("witness.example/w1", NOTE_TYPE_COSIG, 0x22);
	if (note_vkey_format(note_signer_verifier(a), vk) != 0)
		abort();
	fuzz_seed("vkey-ed25519", vk, strlen(vk));
	if (note_vkey_format(note_signer_verifier(w), vk) != 0)
		abort();
	fuzz_seed("vkey-cosig", vk, strlen(vk));
	if (note_signer_format(a, s) != 0)
		abort();
	fuzz_seed("skey-ed25519", s, strlen(s));
	if (note_signer_format(w, s) != 0)
		abort();
	fuzz_seed("skey-cosig", s, strlen(s));
	note_signer_free(a);
	note_signer_free(w);
	fuzz_seeds_done();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	if (fuzz_seed_dir())
		write_seeds();
	return 0;
}

static void signer_checks(const uint8_t *data, size_t size)
{
	static const char cp[] =
		"evault/fuzz\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
	char out[NOTE_SKEY_BYTES], *note = NULL;
	size_t len;
	note_signer *s = note_signer_parse((const char *)data, size);
	if (!s)
		return;
	const note_verifier *pub = note_signer_verifier(s);
	FUZZ_CHECK(note_signer_format(s, out) == 0, "cannot format");
	FUZZ_CHECK(same_key(out, data, size, 12), "formats to %s", out);
	FUZZ_CHECK(note_sign(s, cp, strlen(cp), 1700000000, &note, &len) == 0,
		   "cannot sign");
	note_err e = note_open(note, len, pub, 1, &parsed);
	FUZZ_CHECK(e == NOTE_OK, "own signature: %s", note_strerror(e));
	free(note);
	note_signer_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	note_verifier v, again;
	char out[NOTE_VKEY_BYTES];

	if (note_vkey_parse(&v, (const char *)data, size) == 0) {
		FUZZ_CHECK(v.type == NOTE_TYPE_ED25519 || v.type == NOTE_TYPE_COSIG,
			   "type %d", v.type);
		FUZZ_CHECK(note_name_valid(v.name, strlen(v.name)), "bad name");
		FUZZ_CHECK(v.id == note_key_id(v.name, v.type, v.key), "key id");
		FUZZ_CHECK(note_vkey_format(&v, out) == 0, "cannot format");
		FUZZ_CHECK(same_key(out, data, size, 0), "formats to %s", out);
		FUZZ_CHECK(note_vkey_parse(&again, out, strlen(out)) == 0 &&
				   same_verifier(&again, &v),
			   "the formatted key parses otherwise");
	}
	signer_checks(data, size);
	return 0;
}
