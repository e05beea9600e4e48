/*
 * identity.c: custodians' keys.  A custodian (a person or an organisation
 * that handles evidence) signs every action it takes on a vault with its
 * own Ed25519 key, kept outside the vault in a key file sealed by its own
 * passphrase.  Witnesses use the same kind of file with the cosignature
 * key type.
 *
 * Key file (text, at most 4 KiB, mode 0600; docs/formats.md):
 *   evault-key 1
 *   name <key name>
 *   vkey <C2SP verifier key: name+keyid+base64(type || public key)>
 *   kdf argon2id13 <opslimit> <memlimit>
 *   salt <base64, 16 bytes>
 *   nonce <base64, 24 bytes>
 *   secret <base64: XChaCha20-Poly1305 of the C2SP signer key string,
 *           associated data = every byte of the file before "secret ">
 * The verifier key is readable without the passphrase; the secret key
 * only exists unsealed in sodium_malloc'd memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vault/internal.h"
#include "vault/note.h"

#define KEYFILE_MAX 4096
#define KEY_MAX_OPSLIMIT 64ULL
#define KEY_MAX_MEMLIMIT (4ULL << 30)

struct vault_identity {
	note_signer *signer;
	char name[NOTE_NAME_MAX + 1];
	char vkey[NOTE_VKEY_BYTES];
};

const char *vault_identity_name(const vault_identity *id)
{
	return id->name;
}

const char *vault_identity_vkey(const vault_identity *id)
{
	return id->vkey;
}

void vault_identity_free(vault_identity *id)
{
	if (!id)
		return;
	note_signer_free(id->signer);
	free(id);
}

note_signer *identity_signer(const vault_identity *id)
{
	return id->signer;
}

static void b64(char *out, size_t n, const unsigned char *in, size_t len)
{
	sodium_bin2base64(out, n, in, len, sodium_base64_VARIANT_ORIGINAL);
}

static int unb64(unsigned char *out, size_t want, const char *in)
{
	size_t got;
	if (note_b64_decode(out, want, in, strlen(in), &got) != 0 || got != want)
		return -1;
	return 0;
}

vault_err vault_identity_create(vault *v, const char *name, int witness,
				const char *pass, size_t passlen, vault_kdf kdf,
				const char *path, char *vkey_out, size_t vkeysize)
{
	unsigned char salt[16], nonce[24], *key = NULL, *sealed = NULL;
	char skey[NOTE_SKEY_BYTES], vkey[NOTE_VKEY_BYTES], text[KEYFILE_MAX];
	char bsalt[32], bnonce[48], *bsecret = NULL;
	uint64_t ops, mem;
	note_signer *s = NULL;
	vault_err e = VAULT_OK;
	size_t slen, head;
	int fd = -1;

	if (!note_name_valid(name, strlen(name)))
		return vault_fail(v, VAULT_E_INVALID,
				  "'%s' is not a valid key name (no spaces, no '+', "
				  "at most 255 bytes)",
				  name);
	if (passlen == 0)
		return vault_fail(v, VAULT_E_INVALID, "empty passphrase");
	s = note_signer_generate(name, witness ? NOTE_TYPE_COSIG
					       : NOTE_TYPE_ED25519);
	key = sodium_malloc(32);
	if (!s || !key || note_signer_format(s, skey) != 0) {
		e = vault_fail(v, VAULT_E_NOMEM, "out of memory");
		goto out;
	}
	note_vkey_format(note_signer_verifier(s), vkey);
	keyslot_costs(kdf, &ops, &mem);
	randombytes_buf(salt, sizeof salt);
	randombytes_buf(nonce, sizeof nonce);
	b64(bsalt, sizeof bsalt, salt, sizeof salt);
	b64(bnonce, sizeof bnonce, nonce, sizeof nonce);
	head = (size_t)snprintf(text, sizeof text,
				"evault-key 1\nname %s\nvkey %s\nkdf argon2id13 "
				"%" PRIu64 " %" PRIu64 "\nsalt %s\nnonce %s\n",
				name, vkey, ops, mem, bsalt, bnonce);
	if (crypto_pwhash(key, 32, pass, passlen, salt, ops, (size_t)mem,
			  crypto_pwhash_ALG_ARGON2ID13) != 0) {
		e = vault_fail(v, VAULT_E_NOMEM, "not enough memory for the "
						 "passphrase key derivation");
		goto out;
	}
	slen = strlen(skey);
	sealed = sodium_malloc(slen + 16);
	bsecret = malloc(sodium_base64_ENCODED_LEN(slen + 16,
						   sodium_base64_VARIANT_ORIGINAL));
	if (!sealed || !bsecret) {
		e = vault_fail(v, VAULT_E_NOMEM, "out of memory");
		goto out;
	}
	crypto_aead_xchacha20poly1305_ietf_encrypt(
		sealed, NULL, (unsigned char *)skey, slen, (unsigned char *)text,
		head, NULL, nonce, key);
	b64(bsecret, sodium_base64_ENCODED_LEN(slen + 16,
					       sodium_base64_VARIANT_ORIGINAL),
	    sealed, slen + 16);
	int n = snprintf(text + head, sizeof text - head, "secret %s\n", bsecret);
	if (n < 0 || (size_t)n >= sizeof text - head) {
		e = vault_fail(v, VAULT_E_INVALID, "key name too long");
		goto out;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		e = errno == EEXIST
			    ? vault_fail(v, VAULT_E_EXISTS,
					 "'%s' already exists; not overwriting a key",
					 path)
			    : vault_fail_errno(v, errno, "cannot create '%s'", path);
		goto out;
	}
	int rc = util_write_all(fd, text, head + (size_t)n);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (rc < 0) {
		e = vault_fail_errno(v, rc, "cannot write '%s'", path);
		unlink(path);
		goto out;
	}
	if (vkey_out)
		snprintf(vkey_out, vkeysize, "%s", vkey);
out:
	if (fd >= 0)
		close(fd);
	sodium_memzero(skey, sizeof skey);
	sodium_free(key);
	sodium_free(sealed);
	free(bsecret);
	note_signer_free(s);
	return e;
}

/* The fields of a key file, parsed and bounded, before unsealing. */
typedef struct {
	char name[NOTE_NAME_MAX + 1];
	char vkey[NOTE_VKEY_BYTES];
	uint64_t ops, mem;
	unsigned char salt[16], nonce[24];
	unsigned char *sealed; /* malloc'd */
	size_t sealed_len;
	size_t head; /* bytes before "secret " (the associated data) */
} keyfile;

