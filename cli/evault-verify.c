/*
 * evault-verify.c: checks an evault verification certificate
 * (docs/certificate.md, format 1) with nothing but libsodium and libc.
 *
 * A certificate says: this file (its SHA-256 and size) is an item that the
 * vault whose log key is named holds, and this is who handled it.  It is a
 * statement signed by the vault's log key, carrying the custody records
 * about the item (each a note signed by the custodian who acted, each with
 * an RFC 9162 inclusion proof), then the log's checkpoint (a signed tree
 * head) that the proofs lead to.  This file re-checks all of it, so that a
 * recipient who trusts only the vault's log key (and perhaps some
 * witnesses' keys) can read every line of what they rely on.  It was
 * written from the specification alone and shares no code with evault.
 *
 *   cc -std=c11 evault-verify.c -lsodium -o evault-verify   the program
 *   cc -std=c11 -DEVV_LIBRARY -c evault-verify.c            evv_verify() only
 *
 * The file, in order:
 *   1. limits, spans of the input, reporting
 *   2. text: UTF-8, control characters, key names, base64, numbers
 *   3. verifier keys (C2SP vkey) and signed notes (C2SP signed-note,
 *      tlog-cosignature v1)
 *   4. Merkle proofs (RFC 9162 2.1.3.2 inclusion, 2.1.4.2 consistency)
 *   5. a small strict JSON reader, for the records' bodies
 *   6. the steps of certificate.md sections 5 and 6, in their order
 *   7. main(): the command line
 *
 * Nothing in the input is trusted to be well-formed: every length is
 * checked against a bound before it is used, and values quoted in messages
 * are escaped.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#ifdef EVV_LIBRARY
#include "evault-verify.h"
#else
/* The interface, as evault-verify.h declares it for the library build
 * (the comments there say what each member means).  Repeated here so that
 * this one file is all a recipient needs. */
typedef struct {
	const char *log_vkey;
	const char *const *witness_vkeys;
	size_t nwitnesses;
	int have_file;
	unsigned char file_sha256[32];
	uint64_t file_size;
	const char *later_checkpoint;
	size_t later_checkpoint_len;
	const char *consistency;
	size_t consistency_len;
} evv_opts;
typedef enum { EVV_PASS, EVV_FAIL, EVV_NOTE, EVV_INFO } evv_status;
typedef void (*evv_report_fn)(void *ctx, evv_status st, const char *check,
			      const char *detail);
int evv_verify(const char *cert, size_t len, const evv_opts *o,
	       evv_report_fn fn, void *ctx);
typedef struct {
	const char *program;
	const char *cert;
	int infos;
} evv_text;
void evv_print_text(void *ctx, evv_status st, const char *check,
		    const char *detail);
#endif

/* ===== 1. Limits, spans, reporting ================================== */

#define CERT_MAX ((size_t)64 << 20)       /* a certificate (section 2) */
#define RECORD_MAX ((size_t)16 << 20)     /* a decoded record (section 4) */
#define CHECKPOINT_MAX ((size_t)64 << 10) /* a checkpoint (formats 12) */
#define SIGLINE_MAX 8192         /* a signature line (formats 7) */
#define SIGS_MAX 100             /* signature lines in a note (formats 7) */
#define PATH_MAX_HASHES 63       /* an inclusion path (section 4) */
#define CONS_MAX_HASHES 64       /* a consistency proof (section 6) */
#define JSON_DEPTH_MAX 64        /* nesting in a record's body */
#define CUSTODIANS_MAX 4096      /* registered at the same time */
#define TRANSFERS_MAX 65536      /* transfer records in a certificate */
#define FAILS_SHOWN 50           /* failures reported per check, then a count */
#define SHOW_MAX 160             /* bytes of a value quoted in a message */
#define INFO_MAX 2048            /* bytes of a statement value shown */
#define U63 ((uint64_t)1 << 63)  /* sizes, indexes and times stay below */
#define NOT_UTF8 0xffffffffu
#define EM_DASH "\xe2\x80\x94 "  /* "— ": every signature line begins so */

/* A piece of the input: a pointer and a length, never NUL-terminated. */
typedef struct {
	const char *p;
	size_t n;
} span;

static span sp(const char *p, size_t n)
{
	span s = {p, n};
	return s;
}

static int span_eq(span a, span b)
{
	return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static int span_is(span a, const char *s)
{
	return span_eq(a, sp(s, strlen(s)));
}

static int starts_with(span a, const char *s)
{
	size_t n = strlen(s);
	return a.n >= n && memcmp(a.p, s, n) == 0;
}

/* Cut the next line (without its "\n") off the front of *rest; 0 when
 * nothing is left.  A last line without "\n" is returned as it is. */
static int next_line(span *rest, span *line)
{
	const char *nl;
	size_t len;

	if (rest->n == 0)
		return 0;
	nl = memchr(rest->p, '\n', rest->n);
	len = nl ? (size_t)(nl - rest->p) : rest->n;
	*line = sp(rest->p, len);
	len += nl ? 1 : 0;
	*rest = sp(rest->p + len, rest->n - len);
	return 1;
}

/* Split s at its first space; 0 if it has none. */
static int cut_space(span s, span *head, span *tail)
{
	const char *at = s.n ? memchr(s.p, ' ', s.n) : NULL;

	if (!at)
		return 0;
	*head = sp(s.p, (size_t)(at - s.p));
	*tail = sp(at + 1, s.n - (size_t)(at - s.p) - 1);
	return 1;
}

/* The checks, in the order of certificate.md section 5, and their names. */
enum check {
	C_READ, C_KEY, C_USAGE, C_LOGKEY, C_STATEMENT, C_CHECKPOINT, C_LATER,
	C_CONSISTENCY, C_WITNESS, C_INCLUSION, C_FORM, C_INIT, C_SIGNATURE,
	C_CUSTODIAN, C_ITEM, C_FILE, C_COUNT
};
static const char *const check_name[C_COUNT] = {
	"read", "key", "usage", "log-key", "statement-signature", "checkpoint",
	"later-checkpoint", "consistency", "witness", "record-inclusion",
	"record-form", "init", "record-signature", "custodian", "item", "file",
};

typedef struct {
	evv_report_fn fn;
	void *ctx;
	unsigned long fails[C_COUNT];
	int failed;
} report;

static size_t utf8_next(const unsigned char *p, size_t n, uint32_t *cp);

/* vsnprintf may cut a message inside a character: cut it before. */
static void trim_utf8(char *s)
{
	size_t n = strlen(s), i = n;

	while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i > 0 && (unsigned char)s[i - 1] >= 0xc0) {
		uint32_t cp;
		if (!utf8_next((const unsigned char *)s + i - 1, n - i + 1, &cp))
			s[i - 1] = '\0';
	}
}

