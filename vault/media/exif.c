/*
 * exif.c: one EXIF block (a TIFF structure: byte-order mark, IFD 0 and
 * what hangs from it) read with libexif into doc.exif, and the facts it
 * states (capture time, camera, orientation, GPS position and time) into
 * the candidate facts "exif" and "gps".
 *
 * We keep what the file says.  libexif is told to keep the tags it does
 * not know and not to "fix" the data to the specification (by default it
 * adds, drops and rewrites entries), so every entry it could read is
 * listed with its raw bytes beside libexif's rendering of them.  Two
 * limits are libexif's own: it does not list the pointer tags
 * (ExifIfdPointer, GPSInfoIfdPointer, InteroperabilityIfdPointer,
 * JPEGInterchangeFormat and ...Length), whose targets appear as IFDs and
 * as the thumbnail; and it reads IFDs only within the first 64 KiB of a
 * block (all an APP1 segment can hold), though a maker note may point
 * further.  Some of what libexif skips it says only in its debug log:
 * those few messages are kept as warnings with the rest.
 *
 * A file can hold more than one EXIF block (a JPEG with two APP1 Exif
 * segments, say).  The first one given here becomes doc.exif and is the
 * only source of candidate facts; each later one is read the same way
 * into the array doc.exif_more, with a warning.  Nothing is hidden, and
 * the facts do not depend on some rule for merging two blocks.
 *
 * Hostile blocks: libexif copies each entry's data, and any number of
 * entries may point at the same bytes, so a 64 KiB block could make it
 * allocate gigabytes.  It allocates through a budget here, a multiple of
 * the block's size, and the raw bytes copied into the document are
 * limited to what an honest block can hold.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libexif/exif-data.h>
#include <libexif/exif-log.h>
#include <libexif/exif-mem.h>
#include <libexif/exif-mnote-data.h>
#include <libexif/exif-utils.h>

#include "vault/media/media.h"

/* Largest block handed to libexif.  An APP1 segment holds 64 KiB; TIFF,
 * HEIF and PNG eXIf blocks can be larger, but libexif reads IFDs only in
 * the first 64 KiB and only a maker note could reach past that. */
#define EXIF_BLOCK_MAX (16u << 20)

/* libexif's memory per block: a copy of every entry's data, the entries,
 * the maker note's own copies.  Honest blocks need 5 times their size at
 * most in the corpus, 10 if made of nothing but tiny entries; the
 * constant covers the fixed structures of small blocks. */
#define EXIF_MEM_FACTOR 16
#define EXIF_MEM_BASE (256u << 10)

/* libexif renders a list of numbers with one strncat per item, quadratic
 * in the buffer's size: lists get a shorter buffer than text.  "raw" has
 * every byte either way. */
#define EXIF_LIST_MAX 1024

/* Later EXIF blocks of one file read into doc.exif_more; past these, only
 * doc.segments has them. */
#define EXIF_MORE_MAX 8

static const char *const ifd_names[EXIF_IFD_COUNT] = {
	[EXIF_IFD_0] = "0",
	[EXIF_IFD_1] = "1",
	[EXIF_IFD_EXIF] = "EXIF",
	[EXIF_IFD_GPS] = "GPS",
	[EXIF_IFD_INTEROPERABILITY] = "Interoperability",
};

/* One block being read. */
struct exif_run {
	media_ctx *m;
	const char *where;
	ExifData *d;
	ExifByteOrder order;
	size_t raw_left;  /* raw bytes the document may still take */
	size_t text_left; /* and bytes of libexif's renderings */
	int raw_cut;	  /* some raw bytes were left out (said once) */
	int text_cut;	  /* some renderings were left out (said once) */
	int value_cut;	  /* some values were cut short (said once) */
	int no_memory;	  /* the memory budget was reached (said once) */
};

/* --- libexif's memory, on a budget ----------------------------------- */

/* ExifMem's callbacks carry no context pointer, hence these counters:
 * media_exif sets them for each block and every allocation made on its
 * behalf is freed before it returns.  Each allocation carries its size in
 * a header so that frees and reallocs keep the count exact; the header
 * counts too, since hostile entries can be many and tiny. */
typedef union {
	size_t size;
	max_align_t align;
} mem_hdr;

static _Thread_local size_t mem_used, mem_limit;

