/*
 * media.h: the media parsers that run inside evault-probe, the sandboxed
 * process that holds no key (cli/probe-main.c).  Nothing here is linked
 * into evault itself: the parsers (libexif, libavformat, libheif,
 * libmagic) only ever see a file through the probe.
 *
 * Each parser reads the whole file from memory (the probe maps it) and
 * adds what it found to one metadata document, a JSON object (the format
 * is in docs/formats.md, "Metadata documents"):
 *
 *   doc        the document being built: each parser adds its own member
 *              ("exif", "container", "segments", "xmp", "heif", "image")
 *   cand       candidate facts, one object per source ("exif", "xmp",
 *              "gps", "container", "image"): facts.c merges them into
 *              the normalised "facts" view and lists the disagreements
 *   errors     array of strings, "<parser>: <what went wrong>"; a parser
 *              that refuses the file says so here and stops
 *   warnings   array of strings, same form, for what it read past
 *
 * Every length and offset read from the file is checked against `len`
 * before use; every string taken from the file is bounded (MEDIA_STR_MAX)
 * and made valid UTF-8 (media_str) before it goes into the document.
 */
#ifndef EVAULT_MEDIA_H
#define EVAULT_MEDIA_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Longest string kept from a file's metadata (longer ones are cut and a
 * warning says so); raw bytes are kept whole in "raw"/"data" members. */
#define MEDIA_STR_MAX 4096

typedef struct {
	const uint8_t *data; /* the whole file, read-only */
	size_t len;
	const char *type;    /* the probe's detected type, e.g. "image/jpeg" */
	json_t *doc;
	json_t *cand;
	json_t *errors;
	json_t *warnings;
} media_ctx;

/* --- the whole document (document.c) --------------------------------- */

/* The metadata document of the `len` bytes at `data` (docs/formats.md
 * section 18). */
json_t *media_document(const uint8_t *data, size_t len);
/* libmagic's database: loaded once before the sandbox closes (it is a
 * file), released at the end.  Without it, non-media files get no
 * description. */
void media_magic_init(void);
void media_magic_done(void);

/* --- helpers (util.c in this folder) ---------------------------------- */

/* A JSON string from `len` bytes of file data: cut at MEDIA_STR_MAX,
 * stopped at the first NUL, and with invalid UTF-8 bytes written as
 * "\xNN" (four characters), so that nothing is lost silently. */
json_t *media_str(const void *bytes, size_t len);
/* Set by the probe per request: 0 for a lean answer, where media_b64()
 * and media_hex() give null instead of encoding (the "data" and "raw"
 * members are then dropped). */
extern int media_keep_raw;
/* Lower-case hex / standard base64 of raw bytes as a JSON string. */
json_t *media_hex(const void *bytes, size_t len);
json_t *media_b64(const void *bytes, size_t len);
/* Add "<parser>: <message>" to m->errors or m->warnings. */
void media_error(media_ctx *m, const char *parser, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void media_warning(media_ctx *m, const char *parser, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Keep a metadata segment byte for byte in doc.segments: its kind
 * ("exif", "xmp", "icc"...), where it was ("APP1", "iTXt"...), its offset
 * when `bytes` lies inside the file, its size and base64 data. */
void media_segment(media_ctx *m, const char *kind, const char *where,
		   const uint8_t *bytes, size_t n);
/* The candidate-facts object for `source` (created on first use). */
json_t *media_cand(media_ctx *m, const char *source);
/* Big/little-endian reads of 16 and 32 bits (caller checked bounds). */
static inline uint16_t media_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t media_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}
static inline uint32_t media_le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[1] << 8 | p[0];
}

/* --- the parsers ------------------------------------------------------- */

/* segments.c: walk the file's own structure (JPEG markers up to the image
 * data and its end, PNG chunks, RIFF/WebP chunks, the TIFF header) and
 * keep every metadata segment byte-exact in doc.segments (EXIF, XMP, ICC,
 * IPTC/Photoshop, MPF, COM, PNG text and eXIf, WebP EXIF/XMP/ICCP);
 * hands EXIF to media_exif() and XMP to media_xmp(); doc.image gets the
 * dimensions from the frame header. */