static void say(report *r, evv_status st, enum check c, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Report one check.  Failures are counted; past FAILS_SHOWN of one check
 * they are only counted (check_records() says how many more), so that a
 * crafted certificate cannot flood the reader. */
static void say(report *r, evv_status st, enum check c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int n;

	if (st == EVV_FAIL) {
		r->failed = 1;
		if (++r->fails[c] > FAILS_SHOWN)
			return;
	}
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		snprintf(msg, sizeof msg, "(message cannot be formatted)");
	else if ((size_t)n >= sizeof msg)
		trim_utf8(msg);
	r->fn(r->ctx, st, check_name[c], msg);
}

/* A value from the input quoted in a message: at most SHOW_MAX bytes, cut
 * at a character with "...", with control characters (\u001b), backslashes
 * and bytes that are not UTF-8 (\xff) escaped, so that a crafted value can
 * neither rewrite the reader's terminal nor pass for another.  With
 * `word`, a space is escaped too and an empty value is "?". */
typedef struct {
	char s[SHOW_MAX + 8];
} shown;

static const char *show_as(shown *b, span v, int word)
{
	size_t o = 0, i = 0;

	while (i < v.n) {
		char rep[8];
		size_t rn, len;
		uint32_t cp;

		len = utf8_next((const unsigned char *)v.p + i, v.n - i, &cp);
		if (len == 0) {
			rn = (size_t)snprintf(rep, sizeof rep, "\\x%02x",
					      (unsigned char)v.p[i]);
			len = 1;
		} else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
			   (word && cp == ' ')) {
			rn = (size_t)snprintf(rep, sizeof rep, "\\u%04x",
					      (unsigned)cp);
		} else if (cp == '\\') {
			memcpy(rep, "\\\\", 2);
			rn = 2;
		} else {
			memcpy(rep, v.p + i, len);
			rn = len;
		}
		if (o + rn > SHOW_MAX) {
			memcpy(b->s + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(b->s + o, rep, rn);
		o += rn;
		i += len;
	}
	if (word && o == 0)
		b->s[o++] = '?';
	b->s[o] = '\0';
	return b->s;
}

static const char *show(shown *b, span v)
{
	return show_as(b, v, 0);
}

/* ===== 2. Text ======================================================= */

/* The UTF-8 character at p (n > 0 bytes left): its length, and its code
 * point in *cp; 0 if it is not the shortest encoding of a Unicode scalar
 * value (so no surrogates, nothing above U+10FFFF). */
static size_t utf8_next(const unsigned char *p, size_t n, uint32_t *cp)
{
	uint32_t c = p[0];
	size_t len, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, c &= 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, c &= 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, c &= 0x07;
	else
		return 0; /* a continuation byte, C0/C1 (overlong), F5..FF */
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Whether s is text a certificate may hold (section 2): valid UTF-8 with no
 * control character but "\n" (none of 0x00..0x1F, 0x7F, U+0080..U+009F).
 * If not, *off is the offending byte and *cp its code point, or NOT_UTF8. */
static int text_ok(span s, size_t *off, uint32_t *cp)
{
	const unsigned char *p = (const unsigned char *)s.p;
	size_t i = 0, len;

	while (i < s.n) {
		if (p[i] < 0x80) {
			if ((p[i] < 0x20 && p[i] != '\n') || p[i] == 0x7f) {
				*off = i, *cp = p[i];
				return 0;
			}
			i++;
			continue;
		}
		len = utf8_next(p + i, s.n - i, cp);
		if (len == 0 || *cp <= 0x9f) {
			if (len == 0)
				*cp = NOT_UTF8;
			*off = i;
			return 0;
		}
		i += len;
	}
	return 1;
}

/* Say why text_ok() refused: "not valid UTF-8 (byte 12)". */
static void text_why(char *buf, size_t n, size_t off, uint32_t cp)
{
	if (cp == NOT_UTF8)
		snprintf(buf, n, "is not valid UTF-8 (byte %zu)", off);
	else
		snprintf(buf, n, "holds the control character U+%04X (byte %zu)",
			 (unsigned)cp, off);
}

/* White space as Go's unicode.IsSpace has it (formats 7, key names). */
static int is_space(uint32_t c)
{
	return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 ||
	       c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
	       c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
	       c == 0x3000;
}

/* A key name (formats 7): 1 to 255 bytes of valid UTF-8 with no "+", no
 * white space and no control character below U+0020. */
static int name_ok(span s)
{
	size_t i = 0, len;
	uint32_t cp;

	if (s.n == 0 || s.n > 255)
		return 0;
	while (i < s.n) {
		len = utf8_next((const unsigned char *)s.p + i, s.n - i, &cp);
		if (len == 0 || cp < 0x20 || cp == '+' || is_space(cp))
			return 0;
		i += len;
	}
	return 1;
}

/*
 * Decode standard base64 with padding in its one canonical spelling
 * (formats, conventions): nothing but the 64 characters, "=" only as the
 * final padding, the unused low bits zero.  libsodium decodes strictly;
 * re-encoding the bytes must then give the same characters back, 48
 * bytes (64 characters) at a time.  0 with *len set, or -1 if s is not
 * such base64 or decodes to more than max bytes.
 */
static int b64_decode(span s, unsigned char *out, size_t max, size_t *len)
{
	const char *end = NULL;
	char again[65 + 3];
	size_t off;

	if (s.n == 0 || s.n % 4 != 0)
		return -1;
	if (sodium_base642bin(out, max, s.p, s.n, NULL, len, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != s.p + s.n || (*len + 2) / 3 * 4 != s.n)
		return -1;
	for (off = 0; off < *len; off += 48) {
		size_t chunk = *len - off < 48 ? *len - off : 48;
		sodium_bin2base64(again, sizeof again, out + off, chunk,
				  sodium_base64_VARIANT_ORIGINAL);
		if (memcmp(again, s.p + off / 3 * 4, strlen(again)) != 0)
			return -1;
	}
	return 0;
}

/* A 32-byte hash in base64: exactly 44 characters (section 4). */
static int b64_hash(span s, unsigned char out[32])
{
	size_t len;

	return s.n == 44 && b64_decode(s, out, 32, &len) == 0 && len == 32 ? 0 : -1;
}

/* A decimal number below 2^63 without leading zeros (sections 3, 4). */
static int parse_dec(span s, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (s.n == 0 || s.n > 19 || (s.n > 1 && s.p[0] == '0'))
		return -1;
	for (i = 0; i < s.n; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s.p[i] - '0'); /* 19 digits fit in 64 bits */
	}
	if (v >= U63)
		return -1;
	*out = v;
	return 0;
}

static int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly n lower-case hex digits ("hex", formats conventions). */
static int is_hex(span s, size_t n)
{
	size_t i;

	if (s.n != n)
		return 0;
	for (i = 0; i < n; i++)
		if (hex_digit(s.p[i]) < 0 || (s.p[i] >= 'A' && s.p[i] <= 'F'))
			return 0;
	return 1;
}

static void to_hex(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const unsigned char *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* "YYYY-MM-DDTHH:MM:SSZ", the form of every time in records (formats 10). */
static int is_utc_time(span s)
{
	static const char form[] = "dddd-dd-ddTdd:dd:ddZ";
	size_t i;

	if (s.n != sizeof form - 1)
		return 0;
	for (i = 0; i < s.n; i++)
		if (form[i] == 'd' ? s.p[i] < '0' || s.p[i] > '9'
				   : s.p[i] != form[i])
			return 0;
	return 1;
}

/* Unix seconds as a UTC time, for cosignature times (civil-from-days, as
 * in Howard Hinnant's date algorithms); beyond year 9999 just the number. */
static void utc_string(uint64_t t, char *out, size_t n)
{
	int64_t z, era, doe, yoe, y, doy, mp, d, m;
	uint64_t s = t % 86400;

	if (t > 253402300799u) {
		snprintf(out, n, "%" PRIu64 " s", t);
		return;
	}
	z = (int64_t)(t / 86400) + 719468;
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = yoe + era * 400 + (m <= 2);
	snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)y, (int)m,
		 (int)d, (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
}

/* ===== 3. Keys and signed notes ====================================== */

/* A verifier key (formats 7): name "+" key id "+" base64(type || key). */
typedef struct {
	char name[256];          /* a valid key name, NUL-terminated */
	size_t name_len;
	uint32_t id;             /* big-endian on the wire */
	unsigned char type;      /* 0x01 Ed25519 notes, 0x04 cosignature/v1 */
	unsigned char pk[32];
	char text[320];          /* name+id+key as evault writes it */
} vkey;

/* key id = the first 4 bytes of SHA-256(name || 0x0A || type || key). */
static uint32_t key_id(span name, unsigned char type, const unsigned char pk[32])
{
	crypto_hash_sha256_state st;
	unsigned char h[32], sep[2] = {'\n', type};

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)name.p, name.n);
	crypto_hash_sha256_update(&st, sep, 2);
	crypto_hash_sha256_update(&st, pk, 32);
	crypto_hash_sha256_final(&st, h);
	return be32(h);
}

/* Parse a verifier key (formats 7): split at the first two "+" (the
 * base64 may hold "+" itself), a valid name, 8 hex digits in either case,
 * canonical base64 of 33 bytes, type 0x01 or 0x04, and a key id that
 * matches.  NULL, or why not. */
static const char *vkey_parse(span s, vkey *k)
{
	const char *p1 = s.n ? memchr(s.p, '+', s.n) : NULL, *p2;
	unsigned char raw[33];
	span name, hex, b64;
	size_t len, i;
	uint32_t id = 0;

	p2 = p1 ? memchr(p1 + 1, '+', s.n - (size_t)(p1 + 1 - s.p)) : NULL;
	if (!p2)
		return "it is not of the form name+keyid+key";
	name = sp(s.p, (size_t)(p1 - s.p));
	hex = sp(p1 + 1, (size_t)(p2 - p1 - 1));
	b64 = sp(p2 + 1, s.n - (size_t)(p2 + 1 - s.p));
	if (!name_ok(name))
		return "its name is not a valid key name";
	if (hex.n != 8)
		return "its key id is not 8 hex digits";
	for (i = 0; i < 8; i++) {
		int d = hex_digit(hex.p[i]);
		if (d < 0)
			return "its key id is not 8 hex digits";
		id = id << 4 | (uint32_t)d;
	}
	if (b64.n != 44 || b64_decode(b64, raw, sizeof raw, &len) != 0 || len != 33)
		return "its key is not canonical base64 of 33 bytes";
	if (raw[0] != 0x01 && raw[0] != 0x04)
		return "its type is neither 0x01 (Ed25519) nor 0x04 (cosignature/v1)";
	if (key_id(name, raw[0], raw + 1) != id)
		return "its key id does not match its name and key";
	memcpy(k->name, name.p, name.n);
	k->name[name.n] = '\0';
	k->name_len = name.n;
	k->id = id;
	k->type = raw[0];
	memcpy(k->pk, raw + 1, 32);
	snprintf(k->text, sizeof k->text, "%s+%08" PRIx32 "+%.44s", k->name,
		 id, b64.p);
	return NULL;
}

static int same_key(const vkey *a, const vkey *b)
{
	return a->name_len == b->name_len && !memcmp(a->name, b->name, a->name_len) &&
	       a->id == b->id && a->type == b->type && !memcmp(a->pk, b->pk, 32);
}

/* One signature line: "— " name " " base64(key id || signature). */
typedef struct {
	span line;               /* without "\n": identical lines count once */
	span name;
	uint32_t id;
	size_t len;              /* decoded length */
	unsigned char blob[76];  /* its first 76 bytes: id, [u64 time], sig */
} sigline;

/* A signed note (formats 7): its text and its distinct signature lines. */
typedef struct {
	span text;               /* with its final "\n" */
	size_t nsig;
	sigline sig[SIGS_MAX];
} note;

/* Parse signature lines, each ending in "\n" (formats 7): a valid key
 * name, one space, canonical base64 of at least 5 bytes; at most SIGS_MAX
 * distinct lines, at least one.  0, or -1 with why. */
static int sigs_parse(span sigs, note *n, char *why, size_t wn)
{
	unsigned char buf[SIGLINE_MAX / 4 * 3];
	span rest = sigs, line, body, name, b64;
	size_t k = 0, len, i;

	n->nsig = 0;
	while (next_line(&rest, &line)) {
		k++;
		if (line.n > SIGLINE_MAX) {
			snprintf(why, wn, "signature line %zu is longer than %d bytes",
				 k, SIGLINE_MAX);
			return -1;
		}
		if (!starts_with(line, EM_DASH)) {
			snprintf(why, wn, "line %zu is not a signature line "
				 "(\"\xe2\x80\x94 name signature\")", k);
			return -1;
		}
		body = sp(line.p + 4, line.n - 4);
		if (!cut_space(body, &name, &b64) || !name_ok(name)) {
			snprintf(why, wn, "signature line %zu does not begin with "
				 "a valid key name and a space", k);
			return -1;
		}
		if (b64_decode(b64, buf, sizeof buf, &len) != 0 || len < 5) {
			snprintf(why, wn, "the signature on line %zu is not canonical "
				 "base64 of at least 5 bytes", k);
			return -1;
		}
		for (i = 0; i < n->nsig && !span_eq(n->sig[i].line, line); i++)
			;
		if (i < n->nsig)
			continue; /* identical lines count once */
		if (n->nsig == SIGS_MAX) {
			snprintf(why, wn, "it has more than %d signature lines", SIGS_MAX);
			return -1;
		}
		n->sig[i].line = line;
		n->sig[i].name = name;
		n->sig[i].id = be32(buf);
		n->sig[i].len = len;
		memcpy(n->sig[i].blob, buf, len < 76 ? len : 76);
		n->nsig++;
	}
	if (n->nsig == 0) {
		snprintf(why, wn, "it has no signature line");
		return -1;
	}
	return 0;
}

/* Parse a signed note: its text is everything up to and including the
 * "\n" before the last empty line; signature lines follow.  0, or -1 with
 * why.  The caller has checked the bytes with text_ok(). */
static int note_parse(span m, note *n, char *why, size_t wn)
{
	size_t i;

	if (m.n < 2 || m.p[m.n - 1] != '\n') {
		snprintf(why, wn, "it does not end in a newline");
		return -1;
	}
	/* i: the last empty line, the second "\n" of the last "\n\n" */
	for (i = m.n - 1; i > 0 && !(m.p[i - 1] == '\n' && m.p[i] == '\n'); i--)
		;
	if (i == 0) {
		snprintf(why, wn, "it has no empty line before its signatures");
		return -1;
	}
	n->text = sp(m.p, i);
	return sigs_parse(sp(m.p + i + 1, m.n - i - 1), n, why, wn);
}

/* The cosignature/v1 message (formats 13): "cosignature/v1\ntime <t>\n"
 * and the checkpoint's text; Ed25519 under the witness's key. */
static int cosig_ok(span text, uint64_t t, const unsigned char *sig,
		    const unsigned char pk[32])
{
	char head[64];
	unsigned char *msg;
	int hn = snprintf(head, sizeof head, "cosignature/v1\ntime %" PRIu64 "\n", t);
	int ok;

	if (hn < 0 || text.n > CHECKPOINT_MAX ||
	    !(msg = malloc((size_t)hn + text.n)))
		return 0;
	memcpy(msg, head, (size_t)hn);
	memcpy(msg + hn, text.p, text.n);
	ok = crypto_sign_verify_detached(sig, msg, (size_t)hn + text.n, pk) == 0;
	free(msg);
	return ok;
}

enum { SIG_NONE, SIG_BAD, SIG_OK };

/* Check a note against one key, as C2SP signed-note says: the lines whose
 * name and key id are the key's must all verify, and there must be one
 * (lines of other keys are ignored).  A type 0x01 key signs the text (64
 * bytes after the id); a type 0x04 key a cosignature (a big-endian u64
 * time below 2^63, then 64 bytes), whose latest time goes to *when. */
static int note_verify(const note *n, const vkey *k, uint64_t *when)
{
	size_t i, found = 0;

	for (i = 0; i < n->nsig; i++) {
		const sigline *l = &n->sig[i];
		if (l->id != k->id || l->name.n != k->name_len ||
		    memcmp(l->name.p, k->name, k->name_len) != 0)
			continue;
		found++;
		if (k->type == 0x01) {
			if (l->len != 68 ||
			    crypto_sign_verify_detached(l->blob + 4,
				    (const unsigned char *)n->text.p, n->text.n, k->pk) != 0)
				return SIG_BAD;
		} else {
			uint64_t t = l->len == 76 ? be64(l->blob + 4) : U63;
			if (t >= U63 || !cosig_ok(n->text, t, l->blob + 12, k->pk))
				return SIG_BAD;
			if (when && t > *when)
				*when = t;
		}
	}
	return found ? SIG_OK : SIG_NONE;
}

/* ===== 4. Merkle proofs (RFC 9162 section 2.1) ======================== */

static void leaf_hash(const unsigned char *p, size_t n, unsigned char out[32])
{
	crypto_hash_sha256_state st;
	unsigned char zero = 0x00;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &zero, 1);
	crypto_hash_sha256_update(&st, p, n);
	crypto_hash_sha256_final(&st, out);
}

/* out = SHA-256(0x01 || l || r); out may be l or r. */
static void node_hash(const unsigned char l[32], const unsigned char r[32],
		      unsigned char out[32])
{
	crypto_hash_sha256_state st;
	unsigned char one = 0x01;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &one, 1);
	crypto_hash_sha256_update(&st, l, 32);
	crypto_hash_sha256_update(&st, r, 32);
	crypto_hash_sha256_final(&st, out);
}