static void *mem_alloc(ExifLong s)
{
	size_t n = sizeof(mem_hdr) + (size_t)s;
	if (s > mem_limit || n > mem_limit - mem_used)
		return NULL;
	mem_hdr *h = calloc(1, n);
	if (!h)
		return NULL;
	h->size = n;
	mem_used += n;
	return h + 1;
}

static void *mem_realloc(void *p, ExifLong s)
{
	if (!p)
		return mem_alloc(s);
	mem_hdr *h = (mem_hdr *)p - 1;
	size_t old = h->size, n = sizeof(mem_hdr) + (size_t)s;
	if (s > mem_limit || (n > old && n - old > mem_limit - mem_used))
		return NULL;
	mem_hdr *q = realloc(h, n);
	if (!q)
		return NULL;
	mem_used = mem_used - old + n;
	q->size = n;
	return q + 1;
}

static void mem_free(void *p)
{
	if (!p)
		return;
	mem_hdr *h = (mem_hdr *)p - 1;
	mem_used -= h->size;
	free(h);
}

/* --- libexif's log ----------------------------------------------------- */

/* Debug messages that mean libexif skipped part of the file (an entry,
 * an IFD, the thumbnail); the rest of its debug log is a trace. */
static const char *const log_kept[] = {
	"Tag starts past end",
	"Tag data goes past end",
	"Tag data past end",
	"Bogus thumbnail",
	"Bogus offset",
	"Short data",
	"Short MakerNote",
	"Recursive entry",
	"Attempt to load IFD",
	"An attempt has been made to add",
	"Tag size overflow",
	"Failsafe tag size overflow",
	"Invalid zero-length tag size",
};

static int log_keep(ExifLogCode code, const char *fmt)
{
	if (code != EXIF_LOG_CODE_DEBUG)
		return 1;
	for (size_t i = 0; i < sizeof log_kept / sizeof log_kept[0]; i++)
		if (!strncmp(fmt, log_kept[i], strlen(log_kept[i])))
			return 1;
	return 0;
}

__attribute__((format(printf, 4, 0))) static void
on_log(ExifLog *log, ExifLogCode code, const char *domain, const char *fmt,
       va_list ap, void *data)
{
	struct exif_run *r = data;
	(void)log;

	if (!fmt || !log_keep(code, fmt))
		return;
	if (code == EXIF_LOG_CODE_NO_MEMORY) {
		/* One per refused allocation, each with its size: say it once. */
		if (!r->no_memory)
			media_warning(r->m, "libexif",
				      "%s: memory budget of %zu bytes spent",
				      r->where, mem_limit);
		r->no_memory = 1;
		return;
	}
	char msg[256];
	vsnprintf(msg, sizeof msg, fmt, ap);
	media_warning(r->m, "libexif", "%s: %s", domain ? domain : "?", msg);
}

/* --- reading entries ----------------------------------------------------- */

/* Whether e holds at least `n` components of `format`, with the bytes for
 * all of its components present. */
static int entry_ok(const ExifEntry *e, ExifFormat format, unsigned long n)
{
	if (!e || !e->data || e->format != format || e->components < n)
		return 0;
	unsigned long long need = (unsigned long long)e->components *
				  exif_format_get_size(format);
	return e->size >= need;
}

/* Component i of a RATIONAL entry; 0 if absent or x/0. */
static int rational_at(struct exif_run *r, const ExifEntry *e, unsigned long i,
		       double *out)
{
	if (!entry_ok(e, EXIF_FORMAT_RATIONAL, i + 1))
		return 0;
	ExifRational v = exif_get_rational(e->data + 8 * i, r->order);
	if (!v.denominator)
		return 0;
	*out = (double)v.numerator / v.denominator;
	return 1;
}

/* The first value of a SHORT or LONG entry. */
static int uint_at(struct exif_run *r, const ExifEntry *e, unsigned long *out)
{
	if (entry_ok(e, EXIF_FORMAT_SHORT, 1))
		*out = exif_get_short(e->data, r->order);
	else if (entry_ok(e, EXIF_FORMAT_LONG, 1))
		*out = exif_get_long(e->data, r->order);
	else
		return 0;
	return 1;
}

