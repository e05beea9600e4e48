/*
 * util.c: what every media parser needs to put a hostile file's bytes into
 * a JSON document safely: bounded, valid UTF-8 strings, hex and base64 of
 * raw bytes, and the error and warning lists.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "vault/media/media.h"

/* Length of the valid UTF-8 sequence at p (1-4), or 0 if invalid. */
static size_t utf8_seq(const uint8_t *p, size_t left)
{
	uint8_t c = p[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and code points past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

json_t *media_str(const void *bytes, size_t len)
{
	const uint8_t *p = bytes;
	const void *nul = memchr(p, 0, len);
	if (nul)
		len = (size_t)((const uint8_t *)nul - p);
	if (len > MEDIA_STR_MAX)
		len = MEDIA_STR_MAX;

	/* Worst case every byte becomes "\xNN". */
	char stack[512];
	char *out = len * 4 + 1 <= sizeof stack ? stack : malloc(len * 4 + 1);
	if (!out)
		return json_string("");
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq(p + i, len - i);
		if (n) {
			memcpy(out + o, p + i, n);
			o += n;
			i += n;
		} else {
			o += (size_t)snprintf(out + o, 5, "\\x%02x", p[i]);
			i++;
		}
	}
	json_t *s = o ? json_stringn(out, o) : json_string("");
	if (out != stack)
		free(out);
	return s ? s : json_string("");
}

json_t *media_hex(const void *bytes, size_t len)
{
	if (!media_keep_raw)
		return json_null();
	char *hex = malloc(len * 2 + 1);
	if (!hex)
		return json_null();
	sodium_bin2hex(hex, len * 2 + 1, bytes, len);
	json_t *s = json_stringn(hex, len * 2);
	free(hex);
	return s;
}

int media_keep_raw = 1;

json_t *media_b64(const void *bytes, size_t len)
{
	if (!media_keep_raw)
		return json_null();
	size_t n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *b = malloc(n);
	if (!b)
		return json_null();
	sodium_bin2base64(b, n, bytes, len, sodium_base64_VARIANT_ORIGINAL);
	json_t *s = json_string(b);
	free(b);
	return s;
}

/* At most this many messages per list: a broken file can make a parser
 * complain once per packet. */
#define MEDIA_MSG_MAX 64

static void add_msg(json_t *list, const char *parser, const char *fmt,
		    va_list ap)
{
	char msg[512];
	int n = snprintf(msg, sizeof msg, "%s: ", parser);
	if (n < 0 || (size_t)n >= sizeof msg)
		return;
	vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
	/* Parsers' messages end in newlines and may quote file bytes. */
	size_t l = strlen(msg);
	while (l && (msg[l - 1] == '\n' || msg[l - 1] == ' ' || msg[l - 1] == '.'))
		msg[--l] = '\0';
	size_t count = json_array_size(list);
	for (size_t i = 0; i < count; i++)
		if (!strcmp(json_string_value(json_array_get(list, i)), msg))
			return; /* said already */
	if (count == MEDIA_MSG_MAX)
		json_array_append_new(list, json_string("... (more messages left out)"));
	else if (count < MEDIA_MSG_MAX)
		json_array_append_new(list, media_str(msg, l));
}

void media_error(media_ctx *m, const char *parser, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add_msg(m->errors, parser, fmt, ap);
	va_end(ap);
}

void media_warning(media_ctx *m, const char *parser, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add_msg(m->warnings, parser, fmt, ap);
	va_end(ap);
}

json_t *media_cand(media_ctx *m, const char *source)
{
	json_t *c = json_object_get(m->cand, source);
	if (!c) {
		c = json_object();
		json_object_set_new(m->cand, source, c);
	}
	return c;
}

int media_exif_time(const char *exif, const char *offset, char out[40])
{
	int y, mo, d, h, mi, s;
	char tail;
	if (!exif || sscanf(exif, "%4d:%2d:%2d %2d:%2d:%2d%c", &y, &mo, &d, &h,
			    &mi, &s, &tail) != 6)
		return 0;
	if (y < 1800 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h > 23 || mi > 59 || s > 60 || h < 0 || mi < 0 || s < 0)
		return 0;
	int n = snprintf(out, 40, "%04d-%02d-%02dT%02d:%02d:%02d", y, mo, d, h,
			 mi, s);
	int oh, om;
	char sign;
	if (offset && sscanf(offset, "%c%2d:%2d%c", &sign, &oh, &om, &tail) == 3 &&
	    (sign == '+' || sign == '-') && oh >= 0 && oh <= 14 && om >= 0 &&
	    om < 60)
		snprintf(out + n, (size_t)(40 - n), "%c%02d:%02d", sign, oh, om);
	return 1;
}

void media_segment(media_ctx *m, const char *kind, const char *where,
		   const uint8_t *bytes, size_t n)
{
	json_t *segs = json_object_get(m->doc, "segments");
	if (!segs) {
		segs = json_array();
		json_object_set_new(m->doc, "segments", segs);
	}
	json_t *seg = json_pack("{s:s,s:s}", "kind", kind, "where", where);
	/* Bytes inside the file keep their place; others (a HEIF item
	 * libheif assembled) have none. */
	if (bytes >= m->data && bytes + n <= m->data + m->len)
		json_object_set_new(seg, "offset",
				    json_integer((json_int_t)(bytes - m->data)));
	json_object_set_new(seg, "size", json_integer((json_int_t)n));
	json_object_set_new(seg, "data", media_b64(bytes, n));
	json_array_append_new(segs, seg);
}
