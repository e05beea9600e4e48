/*
 * fuzz_sniff.c: the first guess at a file's type from its leading bytes
 * (sniff_type(), vault/sniff.c), made on every file ingested, whatever
 * it holds.
 *
 * Input: the leading bytes of a file.  scripts/fuzz.sh adds the first
 * 4 KiB of every file of the shared media corpus to the seeds when the
 * corpus is present.  Checks: the answer is a NUL-terminated media type
 * ("type/subtype"), the same when asked twice, and reading past the
 * input's end is caught by AddressSanitizer (the input is copied to a
 * buffer of exactly its size).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"

static void write_seeds(void)
{
	static const struct {
		const char *name;
		const char *bytes;
		size_t len;
	} seeds[] = {
		{"jpeg", "\xff\xd8\xff\xe0\0\x10JFIF\0", 11},
		{"png", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16},
		{"mp4", "\0\0\0\x18" "ftypisom\0\0\x02\0isomiso2", 24},
		{"heic", "\0\0\0\x18" "ftypheic\0\0\0\0mif1heic", 24},
		{"quicktime", "\0\0\0\x08wide\0\0\0\x10moov", 16},
		{"webp", "RIFF\x24\0\0\0WEBPVP8 ", 16},
		{"wave", "RIFF\x24\0\0\0WAVEfmt ", 16},
		{"matroska", "\x1a\x45\xdf\xa3\x01\0\0\0", 8},
		{"tiff", "II*\0\x08\0\0\0", 8},
		{"mp3-frame", "\xff\xfb\x90\x64\0\0\0\0", 8},
		{"text", "a line of text\r\n\tand another\n", 29},
		{"empty", "", 0},
	};
	for (size_t i = 0; i < sizeof seeds / sizeof *seeds; i++)
		fuzz_seed(seeds[i].name, seeds[i].bytes, seeds[i].len);
	/* an MPEG transport stream: a sync byte every 188 bytes */
	unsigned char ts[3 * 188 + 5];
	memset(ts, 0xff, sizeof ts);
	for (size_t i = 0; i < sizeof ts; i += 188)
		ts[i] = 0x47;
	fuzz_seed("mpeg-ts", ts, sizeof ts);
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char a[48], b[48];
	unsigned char *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	memset(a, 'x', sizeof a);
	sniff_type(copy, size, a);
	sniff_type(copy, size, b);
	free(copy);
	FUZZ_CHECK(memchr(a, 0, sizeof a) != NULL, "type not terminated");
	FUZZ_CHECK(strcmp(a, b) == 0, "'%s' then '%s'", a, b);
	const char *slash = strchr(a, '/');
	FUZZ_CHECK(slash && slash > a && slash[1] && !strchr(slash + 1, '/') &&
			   strspn(a, "abcdefghijklmnopqrstuvwxyz0123456789/.-+") ==
				   strlen(a),
		   "'%s' is not a media type", a);
	return 0;
}