/* The text of a string entry (ASCII, or a byte format some writers use
 * instead) up to its first NUL, without trailing spaces, in `out` (`cap`
 * bytes with the NUL); its length, 0 if there is none. */
static size_t entry_text(const ExifEntry *e, char *out, size_t cap)
{
	out[0] = '\0';
	if (!e || !e->data || exif_format_get_size(e->format) != 1)
		return 0;
	size_t n = e->size < cap - 1 ? e->size : cap - 1;
	memcpy(out, e->data, n);
	out[n] = '\0';
	n = strlen(out);
	while (n && out[n - 1] == ' ')
		out[--n] = '\0';
	return n;
}

/* `tag` where the standard puts it, else in the other main IFD (some
 * writers misplace tags); never in IFD 1, which describes the
 * thumbnail. */
static ExifEntry *lookup(struct exif_run *r, ExifIfd home, ExifTag tag)
{
	ExifIfd other = home == EXIF_IFD_0 ? EXIF_IFD_EXIF : EXIF_IFD_0;
	ExifEntry *e = exif_content_get_entry(r->d->ifd[home], tag);
	return e ? e : exif_content_get_entry(r->d->ifd[other], tag);
}

/* --- the document -------------------------------------------------------- */

/* A string from libexif's own tables (names, titles): bounded and UTF-8
 * like file data, since a translation could be anything. */
static void set_lib_str(json_t *o, const char *key, const char *s)
{
	if (s)
		json_object_set_new(o, key, media_str(s, strlen(s)));
}

/* Raw bytes as hex or base64, unless the block has used up its share. */
static json_t *raw_json(struct exif_run *r, const void *p, size_t n, int b64)
{
	if (n > r->raw_left) {
		if (!r->raw_cut)
			media_warning(
				r->m, "libexif",
				"%s: entries share data; raw bytes left out",
				r->where);
		r->raw_cut = 1;
		return NULL;
	}
	r->raw_left -= n;
	if (!p || !n)
		return json_string("");
	return b64 ? media_b64(p, n) : media_hex(p, n);
}

/* {"size":N,"data":"<base64>"}, the data left out past the block's share
 * of raw bytes. */
static json_t *sized_b64(struct exif_run *r, const void *p, size_t n)
{
	json_t *o = json_pack("{s:I}", "size", (json_int_t)n);
	json_t *raw = raw_json(r, p, n, 1);
	if (raw)
		json_object_set_new(o, "data", raw);
	return o;
}

static int is_list_format(const ExifEntry *e)
{
	switch (e->format) {
	case EXIF_FORMAT_ASCII:
	case EXIF_FORMAT_UNDEFINED:
		return 0;
	case EXIF_FORMAT_BYTE:
		/* Windows' XP* tags: UTF-16 text in BYTEs. */
		return !(e->tag >= EXIF_TAG_XP_TITLE &&
			 e->tag <= EXIF_TAG_XP_SUBJECT);
	default:
		return 1;
	}
}

/* Whether the block's share of rendered text has room for a value of up
 * to `max` bytes: rendering a hostile block's thousands of entries that
 * share one list costs time and fills the document. */
static int text_room(struct exif_run *r, size_t max)
{
	if (max <= r->text_left)
		return 1;
	if (!r->text_cut)
		media_warning(r->m, "libexif",
			      "%s: too much to render; values left out",
			      r->where);
	r->text_cut = 1;
	return 0;
}

/* A text value longer than MEDIA_STR_MAX is cut (said once per block);
 * lists and maker-note renderings are cut shorter without a word, being
 * renderings of "raw" rather than text. */
static void note_cut(struct exif_run *r, const char *val, size_t max)
{
	if (strlen(val) + 1 < max || r->value_cut)
		return;
	media_warning(r->m, "libexif", "%s: text values cut at %d bytes",
		      r->where, MEDIA_STR_MAX);
	r->value_cut = 1;
}

