/*
 * note.h: signed notes, checkpoints and cosignatures in the formats of the
 * transparency log world, so that anyone can check evault's custody log
 * with standard tools:
 *
 *   c2sp.org/signed-note       a text ending in "\n", a blank line, and
 *                              lines "— <name> base64(key id || sig)\n";
 *                              Ed25519 keys, key id = SHA-256(name || "\n"
 *                              || 0x01 || public key)[:4]; verifier keys
 *                              "name+hex8+base64(0x01 || public key)" and
 *                              signer keys "PRIVATE+KEY+name+hex8+
 *                              base64(0x01 || seed)" as golang.org/x/mod/
 *                              sumdb/note writes them;
 *   c2sp.org/tlog-checkpoint   the note text "origin\nsize\nbase64(root)\n"
 *                              with optional extension lines;
 *   c2sp.org/tlog-cosignature  a witness's timestamped Ed25519 signature
 *                              (type 0x04) over "cosignature/v1\ntime
 *                              <t>\n" || checkpoint text, carried as
 *                              base64(key id || u64 time || sig).
 *
 * Nothing here reads files, the clock or the environment: times and keys
 * are passed in.  libsodium must have been initialised (sodium_init()).  Functions return 0 on success and -1 otherwise unless
 * said; out-parameters are written only on success.
 */
#ifndef EVAULT_NOTE_H
#define EVAULT_NOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NOTE_MUST_CHECK __attribute__((warn_unused_result))

/* Signature types (key id byte).  Other types are parsed and ignored. */
#define NOTE_TYPE_ED25519 0x01 /* signed-note Ed25519 */
#define NOTE_TYPE_COSIG 0x04   /* tlog-cosignature cosignature/v1 */

#define NOTE_NAME_MAX 255	  /* bytes in a key name or an origin */
#define NOTE_MAX_BYTES (1u << 20) /* bound on a whole note */
#define NOTE_MAX_SIGS 100	  /* signature lines in a note */
#define NOTE_SIG_LINE_MAX 8192	  /* bytes in one signature line */
/* Buffer sizes for the strings this module writes, NUL included. */
#define NOTE_VKEY_BYTES 320 /* name+hex8+base64(33 bytes) */
#define NOTE_SKEY_BYTES 336 /* PRIVATE+KEY+name+hex8+base64(33 bytes) */
#define NOTE_LINE_BYTES 384 /* "— name base64(4+8+64 bytes)\n" */

/* A public key that may have signed a note. */
typedef struct {
	char name[NOTE_NAME_MAX + 1];
	unsigned char type; /* NOTE_TYPE_ED25519 or NOTE_TYPE_COSIG */
	uint32_t id;	    /* key id */
	unsigned char key[32];
} note_verifier;

/* Strict, canonical standard base64 (RFC 4648 section 4) of n bytes into
 * out (max bytes): only the alphabet, '=' only as padding, zero unused
 * bits.  0 with *outlen set, or -1. */
int note_b64_decode(unsigned char *out, size_t max, const char *s, size_t n,
		    size_t *outlen);

/* A name is valid when non-empty, at most NOTE_NAME_MAX bytes of UTF-8,
 * with no '+', no Unicode space and no control character. */
bool note_name_valid(const char *name, size_t len);

/* SHA-256(name || 0x0A || type || key)[:4], big-endian. */
uint32_t note_key_id(const char *name, unsigned char type,
		     const unsigned char key[32]);

/* Fill v for a key; -1 if the name is invalid or the type unknown. */
int note_verifier_init(note_verifier *v, const char *name, unsigned char type,
		       const unsigned char key[32]) NOTE_MUST_CHECK;
/* Parse a verifier key "name+hex8+base64(type || key)" (len bytes, no
 * newline): the key id must be 8 hex digits and match the key, the type
 * 0x01 or 0x04, the key 32 bytes, the base64 canonical. */
int note_vkey_parse(note_verifier *v, const char *vkey,
		    size_t len) NOTE_MUST_CHECK;
/* Write the verifier key string of v (lowercase hex) to out. */
int note_vkey_format(const note_verifier *v, char out[NOTE_VKEY_BYTES]);

/* --- Signers ----------------------------------------------------------------
 * An Ed25519 secret key with its name, in sodium_malloc'd memory that
 * note_signer_free() wipes. */
typedef struct note_signer note_signer;

/* From a 32-byte seed (for example a key derived from the vault's master
 * key); NULL if the name is invalid, the type unknown, or out of memory. */
note_signer *note_signer_new(const char *name, unsigned char type,
			     const unsigned char seed[32]);
/* A fresh random key. */
note_signer *note_signer_generate(const char *name, unsigned char type);
/* Parse "PRIVATE+KEY+name+hex8+base64(type || seed)" (len bytes); the
 * key id must match the public key derived from the seed. */