static vault_err keyfile_read(vault *v, const char *path, keyfile *k,
			      unsigned char **textout)
{
	unsigned char *buf = NULL;
	size_t len;
	char bsalt[64], bnonce[64];
	int consumed = 0;
	int rc = util_read_small(AT_FDCWD, path, KEYFILE_MAX, &buf, &len);

	memset(k, 0, sizeof *k);
	if (rc < 0)
		return rc == -EFBIG
			       ? vault_fail(v, VAULT_E_CORRUPT,
					    "'%s' is too large for an evault key "
					    "file",
					    path)
			       : vault_fail_errno(v, rc, "cannot read key file '%s'",
						  path);
	if (sscanf((char *)buf,
		   "evault-key 1\nname %255[^\n]\nvkey %319[^\n]\nkdf "
		   "argon2id13 %" SCNu64 " %" SCNu64
		   "\nsalt %63[^\n]\nnonce %63[^\n]\n%n",
		   k->name, k->vkey, &k->ops, &k->mem, bsalt, bnonce,
		   &consumed) != 6 ||
	    consumed == 0 || unb64(k->salt, 16, bsalt) != 0 ||
	    unb64(k->nonce, 24, bnonce) != 0 ||
	    strncmp((char *)buf + consumed, "secret ", 7) != 0) {
		free(buf);
		return vault_fail(v, VAULT_E_CORRUPT,
				  "'%s' is not an evault key file", path);
	}
	if (k->ops < crypto_pwhash_OPSLIMIT_MIN || k->ops > KEY_MAX_OPSLIMIT ||
	    k->mem < crypto_pwhash_MEMLIMIT_MIN || k->mem > KEY_MAX_MEMLIMIT) {
		free(buf);
		return vault_fail(v, VAULT_E_CORRUPT,
				  "'%s': key derivation costs out of bounds", path);
	}
	k->head = (size_t)consumed;
	char *sec = (char *)buf + consumed + 7;
	size_t seclen = strcspn(sec, "\n");
	k->sealed = malloc(seclen + 1);
	if (!k->sealed ||
	    note_b64_decode(k->sealed, seclen, sec, seclen, &k->sealed_len) != 0 ||
	    k->sealed_len <= 16 || k->sealed_len > NOTE_SKEY_BYTES + 16) {
		free(buf);
		free(k->sealed);
		k->sealed = NULL;
		return vault_fail(v, VAULT_E_CORRUPT, "'%s': bad secret line", path);
	}
	*textout = buf;
	return VAULT_OK;
}

