/*
 * note.c: signed notes (c2sp.org/signed-note), transparency log
 * checkpoints (c2sp.org/tlog-checkpoint) and witness cosignatures
 * (c2sp.org/tlog-cosignature), with libsodium's Ed25519.
 *
 * A note is a text and the signatures of named keys over it; a key is
 * named by its name and a 4-byte key id derived from the name, the
 * signature type and the public key.  Reading a note is strict about its
 * syntax (UTF-8, no control characters but newline, bounded size and
 * number of signatures, valid names, canonical base64) and follows the
 * specification on keys: lines of unknown keys are ignored, every line of
 * a known key must verify, and at least one must exist.  Parsing never
 * copies the message: what it returns points into it.
 *
 * A checkpoint is the text of a note that states a log's origin, its size
 * and the Merkle root at that size; a cosignature is a witness's
 * statement, at a given time, that this checkpoint is the largest
 * consistent one it has seen for the origin.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "vault/note.h"

#define EM_DASH_SP "\xe2\x80\x94 " /* U+2014 and a space: 4 bytes */
#define COSIG_HEADER "cosignature/v1\ntime "
#define ED25519_SIG_BYTES 64
#define COSIG_SIG_BYTES (8 + 64)

struct note_signer {
	note_verifier pub;
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
};

/* --- Text rules ------------------------------------------------------------ */

/* Decode one UTF-8 sequence at s[0..n) into *cp; its length, or 0 if it
 * is not the shortest encoding of a Unicode scalar value. */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t len;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xe0) == 0xc0) {
		len = 2, c &= 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3, c &= 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4, c &= 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Unicode White_Space, as Go's unicode.IsSpace (which the reference
 * implementation of signed notes uses for names). */
static bool is_space(uint32_t c)
{
	switch (c) {
	case '\t':
	case '\n':
	case '\v':
	case '\f':
	case '\r':
	case ' ':
	case 0x85:
	case 0xa0:
	case 0x1680:
	case 0x2028:
	case 0x2029:
	case 0x202f:
	case 0x205f:
	case 0x3000:
		return true;
	default:
		return c >= 0x2000 && c <= 0x200a;
	}
}

/* Valid UTF-8 without control characters (newline allowed if asked). */
static bool text_valid(const char *s, size_t n, bool newline)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		uint32_t c;
		size_t k = utf8_next(p + i, n - i, &c);
		if (k == 0 || (c < 0x20 && !(newline && c == '\n')))
			return false;
		i += k;
	}
	return true;
}

bool note_name_valid(const char *name, size_t len)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t i = 0;
	if (len == 0 || len > NOTE_NAME_MAX)
		return false;
	while (i < len) {
		uint32_t c;
		size_t k = utf8_next(p + i, len - i, &c);
		if (k == 0 || c < 0x20 || c == '+' || is_space(c))
			return false;
		i += k;
	}
	return true;
}

/* --- Encodings -------------------------------------------------------------- */

static void put_be32(unsigned char *p, uint32_t x)
{
	p[0] = (unsigned char)(x >> 24);
	p[1] = (unsigned char)(x >> 16);
	p[2] = (unsigned char)(x >> 8);
	p[3] = (unsigned char)x;
}

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void put_be64(unsigned char *p, uint64_t x)
{
	put_be32(p, (uint32_t)(x >> 32));
	put_be32(p + 4, (uint32_t)x);
}