static json_t *entry_json(struct exif_run *r, ExifEntry *e, ExifIfd ifd)
{
	char tag[8];
	char val[MEDIA_STR_MAX + 1];
	json_t *o = json_object();

	snprintf(tag, sizeof tag, "0x%04x", (unsigned)e->tag);
	json_object_set_new(o, "tag", json_string(tag));
	set_lib_str(o, "name", exif_tag_get_name_in_ifd(e->tag, ifd));
	set_lib_str(o, "title", exif_tag_get_title_in_ifd(e->tag, ifd));
	set_lib_str(o, "format", exif_format_get_name(e->format));
	json_object_set_new(o, "components", json_integer(e->components));

	int list = is_list_format(e);
	unsigned max = list ? EXIF_LIST_MAX : sizeof val;
	if (text_room(r, max)) {
		memset(val, 0, max);
		exif_entry_get_value(e, val, max);
		val[max - 1] = '\0';
		if (!list)
			note_cut(r, val, max);
		r->text_left -= strlen(val);
		json_object_set_new(o, "value", media_str(val, strlen(val)));
	}

	json_t *raw = raw_json(r, e->data, e->size, 0);
	if (raw)
		json_object_set_new(o, "raw", raw);
	return o;
}

static json_t *ifds_json(struct exif_run *r, size_t *entries)
{
	json_t *ifds = json_object();
	*entries = 0;
	for (int i = 0; i < EXIF_IFD_COUNT; i++) {
		ExifContent *c = r->d->ifd[i];
		if (!c || !c->count)
			continue;
		json_t *list = json_array();
		for (unsigned j = 0; j < c->count; j++) {
			ExifEntry *e = c->entries[j];
			if (e)
				json_array_append_new(list,
						      entry_json(r, e, i));
		}
		*entries += json_array_size(list);
		json_object_set_new(ifds, ifd_names[i], list);
	}
	return ifds;
}

/* The maker note's tags as libexif decodes them (Canon, Fuji, Olympus,
 * Nikon, Pentax, Casio, ...); also offers its serial number. */
static json_t *mnote_tags(struct exif_run *r, ExifMnoteData *md,
			  char serial[MEDIA_STR_MAX + 1])
{
	char val[EXIF_LIST_MAX];
	json_t *tags = json_array();
	unsigned n = exif_mnote_data_count(md);

	for (unsigned i = 0; i < n; i++) {
		json_t *t = json_object();
		const char *name = exif_mnote_data_get_name(md, i);
		unsigned id = exif_mnote_data_get_id(md, i);
		json_object_set_new(t, "id", json_integer(id));
		set_lib_str(t, "name", name);
		set_lib_str(t, "title", exif_mnote_data_get_title(md, i));
		memset(val, 0, sizeof val);
		if (text_room(r, sizeof val) &&
		    exif_mnote_data_get_value(md, i, val, sizeof val)) {
			val[sizeof val - 1] = '\0';
			r->text_left -= strlen(val);
			json_object_set_new(t, "value",
					    media_str(val, strlen(val)));
			if (name && !strcmp(name, "SerialNumber") &&
			    !serial[0]) {
				size_t l = strlen(val);
				while (l && val[l - 1] == ' ')
					l--;
				snprintf(serial, MEDIA_STR_MAX + 1, "%.*s",
					 (int)l, val);
			}
		}
		json_array_append_new(tags, t);
	}
	return tags;
}

static json_t *mnote_json(struct exif_run *r, char serial[MEDIA_STR_MAX + 1])
{
	char make[MEDIA_STR_MAX + 1];
	ExifEntry *e = lookup(r, EXIF_IFD_EXIF, EXIF_TAG_MAKER_NOTE);
	ExifMnoteData *md = exif_data_get_mnote_data(r->d);
	if (!e && !md)
		return NULL;

	json_t *o = json_object();
	size_t l = entry_text(lookup(r, EXIF_IFD_0, EXIF_TAG_MAKE), make,
			      sizeof make);
	if (l)
		json_object_set_new(o, "maker", media_str(make, l));
	if (e)
		json_object_set_new(o, "raw", sized_b64(r, e->data, e->size));
	if (md)
		json_object_set_new(o, "tags", mnote_tags(r, md, serial));
	return o;
}

static json_t *block_json(struct exif_run *r, const uint8_t *tiff,
			  char serial[MEDIA_STR_MAX + 1])
{
	json_t *ex = json_object();
	size_t entries;

	json_object_set_new(ex, "where", media_str(r->where, strlen(r->where)));
	json_object_set_new(ex, "byte_order",
			    json_string(tiff[0] == 'M' ? "big" : "little"));
	json_object_set_new(ex, "ifds", ifds_json(r, &entries));
	if (!entries)
		media_warning(r->m, "libexif", "%s: no EXIF entries found",
			      r->where);
	json_t *mn = mnote_json(r, serial);
	if (mn)
		json_object_set_new(ex, "makernote", mn);
	if (r->d->data && r->d->size)
		json_object_set_new(ex, "thumbnail",
				    sized_b64(r, r->d->data, r->d->size));
	return ex;
}

