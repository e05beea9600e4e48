/*
 * segments.c: a photo's own structure, walked by hand, because the
 * metadata is in the framing: JPEG marker segments (APPn, COM) up to the
 * entropy-coded data and on to the end-of-image marker, PNG chunks,
 * RIFF/WebP chunks, the TIFF header, GIF's screen descriptor.
 *
 * Every metadata segment is kept byte-exact (base64) in doc.segments with
 * its offset, so nothing a camera or editor wrote is lost even where no
 * library understands it; EXIF blocks go on to libexif (exif.c), XMP
 * packets to xmp.c.  doc.image gets the format and the dimensions of the
 * coded picture.  Structural damage (a segment running past the end, no
 * end-of-image marker) is an error "jpeg: ..." / "png: ..." / "webp: ...";
 * bytes after the end (a Pixel motion photo's MP4, say) are reported as a
 * trailer, and an MP4 there is described by libavformat as
 * doc.image.trailer.container.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vault/media/media.h"

/* Keep one segment: its payload (after the marker and length) at `off`. */
static void keep(media_ctx *m, const char *kind, const char *where,
		 size_t off, size_t size)
{
	media_segment(m, kind, where, m->data + off, size);
}

static json_t *image(media_ctx *m, const char *format)
{
	json_t *img = json_object_get(m->doc, "image");
	if (!img) {
		img = json_object();
		json_object_set_new(m->doc, "image", img);
		json_object_set_new(img, "format", json_string(format));
	}
	return img;
}

static void dimensions(media_ctx *m, const char *format, uint32_t w, uint32_t h)
{
	json_t *img = image(m, format);
	json_object_set_new(img, "width", json_integer(w));
	json_object_set_new(img, "height", json_integer(h));
	json_t *c = media_cand(m, "image");
	json_object_set_new(c, "width", json_integer(w));
	json_object_set_new(c, "height", json_integer(h));
	json_object_set_new(c, "container", json_string(format));
}

/* Bytes after the format's end: report them, and let libavformat describe
 * an appended MP4 (motion photos). */
static void trailer(media_ctx *m, const char *format, size_t end)
{
	if (end >= m->len)
		return;
	json_t *t = json_pack("{s:I,s:I}", "offset", (json_int_t)end, "size",
			      (json_int_t)(m->len - end));
	json_object_set_new(image(m, format), "trailer", t);
	const uint8_t *p = m->data + end;
	size_t n = m->len - end;
	if (n < 12 || memcmp(p + 4, "ftyp", 4) != 0)
		return;
	media_ctx sub = *m;
	sub.data = p;
	sub.len = n;
	sub.doc = json_object();
	sub.cand = json_object();
	if (media_av(&sub)) {
		json_t *c = json_object_get(sub.doc, "container");
		if (c)
			json_object_set(t, "container", c);
	}
	json_decref(sub.doc);
	json_decref(sub.cand);
}

/* --- JPEG --------------------------------------------------------------- */

static int is_sof(uint8_t mk)
{
	return mk >= 0xc0 && mk <= 0xcf && mk != 0xc4 && mk != 0xc8 && mk != 0xcc;
}

/* Classify an APPn/COM payload by its identifier, and pass EXIF and XMP
 * on. */