static uint64_t get_be64(const unsigned char *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/* Strict standard base64 (padding required, no stray bits, nothing
 * ignored) of s[0..n) into out (at most max bytes). */
int note_b64_decode(unsigned char *out, size_t max, const char *s, size_t n,
		    size_t *outlen)
{
	size_t got, pad = 0;
	if (n == 0 || n % 4 != 0 || n / 4 * 3 > max + 2)
		return -1;
	/* Only the standard alphabet, '=' only as final padding: libsodium
	 * 1.0.18 decodes bytes >= 0x80 as '/', which would give one value
	 * several spellings. */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     (c >= '0' && c <= '9') || c == '+' || c == '/';
		if (c == '=' && i >= n - 2)
			pad++;
		else if (!alpha || pad)
			return -1;
	}
	if (sodium_base642bin(out, max, s, n, NULL, &got, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	/* Canonical: the unused bits of the last group are zero. */
	char *again = malloc(n + 1);
	if (!again)
		return -1;
	sodium_bin2base64(again, n + 1, out, got, sodium_base64_VARIANT_ORIGINAL);
	int same = strlen(again) == n && memcmp(again, s, n) == 0;
	free(again);
	if (!same)
		return -1;
	*outlen = got;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int parse_hex8(const char *s, size_t n, uint32_t *out)
{
	uint32_t x = 0;
	if (n != 8)
		return -1;
	for (size_t i = 0; i < 8; i++) {
		int v = hexval(s[i]);
		if (v < 0)
			return -1;
		x = x << 4 | (uint32_t)v;
	}
	*out = x;
	return 0;
}

/* --- Keys ------------------------------------------------------------------- */

uint32_t note_key_id(const char *name, unsigned char type,
		     const unsigned char key[32])
{
	crypto_hash_sha256_state st;
	unsigned char h[32], sep[2] = {'\n', type};
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)name,
				  strlen(name));
	crypto_hash_sha256_update(&st, sep, 2);
	crypto_hash_sha256_update(&st, key, 32);
	crypto_hash_sha256_final(&st, h);
	return get_be32(h);
}

static bool type_known(unsigned char type)
{
	return type == NOTE_TYPE_ED25519 || type == NOTE_TYPE_COSIG;
}

int note_verifier_init(note_verifier *v, const char *name, unsigned char type,
		       const unsigned char key[32])
{
	size_t len = strlen(name);
	if (!note_name_valid(name, len) || !type_known(type))
		return -1;
	memset(v, 0, sizeof *v);
	memcpy(v->name, name, len);
	v->type = type;
	memcpy(v->key, key, 32);
	v->id = note_key_id(v->name, type, key);
	return 0;
}

/* Split "name+hex8+base64" into its name, key id and decoded bytes
 * (exactly 33: type || key); the caller checks the id. */
static int split_key(const char *s, size_t len, char name[NOTE_NAME_MAX + 1],
		     uint32_t *id, unsigned char raw[33])
{
	const char *p1 = memchr(s, '+', len);
	if (!p1)
		return -1;
	size_t nlen = (size_t)(p1 - s);
	const char *h = p1 + 1;
	const char *end = s + len;
	const char *p2 = memchr(h, '+', (size_t)(end - h));
	size_t rawlen;
	if (!p2 || !note_name_valid(s, nlen) ||
	    parse_hex8(h, (size_t)(p2 - h), id) < 0 ||
	    note_b64_decode(raw, 33, p2 + 1, (size_t)(end - p2 - 1), &rawlen) < 0 ||
	    rawlen != 33 || !type_known(raw[0]))
		return -1;
	memcpy(name, s, nlen);
	name[nlen] = '\0';
	return 0;
}

int note_vkey_parse(note_verifier *v, const char *vkey, size_t len)
{
	char name[NOTE_NAME_MAX + 1];
	unsigned char raw[33];
	uint32_t id;
	note_verifier tmp;
	if (split_key(vkey, len, name, &id, raw) < 0 ||
	    note_verifier_init(&tmp, name, raw[0], raw + 1) < 0 || tmp.id != id)
		return -1;
	*v = tmp;
	return 0;
}

/* name+hex8+base64(type || key) into out (NOTE_VKEY_BYTES). */
static int key_string(char *out, size_t outsize, const char *prefix,
		      const char *name, uint32_t id, unsigned char type,
		      const unsigned char key[32])
{
	unsigned char raw[33];
	char b64[sodium_base64_ENCODED_LEN(33, sodium_base64_VARIANT_ORIGINAL)];
	raw[0] = type;
	memcpy(raw + 1, key, 32);
	sodium_bin2base64(b64, sizeof b64, raw, sizeof raw,
			  sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(raw, sizeof raw);
	int n = snprintf(out, outsize, "%s%s+%08" PRIx32 "+%s", prefix, name,
			 id, b64);
	sodium_memzero(b64, sizeof b64);
	return n < 0 || (size_t)n >= outsize ? -1 : 0;
}

int note_vkey_format(const note_verifier *v, char out[NOTE_VKEY_BYTES])
{
	if (!note_name_valid(v->name, strlen(v->name)) || !type_known(v->type))
		return -1;
	return key_string(out, NOTE_VKEY_BYTES, "", v->name, v->id, v->type,
			  v->key);
}

/* --- Signers ---------------------------------------------------------------- */

note_signer *note_signer_new(const char *name, unsigned char type,
			     const unsigned char seed[32])
{
	unsigned char pk[32];
	if (!note_name_valid(name, strlen(name)) || !type_known(type))
		return NULL;
	note_signer *s = sodium_malloc(sizeof *s);
	if (!s)
		return NULL;
	crypto_sign_seed_keypair(pk, s->sk, seed);
	if (note_verifier_init(&s->pub, name, type, pk) < 0) {
		sodium_free(s);
		return NULL;
	}
	return s;
}

note_signer *note_signer_generate(const char *name, unsigned char type)
{
	unsigned char seed[32];
	randombytes_buf(seed, sizeof seed);
	note_signer *s = note_signer_new(name, type, seed);
	sodium_memzero(seed, sizeof seed);
	return s;
}

note_signer *note_signer_parse(const char *skey, size_t len)
{
	static const char prefix[] = "PRIVATE+KEY+";
	char name[NOTE_NAME_MAX + 1];
	unsigned char raw[33];
	uint32_t id;
	note_signer *s = NULL;

	if (len < sizeof prefix - 1 ||
	    memcmp(skey, prefix, sizeof prefix - 1) != 0)
		return NULL;
	if (split_key(skey + sizeof prefix - 1, len - (sizeof prefix - 1), name,
		      &id, raw) == 0) {
		s = note_signer_new(name, raw[0], raw + 1);
		if (s && s->pub.id != id) {
			note_signer_free(s);
			s = NULL;
		}
	}
	sodium_memzero(raw, sizeof raw);
	return s;
}

int note_signer_format(const note_signer *s, char out[NOTE_SKEY_BYTES])
{
	unsigned char seed[32];
	crypto_sign_ed25519_sk_to_seed(seed, s->sk);
	int rc = key_string(out, NOTE_SKEY_BYTES, "PRIVATE+KEY+", s->pub.name,
			    s->pub.id, s->pub.type, seed);
	sodium_memzero(seed, sizeof seed);
	return rc;
}

const note_verifier *note_signer_verifier(const note_signer *s)
{
	return &s->pub;
}

void note_signer_free(note_signer *s)
{
	if (s)
		sodium_free(s);
}

/* --- Signing ---------------------------------------------------------------- */

/* "cosignature/v1\ntime <t>\n" || text, malloc'd. */
static unsigned char *cosig_message(const char *text, size_t len,
				    uint64_t timestamp, size_t *msglen)
{
	char head[64];
	int h = snprintf(head, sizeof head, COSIG_HEADER "%" PRIu64 "\n",
			 timestamp);
	unsigned char *m = malloc((size_t)h + len);
	if (!m)
		return NULL;
	memcpy(m, head, (size_t)h);
	memcpy(m + h, text, len);
	*msglen = (size_t)h + len;
	return m;
}

int note_sign_line(const note_signer *s, const char *text, size_t len,
		   uint64_t timestamp, char line[NOTE_LINE_BYTES],
		   size_t *linelen)
{
	return note_sign_line_max(s, text, len, NOTE_MAX_BYTES - NOTE_LINE_BYTES,
				  timestamp, line, linelen);
}

int note_sign_line_max(const note_signer *s, const char *text, size_t len,
		       size_t max, uint64_t timestamp, char line[NOTE_LINE_BYTES],
		       size_t *linelen)
{
	unsigned char blob[4 + COSIG_SIG_BYTES];
	char b64[sodium_base64_ENCODED_LEN(sizeof blob,
					   sodium_base64_VARIANT_ORIGINAL)];
	size_t bloblen;

	if (len == 0 || len > max || text[len - 1] != '\n' ||
	    !text_valid(text, len, true))
		return -1;
	put_be32(blob, s->pub.id);
	if (s->pub.type == NOTE_TYPE_COSIG) {
		note_checkpoint cp;
		size_t mlen;
		if (timestamp > INT64_MAX ||
		    note_checkpoint_parse(&cp, text, len) < 0)
			return -1;
		unsigned char *m = cosig_message(text, len, timestamp, &mlen);
		if (!m)
			return -1;
		put_be64(blob + 4, timestamp);
		crypto_sign_detached(blob + 12, NULL, m, mlen, s->sk);
		free(m);
		bloblen = 4 + COSIG_SIG_BYTES;
	} else {
		crypto_sign_detached(blob + 4, NULL,
				     (const unsigned char *)text, len, s->sk);
		bloblen = 4 + ED25519_SIG_BYTES;
	}
	sodium_bin2base64(b64, sizeof b64, blob, bloblen,
			  sodium_base64_VARIANT_ORIGINAL);
	int n = snprintf(line, NOTE_LINE_BYTES, EM_DASH_SP "%s %s\n",
			 s->pub.name, b64);
	if (n < 0 || n >= NOTE_LINE_BYTES)
		return -1;
	*linelen = (size_t)n;
	return 0;
}

int note_sign(const note_signer *s, const char *text, size_t len,
	      uint64_t timestamp, char **out, size_t *outlen)
{
	char line[NOTE_LINE_BYTES];
	size_t linelen;
	if (note_sign_line(s, text, len, timestamp, line, &linelen) < 0)
		return -1;
	char *buf = malloc(len + 1 + linelen + 1);
	if (!buf)
		return -1;
	memcpy(buf, text, len);
	buf[len] = '\n';
	memcpy(buf + len + 1, line, linelen + 1);
	*out = buf;
	*outlen = len + 1 + linelen;
	return 0;
}

/* --- Parsing ---------------------------------------------------------------- */

/* One signature line (no newline): "— name base64".  The decoded bytes
 * go to raw (NOTE_SIG_LINE_MAX bytes) if it is not NULL. */
static int parse_sig_line(const char *line, size_t len, note_sig *sig,
			  unsigned char *raw, size_t *rawlen)
{
	unsigned char buf[NOTE_SIG_LINE_MAX];
	size_t n;
	if (len < 4 || len > NOTE_SIG_LINE_MAX ||
	    memcmp(line, EM_DASH_SP, 4) != 0)
		return -1;
	const char *name = line + 4, *end = line + len;
	const char *sp = memchr(name, ' ', (size_t)(end - name));
	if (!sp || !note_name_valid(name, (size_t)(sp - name)))
		return -1;
	if (!raw)
		raw = buf;
	if (note_b64_decode(raw, NOTE_SIG_LINE_MAX, sp + 1, (size_t)(end - sp - 1),
		       &n) < 0 ||
	    n < 5)
		return -1;
	memset(sig, 0, sizeof *sig);
	sig->name = name;
	sig->name_len = (size_t)(sp - name);
	sig->id = get_be32(raw);
	sig->line = line;
	sig->line_len = len;
	sig->key = -1;
	if (rawlen)
		*rawlen = n;
	return 0;
}

/* The syntax of a note: text, blank line, signature lines. */
static note_err parse(const char *msg, size_t len, note_parsed *p)
{
	size_t split, nlines = 0;

	if (len < 3 || len > NOTE_MAX_BYTES || !text_valid(msg, len, true) ||
	    msg[len - 1] != '\n')
		return NOTE_E_MALFORMED;
	/* The text ends at the last blank line. */
	for (split = len - 2;; split--) {
		if (msg[split] == '\n' && msg[split + 1] == '\n')
			break;
		if (split == 0)
			return NOTE_E_MALFORMED;
	}
	p->text = msg;
	p->text_len = split + 1;
	p->nsigs = 0;
	p->nverified = 0;
	p->bad = 0;
	const char *s = msg + split + 2, *end = msg + len;
	if (s == end)
		return NOTE_E_MALFORMED;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		note_sig sig;
		bool dup = false;
		if (++nlines > NOTE_MAX_SIGS ||
		    parse_sig_line(s, (size_t)(nl - s), &sig, NULL, NULL) < 0)
			return NOTE_E_MALFORMED;
		for (size_t i = 0; i < p->nsigs && !dup; i++)
			dup = p->sigs[i].line_len == sig.line_len &&
			      memcmp(p->sigs[i].line, sig.line, sig.line_len) ==
				      0;
		if (!dup)
			p->sigs[p->nsigs++] = sig;
		s = nl + 1;
	}
	return NOTE_OK;
}

/* The known key for a line: its index, -1 if none, -2 if two different
 * keys match. */
static int find_key(const note_sig *sig, const note_verifier *known,
		    size_t nknown)
{
	int found = -1;
	for (size_t i = 0; i < nknown; i++) {
		const note_verifier *k = &known[i];
		if (k->id != sig->id || strlen(k->name) != sig->name_len ||
		    memcmp(k->name, sig->name, sig->name_len) != 0)
			continue;
		if (found >= 0 && (known[found].type != k->type ||
				   memcmp(known[found].key, k->key, 32) != 0))
			return -2;
		if (found < 0)
			found = (int)i;
	}
	return found;
}

static bool sig_verifies(const note_verifier *k, const note_parsed *p,
			 const unsigned char *raw, size_t rawlen,
			 uint64_t *timestamp)
{
	if (k->type == NOTE_TYPE_ED25519) {
		return rawlen == 4 + ED25519_SIG_BYTES &&
		       crypto_sign_verify_detached(raw + 4,
						   (const unsigned char *)
							   p->text,
						   p->text_len, k->key) == 0;
	}
	if (k->type != NOTE_TYPE_COSIG || rawlen != 4 + COSIG_SIG_BYTES)
		return false;
	uint64_t t = get_be64(raw + 4);
	size_t mlen;
	if (t > INT64_MAX)
		return false;
	unsigned char *m = cosig_message(p->text, p->text_len, t, &mlen);
	if (!m)
		return false;
	bool ok = crypto_sign_verify_detached(raw + 12, m, mlen, k->key) == 0;
	free(m);
	if (ok)
		*timestamp = t;
	return ok;
}

note_err note_open(const char *msg, size_t len, const note_verifier *known,
		   size_t nknown, note_parsed *out)
{
	note_parsed *p = malloc(sizeof *p); /* 5 KiB: not on the stack */
	note_err e;

	if (!p)
		return NOTE_E_NOMEM;
	e = parse(msg, len, p);
	for (size_t i = 0; e == NOTE_OK && i < p->nsigs; i++) {
		note_sig *sig = &p->sigs[i];
		unsigned char buf[NOTE_SIG_LINE_MAX];
		size_t n;
		int k = find_key(sig, known, nknown);
		if (k == -2) {
			e = NOTE_E_AMBIGUOUS;
			break;
		}
		if (k < 0)
			continue;
		if (parse_sig_line(sig->line, sig->line_len, sig, buf, &n) <
			    0 ||
		    !sig_verifies(&known[k], p, buf, n, &sig->timestamp)) {
			p->bad = i;
			e = NOTE_E_BADSIG;
			break;
		}
		sig->key = k;
		p->nverified++;
	}
	if (e == NOTE_OK && p->nverified == 0)
		e = NOTE_E_UNVERIFIED;
	if (e == NOTE_OK || e == NOTE_E_UNVERIFIED || e == NOTE_E_BADSIG)
		*out = *p;
	free(p);
	return e;
}

const char *note_strerror(note_err e)
{
	switch (e) {
	case NOTE_OK:
		return "verified";
	case NOTE_E_MALFORMED:
		return "malformed note";
	case NOTE_E_UNVERIFIED:
		return "no signature by a known key";
	case NOTE_E_BADSIG:
		return "a signature by a known key does not verify";
	case NOTE_E_AMBIGUOUS:
		return "two known keys share a name and key id";
	case NOTE_E_NOMEM:
		return "out of memory";
	}
	return "unknown error";
}

int note_add_signature(const char *msg, size_t len, const char *line,
		       size_t linelen, char **out, size_t *outlen)
{
	note_parsed *p = malloc(sizeof *p);
	note_sig add;
	char *buf = NULL, *w;
	size_t total, keep = 0;
	int rc = -1;

	if (!p)
		return -1;
	if (linelen > 0 && line[linelen - 1] == '\n')
		linelen--;
	if (parse(msg, len, p) != NOTE_OK ||
	    !text_valid(line, linelen, false) ||
	    parse_sig_line(line, linelen, &add, NULL, NULL) < 0)
		goto out;
	total = p->text_len + 1 + linelen + 1;
	for (size_t i = 0; i < p->nsigs; i++) {
		const note_sig *s = &p->sigs[i];
		if (s->id == add.id && s->name_len == add.name_len &&
		    memcmp(s->name, add.name, add.name_len) == 0)
			continue;
		total += s->line_len + 1;
		keep++;
	}
	if (total > NOTE_MAX_BYTES || keep + 1 > NOTE_MAX_SIGS)
		goto out;
	buf = malloc(total + 1);
	if (!buf)
		goto out;
	memcpy(buf, p->text, p->text_len);
	w = buf + p->text_len;
	*w++ = '\n';
	for (size_t i = 0; i < p->nsigs; i++) {
		const note_sig *s = &p->sigs[i];
		if (s->id == add.id && s->name_len == add.name_len &&
		    memcmp(s->name, add.name, add.name_len) == 0)
			continue;
		memcpy(w, s->line, s->line_len);
		w += s->line_len;
		*w++ = '\n';
	}
	memcpy(w, line, linelen);
	w += linelen;
	*w++ = '\n';
	*w = '\0';
	*out = buf;
	*outlen = total;
	rc = 0;
out:
	free(p);
	return rc;
}

/* --- Checkpoints ------------------------------------------------------------ */

/* Non-empty lines, each ending in "\n", without control characters. */
static bool ext_valid(const char *ext, size_t len)
{
	if (len == 0)
		return true;
	if (ext[len - 1] != '\n' || ext[0] == '\n' ||
	    !text_valid(ext, len, true))
		return false;
	for (size_t i = 0; i + 1 < len; i++)
		if (ext[i] == '\n' && ext[i + 1] == '\n')
			return false;
	return true;
}

int note_checkpoint_format(const note_checkpoint *c, char *out, size_t outsize,
			   size_t *outlen)
{
	char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
	size_t olen = strnlen(c->origin, sizeof c->origin);
	size_t elen = c->ext ? c->ext_len : 0;

	if (olen == sizeof c->origin || !note_name_valid(c->origin, olen) ||
	    !ext_valid(c->ext, elen))
		return -1;
	sodium_bin2base64(b64, sizeof b64, c->root, 32,
			  sodium_base64_VARIANT_ORIGINAL);
	int n = snprintf(out, outsize, "%s\n%" PRIu64 "\n%s\n", c->origin,
			 c->size, b64);
	if (n < 0 || (size_t)n + elen >= outsize)
		return -1;
	if (elen)
		memcpy(out + n, c->ext, elen);
	out[(size_t)n + elen] = '\0';
	*outlen = (size_t)n + elen;
	return 0;
}

/* The next line of s[0..n) from *pos, without its newline; -1 at the
 * end or if the line is not terminated. */
static int next_line(const char *s, size_t n, size_t *pos, const char **line,
		     size_t *linelen)
{
	if (*pos >= n)
		return -1;
	const char *nl = memchr(s + *pos, '\n', n - *pos);
	if (!nl)
		return -1;
	*line = s + *pos;
	*linelen = (size_t)(nl - *line);
	*pos = (size_t)(nl - s) + 1;
	return 0;
}

static int parse_size(const char *s, size_t n, uint64_t *out)
{
	uint64_t x = 0;
	if (n == 0 || n > 20 || (s[0] == '0' && n > 1))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		unsigned d = (unsigned)(s[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*out = x;
	return 0;
}

int note_checkpoint_parse(note_checkpoint *c, const char *text, size_t len)
{
	const char *origin, *size, *root;
	size_t olen, slen, rlen, pos = 0, got;
	note_checkpoint tmp;

	if (len == 0 || len > NOTE_MAX_BYTES || text[len - 1] != '\n' ||
	    !text_valid(text, len, true))
		return -1;
	memset(&tmp, 0, sizeof tmp);
	if (next_line(text, len, &pos, &origin, &olen) < 0 ||
	    next_line(text, len, &pos, &size, &slen) < 0 ||
	    next_line(text, len, &pos, &root, &rlen) < 0 || olen == 0 ||
	    olen > NOTE_NAME_MAX || parse_size(size, slen, &tmp.size) < 0 ||
	    rlen != 44 || note_b64_decode(tmp.root, 32, root, rlen, &got) < 0 ||
	    got != 32 || !ext_valid(text + pos, len - pos))
		return -1;
	memcpy(tmp.origin, origin, olen);
	if (pos < len) {
		tmp.ext = text + pos;
		tmp.ext_len = len - pos;
	}
	*c = tmp;
	return 0;
}
