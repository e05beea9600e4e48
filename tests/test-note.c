/*
 * test-note.c: unit tests of signed notes, checkpoints and cosignatures
 * (vault/note.c) against the C2SP specifications signed-note,
 * tlog-checkpoint and tlog-cosignature.
 *
 * Known answers come from golang.org/x/mod/sumdb/note, note_test.go
 * (golang/mod commit 02c99138): the PeterNeumann and EnochRoot keys, the
 * signature of PeterNeumann over the Peter Neumann quote, and the cases of
 * TestOpen, TestNewVerifier and TestNewSigner; and from the examples of
 * C2SP signed-note.md and tlog-cosignature.md (parsed, as their keys are
 * not published).  Key ids and cosignatures made here are also recomputed
 * with OpenSSL (SHA-256, Ed25519), independently of the library's
 * libsodium.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "fixture.h"
#include "vault/note.h"

#define DASH "\xe2\x80\x94"

static const char peter_vkey[] =
	"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
static const char peter_skey[] = "PRIVATE+KEY+PeterNeumann+c74f20a3+"
				 "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
static const char enoch_vkey[] =
	"EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
static const char quote[] =
	"If you think cryptography is the answer to your problem,\n"
	"then you don't know what your problem is.\n";
static const char peter_sig[] =
	DASH " PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGU"
	     "gYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
static const char enoch_sig[] =
	DASH " EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+"
	     "vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

/* The checkpoint with a cosignature of tlog-cosignature.md. */
static const char c2sp_checkpoint[] =
	"example.com/behind-the-sofa\n"
	"20852163\n"
	"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
	"\n" DASH
	" example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZni"
	"Mp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n" DASH
	" witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeol"
	"MI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n";

/* The example of signed-note.md: a text with an empty line inside. */
static const char c2sp_note[] =
	"Ognuno sta solo sul cuor della terra\n"
	"trafitto da un raggio di sole:\n"
	"\n"
	"ed \xc3\xa8 subito sera.\n"
	"\n" DASH " quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5"
	"QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n";

static note_parsed np; /* 5 KiB: static */

static note_err open_str(const char *msg, const note_verifier *known,
			 size_t nknown)
{
	memset(&np, 0xa5, sizeof np);
	return note_open(msg, strlen(msg), known, nknown, &np);
}

static char *cat(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = fx_keep(malloc(la + lb + 1));
	ck_assert_ptr_nonnull(s);
	memcpy(s, a, la);
	memcpy(s + la, b, lb + 1);
	return s;
}

static char *cat3(const char *a, const char *b, const char *c)
{
	return cat(cat(a, b), c);
}

static void vkey(note_verifier *v, const char *s)
{
	ck_assert_int_eq(note_vkey_parse(v, s, strlen(s)), 0);
}

/* SHA-256(name || "\n" || type || key)[:4] with OpenSSL. */
static uint32_t ossl_key_id(const char *name, unsigned char type,
			    const unsigned char key[32])
{
	unsigned char h[32], sep[2] = {'\n', type};
	unsigned int n;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL), 1);
	EVP_DigestUpdate(ctx, name, strlen(name));
	EVP_DigestUpdate(ctx, sep, 2);
	EVP_DigestUpdate(ctx, key, 32);
	ck_assert_int_eq(EVP_DigestFinal_ex(ctx, h, &n), 1);
	EVP_MD_CTX_free(ctx);
	return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
	       (uint32_t)h[2] << 8 | h[3];
}

/* Ed25519 verification with OpenSSL: 1 if valid. */
static int ossl_ed25519_ok(const unsigned char pk[32], const unsigned char *sig,
			   const void *msg, size_t len)
{
	EVP_PKEY *key =
		EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pk, 32);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	ck_assert_ptr_nonnull(key);
	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key), 1);
	int ok = EVP_DigestVerify(ctx, sig, 64, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return ok;
}

/* Decode the base64 of a signature line (with or without newline). */
static size_t line_blob(const char *line, unsigned char *out, size_t max)
{
	const char *sp = strchr(line + 4, ' ');
	size_t n = strcspn(sp + 1, "\n"), got;
	ck_assert_ptr_nonnull(sp);
	ck_assert_int_eq(sodium_base642bin(out, max, sp + 1, n, NULL, &got,
					   NULL,
					   sodium_base64_VARIANT_ORIGINAL),
			 0);
	return got;
}

/* A signature line "— name base64(blob)\n". */
static char *make_line(const char *name, const unsigned char *blob, size_t n)
{
	char b64[1024];
	char *line = fx_keep(malloc(2048));
	ck_assert_ptr_nonnull(line);
	sodium_bin2base64(b64, sizeof b64, blob, n,
			  sodium_base64_VARIANT_ORIGINAL);
	snprintf(line, 2048, DASH " %s %s\n", name, b64);
	return line;
}

static note_signer *signer(const char *name, unsigned char type, uint64_t seed)
{
	unsigned char s[32];
	fx_fill(s, sizeof s, seed);
	note_signer *k = note_signer_new(name, type, s);
	ck_assert_ptr_nonnull(k);
	return k;
}

static char *sign(const note_signer *k, const char *text, uint64_t t)
{
	char *out;
	size_t len;
	ck_assert_int_eq(note_sign(k, text, strlen(text), t, &out, &len), 0);
	ck_assert_uint_eq(strlen(out), len);
	return fx_keep(out);
}

/* --- Known answers -------------------------------------------------------------- */

START_TEST(kat_keys)
{
	note_verifier p, e;
	char out[NOTE_VKEY_BYTES], sout[NOTE_SKEY_BYTES];

	printf("Go note_test.go keys: PeterNeumann and EnochRoot vkeys parse "
	       "to key ids c74f20a3 and af0cfe78; the skey derives the same "
	       "vkey; both format back unchanged\n");
	vkey(&p, peter_vkey);
	ck_assert_str_eq(p.name, "PeterNeumann");
	ck_assert_uint_eq(p.type, NOTE_TYPE_ED25519);
	ck_assert_uint_eq(p.id, 0xc74f20a3);
	ck_assert_uint_eq(note_key_id("PeterNeumann", 1, p.key), 0xc74f20a3);
	ck_assert_uint_eq(ossl_key_id("PeterNeumann", 1, p.key), 0xc74f20a3);
	ck_assert_int_eq(note_vkey_format(&p, out), 0);
	ck_assert_str_eq(out, peter_vkey);

	vkey(&e, enoch_vkey);
	ck_assert_str_eq(e.name, "EnochRoot");
	ck_assert_uint_eq(e.id, 0xaf0cfe78);
	ck_assert_int_eq(note_vkey_format(&e, out), 0);
	ck_assert_str_eq(out, enoch_vkey);

	note_signer *s = note_signer_parse(peter_skey, strlen(peter_skey));
	ck_assert_ptr_nonnull(s);
	const note_verifier *sv = note_signer_verifier(s);
	ck_assert_int_eq(note_vkey_format(sv, out), 0);
	ck_assert_str_eq(out, peter_vkey);
	ck_assert_mem_eq(sv->key, p.key, 32);
	ck_assert_int_eq(note_signer_format(s, sout), 0);
	ck_assert_str_eq(sout, peter_skey);
	note_signer_free(s);

	/* an uppercase key id is read (as Go does) and written lowercase */
	char upper[sizeof peter_vkey];
	memcpy(upper, peter_vkey, sizeof upper);
	memcpy(upper + 13, "C74F20A3", 8);
	vkey(&e, upper);
	ck_assert_uint_eq(e.id, 0xc74f20a3);
	ck_assert_int_eq(note_vkey_format(&e, out), 0);
	ck_assert_str_eq(out, peter_vkey);
}
END_TEST