vault_err vault_identity_vkey_of_file(vault *v, const char *path, char *out,
				      size_t n)
{
	keyfile k;
	unsigned char *text = NULL;
	note_verifier ver;
	vault_err e = keyfile_read(v, path, &k, &text);
	if (e != VAULT_OK)
		return e;
	free(text);
	free(k.sealed);
	if (note_vkey_parse(&ver, k.vkey, strlen(k.vkey)) != 0)
		return vault_fail(v, VAULT_E_CORRUPT, "'%s': bad verifier key",
				  path);
	snprintf(out, n, "%s", k.vkey);
	return VAULT_OK;
}

vault_err vault_identity_open(vault *v, const char *path, const char *pass,
			      size_t passlen, vault_identity **out)
{
	keyfile k;
	unsigned char *text = NULL, *key = NULL, *skey = NULL;
	unsigned long long slen;
	vault_identity *id = NULL;
	vault_err e = keyfile_read(v, path, &k, &text);
	if (e != VAULT_OK)
		return e;
	key = sodium_malloc(32);
	skey = sodium_malloc(k.sealed_len);
	id = calloc(1, sizeof *id);
	if (!key || !skey || !id) {
		e = vault_fail(v, VAULT_E_NOMEM, "out of memory");
		goto out;
	}
	if (crypto_pwhash(key, 32, pass, passlen, k.salt, k.ops, (size_t)k.mem,
			  crypto_pwhash_ALG_ARGON2ID13) != 0) {
		e = vault_fail(v, VAULT_E_NOMEM, "not enough memory for the "
						 "passphrase key derivation");
		goto out;
	}
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    skey, &slen, NULL, k.sealed, k.sealed_len, text, k.head,
		    k.nonce, key) != 0) {
		e = vault_fail(v, VAULT_E_PASSPHRASE,
			       "wrong passphrase for key file '%s' (or the file "
			       "was altered)",
			       path);
		goto out;
	}
	id->signer = note_signer_parse((char *)skey, (size_t)slen);
	if (!id->signer) {
		e = vault_fail(v, VAULT_E_CORRUPT, "'%s': bad secret key", path);
		goto out;
	}
	note_vkey_format(note_signer_verifier(id->signer), id->vkey);
	if (strcmp(id->vkey, k.vkey) != 0) {
		e = vault_fail(v, VAULT_E_CORRUPT,
			       "'%s': the public key line does not match the "
			       "secret key",
			       path);
		goto out;
	}
	snprintf(id->name, sizeof id->name, "%s",
		 note_signer_verifier(id->signer)->name);
	*out = id;
	id = NULL;
out:
	vault_identity_free(id);
	sodium_free(key);
	sodium_free(skey);
	free(k.sealed);
	free(text);
	return e;
}