note_signer *note_signer_parse(const char *skey, size_t len);
/* Write the signer key string (a secret: wipe it after use). */
int note_signer_format(const note_signer *s, char out[NOTE_SKEY_BYTES]);
/* The signer's public half. */
const note_verifier *note_signer_verifier(const note_signer *s);
void note_signer_free(note_signer *s);

/* --- Signing ----------------------------------------------------------------
 * One signature line "— name base64(...)\n" over the note text (len
 * bytes, ending in "\n", UTF-8 without control characters other than
 * newline).  For a NOTE_TYPE_COSIG signer the text must be a checkpoint
 * and `timestamp` (at most 2^63 - 1) is the time signed; other signers
 * ignore it.  `line` gets a NUL-terminated line, its length in *linelen. */
int note_sign_line(const note_signer *s, const char *text, size_t len,
		   uint64_t timestamp, char line[NOTE_LINE_BYTES],
		   size_t *linelen) NOTE_MUST_CHECK;
/* The same for a text of up to `max` bytes: the signed statement of a
 * certificate (docs/certificate.md) is larger than a note in the log. */
int note_sign_line_max(const note_signer *s, const char *text, size_t len,
		       size_t max, uint64_t timestamp, char line[NOTE_LINE_BYTES],
		       size_t *linelen) NOTE_MUST_CHECK;
/* The signed note text || "\n" || signature line, in a malloc'd,
 * NUL-terminated buffer *out of *outlen bytes. */
int note_sign(const note_signer *s, const char *text, size_t len,
	      uint64_t timestamp, char **out, size_t *outlen) NOTE_MUST_CHECK;
/* Add one signature line (with or without its final newline) to the
 * well-formed note msg, replacing any line of the same name and key id:
 * how a cosignature or a countersignature is attached.  The line is
 * checked for syntax only; note_open() verifies.  malloc'd result. */
int note_add_signature(const char *msg, size_t len, const char *line,
		       size_t linelen, char **out,
		       size_t *outlen) NOTE_MUST_CHECK;

/* --- Opening ---------------------------------------------------------------- */
typedef enum {
	NOTE_OK = 0,
	NOTE_E_MALFORMED = -1, /* not a note, or over a bound */
	NOTE_E_UNVERIFIED =
		-2,	    /* well formed, but no signature by a known key */
	NOTE_E_BADSIG = -3, /* a known key's signature does not verify */
	NOTE_E_AMBIGUOUS = -4, /* two different known keys share name and id */
	NOTE_E_NOMEM = -5,
} note_err;

typedef struct {
	const char *name; /* into the message, not NUL-terminated */
	size_t name_len;
	uint32_t id;
	const char *line; /* the whole line without its newline */
	size_t line_len;
	int key;	    /* index in `known` of the key, -1 if unknown */
	uint64_t timestamp; /* NOTE_TYPE_COSIG signatures: the time signed */
} note_sig;

typedef struct {
	const char *text; /* into the message: the text, final "\n" included */
	size_t text_len;
	size_t nsigs; /* distinct signature lines, in order */
	note_sig sigs[NOTE_MAX_SIGS];
	size_t nverified; /* of which by a known key (all verified) */
	size_t bad;	  /* NOTE_E_BADSIG: the index of the failing line */
} note_parsed;

/* Parse msg (len bytes) and verify every signature line whose name and
 * key id match a key in known[0..nknown).  Lines of unknown keys are
 * kept, unchecked; identical lines count once.  NOTE_OK when at least one
 * known key signed and every known key's signature verifies.  `out` is
 * filled for NOTE_OK, NOTE_E_UNVERIFIED and NOTE_E_BADSIG (so a caller
 * can name the signers); it points into msg. */
note_err note_open(const char *msg, size_t len, const note_verifier *known,
		   size_t nknown, note_parsed *out) NOTE_MUST_CHECK;
const char *note_strerror(note_err e);

/* --- Checkpoints ------------------------------------------------------------ */
typedef struct {
	char origin[NOTE_NAME_MAX + 1];
	uint64_t size;
	unsigned char root[32];
	const char *ext; /* extension lines, each ending in "\n"; NULL if none.
			  * After parsing, points into the parsed text. */
	size_t ext_len;
} note_checkpoint;

/* The checkpoint text "origin\nsize\nbase64(root)\n" || ext into out
 * (outsize bytes, NUL-terminated), its length in *outlen.  The origin must
 * be a valid key name (no spaces, no '+'); ext, if any, non-empty lines
 * each ending in "\n". */
int note_checkpoint_format(const note_checkpoint *c, char *out, size_t outsize,
			   size_t *outlen) NOTE_MUST_CHECK;
/* Parse a checkpoint text (a note's text, len bytes, ending in "\n"):
 * a non-empty origin line, a decimal size without leading zeros that
 * fits 64 bits, the canonical base64 of exactly 32 bytes, then optional
 * non-empty extension lines. */
int note_checkpoint_parse(note_checkpoint *c, const char *text,
			  size_t len) NOTE_MUST_CHECK;

#endif