/* --- candidate facts ----------------------------------------------------- */

static void set_text_fact(struct exif_run *r, json_t *c, const char *key,
			  ExifIfd home, ExifTag tag)
{
	char s[MEDIA_STR_MAX + 1];
	size_t l = entry_text(lookup(r, home, tag), s, sizeof s);
	if (l)
		json_object_set_new(c, key, media_str(s, l));
}

/* A SHORT or LONG fact, if within [lo, hi]. */
static void set_uint_fact(struct exif_run *r, json_t *c, const char *key,
			  ExifIfd home, ExifTag tag, unsigned long lo,
			  unsigned long hi)
{
	unsigned long v;
	if (uint_at(r, lookup(r, home, tag), &v) && v >= lo && v <= hi)
		json_object_set_new(c, key, json_integer((json_int_t)v));
}

/* DateTimeOriginal, else DateTimeDigitized, each with its own offset tag;
 * a date that is not one (blank, zeros) counts as absent.  DateTime is
 * when the file was last saved (by an editor, often), so it is only a
 * last resort, kept apart as source "exif_saved" for facts.c to rank
 * after every other source of a capture time. */
static void capture_time(struct exif_run *r, json_t *c)
{
	static const struct {
		ExifIfd home;
		ExifTag time, offset;
	} tags[] = {
		{EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_ORIGINAL,
		 EXIF_TAG_OFFSET_TIME_ORIGINAL},
		{EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_DIGITIZED,
		 EXIF_TAG_OFFSET_TIME_DIGITIZED},
		{EXIF_IFD_0, EXIF_TAG_DATE_TIME, EXIF_TAG_OFFSET_TIME},
	};
	char t[64], off[16], iso[40];

	for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
		if (!entry_text(lookup(r, tags[i].home, tags[i].time), t,
				sizeof t))
			continue;
		size_t ol = entry_text(lookup(r, EXIF_IFD_EXIF, tags[i].offset),
				       off, sizeof off);
		if (media_exif_time(t, ol ? off : NULL, iso)) {
			json_object_set_new(tags[i].time == EXIF_TAG_DATE_TIME
						    ? media_cand(r->m, "exif_saved")
						    : c,
					    "capture_time", json_string(iso));
			return;
		}
	}
}

static void exif_facts(struct exif_run *r, const char *mnote_serial)
{
	json_t *c = json_object();
	size_t l = strlen(mnote_serial);

	capture_time(r, c);
	set_text_fact(r, c, "make", EXIF_IFD_0, EXIF_TAG_MAKE);
	set_text_fact(r, c, "model", EXIF_IFD_0, EXIF_TAG_MODEL);
	set_text_fact(r, c, "serial", EXIF_IFD_EXIF,
		      EXIF_TAG_BODY_SERIAL_NUMBER);
	if (!json_object_get(c, "serial") && l)
		json_object_set_new(c, "serial", media_str(mnote_serial, l));
	set_text_fact(r, c, "software", EXIF_IFD_0, EXIF_TAG_SOFTWARE);
	set_uint_fact(r, c, "width", EXIF_IFD_EXIF, EXIF_TAG_PIXEL_X_DIMENSION,
		      1, UINT32_MAX);
	set_uint_fact(r, c, "height", EXIF_IFD_EXIF, EXIF_TAG_PIXEL_Y_DIMENSION,
		      1, UINT32_MAX);
	set_uint_fact(r, c, "orientation", EXIF_IFD_0, EXIF_TAG_ORIENTATION, 1,
		      8);
	if (json_object_size(c))
		json_object_update(media_cand(r->m, "exif"), c);
	json_decref(c);
}

static ExifEntry *gps_entry(struct exif_run *r, ExifTag tag)
{
	return exif_content_get_entry(r->d->ifd[EXIF_IFD_GPS], tag);
}

