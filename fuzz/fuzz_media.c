/*
 * fuzz_media.c: the probe's whole media path in one process: the metadata
 * document of a file's bytes (media_document(), vault/media/document.c),
 * which runs the structure walkers (segments.c: JPEG, PNG, WebP, TIFF,
 * GIF, ISO BMFF boxes), libexif (exif.c), the XMP reader (xmp.c),
 * libheif (heif.c), libavformat (av.c), libmagic and the facts merge
 * (facts.c) on whatever the file's leading bytes call for.  The probe runs
 * these in its sandbox; this target finds what would make it crash, hang
 * or leak there, and what makes its answer wrong.
 *
 * Input: a whole file, copied to a buffer of exactly its size (a read past
 * its end is caught by AddressSanitizer), up to 1 MiB (scripts/fuzz.sh
 * passes -max_len).  Seeds: small files made by write_seeds() (JPEG with
 * an APP1 EXIF block and XMP, PNG with eXIf, WebP with EXIF, an MP4 with
 * a video track and a place, a TIFF, a WAV, a GIF), and with the shared
 * media corpus present every corpus file up to its first 1 MiB
 * (scripts/fuzz.sh).  Checks: the document is a JSON object with "v" 1,
 * "sha256" the SHA-256 of the input, "size" its length, a media type in
 * "type", "errors" and "warnings" arrays of strings and a "facts" object;
 * it serialises to at most 64 MiB (the probe protocol's limit), with no
 * NUL in any string, and reads back equal to itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "fuzz/fuzz.h"
#include "vault/media/media.h"

/* The probe protocol's largest answer (docs/formats.md section 19). */
#define DOC_MAX (64u << 20)

/* --- seeds ---------------------------------------------------------------- */

/* A growing byte buffer for making seed files; aborts when memory runs
 * out (the harness is broken). */
typedef struct {
	unsigned char *p;
	size_t n, cap;
} bytes;

static void put(bytes *b, const void *data, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	if (n)
		memcpy(b->p + b->n, data, n);
	b->n += n;
}

static void put_str(bytes *b, const char *s)
{
	put(b, s, strlen(s));
}

static void put_le16(bytes *b, unsigned v)
{
	unsigned char x[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
	put(b, x, 2);
}

static void put_le32(bytes *b, uint32_t v)
{
	unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8),
			      (unsigned char)(v >> 16),
			      (unsigned char)(v >> 24)};
	put(b, x, 4);
}

static void put_be16(bytes *b, unsigned v)
{
	unsigned char x[2] = {(unsigned char)(v >> 8), (unsigned char)v};
	put(b, x, 2);
}

static void put_be32(bytes *b, uint32_t v)
{
	unsigned char x[4] = {(unsigned char)(v >> 24),
			      (unsigned char)(v >> 16), (unsigned char)(v >> 8),
			      (unsigned char)v};
	put(b, x, 4);
}

static void put_zeros(bytes *b, size_t n)
{
	static const unsigned char z[64];
	for (; n > sizeof z; n -= sizeof z)
		put(b, z, sizeof z);
	put(b, z, n);
}

/* One IFD entry of a little-endian TIFF: inline value or offset. */
static void ifd_entry(bytes *b, unsigned tag, unsigned type, uint32_t count,
		      uint32_t value)
{
	put_le16(b, tag);
	put_le16(b, type);
	put_le32(b, count);
	put_le32(b, value);
}

/* A little-endian TIFF/EXIF block: IFD 0 (size, make, model,
 * orientation, software, date), the EXIF IFD (capture time, pixel size)
 * and the GPS IFD (a position, an altitude, a date and time), the values
 * that do not fit in their entries after the IFDs. */