START_TEST(kat_sign)
{
	char line[NOTE_LINE_BYTES];
	size_t linelen;

	printf("signing the Peter Neumann quote with the Go test key gives "
	       "Go's signed note byte for byte\n");
	note_signer *s = note_signer_parse(peter_skey, strlen(peter_skey));
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(note_sign_line(s, quote, strlen(quote), 0, line,
					&linelen),
			 0);
	ck_assert_uint_eq(linelen, strlen(line));
	ck_assert_str_eq(line, peter_sig);
	char *msg = sign(s, quote, 0);
	ck_assert_str_eq(msg, cat3(quote, "\n", peter_sig));
	note_signer_free(s);
}
END_TEST

START_TEST(kat_open)
{
	note_verifier k[3];
	const char *both = cat3(quote, "\n", cat(peter_sig, enoch_sig));

	printf("Go TestOpen: one known of two signers, both known, none known, "
	       "duplicated verifier, invalid signature, duplicates, malformed "
	       "messages\n");
	vkey(&k[0], peter_vkey);
	vkey(&k[1], enoch_vkey);

	ck_assert_int_eq(open_str(both, k, 1), NOTE_OK);
	ck_assert_uint_eq(np.text_len, strlen(quote));
	ck_assert_mem_eq(np.text, quote, np.text_len);
	ck_assert_uint_eq(np.nsigs, 2);
	ck_assert_uint_eq(np.nverified, 1);
	ck_assert_int_eq(np.sigs[0].key, 0);
	ck_assert_uint_eq(np.sigs[0].id, 0xc74f20a3);
	ck_assert_uint_eq(np.sigs[0].name_len, 12);
	ck_assert_mem_eq(np.sigs[0].name, "PeterNeumann", 12);
	ck_assert_int_eq(np.sigs[1].key, -1);
	ck_assert_uint_eq(np.sigs[1].id, 0xaf0cfe78);
	ck_assert_uint_eq(np.sigs[1].line_len, strlen(enoch_sig) - 1);
	ck_assert_mem_eq(np.sigs[1].line, enoch_sig, np.sigs[1].line_len);

	ck_assert_int_eq(open_str(both, k, 2), NOTE_OK);
	ck_assert_uint_eq(np.nverified, 2);
	ck_assert_int_eq(np.sigs[1].key, 1);

	ck_assert_int_eq(open_str(both, NULL, 0), NOTE_E_UNVERIFIED);
	ck_assert_uint_eq(np.nsigs, 2);
	ck_assert_uint_eq(np.nverified, 0);

	/* the same verifier twice is one key; two keys with one name and
	 * id would be ambiguous */
	k[2] = k[1];
	ck_assert_int_eq(open_str(cat3(quote, "\n", enoch_sig), k, 3), NOTE_OK);
	k[2].key[0] ^= 1;
	ck_assert_int_eq(open_str(cat3(quote, "\n", enoch_sig), k, 3),
			 NOTE_E_AMBIGUOUS);
	/* unused ambiguity does not matter */
	ck_assert_int_eq(open_str(cat3(quote, "\n", peter_sig), k, 3), NOTE_OK);

	/* 101 signature lines are too many */
	char *many = cat(quote, "\n");
	for (int i = 0; i < 101; i++)
		many = cat(many, peter_sig);
	ck_assert_int_eq(open_str(many, k, 1), NOTE_E_MALFORMED);
	ck_assert_int_eq(open_str(many, NULL, 0), NOTE_E_MALFORMED);

	/* an invalid signature by a known key */
	char bad[sizeof peter_sig + 4];
	memcpy(bad, peter_sig, 60);
	memcpy(bad + 60, "ABCD", 4);
	memcpy(bad + 64, peter_sig + 60, sizeof peter_sig - 60);
	ck_assert_int_eq(open_str(cat3(quote, "\n", bad), k, 1), NOTE_E_BADSIG);
	ck_assert_uint_eq(np.bad, 0);

	/* duplicated verified and unverified signatures count once */
	char bad_enoch[sizeof enoch_sig + 4];
	memcpy(bad_enoch, enoch_sig, 60);
	memcpy(bad_enoch + 60, "ABCD", 4);
	memcpy(bad_enoch + 64, enoch_sig + 60, sizeof enoch_sig - 60);
	const char *dups = cat3(quote, "\n",
				cat3(cat(peter_sig, peter_sig),
				     cat(enoch_sig, enoch_sig), bad_enoch));
	ck_assert_int_eq(open_str(dups, k, 1), NOTE_OK);
	ck_assert_uint_eq(np.nverified, 1);
	ck_assert_uint_eq(np.nsigs, 3);
	ck_assert_int_eq(np.sigs[1].key, -1);
	ck_assert_int_eq(np.sigs[2].key, -1);

	/* invalid encodings */
	char nonl[sizeof peter_sig];
	memcpy(nonl, peter_sig, sizeof peter_sig);
	nonl[sizeof peter_sig - 2] = '\0';
	const char *bad_msgs[] = {
		quote,
		cat(quote, "\n"),
		cat3(quote, "\n", nonl),
		cat3("\x01", quote, cat("\n", peter_sig)),
		cat3("\xff", quote, cat("\n", peter_sig)),
		cat3(quote, "\n",
		     DASH
		     " Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcEl"
		     "ZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="),
		cat3(quote, "\n", cat(peter_sig, "Unexpected line.\n")),
	};
	for (size_t i = 0; i < sizeof bad_msgs / sizeof *bad_msgs; i++)
		ck_assert_msg(open_str(bad_msgs[i], k, 1) == NOTE_E_MALFORMED,
			      "bad message %zu accepted", i);
}
END_TEST