/* Decimal degrees from GPSLatitude/GPSLongitude (degrees, minutes,
 * seconds: up to three RATIONALs) and its reference letter: 1 if valid,
 * 0 if absent, -1 if present but unusable. */
static int gps_coord(struct exif_run *r, ExifTag ref_tag, ExifTag tag, char pos,
		     char neg, double max, double *out)
{
	ExifEntry *e = gps_entry(r, tag);
	ExifEntry *ref = gps_entry(r, ref_tag);
	double v = 0, part, scale = 1;

	if (!e)
		return 0;
	if (!entry_ok(e, EXIF_FORMAT_RATIONAL, 1) || e->components > 3)
		return -1;
	for (unsigned long i = 0; i < e->components; i++, scale *= 60) {
		if (!rational_at(r, e, i, &part))
			return -1;
		v += part / scale;
	}
	char c[4];
	entry_text(ref, c, sizeof c);
	if (v > max)
		return -1;
	if ((c[0] & ~0x20) == neg)
		v = -v;
	else if ((c[0] & ~0x20) != pos)
		return -1; /* no hemisphere: no position */
	*out = v;
	return 1;
}

/* GPSDateStamp "YYYY:MM:DD" and GPSTimeStamp (hours, minutes, seconds as
 * RATIONALs, UTC) as "YYYY-MM-DDTHH:MM:SSZ". */
static void gps_time(struct exif_run *r, json_t *c)
{
	ExifEntry *ts = gps_entry(r, EXIF_TAG_GPS_TIME_STAMP);
	char date[16], text[40], iso[40];
	double h, mi, s;

	if (entry_text(gps_entry(r, EXIF_TAG_GPS_DATE_STAMP), date,
		       sizeof date) != 10 ||
	    !entry_ok(ts, EXIF_FORMAT_RATIONAL, 3) || ts->components != 3 ||
	    !rational_at(r, ts, 0, &h) || !rational_at(r, ts, 1, &mi) ||
	    !rational_at(r, ts, 2, &s))
		return;
	double t = h * 3600 + mi * 60 + s;
	if (!(t >= 0 && t < 86400))
		return;
	/* Some writers use "YYYY-MM-DD". */
	if (date[4] == '-' && date[7] == '-')
		date[4] = date[7] = ':';
	unsigned long sec = (unsigned long)t;
	snprintf(text, sizeof text, "%s %02lu:%02lu:%02lu", date, sec / 3600,
		 sec / 60 % 60, sec % 60);
	if (!media_exif_time(text, NULL, iso))
		return;
	strcat(iso, "Z");
	json_object_set_new(c, "gps_time", json_string(iso));
}

static void gps_facts(struct exif_run *r)
{
	double lat, lon, alt;
	if (!r->d->ifd[EXIF_IFD_GPS]->count)
		return;
	json_t *c = json_object();

	int la = gps_coord(r, EXIF_TAG_GPS_LATITUDE_REF, EXIF_TAG_GPS_LATITUDE,
			   'N', 'S', 90, &lat);
	int lo = gps_coord(r, EXIF_TAG_GPS_LONGITUDE_REF,
			   EXIF_TAG_GPS_LONGITUDE, 'E', 'W', 180, &lon);
	if (la > 0 && lo > 0) {
		json_t *loc = json_pack("{s:f,s:f}", "lat", lat, "lon", lon);
		ExifEntry *ar = gps_entry(r, EXIF_TAG_GPS_ALTITUDE_REF);
		if (rational_at(r, gps_entry(r, EXIF_TAG_GPS_ALTITUDE), 0,
				&alt)) {
			if (ar && ar->data && ar->size && ar->data[0] == 1)
				alt = -alt;
			json_object_set_new(loc, "alt", json_real(alt));
		}
		json_object_set_new(c, "location", loc);
	} else if (la < 0 || lo < 0) {
		media_warning(r->m, "libexif",
			      "%s: GPS position unusable, left out", r->where);
	}
	gps_time(r, c);
	if (json_object_size(c))
		json_object_update(media_cand(r->m, "gps"), c);
	json_decref(c);
}

/* --- the entry point ----------------------------------------------------- */

static int tiff_header(const uint8_t *p, size_t len)
{
	return len >= 8 && (!memcmp(p, "II*\0", 4) || !memcmp(p, "MM\0*", 4));
}

