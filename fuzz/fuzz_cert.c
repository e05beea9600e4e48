/*
 * fuzz_cert.c: the certificate verifier (cli/evault-verify.c, the code
 * behind `evault check-cert` and the stand-alone evault-verify), compiled
 * into this file as evault builds it (EVV_LIBRARY).
 *
 * A certificate is what a recipient receives from outside, perhaps from
 * someone who wants it to pass: the verifier must survive any bytes.
 *
 * Input: a certificate.  It is checked three ways: as it is, with the
 * golden certificate's log key given (--key), and with that key, a
 * witness required and the golden item as the file.  Checks: the verdict
 * is 0, 1 or 2; every message is text without control characters (the
 * verifier quotes hostile values escaped); what is valid under the golden
 * log key is valid without --key; and nothing that starts like the golden
 * certificate (which has no cosignature) is valid under a required
 * witness: that would take forging the witness's signature.
 *
 * Seeds: the golden certificate (tests/golden/certificate-v1.txt, from
 * fixed keys, tests/test-cert.c).
 */
#define EVV_LIBRARY
#include "cli/evault-verify.c"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"

#define ORIGIN "evault/000102030405060708090a0b0c0d0e0f"
#define ITEM "evault golden item: a stand-in for a video\n"

static char log_vkey[NOTE_VKEY_BYTES], witness_vkey[NOTE_VKEY_BYTES];

static void vkey_of(const char *name, unsigned char type, unsigned char seed,
		    char out[NOTE_VKEY_BYTES])
{
	note_signer *s = fuzz_signer(name, type, seed);
	if (note_vkey_format(note_signer_verifier(s), out) != 0)
		abort();
	note_signer_free(s);
}

static void write_seeds(void)
{
	char path[4096];
	size_t n;
	snprintf(path, sizeof path, "%s/../../../tests/golden/certificate-v1.txt",
		 fuzz_seed_dir());
	unsigned char *g = fuzz_read_file(path, &n);
	fuzz_seed("golden", g, n);
	free(g);
	fuzz_seeds_done();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	vkey_of(ORIGIN, NOTE_TYPE_ED25519, 2, log_vkey);
	vkey_of("witness.example", NOTE_TYPE_COSIG, 4, witness_vkey);
	if (fuzz_seed_dir())
		write_seeds();
	return 0;
}

static void on_report(void *ctx, evv_status st, const char *check,
		      const char *detail)
{
	(void)ctx;
	FUZZ_CHECK(check && detail, "a report without a check or a detail");
	for (const unsigned char *p = (const unsigned char *)detail; *p; p++)
		FUZZ_CHECK(*p >= 0x20 && *p != 0x7f,
			   "control character 0x%02x in the %s message", *p, check);
	FUZZ_CHECK(st >= EVV_PASS && st <= EVV_INFO, "status %d", (int)st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char golden_head[] = "evault-certificate/v1\norigin " ORIGIN;
	const char *w[1] = {witness_vkey};
	evv_opts plain = {0}, keyed = {0}, strict = {0};

	keyed.log_vkey = log_vkey;
	strict.log_vkey = log_vkey;
	strict.witness_vkeys = w;
	strict.nwitnesses = 1;
	strict.have_file = 1;
	crypto_hash_sha256(strict.file_sha256, (const unsigned char *)ITEM,
			   strlen(ITEM));
	strict.file_size = strlen(ITEM);

	int a = evv_verify((const char *)data, size, &plain, on_report, NULL);
	int b = evv_verify((const char *)data, size, &keyed, on_report, NULL);
	int c = evv_verify((const char *)data, size, &strict, on_report, NULL);
	FUZZ_CHECK(a >= 0 && a <= 2 && b >= 0 && b <= 2 && c >= 0 && c <= 2,
		   "verdicts %d %d %d", a, b, c);
	/* the golden certificate has no cosignature: never valid under a
	 * required witness, whatever was done to it */
	if (size >= sizeof golden_head - 1 &&
	    !memcmp(data, golden_head, sizeof golden_head - 1))
		FUZZ_CHECK(c != 0, "valid without the required witness's cosignature");
	/* a certificate valid under the golden log key is valid on its own */
	if (b == 0)
		FUZZ_CHECK(a == 0, "valid with --key but not without (%d)", a);
	return 0;
}