START_TEST(kat_c2sp_examples)
{
	note_checkpoint c;
	unsigned char blob[128];
	char out[256];
	size_t len;

	printf("C2SP examples: the signed-note poem splits at its last blank "
	       "line; the cosigned checkpoint parses (origin, size, root, "
	       "witness key id and time 1679315147)\n");
	ck_assert_int_eq(open_str(c2sp_note, NULL, 0), NOTE_E_UNVERIFIED);
	ck_assert_uint_eq(np.nsigs, 1);
	ck_assert_uint_eq(np.text_len,
			  strlen(c2sp_note) -
				  strlen(strstr(c2sp_note, "\n" DASH)));
	ck_assert_mem_eq(np.sigs[0].name, "quasimodo.example/salvatore", 27);

	ck_assert_int_eq(open_str(c2sp_checkpoint, NULL, 0), NOTE_E_UNVERIFIED);
	ck_assert_uint_eq(np.nsigs, 2);
	ck_assert_uint_eq(np.sigs[1].id, 0x8d66cf3f);
	/* the cosignature carries the time of the spec's signed message */
	ck_assert_uint_eq(line_blob(np.sigs[1].line, blob, sizeof blob), 76);
	uint64_t t = 0;
	for (int i = 0; i < 8; i++)
		t = t << 8 | blob[4 + i];
	ck_assert_uint_eq(t, 1679315147);

	ck_assert_int_eq(note_checkpoint_parse(&c, np.text, np.text_len), 0);
	ck_assert_str_eq(c.origin, "example.com/behind-the-sofa");
	ck_assert_uint_eq(c.size, 20852163);
	ck_assert_ptr_null(c.ext);
	ck_assert_int_eq(note_checkpoint_format(&c, out, sizeof out, &len), 0);
	ck_assert_uint_eq(len, np.text_len);
	ck_assert_mem_eq(out, np.text, len);
}
END_TEST

/* Go's TestNewVerifier and TestNewSigner: every strict substring and
 * every single-byte increment of a key string must be refused. */
START_TEST(key_manglings)
{
	note_verifier v;
	char b[sizeof peter_skey];
	size_t n;

	printf("every substring and every one-byte change of the vkey and the "
	       "skey is refused; wrong-length and unknown-type keys too\n");
	n = strlen(peter_vkey);
	for (size_t i = 0; i <= n; i++)
		for (size_t j = i + 1; j <= n; j++)
			if (i != 0 || j != n)
				ck_assert_msg(
					note_vkey_parse(&v, peter_vkey + i,
							j - i) == -1,
					"vkey substring %zu..%zu accepted", i,
					j);
	memcpy(b, peter_vkey, n + 1);
	for (size_t i = 0; i < n; i++) {
		b[i]++;
		ck_assert_msg(note_vkey_parse(&v, b, n) == -1,
			      "vkey with byte %zu changed accepted", i);
		b[i]--;
	}
	const char *wrong_len = "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiB"
				"fsVkmqq/LDE4izWy10TWBADKEY==";
	const char *wrong_alg = "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiB"
				"fsVkmqq/LDE4izWy10TW";
	ck_assert_int_eq(note_vkey_parse(&v, wrong_len, strlen(wrong_len)), -1);
	ck_assert_int_eq(note_vkey_parse(&v, wrong_alg, strlen(wrong_alg)), -1);
	/* a 31-byte key, its id computed over what is there */
	{
		unsigned char raw[32], h[32];
		char b64[64], bad[128];
		vkey(&v, peter_vkey);
		raw[0] = 1;
		memcpy(raw + 1, v.key, 31);
		crypto_hash_sha256_state st;
		crypto_hash_sha256_init(&st);
		crypto_hash_sha256_update(&st,
					  (const unsigned char
						   *)"PeterNeumann\n",
					  13);
		crypto_hash_sha256_update(&st, raw, 32);
		crypto_hash_sha256_final(&st, h);
		sodium_bin2base64(b64, sizeof b64, raw, 32,
				  sodium_base64_VARIANT_ORIGINAL);
		snprintf(bad, sizeof bad, "PeterNeumann+%02x%02x%02x%02x+%s",
			 h[0], h[1], h[2], h[3], b64);
		ck_assert_int_eq(note_vkey_parse(&v, bad, strlen(bad)), -1);
	}
	/* key ids of 9 hex digits */
	const char *long_id[] = {
		"PeterNeumann+c74f20a30+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"PeterNeumann+0c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"PeterNeumann+c74f20a3 +ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\n",
	};
	for (size_t i = 0; i < sizeof long_id / sizeof *long_id; i++)
		ck_assert_msg(note_vkey_parse(&v, long_id[i],
					      strlen(long_id[i])) == -1,
			      "vkey variant %zu accepted", i);

	n = strlen(peter_skey);
	for (size_t i = 0; i <= n; i++)
		for (size_t j = i + 1; j <= n; j++) {
			if (i == 0 && j == n)
				continue;
			note_signer *s =
				note_signer_parse(peter_skey + i, j - i);
			ck_assert_msg(s == NULL,
				      "skey substring %zu..%zu accepted", i, j);
		}
	memcpy(b, peter_skey, n + 1);
	for (size_t i = 0; i < n; i++) {
		b[i]++;
		note_signer *s = note_signer_parse(b, n);
		ck_assert_msg(s == NULL, "skey with byte %zu changed accepted",
			      i);
		b[i]--;
	}
	/* the whole strings still parse (the loops above did not pass by
	 * refusing everything) */
	ck_assert_int_eq(note_vkey_parse(&v, peter_vkey, strlen(peter_vkey)),
			 0);
	note_signer *s = note_signer_parse(b, n);
	ck_assert_ptr_nonnull(s);
	note_signer_free(s);
}
END_TEST

/* --- Names and keys ----------------------------------------------------------------- */

START_TEST(names)
{
	char longname[NOTE_NAME_MAX + 2];
	char vk[NOTE_VKEY_BYTES], sk[NOTE_SKEY_BYTES], line[NOTE_LINE_BYTES];
	size_t linelen;
	unsigned char seed[32] = {1};
	note_verifier v;

	printf("key names: no '+', no Unicode space, no control character, "
	       "valid UTF-8, 1..255 bytes; the longest fits every buffer\n");
	const char *good[] = {"a", "example.com/log42", "caf\xc3\xa9",
			      "\xe2\x80\x94", "PeterNeumann"};
	const char *bad[] = {"",
			     "a b",
			     "a+b",
			     "a\tb",
			     "a\nb",
			     "a\x01",
			     "a\xc2\xa0z",     /* U+00A0 no-break space */
			     "a\xe3\x80\x80z", /* U+3000 ideographic space */
			     "a\xe2\x80\x8az", /* U+200A hair space */
			     "a\xe2\x80\xa8z", /* U+2028 line separator */
			     "a\xc2\x85z",     /* U+0085 next line */
			     "\xff",
			     "\xc0\xaf",	 /* overlong '/' */
			     "\xed\xa0\x80",	 /* a surrogate */
			     "\xf4\x90\x80\x80", /* past U+10FFFF */
			     "\xe2\x80"};	 /* cut short */
	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		ck_assert_msg(note_name_valid(good[i], strlen(good[i])),
			      "good name %zu refused", i);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		ck_assert_msg(!note_name_valid(bad[i], strlen(bad[i])),
			      "bad name %zu accepted", i);
		ck_assert_int_eq(note_verifier_init(&v, bad[i], 1, seed), -1);
		ck_assert_ptr_null(note_signer_new(bad[i], 1, seed));
	}
	ck_assert_ptr_null(note_signer_new("ok", 0x02, seed));
	ck_assert_int_eq(note_verifier_init(&v, "ok", 0x05, seed), -1);

	memset(longname, 'n', sizeof longname);
	longname[NOTE_NAME_MAX + 1] = '\0';
	ck_assert_ptr_null(note_signer_new(longname, 1, seed));
	longname[NOTE_NAME_MAX] = '\0';
	for (unsigned char type = 1; type <= 4; type += 3) {
		note_signer *s = note_signer_new(longname, type, seed);
		ck_assert_ptr_nonnull(s);
		ck_assert_int_eq(note_vkey_format(note_signer_verifier(s), vk),
				 0);
		ck_assert_int_eq(note_signer_format(s, sk), 0);
		const char *cp =
			"o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
		ck_assert_int_eq(note_sign_line(s, cp, strlen(cp), INT64_MAX,
						line, &linelen),
				 0);
		note_signer *back = note_signer_parse(sk, strlen(sk));
		ck_assert_ptr_nonnull(back);
		ck_assert_int_eq(note_vkey_parse(&v, vk, strlen(vk)), 0);
		ck_assert_mem_eq(&v, note_signer_verifier(back), sizeof v);
		ck_assert_uint_eq(v.type, type);
		note_signer_free(back);
		note_signer_free(s);
	}
}
END_TEST