static void jpeg_app(media_ctx *m, uint8_t mk, size_t off, size_t size)
{
	static const char xmp_id[] = "http://ns.adobe.com/xap/1.0/";
	static const char xmp_ext[] = "http://ns.adobe.com/xmp/extension/";
	const uint8_t *p = m->data + off;
	char where[8];
	snprintf(where, sizeof where, mk == 0xfe ? "COM" : "APP%d", mk - 0xe0);

#define STARTS(s) (size >= sizeof(s) && !memcmp(p, s, sizeof(s)))
	if (mk == 0xe1 && size >= 6 && !memcmp(p, "Exif\0", 5)) {
		keep(m, "exif", where, off, size);
		media_exif(m, p + 6, size - 6, where);
	} else if (mk == 0xe1 && STARTS(xmp_id)) {
		keep(m, "xmp", where, off, size);
		media_xmp(m, p + sizeof xmp_id, size - sizeof xmp_id);
	} else if (mk == 0xe1 && STARTS(xmp_ext)) {
		keep(m, "xmp-extension", where, off, size);
	} else if (mk == 0xe2 && STARTS("ICC_PROFILE")) {
		keep(m, "icc", where, off, size);
	} else if (mk == 0xe2 && size >= 4 && !memcmp(p, "MPF\0", 4)) {
		keep(m, "mpf", where, off, size);
	} else if (mk == 0xed && STARTS("Photoshop 3.0")) {
		keep(m, "photoshop-iptc", where, off, size);
	} else if (mk == 0xe0 && size >= 5 &&
		   (!memcmp(p, "JFIF\0", 5) || !memcmp(p, "JFXX\0", 5))) {
		keep(m, "jfif", where, off, size);
	} else if (mk == 0xee && size >= 5 && !memcmp(p, "Adobe", 5)) {
		keep(m, "adobe", where, off, size);
	} else if (mk == 0xfe) {
		keep(m, "comment", where, off, size);
	} else {
		keep(m, "app", where, off, size);
	}
#undef STARTS
}

/* From just after an SOS header, the offset of the next marker that is
 * not a restart marker or a stuffed 0xFF00, or len if none. */
static size_t skip_scan(const uint8_t *d, size_t pos, size_t len)
{
	while (pos + 1 < len) {
		const uint8_t *ff = memchr(d + pos, 0xff, len - pos - 1);
		if (!ff)
			return len;
		pos = (size_t)(ff - d);
		uint8_t nx = d[pos + 1];
		if (nx == 0x00 || (nx >= 0xd0 && nx <= 0xd7) || nx == 0xff)
			pos += nx == 0xff ? 1 : 2;
		else
			return pos;
	}
	return len;
}

static void jpeg(media_ctx *m)
{
	const uint8_t *d = m->data;
	size_t len = m->len, pos = 2;
	int sos = 0;

	image(m, "jpeg");
	for (;;) {
		if (pos + 2 > len) {
			media_error(m, "jpeg", "no end-of-image marker: the file "
				    "ends at %zu bytes (truncated?)", len);
			return;
		}
		if (d[pos] != 0xff) {
			media_error(m, "jpeg", "bad marker at offset %zu", pos);
			return;
		}
		uint8_t mk = d[pos + 1];
		if (mk == 0xff) { /* fill byte */
			pos++;
			continue;
		}
		if (mk == 0xd9) {
			if (!sos)
				media_error(m, "jpeg", "end of image before any image data");
			trailer(m, "jpeg", pos + 2);
			return;
		}
		if ((mk >= 0xd0 && mk <= 0xd7) || mk == 0x01) {
			pos += 2;
			continue;
		}
		if (pos + 4 > len) {
			media_error(m, "jpeg", "segment header cut off at offset %zu", pos);
			return;
		}
		size_t seglen = media_be16(d + pos + 2);
		if (seglen < 2 || pos + 2 + seglen > len) {
			media_error(m, "jpeg", "segment at offset %zu (marker 0x%02X, "
				    "length %zu) runs past the end of the file",
				    pos, mk, seglen);
			return;
		}
		size_t off = pos + 4, size = seglen - 2;
		if ((mk >= 0xe0 && mk <= 0xef) || mk == 0xfe) {
			jpeg_app(m, mk, off, size);
		} else if (is_sof(mk) && size >= 6) {
			json_t *img = image(m, "jpeg");
			if (!json_object_get(img, "width")) {
				dimensions(m, "jpeg", media_be16(d + off + 3),
					   media_be16(d + off + 1));
				json_object_set_new(img, "components",
						    json_integer(d[off + 5]));
				json_object_set_new(img, "precision",
						    json_integer(d[off]));
				json_object_set_new(img, "coding", json_string(
					mk == 0xc0 || mk == 0xc1 ? "baseline"
					: mk == 0xc2 ? "progressive" : "other"));
			}
		}
		pos += 2 + seglen;
		if (mk == 0xda) {
			sos = 1;
			pos = skip_scan(d, pos, len);
		}
	}
}

/* --- PNG ---------------------------------------------------------------- */