static void tiff_block(bytes *b)
{
	enum { ASCII = 2, SHORT = 3, LONG = 4, RATIONAL = 5 };
	/* offsets: header 8, IFD0 at 8 (9 entries: 2 + 108 + 4 = 114),
	 * EXIF IFD at 122 (3 entries: 42), GPS IFD at 164 (7 entries: 90),
	 * data from 254. */
	const uint32_t ifd0 = 8, exif = 122, gps = 164, dat = 254;
	static const char make[] = "Canon", model[] = "Canon EOS 40D";
	static const char soft[] = "GIMP 2.4.5";
	static const char when[] = "2008:05:30 15:56:01";
	static const char gdate[] = "2008:05:30";
	const uint32_t o_make = dat, o_model = o_make + sizeof make,
		       o_soft = o_model + sizeof model,
		       o_when = o_soft + sizeof soft,
		       o_when2 = o_when + sizeof when,
		       o_lat = o_when2 + sizeof when, o_lon = o_lat + 24,
		       o_alt = o_lon + 24, o_time = o_alt + 8,
		       o_gdate = o_time + 24;

	put_str(b, "II*");
	put(b, "", 1);
	put_le32(b, ifd0);
	put_le16(b, 9);
	ifd_entry(b, 0x0100, LONG, 1, 64); /* ImageWidth */
	ifd_entry(b, 0x0101, LONG, 1, 48); /* ImageLength */
	ifd_entry(b, 0x010f, ASCII, sizeof make, o_make);
	ifd_entry(b, 0x0110, ASCII, sizeof model, o_model);
	ifd_entry(b, 0x0112, SHORT, 1, 6); /* Orientation */
	ifd_entry(b, 0x0131, ASCII, sizeof soft, o_soft);
	ifd_entry(b, 0x0132, ASCII, sizeof when, o_when);
	ifd_entry(b, 0x8769, LONG, 1, exif); /* ExifIfdPointer */
	ifd_entry(b, 0x8825, LONG, 1, gps);  /* GPSInfoIfdPointer */
	put_le32(b, 0);
	put_le16(b, 3);
	ifd_entry(b, 0x9003, ASCII, sizeof when, o_when2);
	ifd_entry(b, 0xa002, LONG, 1, 64);
	ifd_entry(b, 0xa003, LONG, 1, 48);
	put_le32(b, 0);
	put_le16(b, 7);
	ifd_entry(b, 0x0001, ASCII, 2, 'N'); /* GPSLatitudeRef */
	ifd_entry(b, 0x0002, RATIONAL, 3, o_lat);
	ifd_entry(b, 0x0003, ASCII, 2, 'W'); /* GPSLongitudeRef */
	ifd_entry(b, 0x0004, RATIONAL, 3, o_lon);
	ifd_entry(b, 0x0006, RATIONAL, 1, o_alt);
	ifd_entry(b, 0x0007, RATIONAL, 3, o_time);
	ifd_entry(b, 0x001d, ASCII, sizeof gdate, o_gdate);
	put_le32(b, 0);
	put(b, make, sizeof make);
	put(b, model, sizeof model);
	put(b, soft, sizeof soft);
	put(b, when, sizeof when);
	put(b, when, sizeof when);
	const uint32_t rats[] = {
		48, 1, 51, 1, 2950, 100, /* lat 48 51' 29.50" */
		2,  1, 17, 1, 4000, 100, /* lon 2 17' 40.00" */
		35, 1,                   /* alt */
		13, 1, 56, 1, 0,    1,   /* 13:56:00 */
	};
	for (size_t i = 0; i < sizeof rats / sizeof rats[0]; i++)
		put_le32(b, rats[i]);
	put(b, gdate, sizeof gdate);
}

static const char xmp_packet[] =
	"<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF><rdf:Description "
	"xmp:CreatorTool=\"GIMP\" exif:GPSLatitude=\"48,51.5N\" "
	"exif:GPSLongitude=\"2,17.7E\"><exif:DateTimeOriginal>2008-05-30T15:"
	"56:01+02:00</exif:DateTimeOriginal><tiff:Make>Nikon</tiff:Make>"
	"</rdf:Description></rdf:RDF></x:xmpmeta>";

static void jpeg_seed(const bytes *mp4)
{
	bytes t = {0}, b = {0};
	tiff_block(&t);
	put(&b, "\xff\xd8", 2);
	put(&b, "\xff\xe0", 2); /* JFIF */
	put_be16(&b, 16);
	put(&b, "JFIF\0\x01\x01\0\0\x01\0\x01\0\0", 14);
	put(&b, "\xff\xe1", 2); /* EXIF */
	put_be16(&b, (unsigned)(2 + 6 + t.n));
	put(&b, "Exif\0\0", 6);
	put(&b, t.p, t.n);
	static const char xmp_id[] = "http://ns.adobe.com/xap/1.0/";
	put(&b, "\xff\xe1", 2); /* XMP */
	put_be16(&b, (unsigned)(2 + sizeof xmp_id + strlen(xmp_packet)));
	put(&b, xmp_id, sizeof xmp_id);
	put_str(&b, xmp_packet);
	put(&b, "\xff\xfe\0\x07hello", 9); /* COM */
	/* SOF0: 8 bits, 48 lines of 64, 3 components */
	put(&b, "\xff\xc0\0\x11\x08\0\x30\0\x40"
		"\x03\x01\x22\0\x02\x11\x01\x03\x11\x01", 19);
	put(&b, "\xff\xda\0\x0c\x03\x01\0\x02\x11\x03\x11\0\x3f\0", 14);
	put(&b, "\x12\x34\xff\x00\x56\xff\xd0\x78", 8); /* scan, RST0 */
	put(&b, "\xff\xd9", 2);
	fuzz_seed("jpeg-exif", b.p, b.n);
	/* The same with an MP4 after the end (a motion photo). */
	put(&b, mp4->p, mp4->n);
	fuzz_seed("jpeg-trailer", b.p, b.n);
	free(t.p);
	free(b.p);
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = c >> 1 ^ (0xedb88320u & -(c & 1));
	}
	return ~c;
}