void media_segments(media_ctx *m);

/* segments.c: the top-level boxes of an ISO BMFF file (MP4, MOV, 3GP,
 * M4A, HEIF) in doc.boxes, and an error for a box that runs past the end
 * of the file or cannot be that small. */
void media_boxes(media_ctx *m);

/* exif.c: libexif on a TIFF-structured EXIF block (`tiff` points at the
 * byte-order mark "II"/"MM"; `len` bounded by the caller).  Adds
 * doc.exif: every IFD (0, 1, EXIF, GPS, Interoperability) and every tag
 * with its raw and formatted value, maker note tags where libexif decodes
 * them, the raw maker note and the thumbnail; candidate facts "exif" and
 * "gps".  `where` names the source for errors ("APP1", "eXIf", ...). */
void media_exif(media_ctx *m, const uint8_t *tiff, size_t len,
		const char *where);

/* xmp.c: the few XMP properties that facts need (exif:GPSLatitude and
 * friends, exif:DateTimeOriginal, xmp:CreateDate, photoshop:DateCreated,
 * tiff:Make/Model, aux:SerialNumber); candidate facts "xmp". */
void media_xmp(media_ctx *m, const uint8_t *xml, size_t len);

/* av.c: libavformat (and libavcodec's parsers where stream info needs
 * them) over the in-memory file.  Adds doc.container; candidate facts
 * "container".  Returns 1 if libavformat recognised the file, 0 if not. */
int media_av(media_ctx *m);
/* Called once at start-up, before the sandbox closes: quiet logging,
 * messages captured per file. */
void media_av_init(void);

/* av.c, for thumbs.c: libavformat opened over m's bytes exactly as
 * media_av() opens it (from memory, any other file or URL refused), the
 * header read within av.c's budget and the rest within budget_us.  0 and
 * *fc, or an AVERROR; media_av_close(*f) in either case.
 * media_av_find_streams(): avformat_find_stream_info(), single-threaded,
 * when the header leaves something out (as media_av() decides).
 * media_avlog_begin()/_end(): libavformat's and libavcodec's messages in
 * between go to m's warnings (to its errors if `opened` is 0). */
struct AVFormatContext;
typedef struct media_av_file media_av_file;
int media_av_open(const media_ctx *m, int64_t budget_us, media_av_file **f,
		  struct AVFormatContext **fc);
int media_av_find_streams(struct AVFormatContext *fc);
void media_av_close(media_av_file *f);
void media_avlog_begin(void);
void media_avlog_end(media_ctx *m, int opened);

/* heif.c: libheif for HEIC/HEIF/AVIF: the primary image's size, its EXIF
 * (to media_exif) and XMP (to media_xmp) blocks byte-exact in
 * doc.segments. */
void media_heif(media_ctx *m);
/* Called once at start-up, before the sandbox (libheif loads plugins). */
void media_heif_init(void);

/* thumbs.c: pictures of the `len` bytes at `data` for people to look at
 * (docs/formats.md section 19, thumbnail requests): for a video, `count`
 * frames at evenly spaced times; for a photo, one picture; each turned
 * upright, at most max_width pixels wide, encoded as a baseline JPEG.
 * Returns {"v":1,"thumbnails":[...],"errors":[...],"warnings":[...]}. */
json_t *media_thumbs(const uint8_t *data, size_t len, unsigned count,
		     unsigned max_width);
/* Called once at start-up, before the sandbox: HEIF pictures are decoded
 * through libavcodec, single-threaded (libheif's own decoders start
 * threads, which the sandbox forbids). */
void media_thumbs_init(void);

/* facts.c: merge the candidates into doc.facts (the names of
 * docs/formats.md) with doc.facts.sources telling where each came from,
 * and doc.facts.inconsistencies. */
void media_facts(media_ctx *m);

/* ISO 8601 helpers for facts: "YYYY:MM:DD HH:MM:SS" (EXIF) plus an
 * optional offset "+HH:MM" to "YYYY-MM-DDTHH:MM:SS[+HH:MM]"; false if
 * the text is not a date. */
int media_exif_time(const char *exif, const char *offset, char out[40]);

#endif