static void png_text(media_ctx *m, const char *type, size_t off, size_t size)
{
	const uint8_t *p = m->data + off;
	static const char xmp_kw[] = "XML:com.adobe.xmp";
	keep(m, "text", type, off, size);
	/* iTXt: keyword NUL, compression flag, method, language NUL,
	 * translated keyword NUL, text.  Only uncompressed XMP is read. */
	if (strcmp(type, "iTXt") || size < sizeof xmp_kw + 2 ||
	    memcmp(p, xmp_kw, sizeof xmp_kw) != 0 || p[sizeof xmp_kw] != 0)
		return;
	size_t i = sizeof xmp_kw + 2;
	for (int nul = 0; nul < 2 && i < size; i++)
		if (p[i] == 0)
			nul++;
	if (i <= size)
		media_xmp(m, p + i, size - i);
}

static void png(media_ctx *m)
{
	const uint8_t *d = m->data;
	size_t len = m->len, pos = 8;
	image(m, "png");
	while (pos + 12 <= len) {
		uint32_t n = media_be32(d + pos);
		char type[5] = {0};
		memcpy(type, d + pos + 4, 4);
		if (n > len - pos - 12) {
			media_error(m, "png", "chunk %s at offset %zu (length %u) "
				    "runs past the end of the file", type, pos, n);
			return;
		}
		size_t off = pos + 8;
		if (!strcmp(type, "IHDR") && n >= 8) {
			dimensions(m, "png", media_be32(d + off), media_be32(d + off + 4));
		} else if (!strcmp(type, "eXIf")) {
			keep(m, "exif", type, off, n);
			media_exif(m, d + off, n, type);
		} else if (!strcmp(type, "tEXt") || !strcmp(type, "zTXt") ||
			   !strcmp(type, "iTXt")) {
			png_text(m, type, off, n);
		} else if (!strcmp(type, "iCCP")) {
			keep(m, "icc", type, off, n);
		} else if (!strcmp(type, "tIME")) {
			keep(m, "time", type, off, n);
		} else if (!strcmp(type, "IEND")) {
			trailer(m, "png", off + n + 4);
			return;
		}
		pos = off + n + 4;
	}
	media_error(m, "png", "no IEND chunk: the file ends at %zu bytes "
		    "(truncated?)", len);
}

/* --- RIFF / WebP -------------------------------------------------------- */

static void webp(media_ctx *m)
{
	const uint8_t *d = m->data;
	size_t len = m->len, pos = 12;
	image(m, "webp");
	size_t riff_end = (size_t)media_le32(d + 4) + 8;
	if (riff_end > len) {
		media_error(m, "webp", "RIFF size %zu is past the end of the file "
			    "(%zu bytes)", riff_end, len);
		riff_end = len;
	}
	while (pos + 8 <= riff_end) {
		char cc[5] = {0};
		memcpy(cc, d + pos, 4);
		uint32_t n = media_le32(d + pos + 4);
		size_t off = pos + 8;
		if (n > riff_end - off) {
			media_error(m, "webp", "chunk %s at offset %zu (length %u) "
				    "runs past the end", cc, pos, n);
			return;
		}
		const uint8_t *p = d + off;
		if (!strcmp(cc, "VP8X") && n >= 10) {
			dimensions(m, "webp",
				   1 + (p[4] | p[5] << 8 | (uint32_t)p[6] << 16),
				   1 + (p[7] | p[8] << 8 | (uint32_t)p[9] << 16));
		} else if (!strcmp(cc, "VP8 ") && n >= 10 &&
			   !json_object_get(image(m, "webp"), "width")) {
			dimensions(m, "webp", (p[6] | p[7] << 8) & 0x3fff,
				   (p[8] | p[9] << 8) & 0x3fff);
		} else if (!strcmp(cc, "VP8L") && n >= 5 &&
			   !json_object_get(image(m, "webp"), "width")) {
			uint32_t b = media_le32(p + 1);
			dimensions(m, "webp", 1 + (b & 0x3fff), 1 + (b >> 14 & 0x3fff));
		} else if (!strcmp(cc, "EXIF")) {
			keep(m, "exif", cc, off, n);
			/* Some writers put JPEG's "Exif\0\0" in front. */
			size_t skip = n >= 6 && !memcmp(p, "Exif\0\0", 6) ? 6 : 0;
			media_exif(m, p + skip, n - skip, cc);
		} else if (!strcmp(cc, "XMP ")) {
			keep(m, "xmp", cc, off, n);
			media_xmp(m, p, n);
		} else if (!strcmp(cc, "ICCP")) {
			keep(m, "icc", cc, off, n);
		}
		pos = off + n + (n & 1);
	}
	trailer(m, "webp", riff_end);
}