static void png_chunk(bytes *b, const char *type, const void *data, size_t n)
{
	put_be32(b, (uint32_t)n);
	size_t at = b->n;
	put(b, type, 4);
	put(b, data, n);
	put_be32(b, crc32_of(b->p + at, 4 + n));
}

static void png_seed(void)
{
	bytes t = {0}, b = {0}, x = {0};
	tiff_block(&t);
	put(&b, "\x89PNG\r\n\x1a\n", 8);
	png_chunk(&b, "IHDR", "\0\0\0\x40\0\0\0\x30\x08\x02\0\0\0", 13);
	png_chunk(&b, "eXIf", t.p, t.n);
	put(&x, "XML:com.adobe.xmp\0\0\0\0\0", 22);
	put_str(&x, xmp_packet);
	png_chunk(&b, "iTXt", x.p, x.n);
	png_chunk(&b, "tEXt", "Comment\0made by hand", 20);
	png_chunk(&b, "tIME", "\x07\xd8\x05\x1e\x0f\x38\x01", 7);
	png_chunk(&b, "IDAT", "\x78\x9c\x03\0\0\0\0\x01", 8);
	png_chunk(&b, "IEND", "", 0);
	fuzz_seed("png-exif", b.p, b.n);
	free(t.p);
	free(b.p);
	free(x.p);
}

static void riff_chunk(bytes *b, const char *id, const void *data, size_t n)
{
	put(b, id, 4);
	put_le32(b, (uint32_t)n);
	put(b, data, n);
	if (n & 1)
		put(b, "", 1);
}

static void webp_seed(void)
{
	bytes t = {0}, b = {0};
	tiff_block(&t);
	put(&b, "RIFF\0\0\0\0WEBP", 12);
	/* VP8X: flags EXIF|XMP, canvas 64x48 (minus one) */
	riff_chunk(&b, "VP8X", "\x0c\0\0\0\x3f\0\0\x2f\0\0", 10);
	riff_chunk(&b, "VP8L", "\x2f\x3f\xc0\x0b\0", 5);
	riff_chunk(&b, "EXIF", t.p, t.n);
	riff_chunk(&b, "XMP ", xmp_packet, strlen(xmp_packet));
	uint32_t riff = (uint32_t)(b.n - 8);
	for (int i = 0; i < 4; i++)
		b.p[4 + i] = (unsigned char)(riff >> 8 * i);
	fuzz_seed("webp-exif", b.p, b.n);
	free(t.p);
	free(b.p);
}

static void tiff_seed(void)
{
	bytes t = {0};
	tiff_block(&t);
	fuzz_seed("tiff", t.p, t.n);
	free(t.p);
}

/* An ISO BMFF box around what `inner` holds. */
static void box(bytes *b, const char *type, const bytes *inner)
{
	put_be32(b, (uint32_t)(8 + inner->n));
	put(b, type, 4);
	put(b, inner->p, inner->n);
}

static void full_box_head(bytes *b, unsigned version, uint32_t flags)
{
	put_be32(b, (uint32_t)version << 24 | flags);
}

static const unsigned char unity[36] = {
	0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0,
};

/* ftyp, moov > trak > mdia > minf > stbl > stsd > avc1 (64x48, High
 * profile), two seconds long, no samples; udta with an ISO 6709 place;
 * an empty mdat. */