/* Load `buf` (the block with "Exif\0\0" in front, `n` bytes) into r->d,
 * with libexif's memory on a budget; 0 on success. */
static int load(struct exif_run *r, ExifMem **mem, ExifLog **log,
		const uint8_t *buf, size_t n)
{
	mem_used = 0;
	mem_limit = EXIF_MEM_FACTOR * n + EXIF_MEM_BASE;
	*mem = exif_mem_new(mem_alloc, mem_realloc, mem_free);
	*log = exif_log_new();
	r->d = *mem ? exif_data_new_mem(*mem) : NULL;
	if (!r->d || !*log)
		return -1;
	exif_log_set_func(*log, on_log, r);
	exif_data_log(r->d, *log);
	exif_data_unset_option(r->d, EXIF_DATA_OPTION_IGNORE_UNKNOWN_TAGS);
	exif_data_unset_option(r->d, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
	exif_data_set_option(r->d, EXIF_DATA_OPTION_DONT_CHANGE_MAKER_NOTE);
	exif_data_load_data(r->d, buf, (unsigned)n);
	r->order = exif_data_get_byte_order(r->d);
	return 0;
}

/* Put the block in the document: doc.exif and the facts if it is the
 * first, else doc.exif_more. */
static void add_block(struct exif_run *r, const uint8_t *tiff)
{
	char serial[MEDIA_STR_MAX + 1] = "";
	json_t *ex = block_json(r, tiff, serial);

	if (!json_object_get(r->m->doc, "exif")) {
		json_object_set_new(r->m->doc, "exif", ex);
		exif_facts(r, serial);
		gps_facts(r);
		return;
	}
	json_t *more = json_object_get(r->m->doc, "exif_more");
	if (!more) {
		more = json_array();
		json_object_set_new(r->m->doc, "exif_more", more);
	}
	json_array_append_new(more, ex);
	media_warning(r->m, "libexif",
		      "%s: one more EXIF block; facts from the first",
		      r->where);
}

static int too_many_blocks(media_ctx *m)
{
	return json_array_size(json_object_get(m->doc, "exif_more")) >=
	       EXIF_MORE_MAX;
}

void media_exif(media_ctx *m, const uint8_t *tiff, size_t len,
		const char *where)
{
	struct exif_run r = {.m = m, .where = where ? where : "EXIF"};
	uint8_t *buf = NULL;
	ExifMem *mem = NULL;
	ExifLog *log = NULL;

	if (len > EXIF_BLOCK_MAX) {
		media_warning(
			m, "libexif",
			"%s: EXIF block over 16 MiB (%zu bytes), not read",
			r.where, len);
		return;
	}
	/* Some writers keep APP1's "Exif\0\0" in WebP chunks and HEIF items
	 * too. */
	if (len >= 6 + 8 && !memcmp(tiff, "Exif\0\0", 6) &&
	    tiff_header(tiff + 6, len - 6)) {
		tiff += 6;
		len -= 6;
	}
	if (too_many_blocks(m)) {
		media_warning(m, "libexif",
			      "%s: more than %d EXIF blocks, the rest not read",
			      r.where, EXIF_MORE_MAX + 1);
		return;
	}
	if (!tiff_header(tiff, len)) {
		media_warning(m, "libexif",
			      "%s: EXIF block without a TIFF header, not read",
			      r.where);
		return;
	}
	/* exif_data_load_data wants the APP1 "Exif\0\0" in front. */
	buf = malloc(6 + len);
	if (buf) {
		memcpy(buf, "Exif\0\0", 6);
		memcpy(buf + 6, tiff, len);
	}
	if (!buf || load(&r, &mem, &log, buf, 6 + len) != 0) {
		media_warning(m, "libexif",
			      "%s: out of memory, EXIF block not read",
			      r.where);
		goto out;
	}
	/* Honest entries, maker note and thumbnail do not overlap; the
	 * maker note is in the document twice (entry and "makernote").  No
	 * rendering is longer than 6 times its bytes ("0x41, " for a byte). */
	r.raw_left = 2 * len + 64;
	r.text_left = 8 * len + (64u << 10);
	add_block(&r, tiff);
out:
	if (r.d)
		exif_data_unref(r.d);
	if (log)
		exif_log_unref(log);
	if (mem)
		exif_mem_unref(mem);
	free(buf);
}
