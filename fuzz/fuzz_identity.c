/*
 * fuzz_identity.c: custodians' key files (vault/identity.c), read from a
 * path as `evault key show` and every signing command read them.
 *
 * Input: the key file's bytes, written to a file in the scratch directory
 * (at most 4 KiB are accepted; longer inputs test the size bound).  Each
 * goes to vault_identity_vkey_of_file() (no passphrase), and, when its
 * Argon2id costs are small enough to be fast (at most 3 passes and 64 KiB:
 * the seeds use the minimum), to vault_identity_open() with the fuzzing
 * passphrase.  Checks: a verifier key returned parses; an opened identity
 * has the verifier key the file states.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"

static vault *v;
static char path[700];

static void write_seeds(void)
{
	static const char *const names[] = {"alice", "witness.example/w1",
					    "\xc3\xa9quipe-t\xc3\xa9moins"};
	char name[64], *text;
	size_t len;
	for (int i = 0; i < 3; i++) {
		fuzz_keyfile(NULL, names[i],
			     i == 1 ? NOTE_TYPE_COSIG : NOTE_TYPE_ED25519,
			     (unsigned char)(0x40 + i), &text, &len);
		snprintf(name, sizeof name, "keyfile-%d", i);
		fuzz_seed(name, text, len);
		free(text);
	}
	fuzz_seeds_done();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	v = vault_new();
	if (!v)
		abort();
	snprintf(path, sizeof path, "%s/input.key", fuzz_tmpdir());
	if (fuzz_seed_dir())
		write_seeds();
	return 0;
}

/* The costs the file states, read as keyfile_read() reads them. */
static int cheap(const char *text)
{
	char name[256], vkey[320], salt[64], nonce[64];
	uint64_t ops, mem;
	int consumed = 0;
	if (sscanf(text,
		   "evault-key 1\nname %255[^\n]\nvkey %319[^\n]\nkdf "
		   "argon2id13 %" SCNu64 " %" SCNu64
		   "\nsalt %63[^\n]\nnonce %63[^\n]\n%n",
		   name, vkey, &ops, &mem, salt, nonce, &consumed) != 6)
		return 0;
	return ops <= 3 && mem <= 65536;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char vkey[VAULT_VKEY_MAX + 64];
	note_verifier ver;
	vault_identity *id = NULL;

	fuzz_write_file(path, data, size);
	vault_err e = vault_identity_vkey_of_file(v, path, vkey, sizeof vkey);
	fuzz_say("identity: vkey: %s", e == VAULT_OK ? vkey : vault_errmsg(v));
	if (e == VAULT_OK)
		FUZZ_CHECK(note_vkey_parse(&ver, vkey, strlen(vkey)) == 0,
			   "returned verifier key '%s' does not parse", vkey);
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	int fast = cheap(text);
	free(text);
	if (!fast)
		return 0;
	vault_err e2 = vault_identity_open(v, path, FUZZ_PASS, strlen(FUZZ_PASS),
					   &id);
	fuzz_say("identity: open: %s", e2 == VAULT_OK ? "opened" : vault_errmsg(v));
	if (e2 != VAULT_OK)
		return 0;
	FUZZ_CHECK(e == VAULT_OK, "opens but its verifier key is refused: %s",
		   vault_strerror(e));
	FUZZ_CHECK(strcmp(vault_identity_vkey(id), vkey) == 0,
		   "identity key %s, file says %s", vault_identity_vkey(id),
		   vkey);
	FUZZ_CHECK(strcmp(vault_identity_name(id),
			  note_signer_verifier(identity_signer(id))->name) == 0,
		   "name");
	vault_identity_free(id);
	return 0;
}