static void mp4_file(bytes *f)
{
	bytes moov = {0}, x = {0}, y = {0}, z = {0};

	put_str(&x, "isom");
	put_be32(&x, 0x200);
	put_str(&x, "isomiso2avc1mp41");
	box(f, "ftyp", &x);
	x.n = 0;

	full_box_head(&x, 0, 0); /* mvhd */
	put_be32(&x, 0);
	put_be32(&x, 0);
	put_be32(&x, 1000);
	put_be32(&x, 2000);
	put_be32(&x, 0x10000);
	put_be16(&x, 0x100);
	put_zeros(&x, 10);
	put(&x, unity, sizeof unity);
	put_zeros(&x, 24);
	put_be32(&x, 2);
	box(&moov, "mvhd", &x);
	x.n = 0;

	bytes trak = {0}, mdia = {0}, minf = {0}, stbl = {0};
	full_box_head(&x, 0, 3); /* tkhd */
	put_be32(&x, 0);
	put_be32(&x, 0);
	put_be32(&x, 1);
	put_be32(&x, 0);
	put_be32(&x, 2000);
	put_zeros(&x, 8);
	put_zeros(&x, 8);
	put(&x, unity, sizeof unity);
	put_be32(&x, 64 << 16);
	put_be32(&x, 48 << 16);
	box(&trak, "tkhd", &x);
	x.n = 0;

	full_box_head(&x, 0, 0); /* mdhd */
	put_be32(&x, 0);
	put_be32(&x, 0);
	put_be32(&x, 600);
	put_be32(&x, 1200);
	put_be16(&x, 0x15c7); /* "eng" */
	put_be16(&x, 0);
	box(&mdia, "mdhd", &x);
	x.n = 0;
	full_box_head(&x, 0, 0); /* hdlr */
	put_be32(&x, 0);
	put_str(&x, "vide");
	put_zeros(&x, 12);
	put(&x, "Video\0", 6);
	box(&mdia, "hdlr", &x);
	x.n = 0;

	full_box_head(&x, 0, 1); /* vmhd */
	put_zeros(&x, 8);
	box(&minf, "vmhd", &x);
	x.n = 0;
	full_box_head(&y, 0, 1);
	box(&z, "url ", &y); /* dinf > dref > url */
	y.n = 0;
	full_box_head(&y, 0, 0);
	put_be32(&y, 1);
	put(&y, z.p, z.n);
	z.n = 0;
	box(&x, "dref", &y);
	y.n = 0;
	box(&minf, "dinf", &x);
	x.n = 0;

	/* avcC: High profile, level 3.1, one SPS and one PPS */
	static const unsigned char sps[] = {0x67, 0x64, 0x00, 0x1f, 0xac,
					    0xd9, 0x41, 0x01, 0x86, 0x84};
	static const unsigned char pps[] = {0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0};
	put(&z, "\x01\x64\x00\x1f\xff\xe1", 6);
	put_be16(&z, sizeof sps);
	put(&z, sps, sizeof sps);
	put(&z, "\x01", 1);
	put_be16(&z, sizeof pps);
	put(&z, pps, sizeof pps);
	put_zeros(&y, 6); /* avc1 sample entry */
	put_be16(&y, 1);
	put_zeros(&y, 16);
	put_be16(&y, 64);
	put_be16(&y, 48);
	put_be32(&y, 0x480000);
	put_be32(&y, 0x480000);
	put_be32(&y, 0);
	put_be16(&y, 1);
	put_zeros(&y, 32);
	put_be16(&y, 0x18);
	put_be16(&y, 0xffff);
	box(&y, "avcC", &z);
	z.n = 0;
	full_box_head(&x, 0, 0); /* stsd */
	put_be32(&x, 1);
	box(&x, "avc1", &y);
	y.n = 0;
	box(&stbl, "stsd", &x);
	x.n = 0;
	static const char *const empty_tables[] = {"stts", "stsc", "stco"};
	for (size_t i = 0; i < 3; i++) {
		full_box_head(&x, 0, 0);
		put_be32(&x, 0);
		box(&stbl, empty_tables[i], &x);
		x.n = 0;
	}
	full_box_head(&x, 0, 0); /* stsz */
	put_be32(&x, 0);
	put_be32(&x, 0);
	box(&stbl, "stsz", &x);
	x.n = 0;
	box(&minf, "stbl", &stbl);
	box(&mdia, "minf", &minf);
	box(&trak, "mdia", &mdia);
	box(&moov, "trak", &trak);

	static const char place[] = "+48.8577+002.2950+035.000/";
	put_be16(&y, sizeof place - 1); /* udta > (c)xyz */
	put_be16(&y, 0x15c7);
	put(&y, place, sizeof place - 1);
	box(&x, "\xa9xyz", &y);
	y.n = 0;
	box(&moov, "udta", &x);
	x.n = 0;

	box(f, "moov", &moov);
	box(f, "mdat", &x);

	bytes *all[] = {&moov, &x, &y, &z, &trak, &mdia, &minf, &stbl};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		free(all[i]->p);
}