START_TEST(generated_keys)
{
	char vk[NOTE_VKEY_BYTES], sk[NOTE_SKEY_BYTES];
	note_verifier v;

	printf("generated keys: skey and vkey strings round-trip, key ids "
	       "match OpenSSL's SHA-256, two keys differ\n");
	note_signer *a = note_signer_generate("evault.example/alice", 1);
	note_signer *b = note_signer_generate("evault.example/alice", 1);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	const note_verifier *av = note_signer_verifier(a);
	ck_assert_mem_ne(av->key, note_signer_verifier(b)->key, 32);
	ck_assert_uint_eq(av->id, ossl_key_id(av->name, 1, av->key));
	ck_assert_int_eq(note_signer_format(a, sk), 0);
	ck_assert_int_eq(strncmp(sk, "PRIVATE+KEY+evault.example/alice+", 33),
			 0);
	note_signer *a2 = note_signer_parse(sk, strlen(sk));
	ck_assert_ptr_nonnull(a2);
	ck_assert_mem_eq(note_signer_verifier(a2), av, sizeof *av);
	ck_assert_int_eq(note_vkey_format(av, vk), 0);
	ck_assert_int_eq(note_vkey_parse(&v, vk, strlen(vk)), 0);
	ck_assert_mem_eq(&v, av, sizeof v);
	/* a signature by the re-read key verifies with the vkey */
	ck_assert_int_eq(open_str(sign(a2, "hello\n", 0), &v, 1), NOTE_OK);
	note_signer_free(a);
	note_signer_free(a2);
	note_signer_free(b);
	note_signer_free(NULL);
}
END_TEST

/* --- Signing and opening ------------------------------------------------------------ */

START_TEST(round_trips)
{
	note_verifier v;
	const char *texts[] = {
		"\n",
		"one line\n",
		"a\n\nb\n",
		"ends in a blank line\n\n",
		"caf\xc3\xa9 " DASH " \xf0\x9f\x93\xb7 UTF-8\n",
		"{\"v\":1,\"kind\":\"ingest\",\"nonce\":\"00ff\"}\n",
	};

	printf("notes signed and opened: text preserved, one verified "
	       "signature, for texts with blank lines and UTF-8\n");
	note_signer *s = signer("evault.example/custodian/alice", 1, 1);
	v = *note_signer_verifier(s);
	for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
		char *msg = sign(s, texts[i], 0);
		ck_assert_msg(open_str(msg, &v, 1) == NOTE_OK, "text %zu", i);
		ck_assert_uint_eq(np.text_len, strlen(texts[i]));
		ck_assert_mem_eq(np.text, texts[i], np.text_len);
		ck_assert_uint_eq(np.nverified, 1);
		ck_assert_uint_eq(np.nsigs, 1);
	}
	/* a long text */
	size_t n = 200000;
	char *big = fx_keep(malloc(n + 1));
	ck_assert_ptr_nonnull(big);
	for (size_t i = 0; i < n; i++)
		big[i] = (i % 61 == 60) ? '\n' : (char)('a' + i % 26);
	big[n - 1] = '\n';
	big[n] = '\0';
	ck_assert_int_eq(open_str(sign(s, big, 0), &v, 1), NOTE_OK);
	ck_assert_uint_eq(np.text_len, n);
	note_signer_free(s);
}
END_TEST

START_TEST(sign_refuses)
{
	char line[NOTE_LINE_BYTES];
	size_t linelen = 12345;
	char *out = NULL;
	size_t outlen;

	printf("signing refuses texts that are not valid note texts: no final "
	       "newline, control characters, invalid UTF-8, empty, too long\n");
	note_signer *s = signer("alice", 1, 2);
	const char *bad[] = {"",       "no newline", "tab\there\n",
			     "cr\r\n", "\xff\n",     "nul"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		ck_assert_int_eq(note_sign_line(s, bad[i], strlen(bad[i]), 0,
						line, &linelen),
				 -1);
		ck_assert_int_eq(note_sign(s, bad[i], strlen(bad[i]), 0, &out,
					   &outlen),
				 -1);
	}
	ck_assert_int_eq(note_sign_line(s, "a\0b\n", 4, 0, line, &linelen), -1);
	ck_assert_uint_eq(linelen, 12345);
	ck_assert_ptr_null(out);
	size_t n = NOTE_MAX_BYTES;
	char *big = fx_keep(malloc(n));
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', n);
	big[n - 1] = '\n';
	ck_assert_int_eq(note_sign(s, big, n, 0, &out, &outlen), -1);
	note_signer_free(s);
}
END_TEST

START_TEST(tamper_text)
{
	note_verifier v;
	const char *text = "item 3f2a\nsha256 00ff\nby alice\n";
	size_t n = strlen(text);

	printf("each byte of the text changed: the note is refused (a bad "
	       "signature, or malformed where the change breaks the syntax)\n");
	note_signer *s = signer("alice", 1, 3);
	v = *note_signer_verifier(s);
	char *msg = sign(s, text, 0);
	ck_assert_int_eq(open_str(msg, &v, 1), NOTE_OK);
	for (size_t i = 0; i < n; i++) {
		char saved = msg[i];
		msg[i] = saved == 'Z' ? 'Y' : 'Z';
		note_err e = open_str(msg, &v, 1);
		if (saved == '\n' && i == n - 1)
			ck_assert_int_eq(e, NOTE_E_MALFORMED);
		else
			ck_assert_msg(e == NOTE_E_BADSIG,
				      "byte %zu changed: %s", i,
				      note_strerror(e));
		msg[i] = saved;
	}
	/* a byte removed, a byte added */
	ck_assert_int_eq(open_str(msg + 1, &v, 1), NOTE_E_BADSIG);
	ck_assert_int_eq(open_str(cat("x", msg), &v, 1), NOTE_E_BADSIG);
	ck_assert_int_eq(open_str(msg, &v, 1), NOTE_OK);
	note_signer_free(s);
}
END_TEST