/* RFC 9162 2.1.3.2, as certificate.md section 5 step 6 writes it out:
 * whether leaf `index` with this path leads to `root` in a tree of
 * `size` leaves.  The caller has checked index < size. */
static int inclusion_ok(uint64_t index, uint64_t size, const unsigned char leaf[32],
			const unsigned char (*path)[32], size_t np,
			const unsigned char root[32])
{
	uint64_t fn = index, sn = size - 1;
	unsigned char r[32];
	size_t i;

	memcpy(r, leaf, 32);
	for (i = 0; i < np; i++) {
		if (sn == 0)
			return 0;
		if ((fn & 1) || fn == sn) {
			node_hash(path[i], r, r);
			while (fn != 0 && !(fn & 1)) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			node_hash(r, path[i], r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && sodium_memcmp(r, root, 32) == 0;
}

/* RFC 9162 2.1.4.2: whether the proof shows that the tree of n1 leaves and
 * root r1 is a prefix of the tree of n2 leaves and root r2.  For equal
 * sizes the proof is empty and the roots are equal (section 6). */
static int consistency_ok(uint64_t n1, const unsigned char r1[32], uint64_t n2,
			  const unsigned char r2[32],
			  const unsigned char (*proof)[32], size_t np)
{
	unsigned char fr[32], sr[32];
	uint64_t fn, sn;
	size_t i = 0;

	if (n1 == n2)
		return np == 0 && sodium_memcmp(r1, r2, 32) == 0;
	if (n1 == 0 || n1 > n2 || np == 0)
		return 0;
	/* A first tree of a power-of-two size is a node of the second: its
	 * root starts the path (RFC 9162 step 2). */
	if ((n1 & (n1 - 1)) == 0)
		memcpy(fr, r1, 32);
	else
		memcpy(fr, proof[i++], 32);
	memcpy(sr, fr, 32);
	fn = n1 - 1;
	sn = n2 - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < np; i++) {
		if (sn == 0)
			return 0;
		if ((fn & 1) || fn == sn) {
			node_hash(proof[i], fr, fr);
			node_hash(proof[i], sr, sr);
			while (fn != 0 && !(fn & 1)) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			node_hash(sr, proof[i], sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && sodium_memcmp(fr, r1, 32) == 0 &&
	       sodium_memcmp(sr, r2, 32) == 0;
}

/* ===== 5. A strict JSON reader (RFC 8259) for record bodies ============ */

/* The values form a tree of nodes in one array, linked by index. */
enum jtype { J_OBJECT, J_ARRAY, J_STRING, J_NUMBER, J_TRUE, J_FALSE, J_NULL };
#define J_NONE SIZE_MAX

typedef struct {
	enum jtype type;
	span key;                /* the member's name (decoded) in an object */
	span val;                /* a string's decoded bytes, a number's text */
	size_t child, next;      /* first element or member; next sibling */
} jnode;

typedef struct {
	jnode *node;
	size_t n, cap;
	char *str;               /* decoded strings, never longer than the input */
	size_t strn;
	const char *start, *p, *end;
	const char *err;         /* why it is not JSON */
} jdoc;

static size_t jfail(jdoc *d, const char *why)
{
	if (!d->err)
		d->err = why;
	return J_NONE;
}

static size_t jnew(jdoc *d, enum jtype t)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		jnode *nn = realloc(d->node, cap * sizeof *nn);
		if (!nn)
			return jfail(d, "out of memory");
		d->node = nn;
		d->cap = cap;
	}
	d->node[d->n].type = t;
	d->node[d->n].key = sp(NULL, 0);
	d->node[d->n].val = sp(NULL, 0);
	d->node[d->n].child = d->node[d->n].next = J_NONE;
	return d->n++;
}

static void jws(jdoc *d)
{
	while (d->p < d->end &&
	       (*d->p == ' ' || *d->p == '\t' || *d->p == '\n' || *d->p == '\r'))
		d->p++;
}

static int jhex4(jdoc *d, uint32_t *u)
{
	int i, h;

	if (d->end - d->p < 4)
		return -1;
	for (*u = 0, i = 0; i < 4; i++) {
		if ((h = hex_digit(d->p[i])) < 0)
			return -1;
		*u = *u << 4 | (uint32_t)h;
	}
	d->p += 4;
	return 0;
}

static size_t utf8_put(char *o, uint32_t u)
{
	if (u < 0x80) {
		o[0] = (char)u;
		return 1;
	}
	if (u < 0x800) {
		o[0] = (char)(0xc0 | u >> 6);
		o[1] = (char)(0x80 | (u & 0x3f));
		return 2;
	}
	if (u < 0x10000) {
		o[0] = (char)(0xe0 | u >> 12);
		o[1] = (char)(0x80 | (u >> 6 & 0x3f));
		o[2] = (char)(0x80 | (u & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | u >> 18);
	o[1] = (char)(0x80 | (u >> 12 & 0x3f));
	o[2] = (char)(0x80 | (u >> 6 & 0x3f));
	o[3] = (char)(0x80 | (u & 0x3f));
	return 4;
}

/* A string, at the opening quote, decoded into d->str.  Raw bytes are
 * valid UTF-8 already (the note was checked); \u escapes must not leave a
 * surrogate unpaired.  Escaped forms are never shorter than what they
 * decode to, so d->str (as long as the input) cannot overflow. */
static int jstring(jdoc *d, span *out)
{
	char *o = d->str + d->strn, *start = o;
	unsigned char c;
	uint32_t u, lo;

	d->p++;
	for (;;) {
		if (d->p >= d->end)
			return jfail(d, "unterminated string"), -1;
		c = (unsigned char)*d->p++;
		if (c == '"')
			break;
		if (c < 0x20)
			return jfail(d, "control character in a string"), -1;
		if (c != '\\') {
			*o++ = (char)c;
			continue;
		}
		if (d->p >= d->end)
			return jfail(d, "unterminated string"), -1;
		switch (c = (unsigned char)*d->p++) {
		case '"': case '\\': case '/': *o++ = (char)c; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			if (jhex4(d, &u) < 0)
				return jfail(d, "bad \\u escape"), -1;
			if (u >= 0xdc00 && u <= 0xdfff)
				return jfail(d, "unpaired surrogate"), -1;
			if (u >= 0xd800 && u <= 0xdbff) {
				if (d->end - d->p < 2 || d->p[0] != '\\' || d->p[1] != 'u')
					return jfail(d, "unpaired surrogate"), -1;
				d->p += 2;
				if (jhex4(d, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
					return jfail(d, "unpaired surrogate"), -1;
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
			}
			o += utf8_put(o, u);
			break;
		default:
			return jfail(d, "bad escape"), -1;
		}
	}
	*out = sp(start, (size_t)(o - start));
	d->strn += (size_t)(o - start);
	return 0;
}

static int jdigit(const jdoc *d)
{
	return d->p < d->end && *d->p >= '0' && *d->p <= '9';
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, kept as text. */
static int jnumber(jdoc *d, span *out)
{
	const char *s = d->p;

	if (d->p < d->end && *d->p == '-')
		d->p++;
	if (!jdigit(d))
		return jfail(d, "not a JSON value"), -1;
	if (*d->p++ != '0')
		while (jdigit(d))
			d->p++;
	if (d->p < d->end && *d->p == '.') {
		d->p++;
		if (!jdigit(d))
			return jfail(d, "bad number"), -1;
		while (jdigit(d))
			d->p++;
	}
	if (d->p < d->end && (*d->p == 'e' || *d->p == 'E')) {
		d->p++;
		if (d->p < d->end && (*d->p == '+' || *d->p == '-'))
			d->p++;
		if (!jdigit(d))
			return jfail(d, "bad number"), -1;
		while (jdigit(d))
			d->p++;
	}
	*out = sp(s, (size_t)(d->p - s));
	return 0;
}

static int jkeycmp(const void *a, const void *b)
{
	const jnode *x = *(const jnode *const *)a, *y = *(const jnode *const *)b;
	size_t n = x->key.n < y->key.n ? x->key.n : y->key.n;
	int c = n ? memcmp(x->key.p, y->key.p, n) : 0;

	return c ? c : (x->key.n > y->key.n) - (x->key.n < y->key.n);
}

/* A body with a member name twice, at any level, is malformed (section
 * 4): sort the object's member names and compare neighbours. */
static int jdup(jdoc *d, size_t obj, size_t count)
{
	const jnode **v;
	size_t c, i = 0;
	int dup = 0;

	if (count < 2)
		return 0;
	if (!(v = malloc(count * sizeof *v)))
		return jfail(d, "out of memory"), -1;
	for (c = d->node[obj].child; c != J_NONE; c = d->node[c].next)
		v[i++] = &d->node[c];
	qsort(v, count, sizeof *v, jkeycmp);
	for (i = 1; i < count && !dup; i++)
		dup = jkeycmp(&v[i - 1], &v[i]) == 0;
	free(v);
	return dup ? (jfail(d, "a member name occurs twice in an object"), -1) : 0;
}

static size_t jvalue(jdoc *d, int depth);

static size_t jcontainer(jdoc *d, int depth)
{
	int obj = *d->p == '{';
	char close = obj ? '}' : ']';
	size_t me, v, last = J_NONE, count = 0;
	span key = sp(NULL, 0);

	if (depth >= JSON_DEPTH_MAX)
		return jfail(d, "nested too deeply");
	if ((me = jnew(d, obj ? J_OBJECT : J_ARRAY)) == J_NONE)
		return J_NONE;
	d->p++;
	jws(d);
	if (d->p < d->end && *d->p == close) {
		d->p++;
		return me;
	}
	for (;;) {
		if (obj) {
			jws(d);
			if (d->p >= d->end || *d->p != '"')
				return jfail(d, "expected a member name");
			if (jstring(d, &key) < 0)
				return J_NONE;
			jws(d);
			if (d->p >= d->end || *d->p != ':')
				return jfail(d, "expected ':'");
			d->p++;
		}
		if ((v = jvalue(d, depth + 1)) == J_NONE)
			return J_NONE;
		d->node[v].key = key;
		if (last == J_NONE)
			d->node[me].child = v;
		else
			d->node[last].next = v;
		last = v;
		count++;
		jws(d);
		if (d->p < d->end && *d->p == ',') {
			d->p++;
			continue;
		}
		if (d->p < d->end && *d->p == close) {
			d->p++;
			break;
		}
		return jfail(d, obj ? "expected ',' or '}'" : "expected ',' or ']'");
	}
	return obj && jdup(d, me, count) < 0 ? J_NONE : me;
}

static size_t jvalue(jdoc *d, int depth)
{
	static const struct {
		const char *word;
		enum jtype type;
	} lit[] = {{"true", J_TRUE}, {"false", J_FALSE}, {"null", J_NULL}};
	size_t me, i;

	jws(d);
	if (d->p >= d->end)
		return jfail(d, "unexpected end");
	if (*d->p == '{' || *d->p == '[')
		return jcontainer(d, depth);
	for (i = 0; i < 3; i++) {
		size_t n = strlen(lit[i].word);
		if ((size_t)(d->end - d->p) >= n && !memcmp(d->p, lit[i].word, n)) {
			d->p += n;
			return jnew(d, lit[i].type);
		}
	}
	if ((me = jnew(d, *d->p == '"' ? J_STRING : J_NUMBER)) == J_NONE)
		return J_NONE;
	if (d->node[me].type == J_STRING ? jstring(d, &d->node[me].val) < 0
					 : jnumber(d, &d->node[me].val) < 0)
		return J_NONE;
	return me;
}

static void jfree(jdoc *d)
{
	free(d->node);
	free(d->str);
	memset(d, 0, sizeof *d);
}

/* Parse one JSON value filling the whole text; its root is node 0.  NULL,
 * or why not (the byte offset is d->p - d->start). */
static const char *jparse(jdoc *d, span text)
{
	memset(d, 0, sizeof *d);
	d->start = d->p = text.p;
	d->end = text.p + text.n;
	if (!(d->str = malloc(text.n + 1)))
		return "out of memory";
	if (jvalue(d, 0) == J_NONE)
		return d->err;
	jws(d);
	return d->p == d->end ? NULL : "more after the JSON value";
}

/* The member `name` of object node obj, of type t; J_NONE if absent or
 * of another type. */
static size_t jget(const jdoc *d, size_t obj, const char *name, enum jtype t)
{
	size_t c;

	if (obj == J_NONE || d->node[obj].type != J_OBJECT)
		return J_NONE;
	for (c = d->node[obj].child; c != J_NONE; c = d->node[c].next)
		if (span_is(d->node[c].key, name))
			return d->node[c].type == t ? c : J_NONE;
	return J_NONE;
}

static int jstr(const jdoc *d, size_t obj, const char *name, span *out)
{
	size_t c = jget(d, obj, name, J_STRING);

	if (c == J_NONE)
		return 0;
	*out = d->node[c].val;
	return 1;
}

/* A non-negative integer written plainly (no sign, fraction or exponent). */
static int juint(const jdoc *d, size_t obj, const char *name, uint64_t *out)
{
	size_t c = jget(d, obj, name, J_NUMBER);

	return c != J_NONE && parse_dec(d->node[c].val, out) == 0;
}

/* ===== 6. The verification steps ====================================== */

/* A record being looked at (section 4, steps 6 to 9). */
typedef struct {
	uint64_t idx;
	unsigned char *bytes;        /* decoded, malloc'd */
	size_t len;
	jdoc doc;
	int formed;                  /* step 7 passed: the spans below are set */
	span kind, time, actor;
	span vault, cname, cvkey;    /* init, custodian-add, custodian-remove */
	span item;                   /* the other kinds: the item id */
	span sha;                    /* ingest: item.sha256 and item.size */
	uint64_t isize;
	note note;                   /* last: rec_free() leaves it as it is */
} rec;

typedef struct {
	report r;
	const evv_opts *o;
	/* step 1: the parts of the certificate */
	span text;                   /* the statement text, last "\n" included */
	span fields;                 /* its lines after the first */
	span sigs;                   /* the statement's signature lines */
	span checkpoint;             /* the checkpoint note */
	span origin, logkey, issued, issuer, item, size_s, type, tree;
	uint64_t size, tree_size;
	unsigned char root[32];
	size_t nrecords;
	/* keys: the one given, the certificate's, and the one trusted */
	vkey given, cert_key;
	const vkey *trust;
	vkey *wit;
	size_t nwit;
	/* the checkpoints */
	note stmt, cp, later;
	int cp_ok;                   /* the checkpoint note and text parsed */
	int later_parsed, later_ok;  /* ... and it is signed and consistent */
	/* records: the registry of custodians, the counts */
	vkey *reg;
	size_t nreg, reg_cap;
	vkey init_key;               /* whom record 0 registered */
	int have_init;
	size_t nformed, nitem, ningest;
	/* the transfers met so far, which an accept must countersign */
	struct handover {
		uint64_t idx;
		unsigned char leaf[32];
		char to[256];
	} *ho;
	size_t nho, ho_cap;
	rec rec;
} state;

static int read_fail(state *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A failure of step 1: the certificate cannot be read (exit status 2). */
static int read_fail(state *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof msg, fmt, ap) >= (int)sizeof msg)
		trim_utf8(msg);
	va_end(ap);
	say(&s->r, EVV_FAIL, C_READ, "%s", msg);
	return -1;
}

/* Field names: lower-case ASCII letters, digits and "-" (section 3). */
static int field_name_ok(span f)
{
	size_t i;

	for (i = 0; i < f.n; i++)
		if (!((f.p[i] >= 'a' && f.p[i] <= 'z') ||
		      (f.p[i] >= '0' && f.p[i] <= '9') || f.p[i] == '-'))
			return 0;
	return f.n > 0;
}

/* The next statement field after the first line: 0 at the end. */
static int next_field(span *rest, span *field, span *value)
{
	span line;

	if (!next_line(rest, &line))
		return 0;
	if (!cut_space(line, field, value)) /* read_cert() refused this */
		*field = line, *value = sp(line.p + line.n, 0);
	return 1;
}

/* Step 1 for one statement line (lineno counts from 1). */
static int read_field(state *s, size_t lineno, span f, span v, uint64_t *last)
{
	static const char *const once[] = {"origin", "log-key", "issued",
		"issuer", "item", "size", "type", "tree"};
	span *const slot[] = {&s->origin, &s->logkey, &s->issued, &s->issuer,
		&s->item, &s->size_s, &s->type, &s->tree};
	span idx, rest;
	uint64_t i;
	size_t k;

	if (span_is(f, "record")) {
		if (!cut_space(v, &idx, &rest) || rest.n == 0)
			return read_fail(s, "statement line %zu: a record line is "
					 "\"record <index> <record> [<hash>...]\"", lineno);
		if (parse_dec(idx, &i) < 0)
			return read_fail(s, "statement line %zu: the record index is "
					 "not a decimal number below 2^63 without "
					 "leading zeros", lineno);
		if (s->nrecords > 0 && i <= *last)
			return read_fail(s, "statement line %zu: record %" PRIu64
					 " follows record %" PRIu64 "; record lines "
					 "must be in increasing order of index",
					 lineno, i, *last);
		*last = i;
		s->nrecords++;
		return 0;
	}
	for (k = 0; k < sizeof once / sizeof *once; k++) {
		if (!span_is(f, once[k]))
			continue;
		if (slot[k]->p)
			return read_fail(s, "the field %s occurs more than once "
					 "(statement line %zu)", once[k], lineno);
		*slot[k] = v;
	}
	return 0; /* fields this version does not know are ignored */
}

/* Step 1: the file, its split (section 2) and the statement's fields
 * (section 3).  0, or -1 after reporting why (the tools exit 2). */
static int read_cert(state *s, span in)
{
	static const char *const need[] = {"origin", "log-key", "issued",
		"issuer", "item", "size", "type", "tree"};
	const span *const got[] = {&s->origin, &s->logkey, &s->issued,
		&s->issuer, &s->item, &s->size_s, &s->type, &s->tree};
	span rest = in, line, f, v, first = sp("", 0), rsize, rroot;
	size_t off, lineno = 1, k;
	uint64_t last = 0;
	uint32_t cp;
	char why[96];
	int empty = 0;

	if (in.n > CERT_MAX)
		return read_fail(s, "it is %zu bytes, more than the 64 MiB a "
				 "certificate may be", in.n);
	if (in.n == 0)
		return read_fail(s, "it is empty");
	if (!text_ok(in, &off, &cp)) {
		text_why(why, sizeof why, off, cp);
		return read_fail(s, "it %s, so it is not a certificate", why);
	}
	if (in.p[in.n - 1] != '\n')
		return read_fail(s, "its last line does not end in a newline "
				 "(cut short?)");
	/* The split: statement lines up to the first empty line, signature
	 * lines up to the next, then the checkpoint. */
	while ((empty = next_line(&rest, &line)) && line.n > 0)
		;
	if (!empty || line.p == in.p)
		return read_fail(s, empty ? "it begins with an empty line" :
				 "it has no empty line after the statement");
	s->text = sp(in.p, (size_t)(line.p - in.p));
	s->sigs = rest;
	while ((empty = next_line(&rest, &line)) && line.n > 0)
		if (!starts_with(line, EM_DASH))
			return read_fail(s, "a line after the statement is neither a "
					 "signature line (\"\xe2\x80\x94 ...\") nor empty");
	if (!empty)
		return read_fail(s, "it has no empty line after the statement's "
				 "signature lines, so no checkpoint");
	s->sigs.n = (size_t)(line.p - s->sigs.p);
	s->checkpoint = rest;
	if (s->sigs.n == 0)
		return read_fail(s, "the statement has no signature line");
	if (rest.n == 0)
		return read_fail(s, "it has no checkpoint after the statement's "
				 "signature lines");

	/* The statement: its version line, then "<field> <value>" lines. */
	rest = s->text;
	next_line(&rest, &first);
	if (!span_is(first, "evault-certificate/v1")) {
		shown b;
		if (starts_with(first, "evault-certificate/"))
			return read_fail(s, "it is a certificate of another version "
					 "(%s); this verifier reads "
					 "evault-certificate/v1", show(&b, first));
		return read_fail(s, "its first line is not evault-certificate/v1");
	}
	s->fields = rest;
	while (next_line(&rest, &line)) {
		lineno++;
		if (!cut_space(line, &f, &v) || !field_name_ok(f))
			return read_fail(s, "statement line %zu is not a field name "
					 "(a-z, 0-9, -), a space and a value", lineno);
		if (read_field(s, lineno, f, v, &last) < 0)
			return -1;
	}
	for (k = 0; k < sizeof need / sizeof *need; k++)
		if (!got[k]->p)
			return read_fail(s, "the statement has no %s field", need[k]);
	if (s->origin.n != 39 || !starts_with(s->origin, "evault/") ||
	    !is_hex(sp(s->origin.p + 7, 32), 32))
		return read_fail(s, "its origin is not evault/ and the vault id's "
				 "32 lower-case hex digits");
	if (!is_hex(s->item, 64))
		return read_fail(s, "its item is not 64 lower-case hex digits");
	if (parse_dec(s->size_s, &s->size) < 0)
		return read_fail(s, "its size is not a decimal number below 2^63 "
				 "without leading zeros");
	if (!cut_space(s->tree, &rsize, &rroot) ||
	    parse_dec(rsize, &s->tree_size) < 0)
		return read_fail(s, "its tree is not \"<size> <root>\" with a "
				 "decimal size below 2^63 without leading zeros");
	if (b64_hash(rroot, s->root) < 0)
		return read_fail(s, "the root of its tree is not 44 characters of "
				 "base64 of 32 bytes");
	if (s->nrecords == 0)
		return read_fail(s, "it has no record line");
	say(&s->r, EVV_PASS, C_READ, "a certificate of %zu bytes: a statement "
	    "with %zu records, its signature lines and a checkpoint", in.n,
	    s->nrecords);
	return 0;
}

/* Step 2: the log key; s->trust becomes the key the signatures are checked
 * with: the one given, else the certificate's if it is usable. */
static void check_log_key(state *s)
{
	const char *why = vkey_parse(s->logkey, &s->cert_key);
	int usable = 0;
	shown a, b;

	if (why)
		say(&s->r, EVV_FAIL, C_LOGKEY, "the certificate's log-key %s is not "
		    "a verifier key: %s", show(&a, s->logkey), why);
	else if (s->cert_key.type != 0x01)
		say(&s->r, EVV_FAIL, C_LOGKEY, "the certificate's log-key %s is a "
		    "cosignature (0x04) key, not a log (0x01) key",
		    show(&a, s->logkey));
	else if (!span_eq(sp(s->cert_key.name, s->cert_key.name_len), s->origin))
		say(&s->r, EVV_FAIL, C_LOGKEY, "the certificate's log key is named "
		    "%s, not by its origin %s", s->cert_key.name,
		    show(&b, s->origin));
	else
		usable = 1;
	if (s->o->log_vkey) {
		s->trust = &s->given;
		if (!why && same_key(&s->given, &s->cert_key))
			say(&s->r, EVV_PASS, C_LOGKEY, "the certificate's log key is "
			    "the key given: %s", s->given.text);
		else
			say(&s->r, EVV_FAIL, C_LOGKEY, "log key is %s, not the key "
			    "given, %s (another vault's key?)", show(&a, s->logkey),
			    s->given.text);
		return;
	}
	if (!usable)
		return;
	s->trust = &s->cert_key;
	say(&s->r, EVV_PASS, C_LOGKEY, "%s is a log key named by the origin",
	    s->cert_key.text);
	say(&s->r, EVV_NOTE, C_LOGKEY, "no log key was given, so it was taken "
	    "from the certificate, which then proves only that it is "
	    "self-consistent: compare %s with the vault's key obtained from its "
	    "holders by another path", s->cert_key.text);
}

/* Step 3: the statement is a note with a verifying line of the log key. */
static void check_statement(state *s)
{
	char why[160];

	if (sigs_parse(s->sigs, &s->stmt, why, sizeof why) < 0) {
		say(&s->r, EVV_FAIL, C_STATEMENT, "the statement's signatures are "
		    "malformed: %s", why);
		return;
	}
	s->stmt.text = s->text;
	if (!s->trust) {
		say(&s->r, EVV_FAIL, C_STATEMENT, "the statement's signature "
		    "cannot be checked: there is no usable log key");
		return;
	}
	switch (note_verify(&s->stmt, s->trust, NULL)) {
	case SIG_NONE:
		say(&s->r, EVV_FAIL, C_STATEMENT, "the statement carries no "
		    "signature line of the log key %s", s->trust->text);
		break;
	case SIG_BAD:
		say(&s->r, EVV_FAIL, C_STATEMENT, "the statement's signature by "
		    "the log key does not verify (the statement was changed "
		    "after it was signed?)");
		break;
	default:
		say(&s->r, EVV_PASS, C_STATEMENT, "the statement is signed by the "
		    "log key");
	}
}

/* The text of a checkpoint (formats 12): exactly three lines, the origin,
 * the tree size and the root in base64.  NULL, or why not. */
static const char *cp_text(span text, span *origin, uint64_t *size,
			   unsigned char root[32])
{
	span rest = text, l1, l2, l3;

	if (!next_line(&rest, &l1) || !next_line(&rest, &l2) ||
	    !next_line(&rest, &l3) || rest.n != 0)
		return "is not three lines (origin, tree size, root)";
	if (parse_dec(l2, size) < 0)
		return "has a tree size that is not a decimal number below 2^63 "
		       "without leading zeros";
	if (b64_hash(l3, root) < 0)
		return "has a root that is not base64 of 32 bytes";
	*origin = l1;
	return NULL;
}

/* Parse a checkpoint note (the certificate's or a later one): 0, or -1
 * after reporting why under check c. */
static int cp_parse(state *s, enum check c, const char *what, span m, note *n,
		    span *origin, uint64_t *size, unsigned char root[32])
{
	char why[160];
	const char *bad;
	size_t off;
	uint32_t cp;

	if (m.n > CHECKPOINT_MAX) {
		say(&s->r, EVV_FAIL, c, "%s is %zu bytes, more than 64 KiB", what, m.n);
		return -1;
	}
	if (!text_ok(m, &off, &cp)) {
		text_why(why, sizeof why, off, cp);
		say(&s->r, EVV_FAIL, c, "%s %s", what, why);
		return -1;
	}
	if (note_parse(m, n, why, sizeof why) < 0) {
		say(&s->r, EVV_FAIL, c, "%s is not a signed note: %s", what, why);
		return -1;
	}
	if ((bad = cp_text(n->text, origin, size, root)) != NULL) {
		say(&s->r, EVV_FAIL, c, "%s's text %s", what, bad);
		return -1;
	}
	return 0;
}

/* Whether a checkpoint note is signed by the log key; reports failures. */
static int cp_signed(state *s, enum check c, const char *what, const note *n)
{
	if (!s->trust) {
		say(&s->r, EVV_FAIL, c, "%s's signature cannot be checked: there "
		    "is no usable log key", what);
		return 0;
	}
	switch (note_verify(n, s->trust, NULL)) {
	case SIG_NONE:
		say(&s->r, EVV_FAIL, c, "%s carries no signature line of the log "
		    "key %s", what, s->trust->text);
		return 0;
	case SIG_BAD:
		say(&s->r, EVV_FAIL, c, "%s's signature by the log key does not "
		    "verify", what);
		return 0;
	}
	return 1;
}

/* Step 4: the checkpoint is signed by the log key, of this origin, and of
 * the statement's tree. */
static void check_checkpoint(state *s)
{
	static const char what[] = "the checkpoint";
	unsigned char root[32];
	char b1[48], b2[48];
	uint64_t size;
	span origin;
	shown a, b;
	int ok;

	if (cp_parse(s, C_CHECKPOINT, what, s->checkpoint, &s->cp, &origin,
		     &size, root) < 0)
		return;
	s->cp_ok = 1;
	ok = cp_signed(s, C_CHECKPOINT, what, &s->cp);
	if (!span_eq(origin, s->origin)) {
		say(&s->r, EVV_FAIL, C_CHECKPOINT, "the checkpoint is of the log "
		    "%s, not of the certificate's origin %s", show(&a, origin),
		    show(&b, s->origin));
		ok = 0;
	}
	if (size != s->tree_size || sodium_memcmp(root, s->root, 32) != 0) {
		sodium_bin2base64(b1, sizeof b1, root, 32, sodium_base64_VARIANT_ORIGINAL);
		sodium_bin2base64(b2, sizeof b2, s->root, 32, sodium_base64_VARIANT_ORIGINAL);
		say(&s->r, EVV_FAIL, C_CHECKPOINT, "the checkpoint's tree (size %"
		    PRIu64 ", root %s) is not the statement's tree (size %" PRIu64
		    ", root %s)", size, b1, s->tree_size, b2);
		ok = 0;
	}
	if (ok)
		say(&s->r, EVV_PASS, C_CHECKPOINT, "the checkpoint is signed by the "
		    "log key, of the statement's tree (size %" PRIu64 ")", size);
}

/* Section 6: a later checkpoint, and the consistency proof that the
 * certificate's tree is a prefix of its tree. */
static void check_later(state *s)
{
	static const char what[] = "the later checkpoint";
	unsigned char root[32], proof[CONS_MAX_HASHES][32];
	span origin, rest, line;
	size_t np = 0, lineno = 0;
	uint64_t size = 0;
	int ok = 0, proof_ok = 1;
	shown a, b;

	if (cp_parse(s, C_LATER, what, sp(s->o->later_checkpoint,
		     s->o->later_checkpoint_len), &s->later, &origin, &size,
		     root) == 0) {
		s->later_parsed = 1;
		ok = cp_signed(s, C_LATER, what, &s->later);
		if (!span_eq(origin, s->origin)) {
			say(&s->r, EVV_FAIL, C_LATER, "the later checkpoint is of the "
			    "log %s, not of the certificate's origin %s",
			    show(&a, origin), show(&b, s->origin));
			ok = 0;
		}
		if (size < s->tree_size) {
			say(&s->r, EVV_FAIL, C_LATER, "the later checkpoint's size %"
			    PRIu64 " is smaller than the certificate's tree size %"
			    PRIu64, size, s->tree_size);
			ok = 0;
		}
		if (ok)
			say(&s->r, EVV_PASS, C_LATER, "the later checkpoint is signed "
			    "by the log key, of size %" PRIu64, size);
	}
	/* The proof: base64 hashes one a line, empty lines skipped. */
	rest = sp(s->o->consistency, s->o->consistency_len);
	while (proof_ok && next_line(&rest, &line)) {
		lineno++;
		if (line.n == 0)
			continue;
		if (np == CONS_MAX_HASHES) {
			say(&s->r, EVV_FAIL, C_CONSISTENCY, "the consistency proof has "
			    "more than %d hashes", CONS_MAX_HASHES);
			proof_ok = 0;
		} else if (b64_hash(line, proof[np++]) < 0) {
			say(&s->r, EVV_FAIL, C_CONSISTENCY, "line %zu of the "
			    "consistency proof is not base64 of 32 bytes", lineno);
			proof_ok = 0;
		}
	}
	if (!proof_ok)
		return;
	if (!s->later_parsed) {
		say(&s->r, EVV_FAIL, C_CONSISTENCY, "the consistency proof cannot "
		    "be checked: the later checkpoint cannot be read");
		return;
	}
	if (!consistency_ok(s->tree_size, s->root, size, root,
			    (const unsigned char(*)[32])proof, np)) {
		say(&s->r, EVV_FAIL, C_CONSISTENCY, "the consistency proof does not "
		    "prove that the certificate's tree (size %" PRIu64 ") is a "
		    "prefix of the later checkpoint's (size %" PRIu64 "): the log "
		    "was forked or rewritten, or the proof is not for these trees",
		    s->tree_size, size);
		return;
	}
	say(&s->r, EVV_PASS, C_CONSISTENCY, "the certificate's tree (size %"
	    PRIu64 ") is a prefix of the later checkpoint's (size %" PRIu64 ")",
	    s->tree_size, size);
	s->later_ok = ok;
}

/* Step 5: each witness given has cosigned the checkpoint or the later
 * one (when that one is signed and consistent). */
static void check_witnesses(state *s)
{
	size_t i;

	for (i = 0; i < s->nwit; i++) {
		const vkey *w = &s->wit[i];
		uint64_t ta = 0, tb = 0;
		int a = s->cp_ok ? note_verify(&s->cp, w, &ta) : SIG_NONE;
		int b = s->later_ok ? note_verify(&s->later, w, &tb) : SIG_NONE;
		char when[40];

		if (a == SIG_BAD)
			say(&s->r, EVV_FAIL, C_WITNESS, "the cosignature by witness %s "
			    "on the checkpoint does not verify", w->name);
		if (b == SIG_BAD)
			say(&s->r, EVV_FAIL, C_WITNESS, "the cosignature by witness %s "
			    "on the later checkpoint does not verify", w->name);
		if (a == SIG_BAD || b == SIG_BAD)
			continue;
		if (a == SIG_OK || b == SIG_OK) {
			utc_string(a == SIG_OK ? ta : tb, when, sizeof when);
			say(&s->r, EVV_PASS, C_WITNESS, "%s cosigned the %scheckpoint "
			    "at %s", w->text, a == SIG_OK ? "" : "later ", when);
		} else {
			say(&s->r, EVV_FAIL, C_WITNESS, "no cosignature by witness %s "
			    "(%s) on the checkpoint%s", w->name, w->text,
			    !s->o->later_checkpoint ? "" : s->later_ok ?
			    " or the later checkpoint" :
			    " (the later checkpoint was not accepted)");
		}
	}
}

/* --- records (steps 6 to 9) --- */

/* Decode a record's base64 (section 4: canonical, at most 16 MiB).  0, or
 * -1 with why. */
static int rec_bytes(rec *r, span b64, char *why, size_t wn)
{
	if (b64.n > (RECORD_MAX + 2) / 3 * 4) {
		snprintf(why, wn, "it is longer than 16 MiB");
		return -1;
	}
	if (!(r->bytes = malloc(b64.n / 4 * 3 + 1))) {
		snprintf(why, wn, "out of memory");
		return -1;
	}
	if (b64_decode(b64, r->bytes, RECORD_MAX, &r->len) < 0) {
		snprintf(why, wn, "it is not canonical base64");
		return -1;
	}
	return 0;
}

/* Step 7: a signed note whose text is one line holding a JSON object
 * with the members section 4 names, of the right types.  0, or -1 with
 * why. */
static int rec_form(rec *r, char *why, size_t wn)
{
	span text, kind;
	size_t off, c;
	uint32_t cp;
	const char *jerr;
	jdoc *d = &r->doc;
	uint64_t v;
	char sub[160];

	if (!text_ok(sp((const char *)r->bytes, r->len), &off, &cp)) {
		text_why(sub, sizeof sub, off, cp);
		snprintf(why, wn, "it %s", sub);
		return -1;
	}
	if (note_parse(sp((const char *)r->bytes, r->len), &r->note, sub,
		       sizeof sub) < 0) {
		snprintf(why, wn, "it is not a signed note: %s", sub);
		return -1;
	}
	text = r->note.text;
	if (memchr(text.p, '\n', text.n) != text.p + text.n - 1) {
		snprintf(why, wn, "its text is not one line");
		return -1;
	}
	if ((jerr = jparse(d, sp(text.p, text.n - 1))) != NULL) {
		snprintf(why, wn, "its JSON body is malformed: %s (byte %zu)", jerr,
			 (size_t)(d->p - d->start));
		return -1;
	}
	if (d->node[0].type != J_OBJECT) {
		snprintf(why, wn, "its body is not a JSON object");
		return -1;
	}
	if (!juint(d, 0, "v", &v) || v != 1) {
		snprintf(why, wn, "its version v is not 1");
		return -1;
	}
	if (!jstr(d, 0, "kind", &r->kind) || !jstr(d, 0, "time", &r->time) ||
	    !jstr(d, 0, "actor", &r->actor)) {
		snprintf(why, wn, "it lacks one of the strings kind, time, actor");
		return -1;
	}
	if (!is_utc_time(r->time)) {
		snprintf(why, wn, "its time is not YYYY-MM-DDTHH:MM:SSZ");
		return -1;
	}
	kind = r->kind;
	c = jget(d, 0, "custodian", J_OBJECT);
	if (span_is(kind, "init") || span_is(kind, "custodian-add")) {
		if ((span_is(kind, "init") && !jstr(d, 0, "vault", &r->vault)) ||
		    !jstr(d, c, "name", &r->cname) || !jstr(d, c, "vkey", &r->cvkey)) {
			snprintf(why, wn, "it lacks %s{name, vkey}",
				 span_is(kind, "init") ? "vault or custodian" :
				 "custodian");
			return -1;
		}
	} else if (span_is(kind, "custodian-remove")) {
		if (!jstr(d, c, "name", &r->cname)) {
			snprintf(why, wn, "it lacks custodian{name}");
			return -1;
		}
	} else if (span_is(kind, "ingest")) {
		c = jget(d, 0, "item", J_OBJECT);
		if (!jstr(d, c, "sha256", &r->sha) || !juint(d, c, "size", &r->isize)) {
			snprintf(why, wn, "it lacks item{sha256 (a string), size "
				 "(an integer)}");
			return -1;
		}
	} else if (!jstr(d, 0, "item", &r->item)) {
		snprintf(why, wn, "it lacks the string item");
		return -1;
	}
	r->formed = 1;
	return 0;
}

static void rec_free(rec *r)
{
	free(r->bytes);
	jfree(&r->doc);
	memset(r, 0, offsetof(rec, note)); /* the note is only read once set */
}

static vkey *reg_find(state *s, span name)
{
	size_t i;

	for (i = 0; i < s->nreg; i++)
		if (span_eq(sp(s->reg[i].name, s->reg[i].name_len), name))
			return &s->reg[i];
	return NULL;
}

static int reg_add(state *s, const vkey *k)
{
	if (s->nreg == s->reg_cap) {
		size_t cap = s->reg_cap ? s->reg_cap * 2 : 16;
		vkey *n;
		if (cap > CUSTODIANS_MAX || !(n = realloc(s->reg, cap * sizeof *n)))
			return -1;
		s->reg = n;
		s->reg_cap = cap;
	}
	s->reg[s->nreg++] = *k;
	return 0;
}

/* The key a record registers (init, custodian-add): a type 0x01 key named
 * `name`.  0 with *k, or -1 after reporting why under check c. */
static int rec_key(state *s, enum check c, const rec *r, span name, vkey *k)
{
	const char *why = vkey_parse(r->cvkey, k);
	shown a, b;

	if (!why && k->type == 0x01 &&
	    span_eq(sp(k->name, k->name_len), name))
		return 0;
	say(&s->r, EVV_FAIL, c, "record %" PRIu64 ": the key it registers, %s, "
	    "is not a type 0x01 key named %s%s%s", r->idx, show(&a, r->cvkey),
	    show(&b, name), why ? ": " : "", why ? why : "");
	return -1;
}

/* Step 8 for record 0: the vault's init record registers its actor. */
static void walk_init(state *s, rec *r)
{
	span vid = sp(NULL, 0);
	shown a, b;
	vkey k;
	int ok = 1, sig;

	if (!span_is(r->kind, "init")) {
		say(&s->r, EVV_FAIL, C_INIT, "record 0 is a %s record, not the "
		    "vault's init record", show(&a, r->kind));
		return;
	}
	if (starts_with(s->origin, "evault/"))
		vid = sp(s->origin.p + 7, s->origin.n - 7);
	if (!span_eq(r->vault, vid)) {
		say(&s->r, EVV_FAIL, C_INIT, "record 0 is the init record of vault "
		    "%s, not of the vault of the origin %s", show(&a, r->vault),
		    show(&b, s->origin));
		ok = 0;
	}
	if (!span_eq(r->cname, r->actor)) {
		say(&s->r, EVV_FAIL, C_INIT, "record 0 registers %s but its actor "
		    "is %s", show(&a, r->cname), show(&b, r->actor));
		ok = 0;
	}
	if (rec_key(s, C_INIT, r, r->actor, &k) < 0)
		return;
	sig = note_verify(&r->note, &k, NULL);
	if (sig != SIG_OK) {
		say(&s->r, EVV_FAIL, C_INIT, "record 0: %s", sig == SIG_NONE ?
		    "it carries no signature line of the key it registers" :
		    "its signature by the key it registers does not verify");
		return;
	}
	/* Registered even if the vault or the name is wrong (reported above),
	 * so that the records after it are not all reported as unsigned. */
	if (reg_add(s, &k) == 0 && ok) {
		s->init_key = k;
		s->have_init = 1;
	}
}

/* Step 8 for the other records: the actor is registered and signed; a
 * custodian-add registers, a custodian-remove removes. */
static void walk(state *s, rec *r)
{
	vkey *k, nk;
	shown a, b;
	int sig;

	if (r->idx == 0) {
		walk_init(s, r);
		return;
	}
	if (span_is(r->kind, "init")) {
		say(&s->r, EVV_FAIL, C_INIT, "record %" PRIu64 " is an init record; "
		    "only record 0 may be", r->idx);
		return;
	}
	if (!(k = reg_find(s, r->actor))) {
		say(&s->r, EVV_FAIL, C_SIGNATURE, "record %" PRIu64 ": signed by %s, "
		    "who is not a registered custodian at index %" PRIu64,
		    r->idx, show(&a, r->actor), r->idx);
		return;
	}
	sig = note_verify(&r->note, k, NULL);
	if (sig != SIG_OK) {
		say(&s->r, EVV_FAIL, C_SIGNATURE, "record %" PRIu64 ": %s %s (%s)",
		    r->idx, sig == SIG_NONE ?
		    "it carries no signature line of the registered key of" :
		    "its signature does not verify under the registered key of",
		    k->name, k->text);
		return;
	}
	if (span_is(r->kind, "custodian-add")) {
		if (rec_key(s, C_CUSTODIAN, r, r->cname, &nk) < 0)
			return;
		if (reg_find(s, r->cname))
			say(&s->r, EVV_FAIL, C_CUSTODIAN, "record %" PRIu64 ": adds "
			    "%s, who is already registered", r->idx, nk.name);
		else if (reg_add(s, &nk) < 0)
			say(&s->r, EVV_FAIL, C_CUSTODIAN, "record %" PRIu64 ": more "
			    "than %d custodians would be registered", r->idx,
			    CUSTODIANS_MAX);
	} else if (span_is(r->kind, "custodian-remove")) {
		if (!(k = reg_find(s, r->cname))) {
			say(&s->r, EVV_FAIL, C_CUSTODIAN, "record %" PRIu64 ": removes "
			    "%s, who is not a registered custodian", r->idx,
			    show(&b, r->cname));
		} else {
			*k = s->reg[--s->nreg];
		}
	}
}

/* Step 9 for a transfer: remember it (index, leaf, receiver). */
static void note_transfer(state *s, rec *r, const unsigned char leaf[32])
{
	span to;
	struct handover *h;

	if (!jstr(&r->doc, 0, "to", &to) || to.n == 0 || to.n >= sizeof h->to) {
		say(&s->r, EVV_FAIL, C_ITEM, "record %" PRIu64 ": a transfer "
		    "without the string to (a custodian's name)", r->idx);
		return;
	}
	if (s->nho == s->ho_cap) {
		size_t cap = s->ho_cap ? 2 * s->ho_cap : 8;
		void *p = cap <= TRANSFERS_MAX ? realloc(s->ho, cap * sizeof *s->ho)
					     : NULL;
		if (!p) {
			say(&s->r, EVV_FAIL, C_ITEM, "record %" PRIu64 ": too many "
			    "transfers to keep", r->idx);
			return;
		}
		s->ho = p;
		s->ho_cap = cap;
	}
	h = &s->ho[s->nho++];
	h->idx = r->idx;
	memcpy(h->leaf, leaf, 32);
	memcpy(h->to, to.p, to.n);
	h->to[to.n] = '\0';
}

/* Step 9 for an accept: the receiver's countersignature of one exact
 * transfer of the certificate, made to them (formats.md section 11). */
static void check_accept(state *s, rec *r)
{
	uint64_t ti;
	span tl;
	char hex[65];
	shown a;

	if (!juint(&r->doc, 0, "transfer", &ti) ||
	    !jstr(&r->doc, 0, "transfer_leaf", &tl) || !is_hex(tl, 64)) {
		say(&s->r, EVV_FAIL, C_ITEM, "record %" PRIu64 ": an accept without "
		    "transfer (an index) and transfer_leaf (64 hex digits)", r->idx);
		return;
	}
	for (size_t i = 0; i < s->nho; i++) {
		const struct handover *h = &s->ho[i];
		if (h->idx != ti)
			continue;
		to_hex(h->leaf, 32, hex);
		if (!span_is(tl, hex))
			say(&s->r, EVV_FAIL, C_ITEM, "record %" PRIu64 ": accepts "
			    "transfer record %" PRIu64 " by a leaf hash that is not "
			    "that record's", r->idx, ti);
		else if (!span_is(r->actor, h->to))
			say(&s->r, EVV_FAIL, C_ITEM, "record %" PRIu64 ": %s accepts "
			    "transfer record %" PRIu64 ", which was made to %s",
			    r->idx, show(&a, r->actor), ti, h->to);
		return;
	}
	say(&s->r, EVV_FAIL, C_ITEM, "record %" PRIu64 ": accepts transfer record "
	    "%" PRIu64 ", which is not a transfer before it in the certificate",
	    r->idx, ti);
}

/* Step 9 for one record: it concerns the item. */
static void check_item(state *s, rec *r, const unsigned char leaf[32])
{
	shown a, b;

	if (span_is(r->kind, "init") || span_is(r->kind, "custodian-add") ||
	    span_is(r->kind, "custodian-remove"))
		return;
	s->nitem++;
	if (span_is(r->kind, "ingest")) {
		s->ningest++;
		if (!span_eq(r->sha, s->item))
			say(&s->r, EVV_FAIL, C_ITEM, "record %" PRIu64 ": about item "
			    "%s, not this item (%s)", r->idx, show(&a, r->sha),
			    show(&b, s->item));
		if (r->isize != s->size)
			say(&s->r, EVV_FAIL, C_ITEM, "record %" PRIu64 ": an ingest of "
			    "%" PRIu64 " bytes, but the certificate's size is %"
			    PRIu64, r->idx, r->isize, s->size);
	} else if (!span_eq(r->item, s->item)) {
		say(&s->r, EVV_FAIL, C_ITEM, "record %" PRIu64 ": about item %s, "
		    "not this item (%s)", r->idx, show(&a, r->item),
		    show(&b, s->item));
	}
	if (span_is(r->kind, "transfer"))
		note_transfer(s, r, leaf);
	else if (span_is(r->kind, "accept"))
		check_accept(s, r);
}

/* Steps 6 to 9 for one record line's value: "<index> <record> [<hash>...]". */
static void check_record(state *s, span value, int first)
{
	unsigned char path[PATH_MAX_HASHES][32], leaf[32];
	span idx = sp("", 0), rest = sp("", 0), tok;
	size_t np = 0;
	char why[256];
	rec *r = &s->rec;
	int more = 1, path_ok = 1;

	cut_space(value, &idx, &rest); /* read_cert() checked both */
	parse_dec(idx, &r->idx);
	if (first && r->idx != 0)
		say(&s->r, EVV_FAIL, C_INIT, "the certificate has no record 0 (the "
		    "vault's init record, which registers the first custodian)");

	/* Step 6: inclusion. */
	if (!cut_space(rest, &tok, &rest))
		tok = rest, more = 0;
	while (more && path_ok) {
		span h;
		if (!cut_space(rest, &h, &rest))
			h = rest, more = 0;
		if (np == PATH_MAX_HASHES) {
			say(&s->r, EVV_FAIL, C_INCLUSION, "record %" PRIu64 ": its "
			    "inclusion path has more than %d hashes", r->idx,
			    PATH_MAX_HASHES);
			path_ok = 0;
		} else if (b64_hash(h, path[np++]) < 0) {
			say(&s->r, EVV_FAIL, C_INCLUSION, "record %" PRIu64 ": hash %zu "
			    "of its inclusion path is not 44 characters of base64 of "
			    "32 bytes", r->idx, np);
			path_ok = 0;
		}
	}
	if (rec_bytes(r, tok, why, sizeof why) < 0) {
		say(&s->r, EVV_FAIL, C_INCLUSION, "record %" PRIu64 ": %s", r->idx, why);
		if (r->idx == 0)
			say(&s->r, EVV_FAIL, C_INIT, "record 0 cannot be read, so no "
			    "custodian is registered");
		return;
	}
	leaf_hash(r->bytes, r->len, leaf);
	if (r->idx >= s->tree_size)
		say(&s->r, EVV_FAIL, C_INCLUSION, "record %" PRIu64 ": its index is "
		    "not below the tree size %" PRIu64, r->idx, s->tree_size);
	else if (path_ok && !inclusion_ok(r->idx, s->tree_size, leaf,
					  (const unsigned char(*)[32])path, np,
					  s->root))
		say(&s->r, EVV_FAIL, C_INCLUSION, "record %" PRIu64 ": inclusion "
		    "proof does not lead to the checkpoint's root (the record or "
		    "its proof was changed, or it is not in this log)", r->idx);

	/* Step 7: form. */
	if (rec_form(r, why, sizeof why) < 0) {
		say(&s->r, EVV_FAIL, C_FORM, "record %" PRIu64 ": %s", r->idx, why);
		if (r->idx == 0)
			say(&s->r, EVV_FAIL, C_INIT, "record 0 is malformed, so no "
			    "custodian is registered");
		return;
	}
	s->nformed++;
	walk(s, r);        /* step 8 */
	check_item(s, r, leaf);  /* step 9 */
}

/* Steps 6 to 9, walking the records in index order. */
static void check_records(state *s)
{
	static const enum check rc[] = {C_INCLUSION, C_FORM, C_INIT,
		C_SIGNATURE, C_CUSTODIAN, C_ITEM};
	span rest = s->fields, f, v;
	int first = 1, all_formed;
	char more[128];
	size_t i;
	shown a;

	while (next_field(&rest, &f, &v)) {
		if (!span_is(f, "record"))
			continue;
		check_record(s, v, first);
		rec_free(&s->rec);
		first = 0;
	}
	all_formed = s->nformed == s->nrecords;
	if (all_formed && s->ningest == 0)
		say(&s->r, EVV_FAIL, C_ITEM, "the certificate has no ingest record "
		    "of its item");
	for (i = 0; i < sizeof rc / sizeof *rc; i++) {
		if (s->r.fails[rc[i]] <= FAILS_SHOWN)
			continue;
		snprintf(more, sizeof more, "... and %lu more failures of this "
			 "check (only the first %d are listed)",
			 s->r.fails[rc[i]] - FAILS_SHOWN, FAILS_SHOWN);
		s->r.fn(s->r.ctx, EVV_FAIL, check_name[rc[i]], more);
	}
	if (!s->r.fails[C_INCLUSION])
		say(&s->r, EVV_PASS, C_INCLUSION, "all %zu records are in the log: "
		    "their inclusion proofs lead to the root of tree size %" PRIu64,
		    s->nrecords, s->tree_size);
	if (!s->r.fails[C_FORM])
		say(&s->r, EVV_PASS, C_FORM, "every record is a signed note with a "
		    "well-formed JSON body");
	if (!all_formed)
		return; /* the records that cannot be read are not checked below */
	if (!s->r.fails[C_INIT] && s->have_init)
		say(&s->r, EVV_PASS, C_INIT, "record 0 is the init record of vault "
		    "%s; it registers %s", show(&a, sp(s->origin.p + 7,
		    s->origin.n - 7)), s->init_key.text);
	if (!s->r.fails[C_SIGNATURE] && !s->r.fails[C_INIT])
		say(&s->r, EVV_PASS, C_SIGNATURE, "every record is signed by the "
		    "custodian it names, with the key registered before it");
	if (!s->r.fails[C_CUSTODIAN] && !s->r.fails[C_SIGNATURE])
		say(&s->r, EVV_PASS, C_CUSTODIAN, "the custodian registry is "
		    "consistent (%zu registered at the end)", s->nreg);
	if (!s->r.fails[C_ITEM])
		say(&s->r, EVV_PASS, C_ITEM, "%zu records concern the item, "
		    "among them %zu ingest of %" PRIu64 " bytes", s->nitem,
		    s->ningest, s->size);
}

/* Step 10: the file given is the item. */
static void check_file(state *s)
{
	char hex[65];
	shown a;
	int ok = 1;

	if (!s->o->have_file) {
		say(&s->r, EVV_NOTE, C_FILE, "no file was given: the certificate "
		    "was checked, not that a file is its item");
		return;
	}
	to_hex(s->o->file_sha256, 32, hex);
	if (!span_eq(sp(hex, 64), s->item)) {
		say(&s->r, EVV_FAIL, C_FILE, "the file's SHA-256 is %s, the "
		    "certificate's item is %s", hex, show(&a, s->item));
		ok = 0;
	}
	if (s->o->file_size != s->size) {
		say(&s->r, EVV_FAIL, C_FILE, "the file is %" PRIu64 " bytes, the "
		    "certificate's size is %" PRIu64, s->o->file_size, s->size);
		ok = 0;
	}
	if (ok)
		say(&s->r, EVV_PASS, C_FILE, "the file is the item: SHA-256 %s, %"
		    PRIu64 " bytes", hex, s->size);
}

/* --- what the certificate says, for the reader --- */

/* A statement value (valid UTF-8, no control character: step 1), cut at
 * INFO_MAX bytes on a character boundary. */
static void info(state *s, const char *check, span v)
{
	char buf[INFO_MAX + 4];
	size_t n = v.n;

	if (n > INFO_MAX) {
		n = INFO_MAX;
		while (n > 0 && ((unsigned char)v.p[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(buf, v.p, n);
	strcpy(buf + n, n < v.n ? "..." : "");
	s->r.fn(s->r.ctx, EVV_INFO, check, buf);
}

/* "<index> <time> <kind> <actor>" of a record, read again ("?" for what
 * cannot be read), and the names of cosigners that were not checked. */
static void show_info(state *s)
{
	static const char *const shown_fields[] = {"fact", "omitted", "media",
		"stream"};
	static const char *const top[] = {"item", "size", "type", "origin",
		"log-key", "issued", "issuer", "tree"};
	const span *const topv[] = {&s->item, &s->size_s, &s->type, &s->origin,
		&s->logkey, &s->issued, &s->issuer, &s->tree};
	const note *notes[2] = {s->cp_ok ? &s->cp : NULL,
		s->later_parsed ? &s->later : NULL};
	span rest, f, v, idx, tail, tok;
	char line[4 * SHOW_MAX + 64], why[256];
	size_t i, j, k, m;

	for (i = 0; i < sizeof top / sizeof *top; i++)
		info(s, top[i], *topv[i]);
	for (k = 0; k < sizeof shown_fields / sizeof *shown_fields; k++)
		for (rest = s->fields; next_field(&rest, &f, &v);)
			if (span_is(f, shown_fields[k]))
				info(s, shown_fields[k], v);
	for (rest = s->fields; next_field(&rest, &f, &v);) {
		rec *r = &s->rec;
		shown a, b, c;
		if (!span_is(f, "record"))
			continue;
		idx = tail = sp("", 0);
		cut_space(v, &idx, &tail);
		if (!cut_space(tail, &tok, &tail))
			tok = tail;
		if (rec_bytes(r, tok, why, sizeof why) == 0)
			rec_form(r, why, sizeof why);
		snprintf(line, sizeof line, "%.*s %s %s %s", (int)idx.n, idx.p,
			 r->formed ? show_as(&a, r->time, 1) : "?",
			 r->formed ? show_as(&b, r->kind, 1) : "?",
			 r->formed ? show_as(&c, r->actor, 0) : "?");
		s->r.fn(s->r.ctx, EVV_INFO, "record", line);
		rec_free(r);
	}
	/* Cosignature lines of keys other than the log key and the witnesses
	 * given, on either checkpoint, each named once. */
	for (k = 0; k < 2; k++) {
		for (i = 0; notes[k] && i < notes[k]->nsig; i++) {
			const sigline *l = &notes[k]->sig[i];
			int known = s->trust && l->id == s->trust->id &&
				    span_eq(l->name, sp(s->trust->name, s->trust->name_len));
			for (j = 0; j < s->nwit && !known; j++)
				known = l->id == s->wit[j].id &&
					span_eq(l->name, sp(s->wit[j].name, s->wit[j].name_len));
			for (m = 0; m < k && !known; m++)
				for (j = 0; notes[m] && j < notes[m]->nsig && !known; j++)
					known = notes[m]->sig[j].id == l->id &&
						span_eq(notes[m]->sig[j].name, l->name);
			for (j = 0; j < i && !known; j++)
				known = notes[k]->sig[j].id == l->id &&
					span_eq(notes[k]->sig[j].name, l->name);
			if (known)
				continue;
			snprintf(line, sizeof line, "%.*s+%08" PRIx32, (int)l->name.n,
				 l->name.p, l->id);
			s->r.fn(s->r.ctx, EVV_INFO, "witness-line", line);
		}
	}
}

/* --- the keys given --- */

static int given_keys(state *s)
{
	const evv_opts *o = s->o;
	const char *why;
	shown a;
	size_t i, j;
	vkey k;

	if (o->log_vkey) {
		why = vkey_parse(sp(o->log_vkey, strlen(o->log_vkey)), &s->given);
		if (why || s->given.type != 0x01) {
			say(&s->r, EVV_FAIL, C_KEY, "the log key given, %s, is not %s%s",
			    show(&a, sp(o->log_vkey, strlen(o->log_vkey))),
			    why ? "a verifier key: " : "a log (type 0x01) key",
			    why ? why : "");
			return -1;
		}
	}
	if (o->nwitnesses && !(s->wit = calloc(o->nwitnesses, sizeof *s->wit)))
		return say(&s->r, EVV_FAIL, C_KEY, "out of memory"), -1;
	for (i = 0; i < o->nwitnesses; i++) {
		const char *w = o->witness_vkeys[i];
		why = vkey_parse(sp(w, strlen(w)), &k);
		if (why || k.type != 0x04) {
			say(&s->r, EVV_FAIL, C_KEY, "the witness key given, %s, is not "
			    "%s%s", show(&a, sp(w, strlen(w))), why ?
			    "a verifier key: " : "a witness (type 0x04, "
			    "cosignature/v1) key", why ? why : "");
			return -1;
		}
		for (j = 0; j < s->nwit; j++)
			if (s->wit[j].id == k.id && !strcmp(s->wit[j].name, k.name))
				break;
		if (j < s->nwit && !same_key(&s->wit[j], &k)) {
			say(&s->r, EVV_FAIL, C_KEY, "two witness keys given have the "
			    "name %s and key id %08" PRIx32 ": which one signs is "
			    "ambiguous", k.name, k.id);
			return -1;
		}
		if (j == s->nwit)
			s->wit[s->nwit++] = k;
	}
	return 0;
}

static int verify(state *s, span cert)
{
	if (given_keys(s) < 0)
		return 2;
	if (!s->o->later_checkpoint != !s->o->consistency) {
		say(&s->r, EVV_FAIL, C_USAGE, "a later checkpoint and a consistency "
		    "proof are given together, or neither");
		return 2;
	}
	if (read_cert(s, cert) < 0)
		return 2;
	check_log_key(s);       /* 2 */
	check_statement(s);     /* 3 */
	check_checkpoint(s);    /* 4 */
	if (s->o->later_checkpoint)
		check_later(s); /* section 6, before 5: witnesses may have
				 * cosigned the later checkpoint */
	check_witnesses(s);     /* 5 */
	check_records(s);       /* 6 to 9 */
	check_file(s);          /* 10 */
	show_info(s);
	return s->r.failed ? 1 : 0;
}

int evv_verify(const char *cert, size_t len, const evv_opts *o,
	       evv_report_fn fn, void *ctx)
{
	static const evv_opts none;
	state *s;
	int rc;

	if (sodium_init() < 0) {
		fn(ctx, EVV_FAIL, "read", "cannot initialise libsodium");
		return 2;
	}
	if (!(s = calloc(1, sizeof *s))) {
		fn(ctx, EVV_FAIL, "read", "out of memory");
		return 2;
	}
	s->r.fn = fn;
	s->r.ctx = ctx;
	s->o = o ? o : &none;
	rc = verify(s, cert ? sp(cert, len) : sp("", 0));
	rec_free(&s->rec);
	free(s->wit);
	free(s->reg);
	free(s->ho);
	free(s);
	return rc;
}

/* ===== The report as text ================================================
 * How both tools print a report: checks as they come, then what the
 * certificate says.  A certificate that cannot be read, or a key that is
 * not a key, is an error on stderr, "<program>: ..." (exit status 2). */
void evv_print_text(void *ctx, evv_status st, const char *check,
		    const char *detail)
{
	evv_text *p = ctx;

	switch (st) {
	case EVV_PASS:
		printf("ok    %s: %s\n", check, detail);
		break;
	case EVV_FAIL:
		if (!strcmp(check, "read"))
			fprintf(stderr, "%s: cannot check '%s': %s\n", p->program,
				p->cert, detail);
		else if (!strcmp(check, "key") || !strcmp(check, "usage"))
			fprintf(stderr, "%s: %s\n", p->program, detail);
		else
			printf("FAIL  %s: %s\n", check, detail);
		break;
	case EVV_NOTE:
		printf("note  %s: %s\n", check, detail);
		break;
	case EVV_INFO:
		if (!p->infos++)
			putchar('\n');
		printf("%-13s %s\n", check, detail);
		break;
	}
}

/* ===== 7. The program =================================================== */
#ifndef EVV_LIBRARY

static const char usage[] =
	"usage: evault-verify [--key VKEY] [--witness VKEY]...\n"
	"                     [--checkpoint FILE --consistency FILE] CERT [FILE]\n"
	"\n"
	"Check an evault verification certificate (docs/certificate.md) and,\n"
	"given FILE, that FILE is the item it is about.\n"
	"\n"
	"  --key VKEY          the vault's log key, obtained from its holders;\n"
	"                      without it the key is taken from the certificate,\n"
	"                      which then proves only that it is self-consistent\n"
	"  --witness VKEY      a witness that must have cosigned the checkpoint\n"
	"                      (or the later one); any number\n"
	"  --checkpoint FILE   a later checkpoint of the vault's log, and\n"
	"  --consistency FILE  the consistency proof to it ('evault consistency')\n"
	"\n"
	"A VKEY is the key itself (name+keyid+base64) or a file whose first line\n"
	"is the key.  Exit status: 0 valid, 1 invalid, 2 could not check.\n";

/* Read a whole file ("-": stdin) of at most max bytes.  NULL after
 * printing why. */
static char *slurp(const char *path, size_t max, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	char *buf = NULL, *nb;
	size_t cap = 0, n = 0, got;

	if (!f) {
		fprintf(stderr, "evault-verify: cannot read '%s': %s\n", path,
			strerror(errno));
		return NULL;
	}
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			if (cap > max + 1)
				cap = max + 1;
			if (n == cap || !(nb = realloc(buf, cap))) {
				fprintf(stderr, "evault-verify: '%s' is %s\n", path,
					n == cap ? "too large" : "too large to "
					"read (out of memory)");
				goto fail;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "evault-verify: cannot read '%s': %s\n", path,
			strerror(errno));
		goto fail;
	}
	if (n > max) {
		fprintf(stderr, "evault-verify: '%s' is too large (over %zu bytes)\n",
			path, max);
		goto fail;
	}
	if (f != stdin)
		fclose(f);
	*len = n;
	return buf ? buf : calloc(1, 1);
fail:
	if (f != stdin)
		fclose(f);
	free(buf);
	return NULL;
}

/* A VKEY argument: a file whose first line is the key, else the key. */
static char *key_arg(const char *arg)
{
	FILE *f = fopen(arg, "rb");
	char *k, *nl;
	size_t len;

	if (!f && (errno == ENOENT || errno == ENOTDIR || errno == ENAMETOOLONG)) {
		len = strlen(arg);
		if ((k = malloc(len + 1)))
			memcpy(k, arg, len + 1);
		return k;
	}
	if (f)
		fclose(f);
	if (!(k = slurp(arg, 4096, &len)))
		return NULL;
	if ((nl = memchr(k, '\n', len)) != NULL)
		len = (size_t)(nl - k);
	if (memchr(k, '\0', len))
		len = 0; /* a NUL in the line: not a key (evv_verify says so) */
	k[len] = '\0';
	return k;
}

/* SHA-256 and size of a file, streamed (constant memory). */
static int hash_file(const char *path, unsigned char out[32], uint64_t *size)
{
	crypto_hash_sha256_state st;
	static unsigned char buf[1 << 16];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		fprintf(stderr, "evault-verify: cannot read '%s': %s\n", path,
			strerror(errno));
		return -1;
	}
	crypto_hash_sha256_init(&st);
	*size = 0;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
		crypto_hash_sha256_update(&st, buf, n);
		*size += n;
	}
	if (ferror(f)) {
		fprintf(stderr, "evault-verify: cannot read '%s': %s\n", path,
			strerror(errno));
		fclose(f);
		return -1;
	}
	fclose(f);
	crypto_hash_sha256_final(&st, out);
	return 0;
}

/* --name VALUE or --name=VALUE at argv[*i]: the value, or NULL. */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		fprintf(stderr, "evault-verify: %s needs a value\n%s", name, usage);
		exit(2);
	}
	return argv[++*i];
}

int main(int argc, char **argv)
{
	const char *key = NULL, *cp_file = NULL, *cons_file = NULL, *v;
	const char *args[2] = {NULL, NULL};
	char **wit = calloc((size_t)argc + 1, sizeof *wit), *cert = NULL;
	char *later = NULL, *cons = NULL, *logkey = NULL;
	size_t nwit = 0, nargs = 0, len = 0, i;
	evv_opts o;
	evv_text p = {"evault-verify", NULL, 0};
	int rc = 2, only_args = 0;

	memset(&o, 0, sizeof o);
	if (!wit || sodium_init() < 0) {
		fprintf(stderr, "evault-verify: cannot start\n");
		free(wit);
		return 2;
	}
	for (int a = 1; a < argc; a++) {
		if (only_args || argv[a][0] != '-' || !strcmp(argv[a], "-")) {
			if (nargs == 2) {
				fprintf(stderr, "evault-verify: too many arguments\n%s", usage);
				goto out;
			}
			args[nargs++] = argv[a];
		} else if (!strcmp(argv[a], "--")) {
			only_args = 1;
		} else if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) {
			fputs(usage, stdout);
			rc = 0;
			goto out;
		} else if ((v = opt_value(argc, argv, &a, "--key"))) {
			key = v;
		} else if ((v = opt_value(argc, argv, &a, "--witness"))) {
			if (!(wit[nwit] = key_arg(v)))
				goto out;
			nwit++;
		} else if ((v = opt_value(argc, argv, &a, "--checkpoint"))) {
			cp_file = v;
		} else if ((v = opt_value(argc, argv, &a, "--consistency"))) {
			cons_file = v;
		} else {
			fprintf(stderr, "evault-verify: unknown option '%s'\n%s",
				argv[a], usage);
			goto out;
		}
	}
	if (nargs == 0 || !cp_file != !cons_file) {
		fprintf(stderr, "%s%s", nargs ? "evault-verify: --checkpoint and "
			"--consistency go together\n" : "", usage);
		goto out;
	}
	if ((key && !(logkey = key_arg(key))) ||
	    !(cert = slurp(args[0], CERT_MAX, &len)))
		goto out;
	if (cp_file) {
		if (!(later = slurp(cp_file, CHECKPOINT_MAX, &o.later_checkpoint_len)) ||
		    !(cons = slurp(cons_file, 65536, &o.consistency_len)))
			goto out;
		o.later_checkpoint = later;
		o.consistency = cons;
	}
	if (args[1]) {
		if (hash_file(args[1], o.file_sha256, &o.file_size) < 0)
			goto out;
		o.have_file = 1;
	}
	o.log_vkey = logkey;
	o.witness_vkeys = (const char *const *)wit;
	o.nwitnesses = nwit;
	p.cert = args[0];
	rc = evv_verify(cert, len, &o, evv_print_text, &p);
	if (rc != 2)
		printf("\n%s\n", rc == 0 ? "VALID" : "INVALID");
out:
	for (i = 0; i < nwit; i++)
		free(wit[i]);
	free(wit);
	free(cert);
	free(later);
	free(cons);
	free(logkey);
	return rc;
}
#endif /* !EVV_LIBRARY */
