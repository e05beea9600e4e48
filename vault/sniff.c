/*
 * sniff.c: a first guess at a file's type from its leading bytes, made
 * while it streams in.  It reads only a fixed window of bytes at fixed
 * offsets, so it parses nothing; the sandboxed probe (a later module)
 * gives the real answer.
 */
#include <string.h>

#include "vault/internal.h"

struct magic {
	size_t off;
	const char *bytes;
	size_t len;
	const char *type;
};

static const struct magic magics[] = {
	{0, "\xff\xd8\xff", 3, "image/jpeg"},
	{0, "\x89PNG\r\n\x1a\n", 8, "image/png"},
	{0, "GIF87a", 6, "image/gif"},
	{0, "GIF89a", 6, "image/gif"},
	{0, "II*\0", 4, "image/tiff"},
	{0, "MM\0*", 4, "image/tiff"},
	{0, "\x1a\x45\xdf\xa3", 4, "video/x-matroska"},
	{0, "FLV\x01", 4, "video/x-flv"},
	{0, "ID3", 3, "audio/mpeg"},
	{0, "OggS", 4, "audio/ogg"},
	{0, "fLaC", 4, "audio/flac"},
	{0, "%PDF-", 5, "application/pdf"},
	{0, "PK\x03\x04", 4, "application/zip"},
};

static int isobmff(const unsigned char *b, size_t len, char out[48])
{
	if (len < 12 || memcmp(b + 4, "ftyp", 4) != 0)
		return 0;
	const char *brand = (const char *)b + 8;
	if (!memcmp(brand, "qt  ", 4))
		snprintf(out, 48, "video/quicktime");
	else if (!memcmp(brand, "heic", 4) || !memcmp(brand, "heix", 4) ||
		 !memcmp(brand, "mif1", 4) || !memcmp(brand, "msf1", 4))
		snprintf(out, 48, "image/heif");
	else if (!memcmp(brand, "avif", 4))
		snprintf(out, 48, "image/avif");
	else if (!memcmp(brand, "3gp", 3))
		snprintf(out, 48, "video/3gpp");
	else if (!memcmp(brand, "M4A ", 4))
		snprintf(out, 48, "audio/mp4");
	else
		snprintf(out, 48, "video/mp4");
	return 1;
}

/* Text: printable ASCII, tabs and line ends, and valid UTF-8 sequences
 * (one cut by the end of the window allowed); bytes >= 0x80 that are not
 * UTF-8 make it binary (0xDEADBEEF filler is not text). */
static int is_text(const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = b[i];
		if (c == '\n' || c == '\r' || c == '\t' || (c >= 0x20 && c < 0x7f)) {
			i++;
			continue;
		}
		size_t k = c >= 0xc2 && c <= 0xdf   ? 1
			   : c >= 0xe0 && c <= 0xef ? 2
			   : c >= 0xf0 && c <= 0xf4 ? 3
						    : 0;
		if (k == 0)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if (i + j >= n)
				return 1; /* cut by the window */
			if ((b[i + j] & 0xc0) != 0x80)
				return 0;
		}
		i += k + 1;
	}
	return 1;
}

void sniff_type(const unsigned char *b, size_t len, char out[48])
{
	if (isobmff(b, len, out))
		return;
	if (len >= 12 && !memcmp(b, "RIFF", 4)) {
		const char *t = !memcmp(b + 8, "WEBP", 4)   ? "image/webp"
				: !memcmp(b + 8, "AVI ", 4) ? "video/x-msvideo"
				: !memcmp(b + 8, "WAVE", 4) ? "audio/wav"
							    : "application/x-riff";
		snprintf(out, 48, "%s", t);
		return;
	}
	if (len >= 8 && !memcmp(b + 4, "moov", 4)) {
		snprintf(out, 48, "video/quicktime");
		return;
	}
	for (size_t i = 0; i < sizeof magics / sizeof *magics; i++) {
		const struct magic *m = &magics[i];
		if (m->type && len >= m->off + m->len &&
		    memcmp(b + m->off, m->bytes, m->len) == 0) {
			snprintf(out, 48, "%s", m->type);
			return;
		}
	}
	/* MPEG transport stream: sync byte every 188 (or 192) bytes. */
	for (size_t step = 188; step <= 192; step += 4)
		if (len >= 3 * step + 5) {
			size_t o = step == 192 ? 4 : 0;
			if (b[o] == 0x47 && b[o + step] == 0x47 &&
			    b[o + 2 * step] == 0x47) {
				snprintf(out, 48, "video/mp2t");
				return;
			}
		}
	if (len >= 2 && b[0] == 0xff && (b[1] & 0xe0) == 0xe0) {
		snprintf(out, 48, "audio/mpeg");
		return;
	}
	size_t n = len < 4096 ? len : 4096;
	if (n > 0 && is_text(b, n))
		snprintf(out, 48, "text/plain");
	else if (n == 0)
		snprintf(out, 48, "application/x-empty");
	else
		snprintf(out, 48, "application/octet-stream");
}