START_TEST(tamper_signature)
{
	note_verifier v;
	unsigned char blob[128];

	printf("each bit of the signature changed: a bad signature; a changed "
	       "key id: an unknown key, so no verified signature\n");
	note_signer *s = signer("alice", 1, 4);
	v = *note_signer_verifier(s);
	const char *text = "custody transfer\n";
	char *msg = sign(s, text, 0);
	const char *line = strstr(msg, DASH);
	ck_assert_uint_eq(line_blob(line, blob, sizeof blob), 68);
	for (size_t i = 0; i < 68; i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			blob[i] ^= (unsigned char)(1 << bit);
			char *m =
				cat3(text, "\n", make_line("alice", blob, 68));
			note_err e = open_str(m, &v, 1);
			ck_assert_msg(e == (i < 4 ? NOTE_E_UNVERIFIED
						  : NOTE_E_BADSIG),
				      "byte %zu bit %d: %s", i, bit,
				      note_strerror(e));
			blob[i] ^= (unsigned char)(1 << bit);
		}
	}
	/* truncated or extended signatures by the known key */
	ck_assert_int_eq(open_str(cat3(text, "\n",
				       make_line("alice", blob, 67)),
				  &v, 1),
			 NOTE_E_BADSIG);
	blob[68] = 0;
	ck_assert_int_eq(open_str(cat3(text, "\n",
				       make_line("alice", blob, 69)),
				  &v, 1),
			 NOTE_E_BADSIG);
	ck_assert_int_eq(open_str(cat3(text, "\n",
				       make_line("alice", blob, 68)),
				  &v, 1),
			 NOTE_OK);
	/* the signature moved to another name */
	ck_assert_int_eq(open_str(cat3(text, "\n", make_line("bob", blob, 68)),
				  &v, 1),
			 NOTE_E_UNVERIFIED);
	note_signer_free(s);
}
END_TEST

START_TEST(wrong_keys)
{
	note_verifier v, other, forged, renamed;

	printf("wrong keys: another key of the same name is unknown; a key "
	       "claiming the same name and id fails; the same key under "
	       "another name is unknown\n");
	note_signer *s = signer("alice", 1, 5), *o = signer("alice", 1, 6);
	v = *note_signer_verifier(s);
	other = *note_signer_verifier(o);
	char *msg = sign(s, "text\n", 0);
	ck_assert_int_eq(open_str(msg, &other, 1), NOTE_E_UNVERIFIED);
	forged = other;
	forged.id = v.id;
	ck_assert_int_eq(open_str(msg, &forged, 1), NOTE_E_BADSIG);
	ck_assert_int_eq(note_verifier_init(&renamed, "alicia", 1, v.key), 0);
	ck_assert_int_eq(open_str(msg, &renamed, 1), NOTE_E_UNVERIFIED);
	/* with the right key among others */
	note_verifier set[3] = {other, renamed, v};
	ck_assert_int_eq(open_str(msg, set, 3), NOTE_OK);
	ck_assert_int_eq(np.sigs[0].key, 2);
	note_signer_free(s);
	note_signer_free(o);
}
END_TEST

START_TEST(extra_and_duplicate_signatures)
{
	note_verifier v;
	char line[NOTE_LINE_BYTES], *out;
	size_t linelen, outlen;

	printf("an extra signature by an unknown key is ignored; a duplicate "
	       "line counts once; a second, bad line from a known key is "
	       "refused\n");
	note_signer *s = signer("alice", 1, 7), *u = signer("mallory", 1, 8);
	v = *note_signer_verifier(s);
	const char *text = "note 1\n";
	char *msg = sign(s, text, 0);
	ck_assert_int_eq(note_sign_line(u, text, strlen(text), 0, line,
					&linelen),
			 0);
	ck_assert_int_eq(open_str(cat(msg, line), &v, 1), NOTE_OK);
	ck_assert_uint_eq(np.nsigs, 2);
	ck_assert_uint_eq(np.nverified, 1);
	ck_assert_int_eq(np.sigs[1].key, -1);
	/* an unknown signer alone is not enough */
	ck_assert_int_eq(open_str(cat3(text, "\n", line), &v, 1),
			 NOTE_E_UNVERIFIED);
	/* the same line twice */
	const char *sline = strstr(msg, DASH);
	ck_assert_int_eq(open_str(cat(msg, sline), &v, 1), NOTE_OK);
	ck_assert_uint_eq(np.nsigs, 1);
	/* a second line for the known key with a wrong signature */
	unsigned char blob[128];
	ck_assert_uint_eq(line_blob(sline, blob, sizeof blob), 68);
	blob[40] ^= 0x10;
	ck_assert_int_eq(open_str(cat(msg, make_line("alice", blob, 68)), &v,
				  1),
			 NOTE_E_BADSIG);
	ck_assert_uint_eq(np.bad, 1);
	ck_assert_int_eq(open_str(cat3(text, "\n",
				       cat(make_line("alice", blob, 68),
					   sline)),
				  &v, 1),
			 NOTE_E_BADSIG);
	ck_assert_uint_eq(np.bad, 0);

	/* note_add_signature: attach, then replace by the same key */
	ck_assert_int_eq(note_add_signature(msg, strlen(msg), line, linelen,
					    &out, &outlen),
			 0);
	fx_keep(out);
	ck_assert_str_eq(out, cat(msg, line));
	ck_assert_uint_eq(outlen, strlen(out));
	char *again;
	ck_assert_int_eq(note_add_signature(out, outlen, sline, strlen(sline),
					    &again, &outlen),
			 0);
	fx_keep(again);
	ck_assert_str_eq(again, cat3(text, "\n", cat(line, sline)));
	ck_assert_uint_eq(outlen, strlen(again));
	/* refused: a malformed line, a malformed note */
	ck_assert_int_eq(note_add_signature(msg, strlen(msg), "junk\n", 5, &out,
					    &outlen),
			 -1);
	ck_assert_int_eq(note_add_signature(text, strlen(text), line, linelen,
					    &out, &outlen),
			 -1);
	ck_assert_int_eq(note_add_signature(msg, strlen(msg),
					    "\xe2\x80\x94 a\tb AAAAAAA=", 17,
					    &out, &outlen),
			 -1);
	note_signer_free(s);
	note_signer_free(u);
}
END_TEST