/* --- TIFF, GIF ---------------------------------------------------------- */

static void tiff(media_ctx *m)
{
	image(m, "tiff");
	/* The whole file is the EXIF structure; its dimensions are tags. */
	media_exif(m, m->data, m->len, "TIFF");
	json_t *ifd0 = json_object_get(json_object_get(json_object_get(
		m->doc, "exif"), "ifds"), "0");
	long w = -1, h = -1;
	size_t i;
	json_t *e;
	json_array_foreach(ifd0, i, e) {
		const char *tag = json_string_value(json_object_get(e, "tag"));
		const char *v = json_string_value(json_object_get(e, "value"));
		if (tag && v && !strcmp(tag, "0x0100"))
			w = strtol(v, NULL, 10);
		else if (tag && v && !strcmp(tag, "0x0101"))
			h = strtol(v, NULL, 10);
	}
	if (w > 0 && h > 0 && w <= UINT32_MAX && h <= UINT32_MAX)
		dimensions(m, "tiff", (uint32_t)w, (uint32_t)h);
}

static void gif(media_ctx *m)
{
	if (m->len >= 10)
		dimensions(m, "gif", m->data[6] | m->data[7] << 8,
			   m->data[8] | m->data[9] << 8);
}

/* --- ISO BMFF (MP4, MOV, 3GP, M4A, HEIF) ---------------------------------- */

/* The top-level boxes, each with its offset and size, in doc.boxes; a
 * box that claims more bytes than the file has is an error (the file was
 * cut short, or the length forged), as is one shorter than its header.
 * libavformat and libheif read inside the boxes; this is the outline
 * they take for granted. */
void media_boxes(media_ctx *m)
{
	const uint8_t *d = m->data;
	size_t len = m->len, pos = 0;
	json_t *boxes = json_array();
	json_object_set_new(m->doc, "boxes", boxes);
	while (pos + 8 <= len) {
		uint64_t size = media_be32(d + pos);
		size_t hdr = 8;
		char type[5] = {0};
		memcpy(type, d + pos + 4, 4);
		for (int i = 0; i < 4; i++)
			if (type[i] < 0x20 || type[i] > 0x7e)
				type[i] = '?';
		if (size == 1) {
			if (pos + 16 > len) {
				media_error(m, "mp4", "box '%s' at offset %zu: its 64-bit "
					    "size is cut off", type, pos);
				return;
			}
			size = (uint64_t)media_be32(d + pos + 8) << 32 |
			       media_be32(d + pos + 12);
			hdr = 16;
		} else if (size == 0) {
			size = len - pos; /* to the end of the file */
		}
		if (json_array_size(boxes) < 256)
			json_array_append_new(boxes, json_pack("{s:s,s:I,s:I}", "type",
							       type, "offset",
							       (json_int_t)pos, "size",
							       (json_int_t)size));
		if (size < hdr) {
			media_error(m, "mp4", "box '%s' at offset %zu has an impossible "
				    "size (%llu bytes)", type, pos,
				    (unsigned long long)size);
			return;
		}
		if (size > len - pos) {
			media_error(m, "mp4", "box '%s' at offset %zu (%llu bytes) runs "
				    "past the end of the file (%zu bytes): truncated",
				    type, pos, (unsigned long long)size, len);
			return;
		}
		pos += size;
	}
	if (pos < len)
		media_warning(m, "mp4", "%zu stray bytes after the last box", len - pos);
}

void media_segments(media_ctx *m)
{
	const char *t = m->type;
	if (!strcmp(t, "image/jpeg") && m->len >= 2)
		jpeg(m);
	else if (!strcmp(t, "image/png") && m->len >= 8)
		png(m);
	else if (!strcmp(t, "image/webp") && m->len >= 12)
		webp(m);
	else if (!strcmp(t, "image/tiff"))
		tiff(m);
	else if (!strcmp(t, "image/gif"))
		gif(m);
}