static void small_seeds(void)
{
	bytes b = {0};
	/* WAV: 8 kHz mono 16-bit, 16 samples */
	put(&b, "RIFF", 4);
	put_le32(&b, 36 + 32);
	put(&b, "WAVEfmt ", 8);
	put_le32(&b, 16);
	put_le16(&b, 1);
	put_le16(&b, 1);
	put_le32(&b, 8000);
	put_le32(&b, 16000);
	put_le16(&b, 2);
	put_le16(&b, 16);
	put(&b, "data", 4);
	put_le32(&b, 32);
	put_zeros(&b, 32);
	fuzz_seed("wav", b.p, b.n);
	free(b.p);
	fuzz_seed("gif", "GIF89a\x40\0\x30\0\0\0\0;", 14);
	fuzz_seed("text", "a line of text\n", 15);
	fuzz_seed("empty", "", 0);
}

static void write_seeds(void)
{
	bytes mp4 = {0};
	mp4_file(&mp4);
	fuzz_seed("mp4", mp4.p, mp4.n);
	jpeg_seed(&mp4);
	free(mp4.p);
	png_seed();
	webp_seed();
	tiff_seed();
	small_seeds();
	fuzz_seeds_done();
}

/* --- the target ----------------------------------------------------------- */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	if (fuzz_seed_dir())
		write_seeds();
	/* What the probe loads before its sandbox closes (cli/probe-main.c's
	 * start_up()); no setlocale(), as there. */
	media_magic_init();
	tzset();
	media_av_init();
	media_heif_init();
	return 0;
}

static void check_strings(json_t *list, const char *name)
{
	size_t i;
	json_t *s;
	FUZZ_CHECK(json_is_array(list), "\"%s\" is not an array", name);
	json_array_foreach(list, i, s)
		FUZZ_CHECK(json_is_string(s), "%s[%zu] is not a string", name,
			   i);
}

static void check_document(json_t *doc, const uint8_t *data, size_t size)
{
	unsigned char sha[crypto_hash_sha256_BYTES];
	char hex[2 * sizeof sha + 1];
	crypto_hash_sha256(sha, data, size);
	sodium_bin2hex(hex, sizeof hex, sha, sizeof sha);

	FUZZ_CHECK(json_is_object(doc), "the document is not an object");
	json_t *v = json_object_get(doc, "v");
	FUZZ_CHECK(json_is_integer(v) && json_integer_value(v) == 1,
		   "\"v\" is not 1");
	const char *s = json_string_value(json_object_get(doc, "sha256"));
	FUZZ_CHECK(s && !strcmp(s, hex), "sha256 %s, not %s", s ? s : "absent",
		   hex);
	json_t *n = json_object_get(doc, "size");
	FUZZ_CHECK(json_is_integer(n) &&
			   (uint64_t)json_integer_value(n) == (uint64_t)size,
		   "size is not %zu", size);
	const char *type = json_string_value(json_object_get(doc, "type"));
	const char *slash = type ? strchr(type, '/') : NULL;
	FUZZ_CHECK(slash && slash > type && slash[1] && strlen(type) < 48,
		   "type '%s' is not a media type", type ? type : "absent");
	check_strings(json_object_get(doc, "errors"), "errors");
	check_strings(json_object_get(doc, "warnings"), "warnings");
	FUZZ_CHECK(json_is_object(json_object_get(doc, "facts")),
		   "\"facts\" is not an object");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	json_t *doc = media_document(copy, size);
	check_document(doc, copy, size);
	free(copy);

	char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	FUZZ_CHECK(text != NULL, "the document does not serialise");
	size_t len = strlen(text);
	fuzz_say("%zu bytes: %s, a %zu-byte document\n", size,
		 json_string_value(json_object_get(doc, "type")), len);
	FUZZ_CHECK(len <= DOC_MAX, "a %zu-byte file made a %zu-byte document",
		   size, len);
	/* No "\u0000" (strings from a file stop at a NUL): read back without
	 * JSON_ALLOW_NUL, as the parent reads it. */
	json_error_t je;
	json_t *back = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	FUZZ_CHECK(back != NULL, "the document does not read back: %s",
		   je.text);
	FUZZ_CHECK(json_equal(back, doc), "the document reads back different");
	json_decref(back);
	free(text);
	json_decref(doc);
	return 0;
}