START_TEST(malformed_notes)
{
	note_verifier v;

	printf("malformed notes refused: bad names, non-canonical or short "
	       "base64, CRLF, NUL, overlong UTF-8, over the size bound; bounds "
	       "themselves accepted\n");
	note_signer *s = signer("alice", 1, 9);
	v = *note_signer_verifier(s);
	const char *text = "t\n";
	char *msg = sign(s, text, 0);
	ck_assert_int_eq(open_str(msg, &v, 1), NOTE_OK);
	const char *bad[] = {
		"",
		"\n\n",
		cat(msg, "\n"),
		cat3(text, "\n", DASH " alice\n"),
		cat3(text, "\n", DASH " alice \n"),
		cat3(text, "\n", DASH " a+b AAAAAAA=\n"),
		cat3(text, "\n", DASH " a\xc2\xa0z AAAAAAA=\n"),
		cat3(text, "\n", DASH "  AAAAAAA=\n"),
		cat3(text, "\n", "- alice AAAAAAA=\n"),
		cat3(text, "\n", DASH "alice AAAAAAA=\n"),
		cat3(text, "\n", DASH " alice AAAAAA==\n"),  /* 4 bytes */
		cat3(text, "\n", DASH " alice AAAAAAB=\n"),  /* stray bits */
		cat3(text, "\n", DASH " alice AAAAAAA\n"),   /* no padding */
		cat3(text, "\n", DASH " alice AAAA AAA=\n"), /* space */
		cat3(text, "\n", DASH " alice AAAAAAA= \n"),
		cat3(text, "\n", DASH " alice AAAAAAA=\r\n"),
		"xy" DASH " alice AAAAAAA=\n",
		"\nx" DASH " alice AAAAAAA=\n",
		cat3("t\r\n", "\n", strstr(msg, DASH)),
		cat3("caf\xc0\xa9\n", "\n", strstr(msg, DASH)),
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		ck_assert_msg(open_str(bad[i], &v, 1) == NOTE_E_MALFORMED,
			      "malformed note %zu not refused", i);
	/* a NUL inside */
	char withnul[] = "t\0x\n\n";
	ck_assert_int_eq(note_open(withnul, sizeof withnul - 1, &v, 1, &np),
			 NOTE_E_MALFORMED);
	/* an unknown key's 5-byte signature is well formed */
	ck_assert_int_eq(open_str(cat(msg, DASH " bob AAAAAAA=\n"), &v, 1),
			 NOTE_OK);

	/* exactly NOTE_MAX_SIGS lines pass, one more does not */
	char *many = msg;
	unsigned char blob[68];
	for (int i = 1; i < NOTE_MAX_SIGS; i++) {
		fx_fill(blob, sizeof blob, (uint64_t)i);
		many = cat(many, make_line("other", blob, sizeof blob));
	}
	ck_assert_int_eq(open_str(many, &v, 1), NOTE_OK);
	ck_assert_uint_eq(np.nsigs, NOTE_MAX_SIGS);
	fx_fill(blob, sizeof blob, 1000);
	many = cat(many, make_line("other", blob, sizeof blob));
	ck_assert_int_eq(open_str(many, &v, 1), NOTE_E_MALFORMED);

	/* a signature line over NOTE_SIG_LINE_MAX */
	static unsigned char huge[NOTE_SIG_LINE_MAX];
	static char b64[NOTE_SIG_LINE_MAX * 2];
	sodium_bin2base64(b64, sizeof b64, huge, sizeof huge * 3 / 4,
			  sodium_base64_VARIANT_ORIGINAL);
	ck_assert_int_eq(open_str(cat3(msg, DASH " other ", cat(b64, "\n")), &v,
				  1),
			 NOTE_E_MALFORMED);

	/* the whole note over NOTE_MAX_BYTES */
	size_t n = NOTE_MAX_BYTES + 1;
	char *big = fx_keep(malloc(n + 1));
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', n);
	size_t sl = strlen(strstr(msg, DASH));
	memcpy(big + n - sl, strstr(msg, DASH), sl);
	big[n - sl - 1] = '\n';
	big[n - sl - 2] = '\n';
	big[n] = '\0';
	ck_assert_int_eq(open_str(big, &v, 1), NOTE_E_MALFORMED);
	note_signer_free(s);
}
END_TEST

/* --- Checkpoints and cosignatures ---------------------------------------------------- */

static char *checkpoint_text(const char *origin, uint64_t size,
			     const unsigned char root[32], const char *ext)
{
	note_checkpoint c;
	char *out = fx_keep(malloc(4096));
	size_t len;
	memset(&c, 0, sizeof c);
	snprintf(c.origin, sizeof c.origin, "%s", origin);
	c.size = size;
	memcpy(c.root, root, 32);
	c.ext = ext;
	c.ext_len = ext ? strlen(ext) : 0;
	ck_assert_int_eq(note_checkpoint_format(&c, out, 4096, &len), 0);
	ck_assert_uint_eq(strlen(out), len);
	return out;
}

START_TEST(checkpoints)
{
	note_checkpoint c;
	unsigned char root[32];
	char small[40];
	size_t len;

	printf("checkpoints: format and parse round-trip (sizes 0, 1, 2^64-1, "
	       "extension lines); malformed bodies refused\n");
	fx_fill(root, 32, 11);
	const uint64_t sizes[] = {0, 1, 10, 20852163, UINT64_MAX};
	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		char *t =
			checkpoint_text("evault.example/v/0123", sizes[i], root,
					i == 2 ? "ext one\next two\n" : NULL);
		ck_assert_int_eq(note_checkpoint_parse(&c, t, strlen(t)), 0);
		ck_assert_str_eq(c.origin, "evault.example/v/0123");
		ck_assert_uint_eq(c.size, sizes[i]);
		ck_assert_mem_eq(c.root, root, 32);
		if (i == 2) {
			ck_assert_uint_eq(c.ext_len, 16);
			ck_assert_ptr_eq(c.ext, t + strlen(t) - 16);
		} else {
			ck_assert_ptr_null(c.ext);
		}
	}
	char *t = checkpoint_text("o", UINT64_MAX, root, NULL);
	ck_assert_int_eq(strncmp(t, "o\n18446744073709551615\n", 23), 0);
	ck_assert_uint_eq(strlen(t), 23 + 45);

	const char *r = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
	const char *bad[] = {
		"",
		"o\n1\n",
		"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",
		cat("\n1\n", r),
		cat("o\n\n", r),
		cat("o\n01\n", r),
		cat("o\n00\n", r),
		cat("o\n-1\n", r),
		cat("o\n+1\n", r),
		cat("o\n 1\n", r),
		cat("o\n1 \n", r),
		cat("o\n0x10\n", r),
		cat("o\n18446744073709551616\n", r),
		cat("o\n99999999999999999999\n", r),
		cat("o\n100000000000000000000\n", r),
		"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n",
		"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n",
		"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I==\n",
		"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jx\n",
		"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2Iw\n",
		"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2IAAAA=\n",
		"o\n1\nCsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=\n",
		"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxqw==\n", /* 31 */
		cat3("o\n1\n", r, "\n"),
		cat3("o\n1\n", r, "ext\n\n"),
		cat3("o\n1\n", r, "ext"),
		cat3("o\r\n1\n", r, ""),
		cat3("o\n1\r\n", r, ""),
		cat3("o\x01\n1\n", r, ""),
		cat3("o\n1\n", r, "\xff\n"),
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		ck_assert_msg(note_checkpoint_parse(&c, bad[i],
						    strlen(bad[i])) == -1,
			      "bad checkpoint %zu accepted", i);
	/* an origin of NOTE_NAME_MAX bytes is read, one more is not */
	char origin[NOTE_NAME_MAX + 2];
	memset(origin, 'o', sizeof origin);
	origin[NOTE_NAME_MAX] = '\0';
	const char *longest = cat3(origin, "\n1\n", r);
	ck_assert_int_eq(note_checkpoint_parse(&c, longest, strlen(longest)),
			 0);
	ck_assert_uint_eq(strlen(c.origin), NOTE_NAME_MAX);
	origin[NOTE_NAME_MAX] = 'o';
	origin[NOTE_NAME_MAX + 1] = '\0';
	const char *over = cat3(origin, "\n1\n", r);
	ck_assert_int_eq(note_checkpoint_parse(&c, over, strlen(over)), -1);

	/* accepted: size 0, an origin with a space (a MUST-level parse) */
	const char *ok0 = cat("o\n0\n", r), *oksp = cat("my log\n7\n", r);
	ck_assert_int_eq(note_checkpoint_parse(&c, ok0, strlen(ok0)), 0);
	ck_assert_uint_eq(c.size, 0);
	ck_assert_int_eq(note_checkpoint_parse(&c, oksp, strlen(oksp)), 0);
	ck_assert_str_eq(c.origin, "my log");

	/* formatting refuses what it should not write */
	memset(&c, 0, sizeof c);
	c.size = 3;
	ck_assert_int_eq(note_checkpoint_format(&c, small, sizeof small, &len),
			 -1); /* empty origin */
	char big[128];
	strcpy(c.origin, "a b");
	ck_assert_int_eq(note_checkpoint_format(&c, big, sizeof big, &len), -1);
	strcpy(c.origin, "a+b");
	ck_assert_int_eq(note_checkpoint_format(&c, big, sizeof big, &len), -1);
	strcpy(c.origin, "a\xc2\xa0"
			 "b");
	ck_assert_int_eq(note_checkpoint_format(&c, big, sizeof big, &len), -1);
	strcpy(c.origin, "a/b");
	ck_assert_int_eq(note_checkpoint_format(&c, big, sizeof big, &len), 0);
	strcpy(c.origin, "ab");
	ck_assert_int_eq(note_checkpoint_format(&c, small, sizeof small, &len),
			 -1); /* 2+2+45 bytes do not fit in 40 */
	char fits[51];
	ck_assert_int_eq(note_checkpoint_format(&c, fits, 50, &len), -1);
	ck_assert_int_eq(note_checkpoint_format(&c, fits, 51, &len), 0);
	ck_assert_uint_eq(len, 50);
	c.ext = "no newline";
	c.ext_len = 10;
	ck_assert_int_eq(note_checkpoint_format(&c, fits, 51, &len), -1);
	c.ext = "x\n\ny\n";
	c.ext_len = 5;
	ck_assert_int_eq(note_checkpoint_format(&c, big, sizeof big, &len), -1);
	c.ext = "\n";
	c.ext_len = 1;
	ck_assert_int_eq(note_checkpoint_format(&c, big, sizeof big, &len), -1);
	c.ext = "x\ty\n";
	c.ext_len = 4;
	ck_assert_int_eq(note_checkpoint_format(&c, big, sizeof big, &len), -1);
}
END_TEST

START_TEST(cosignatures)
{
	note_verifier keys[2];
	unsigned char root[32], blob[128];
	char line[NOTE_LINE_BYTES], *out;
	size_t linelen, outlen;
	const uint64_t t = 1679315147;

	printf("cosignatures: a witness's line over a log-signed checkpoint "
	       "checks with OpenSSL over \"cosignature/v1\\ntime <t>\\n\" || "
	       "body, key id with type 0x04; both verify; tampering refused\n");
	fx_fill(root, 32, 12);
	const char *cp = checkpoint_text("evault.example/log", 42, root, NULL);
	note_signer *log = signer("evault.example/log", NOTE_TYPE_ED25519, 20);
	note_signer *wit = signer("witness.example/w1", NOTE_TYPE_COSIG, 21);
	keys[0] = *note_signer_verifier(log);
	keys[1] = *note_signer_verifier(wit);
	ck_assert_uint_eq(keys[1].type, NOTE_TYPE_COSIG);
	ck_assert_uint_eq(keys[1].id,
			  ossl_key_id("witness.example/w1", 4, keys[1].key));
	ck_assert_uint_ne(keys[1].id,
			  ossl_key_id("witness.example/w1", 1, keys[1].key));

	char *signed_cp = sign(log, cp, 0);
	ck_assert_int_eq(note_sign_line(wit, cp, strlen(cp), t, line, &linelen),
			 0);
	ck_assert_int_eq(strncmp(line, DASH " witness.example/w1 ", 23), 0);

	/* the bytes, checked independently */
	ck_assert_uint_eq(line_blob(line, blob, sizeof blob), 76);
	uint32_t id = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 |
		      (uint32_t)blob[2] << 8 | blob[3];
	ck_assert_uint_eq(id, keys[1].id);
	uint64_t got = 0;
	for (int i = 0; i < 8; i++)
		got = got << 8 | blob[4 + i];
	ck_assert_uint_eq(got, t);
	char *m = cat("cosignature/v1\ntime 1679315147\n", cp);
	ck_assert_int_eq(ossl_ed25519_ok(keys[1].key, blob + 12, m, strlen(m)),
			 1);
	ck_assert_int_eq(ossl_ed25519_ok(keys[1].key, blob + 12, cp,
					 strlen(cp)),
			 0);

	/* attached to the signed checkpoint: both verify */
	ck_assert_int_eq(note_add_signature(signed_cp, strlen(signed_cp), line,
					    linelen, &out, &outlen),
			 0);
	fx_keep(out);
	ck_assert_int_eq(open_str(out, keys, 2), NOTE_OK);
	ck_assert_uint_eq(np.nverified, 2);
	ck_assert_int_eq(np.sigs[1].key, 1);
	ck_assert_uint_eq(np.sigs[1].timestamp, t);
	/* a client that knows only the log key ignores the witness */
	ck_assert_int_eq(open_str(out, keys, 1), NOTE_OK);
	ck_assert_uint_eq(np.nverified, 1);
	/* a witness-only client accepts the witness alone */
	ck_assert_int_eq(open_str(out, keys + 1, 1), NOTE_OK);

	/* a later cosignature by the same witness replaces the earlier */
	char line2[NOTE_LINE_BYTES], *out2;
	ck_assert_int_eq(note_sign_line(wit, cp, strlen(cp), t + 60, line2,
					&linelen),
			 0);
	ck_assert_int_eq(note_add_signature(out, outlen, line2, linelen, &out2,
					    &outlen),
			 0);
	fx_keep(out2);
	ck_assert_int_eq(open_str(out2, keys, 2), NOTE_OK);
	ck_assert_uint_eq(np.nsigs, 2);
	ck_assert_uint_eq(np.sigs[1].timestamp, t + 60);

	/* tampering: the time, the signature, the checkpoint */
	for (int i = 4; i < 76; i += 9) {
		blob[i] ^= 0x01;
		ck_assert_msg(open_str(cat(signed_cp,
					   make_line("witness.example/w1", blob,
						     76)),
				       keys, 2) == NOTE_E_BADSIG,
			      "cosignature byte %d", i);
		blob[i] ^= 0x01;
	}
	ck_assert_int_eq(open_str(cat(signed_cp, make_line("witness.example/w1",
							   blob, 76)),
				  keys, 2),
			 NOTE_OK);
	/* a time above 2^63 - 1 */
	blob[4] |= 0x80;
	ck_assert_int_eq(open_str(cat(signed_cp, make_line("witness.example/w1",
							   blob, 76)),
				  keys, 2),
			 NOTE_E_BADSIG);
	/* validly signed, but at a time past 2^63 - 1 */
	{
		unsigned char seed[32], pk[32], sk[64];
		fx_fill(seed, 32, 21);
		crypto_sign_seed_keypair(pk, sk, seed);
		ck_assert_mem_eq(pk, keys[1].key, 32);
		char *late =
			cat("cosignature/v1\ntime 9223372036854775808\n", cp);
		memset(blob + 4, 0, 8);
		blob[4] = 0x80;
		crypto_sign_detached(blob + 12, NULL, (unsigned char *)late,
				     strlen(late), sk);
		ck_assert_int_eq(ossl_ed25519_ok(pk, blob + 12, late,
						 strlen(late)),
				 1);
		ck_assert_int_eq(open_str(cat(signed_cp,
					      make_line("witness.example/w1",
							blob, 76)),
					  keys, 2),
				 NOTE_E_BADSIG);
		/* the same at 2^63 - 1 is fine; with a byte appended it is not */
		late = cat("cosignature/v1\ntime 9223372036854775807\n", cp);
		memset(blob + 4, 0xff, 8);
		blob[4] = 0x7f;
		crypto_sign_detached(blob + 12, NULL, (unsigned char *)late,
				     strlen(late), sk);
		ck_assert_int_eq(open_str(cat(signed_cp,
					      make_line("witness.example/w1",
							blob, 76)),
					  keys, 2),
				 NOTE_OK);
		ck_assert_uint_eq(np.sigs[1].timestamp, INT64_MAX);
		blob[76] = 0;
		ck_assert_int_eq(open_str(cat(signed_cp,
					      make_line("witness.example/w1",
							blob, 77)),
					  keys, 2),
				 NOTE_E_BADSIG);
		sodium_memzero(sk, sizeof sk);
	}
	char *cp43 = checkpoint_text("evault.example/log", 43, root, NULL);
	ck_assert_int_eq(open_str(cat3(cp43, "\n", line), keys + 1, 1),
			 NOTE_E_BADSIG);

	/* a plain Ed25519 signature by the witness key is not a
	 * cosignature: other key id (unknown), or the right id but the
	 * wrong length (bad) */
	unsigned char seed[32];
	fx_fill(seed, 32, 21);
	note_signer *plain = note_signer_new("witness.example/w1", 1, seed);
	ck_assert_ptr_nonnull(plain);
	ck_assert_mem_eq(note_signer_verifier(plain)->key, keys[1].key, 32);
	char *p = sign(plain, cp, 0);
	ck_assert_int_eq(open_str(p, keys + 1, 1), NOTE_E_UNVERIFIED);
	ck_assert_uint_eq(line_blob(strstr(p, DASH), blob, sizeof blob), 68);
	blob[0] = (unsigned char)(keys[1].id >> 24);
	blob[1] = (unsigned char)(keys[1].id >> 16);
	blob[2] = (unsigned char)(keys[1].id >> 8);
	blob[3] = (unsigned char)keys[1].id;
	ck_assert_int_eq(open_str(cat3(cp, "\n",
				       make_line("witness.example/w1", blob,
						 68)),
				  keys + 1, 1),
			 NOTE_E_BADSIG);

	/* a cosigner signs only checkpoints, at times up to 2^63 - 1 */
	ck_assert_int_eq(note_sign_line(wit, "not a checkpoint\n", 17, t, line,
					&linelen),
			 -1);
	ck_assert_int_eq(note_sign_line(wit, cp, strlen(cp),
					(uint64_t)INT64_MAX + 1, line,
					&linelen),
			 -1);
	ck_assert_int_eq(note_sign_line(wit, cp, strlen(cp), INT64_MAX, line,
					&linelen),
			 0);
	ck_assert_int_eq(open_str(cat3(cp, "\n", line), keys + 1, 1), NOTE_OK);
	ck_assert_uint_eq(np.sigs[0].timestamp, INT64_MAX);
	note_signer_free(plain);
	note_signer_free(log);
	note_signer_free(wit);
}
END_TEST

static Suite *note_suite(void)
{
	Suite *s = suite_create("note");
	TCase *tc = tcase_create("known-answers");
	fx_tcase_tmp(tc);
	tcase_add_test(tc, kat_keys);
	tcase_add_test(tc, kat_sign);
	tcase_add_test(tc, kat_open);
	tcase_add_test(tc, kat_c2sp_examples);
	tcase_add_test(tc, key_manglings);
	suite_add_tcase(s, tc);

	tc = tcase_create("keys");
	fx_tcase_tmp(tc);
	tcase_add_test(tc, names);
	tcase_add_test(tc, generated_keys);
	suite_add_tcase(s, tc);

	tc = tcase_create("notes");
	fx_tcase_tmp(tc);
	tcase_add_test(tc, round_trips);
	tcase_add_test(tc, sign_refuses);
	tcase_add_test(tc, tamper_text);
	tcase_add_test(tc, tamper_signature);
	tcase_add_test(tc, wrong_keys);
	tcase_add_test(tc, extra_and_duplicate_signatures);
	tcase_add_test(tc, malformed_notes);
	suite_add_tcase(s, tc);

	tc = tcase_create("checkpoints");
	fx_tcase_tmp(tc);
	tcase_add_test(tc, checkpoints);
	tcase_add_test(tc, cosignatures);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (sodium_init() < 0)
		return 99;
	return fx_run(note_suite());
}
