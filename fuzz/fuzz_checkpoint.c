/*
 * fuzz_checkpoint.c: checkpoint texts (c2sp.org/tlog-checkpoint, parsed by
 * vault/note.c) as a witness, verify --trusted and the witness state file
 * meet them, and the cosignature over them.
 *
 * Input: a checkpoint text "origin\nsize\nbase64(root)\n[extensions]".
 * Checks: the parse is canonical (a checkpoint whose origin is a valid key
 * name formats back to exactly the input: one text per checkpoint), the
 * extension lines stay inside the input, and a witness's cosignature made
 * over the text verifies with its time.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"

static note_signer *witness;
static note_parsed parsed;

static void write_seeds(void)
{
	static const char *const seeds[][2] = {
		{"empty-log", "evault/0123456789abcdef0123456789abcdef\n0\n"
			      "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"},
		{"size-7", "evault/fuzz\n7\n"
			   "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"},
		{"extensions", "example.com/log\n18446744073709551615\n"
			       "//////////////////////////////////////////8=\n"
			       "first extension\nsecond \xc3\xa9xtension\n"},
	};
	for (size_t i = 0; i < sizeof seeds / sizeof *seeds; i++)
		fuzz_seed(seeds[i][0], seeds[i][1], strlen(seeds[i][1]));
	fuzz_seeds_done();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	witness = fuzz_signer("fuzz-witness", NOTE_TYPE_COSIG, 0x22);
	if (fuzz_seed_dir())
		write_seeds();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	note_checkpoint cp;
	char *out, line[NOTE_LINE_BYTES], *note = NULL;
	size_t outlen, llen, notelen;

	if (note_checkpoint_parse(&cp, text, size) != 0)
		return 0;
	size_t olen = strlen(cp.origin);
	FUZZ_CHECK(olen > 0 && olen <= NOTE_NAME_MAX, "origin of %zu bytes",
		   olen);
	FUZZ_CHECK(memcmp(cp.origin, text, olen) == 0 && text[olen] == '\n',
		   "origin is not the first line");
	FUZZ_CHECK(!cp.ext || (cp.ext > text && cp.ext_len > 0 &&
			       cp.ext + cp.ext_len == text + size),
		   "extensions are not the end of the text");
	out = malloc(size + 1);
	if (!out)
		return 0;
	if (note_name_valid(cp.origin, olen)) {
		FUZZ_CHECK(note_checkpoint_format(&cp, out, size + 1, &outlen) == 0,
			   "a parsed checkpoint does not format");
		FUZZ_CHECK(outlen == size && memcmp(out, text, size) == 0,
			   "formats to another text: %s", out);
	}
	free(out);
	/* A witness cosigns it; the cosignature verifies, with its time. */
	if (note_sign_line(witness, text, size, 1700000000, line, &llen) == 0) {
		note = malloc(size + 1 + llen);
		if (!note)
			return 0;
		memcpy(note, text, size);
		note[size] = '\n';
		memcpy(note + size + 1, line, llen);
		notelen = size + 1 + llen;
		note_err e = note_open(note, notelen, note_signer_verifier(witness),
				       1, &parsed);
		FUZZ_CHECK(e == NOTE_OK, "cosignature: %s", note_strerror(e));
		FUZZ_CHECK(parsed.sigs[0].timestamp == 1700000000,
			   "cosigned time %llu",
			   (unsigned long long)parsed.sigs[0].timestamp);
		free(note);
	}
	return 0;
}
