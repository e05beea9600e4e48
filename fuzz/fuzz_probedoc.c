/*
 * fuzz_probedoc.c: what evault, the parent process that holds the keys,
 * does with the probe's answer: the metadata document (docs/formats.md
 * section 18) read with jansson, shown to a person (cli_print_meta(),
 * cli/meta.c, as `evault show` and `evault probe` do) and stripped of its
 * raw bytes for --json (cli_meta_strip()).  The probe parses hostile
 * media; once an attacker has taken it over it can answer anything, so
 * the parent must take any JSON object: members of the wrong type, nulls
 * where objects were, huge arrays, deep nesting, numbers out of range.
 *
 * Input: the document's text, read as ingest reads it (json_loadb with
 * JSON_REJECT_DUPLICATES); what is not a JSON object is skipped, as ingest
 * refuses it.  cli/meta.c is compiled into this file with its printf()
 * family routed through a check: a NULL given for a %s (glibc prints
 * "(null)", other C libraries crash) or a conversion the check does not
 * know aborts.  What it prints is caught in memory (and shown with
 * FUZZ_VERBOSE set).  Checks: the listing holds no control character but
 * its line breaks (a file's metadata must not drive the investigator's
 * terminal or forge a line); printing leaves the document as it was;
 * stripping leaves no "data" member at any depth, and a second strip
 * changes nothing.
 *
 * Seeds: hand-made documents, well formed and hostile (written by
 * write_seeds()), and, made by fuzz/cli-seeds.sh when the shared media
 * corpus is present, the probe's real documents for a few corpus files,
 * without their base64 "data".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "fuzz/fuzz.h"

/* Walk a printf format as the C library will, taking each argument with
 * its type; a %s must get a string, not NULL. */
static void check_args(const char *fmt, va_list ap)
{
	for (const char *p = fmt; *p; p++) {
		if (*p != '%')
			continue;
		if (*++p == '%')
			continue;
		p += strspn(p, "-+ #0'");
		if (*p == '*') {
			(void)va_arg(ap, int);
			p++;
		} else {
			p += strspn(p, "0123456789");
		}
		if (*p == '.') {
			if (*++p == '*') {
				(void)va_arg(ap, int);
				p++;
			} else {
				p += strspn(p, "0123456789");
			}
		}
		int longs = 0;
		char size = 0;
		for (; *p && strchr("hlLjzt", *p); p++) {
			longs += *p == 'l';
			size = *p;
		}
		switch (*p) {
		case 'd':
		case 'i':
		case 'u':
		case 'x':
		case 'X':
		case 'o':
		case 'c':
			if (longs == 2)
				(void)va_arg(ap, long long);
			else if (longs == 1)
				(void)va_arg(ap, long);
			else if (size == 'z')
				(void)va_arg(ap, size_t);
			else if (size == 'j' || size == 't')
				(void)va_arg(ap, long long);
			else
				(void)va_arg(ap, int);
			break;
		case 'f':
		case 'F':
		case 'g':
		case 'G':
		case 'e':
		case 'E':
		case 'a':
		case 'A':
			if (size == 'L')
				(void)va_arg(ap, long double);
			else
				(void)va_arg(ap, double);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			FUZZ_CHECK(s != NULL, "NULL for a %%s in \"%s\"", fmt);
			break;
		}
		case 'p':
			(void)va_arg(ap, void *);
			break;
		default:
			fuzz_fail(__FILE__, __LINE__, "conversion known",
				  "'%c' in \"%s\"", *p ? *p : '0', fmt);
		}
	}
}

/* (meta.c prints through one vsnprintf() today; these keep any printf()
 * it may gain checked too.) */
__attribute__((format(printf, 1, 2), unused)) static int
checked_printf(const char *fmt, ...)
{
	va_list ap, copy;
	va_start(ap, fmt);
	va_copy(copy, ap);
	check_args(fmt, copy);
	va_end(copy);
	int n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

__attribute__((format(printf, 2, 3), unused)) static int
checked_fprintf(FILE *f, const char *fmt, ...)
{
	va_list ap, copy;
	va_start(ap, fmt);
	va_copy(copy, ap);
	check_args(fmt, copy);
	va_end(copy);
	int n = vfprintf(f, fmt, ap);
	va_end(ap);
	return n;
}

__attribute__((format(printf, 3, 0))) static int
checked_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
{
	va_list copy;
	va_copy(copy, ap);
	check_args(fmt, copy);
	va_end(copy);
	return vsnprintf(buf, n, fmt, ap);
}

__attribute__((format(printf, 3, 4))) static int
checked_snprintf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap, copy;
	va_start(ap, fmt);
	va_copy(copy, ap);
	check_args(fmt, copy);
	va_end(copy);
	int r = vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return r;
}

/* cli/meta.c itself, with its formatting checked. */
#undef printf
#undef fprintf
#undef snprintf
#undef vsnprintf
#define printf checked_printf
#define fprintf checked_fprintf
#define snprintf checked_snprintf
#define vsnprintf checked_vsnprintf
#include "cli/meta.c"
#undef printf
#undef fprintf
#undef snprintf
#undef vsnprintf

/* --- seeds ---------------------------------------------------------------- */

/* A well-formed document with every member of section 18 (the real ones
 * come from fuzz/cli-seeds.sh). */
static const char whole[] =
	"{\"v\":1,\"sha256\":\"6bfdabd4fc33d112283c147acccc574e770bbe6fbdbc3d4d"
	"a968ba7b606ecc2f\",\"size\":7958,\"type\":\"image/jpeg\","
	"\"image\":{\"format\":\"jpeg\",\"width\":100,\"height\":68,"
	"\"components\":3,\"precision\":8,\"coding\":\"baseline\","
	"\"trailer\":{\"offset\":7000,\"size\":958,\"container\":{\"format\":"
	"\"mov,mp4,m4a,3gp,3g2,mj2\"}}},"
	"\"segments\":[{\"kind\":\"jfif\",\"where\":\"APP0\",\"offset\":6,"
	"\"size\":14,\"data\":\"SkZJRgABAQEASABIAAA=\"},{\"kind\":\"exif\","
	"\"where\":\"APP1\",\"offset\":24,\"size\":2474}],"
	"\"exif\":{\"where\":\"APP1\",\"byte_order\":\"little\",\"ifds\":{"
	"\"0\":[{\"tag\":\"0x010f\",\"name\":\"Make\",\"title\":\"Manufacturer\","
	"\"format\":\"ASCII\",\"components\":6,\"value\":\"Canon\",\"raw\":"
	"\"43616e6f6e00\"}],\"1\":[{\"tag\":\"0x0103\",\"name\":\"Compression\","
	"\"value\":\"JPEG compression\"}],\"EXIF\":[{\"tag\":\"0x9003\",\"name\":"
	"\"DateTimeOriginal\",\"value\":\"2008:05:30 15:56:01\"}],\"GPS\":[{"
	"\"tag\":\"0x0001\",\"name\":\"GPSLatitudeRef\",\"value\":\"N\"}],"
	"\"Interoperability\":[{\"tag\":\"0x0001\",\"name\":"
	"\"InteroperabilityIndex\",\"value\":\"R98\"}]},"
	"\"makernote\":{\"maker\":\"Canon\",\"raw\":{\"size\":4,\"data\":"
	"\"AAAAAA==\"},\"tags\":[{\"id\":6,\"name\":\"ImageType\",\"title\":"
	"\"Image Type\",\"value\":\"Canon EOS 40D\"},{\"id\":12,\"name\":"
	"\"SerialNumber\",\"value\":\"1234\"}]},"
	"\"thumbnail\":{\"size\":3,\"data\":\"/9j/\"}},"
	"\"xmp\":{\"xmp:CreatorTool\":\"GIMP\",\"exif:GPSLatitude\":"
	"\"41,24.5N\"},"
	"\"container\":{\"format\":\"mov,mp4,m4a,3gp,3g2,mj2\",\"format_long\":"
	"\"QuickTime / MOV\",\"mime\":\"video/mp4\",\"duration\":5.005,"
	"\"start_time\":0.0,\"bit_rate\":1205959,\"tags\":{\"creation_time\":"
	"\"2015-03-01T10:00:00.000000Z\",\"location\":\"+48.8577+002.2950/\"},"
	"\"streams\":[{\"index\":0,\"type\":\"video\",\"codec\":\"h264\","
	"\"codec_long\":\"H.264\",\"profile\":\"High\",\"width\":1920,"
	"\"height\":1080,\"frame_rate\":\"30000/1001\",\"avg_frame_rate\":"
	"\"30000/1001\",\"time_base\":\"1/600\",\"duration\":5.005,"
	"\"language\":\"eng\",\"tags\":{\"handler_name\":\"Core Media Video\"},"
	"\"side_data\":[{\"type\":\"Display Matrix\",\"rotation\":-90}],"
	"\"disposition\":[\"default\"]},{\"index\":1,\"type\":\"audio\","
	"\"codec\":\"aac\",\"sample_rate\":44100,\"channels\":2,"
	"\"channel_layout\":\"stereo\"}],"
	"\"chapters\":[{\"start\":0.0,\"end\":2.5,\"tags\":{\"title\":\"one\"}}],"
	"\"attachments\":[{\"stream\":2,\"filename\":\"font.ttf\",\"mimetype\":"
	"\"font/ttf\",\"size\":3,\"data\":\"AAAA\"}]},"
	"\"magic\":{\"description\":\"ASCII text\",\"mime\":\"text/plain\"},"
	"\"errors\":[\"jpeg: no end-of-image marker\"],\"warnings\":"
	"[\"libexif: ExifData: Short data\"],"
	"\"facts\":{\"capture_time\":\"2008-05-30T15:56:01\",\"location\":{"
	"\"lat\":41.408333,\"lon\":2.1,\"alt\":-12.5},\"make\":\"Canon\","
	"\"model\":\"Canon EOS 40D\",\"serial\":\"1234\",\"software\":"
	"\"GIMP 2.4.5\",\"width\":100,\"height\":68,\"duration\":5.005,"
	"\"rotation\":90,\"orientation\":6,\"container\":\"jpeg\",\"streams\":"
	"[\"h264\",\"aac\"],\"gps_time\":\"2008-05-30T13:56:00Z\","
	"\"inconsistencies\":[{\"fact\":\"make\",\"values\":{\"exif\":\"Canon\","
	"\"xmp\":\"Nikon\"},\"why\":\"differ\"}],\"sources\":{\"capture_time\":"
	"\"exif\",\"location\":\"gps\",\"make\":\"exif\",\"width\":\"image\"}}}";

/* Documents a taken-over probe could send: every member of the wrong type. */
static const struct {
	const char *name, *text;
} hostile[] = {
	{"wrong-top",
	 "{\"v\":\"1\",\"sha256\":1,\"size\":\"x\",\"type\":null,"
	 "\"errors\":[1,null,{},[],true,\"e\"],\"warnings\":\"w\","
	 "\"facts\":[],\"segments\":{},\"image\":[],\"exif\":7,\"xmp\":[1],"
	 "\"container\":\"c\",\"magic\":false}"},
	{"wrong-facts",
	 "{\"facts\":{\"capture_time\":1,\"location\":\"here\",\"make\":[1,2],"
	 "\"model\":null,\"serial\":{},\"software\":true,\"container\":1.5,"
	 "\"width\":\"w\",\"height\":{},\"duration\":\"d\",\"rotation\":null,"
	 "\"orientation\":\"x\",\"streams\":\"s\",\"gps_time\":5,"
	 "\"inconsistencies\":[1,null,{\"fact\":2,\"values\":[1],\"why\":null},"
	 "{\"values\":{\"exif\":null,\"xmp\":[{}]}}],\"sources\":[]}}"},
	{"wrong-facts-2",
	 "{\"facts\":{\"location\":{\"lat\":\"n\",\"lon\":null,\"alt\":[]},"
	 "\"streams\":[null,1,{},[\"x\"]],\"inconsistencies\":{\"a\":1},"
	 "\"sources\":{\"make\":1,\"location\":null}},\"errors\":null}"},
	{"big-numbers",
	 "{\"facts\":{\"width\":1e308,\"height\":-9223372036854775808,"
	 "\"orientation\":9223372036854775807,\"duration\":-1e308,"
	 "\"rotation\":1.5,\"location\":{\"lat\":1e308,\"lon\":-1e308,"
	 "\"alt\":9223372036854775807}},\"image\":{\"trailer\":{\"size\":"
	 "-9223372036854775808,\"offset\":1e300}}}"},
	{"wrong-exif",
	 "{\"exif\":{\"where\":1,\"byte_order\":null,\"ifds\":{\"0\":[1,null,"
	 "{\"tag\":2,\"name\":null,\"value\":{}},{\"value\":[1,[2]]}],"
	 "\"1\":{},\"GPS\":\"x\",\"EXIF\":[[]]},\"makernote\":{\"maker\":1,"
	 "\"raw\":[],\"tags\":[null,2,{\"name\":3,\"value\":null}]},"
	 "\"thumbnail\":\"t\"}}"},
	{"wrong-exif-2",
	 "{\"exif\":{\"ifds\":[1],\"makernote\":[],\"thumbnail\":{\"size\":"
	 "\"s\"}}}"},
	{"null-members",
	 "{\"exif\":null,\"container\":null,\"image\":null,\"magic\":null,"
	 "\"xmp\":null,\"segments\":null,\"facts\":null,\"errors\":null,"
	 "\"warnings\":null}"},
	{"wrong-container",
	 "{\"container\":{\"format\":1,\"duration\":\"x\",\"bit_rate\":{},"
	 "\"tags\":[1],\"streams\":[null,1,{\"index\":\"i\",\"type\":1,"
	 "\"codec\":[],\"profile\":{},\"width\":\"w\",\"height\":null,"
	 "\"avg_frame_rate\":30,\"sample_rate\":\"s\",\"channels\":[],"
	 "\"language\":2,\"side_data\":{\"a\":1},\"tags\":\"t\"},{\"tags\":"
	 "{\"a\":null,\"b\":[1],\"c\":{\"d\":\"e\"}},\"side_data\":[null,1,"
	 "\"s\"]}],\"chapters\":{\"x\":1},\"attachments\":[{\"filename\":1,"
	 "\"mimetype\":null,\"size\":\"s\"},null,3]}}"},
	{"wrong-container-2",
	 "{\"container\":{\"streams\":{},\"chapters\":[null,{\"start\":\"a\","
	 "\"end\":[],\"tags\":[]}],\"attachments\":{}}}"},
	{"wrong-trailer",
	 "{\"image\":{\"format\":5,\"trailer\":{\"size\":\"s\",\"offset\":null,"
	 "\"container\":{\"format\":7}}}}"},
	{"wrong-trailer-2",
	 "{\"image\":{\"trailer\":{\"container\":\"mp4\"}}}"},
	{"wrong-trailer-3", "{\"image\":{\"trailer\":{\"container\":null}}}"},
	{"wrong-trailer-4", "{\"image\":{\"trailer\":[]}}"},
	{"wrong-segments",
	 "{\"segments\":[1,null,{\"where\":1,\"kind\":[],\"size\":\"s\","
	 "\"offset\":{}},{\"offset\":null}]}"},
	{"wrong-magic", "{\"magic\":{\"description\":1}}"},
	{"wrong-magic-2", "{\"magic\":\"text\"}"},
	{"wrong-xmp", "{\"xmp\":{\"a\":null,\"b\":[1],\"c\":{\"d\":\"e\"},"
		      "\"d\":true,\"e\":-0.0}}"},
	{"wrong-xmp-2", "{\"xmp\":\"string\"}"},
	{"data-everywhere",
	 "{\"data\":1,\"a\":{\"data\":\"x\",\"b\":[{\"data\":null},"
	 "[{\"data\":{\"data\":[]}}]]},\"segments\":[{\"data\":\"AA==\"}]}"},
	{"text",
	 "{\"facts\":{\"make\":\"\\u00e9\\ud83d\\ude00 %s %n\","
	 "\"capture_time\":\"%s%s%s%s\"},\"errors\":[\"\\u00ff%p\"]}"},
	{"terminal",
	 "{\"facts\":{\"make\":\"\\u001b]0;owned\\u0007\\u001b[2J\","
	 "\"model\":\"x\\ncaptured       1999-01-01T00:00:00  (exif)\","
	 "\"streams\":[\"\\nforged\",\"\\r\\t\\u007f\\u009b\"]},"
	 "\"errors\":[\"\\u009b31m\"],\"xmp\":{\"\\n\":\"\\n\"}}"},
	{"empty", "{}"},
	{"not-object", "[{\"facts\":1}]"},
};

/* An XMP member nested `depth` arrays deep (jansson stops at 2048). */
static void deep_seed(const char *name, size_t depth)
{
	size_t n = 16 + 2 * depth;
	char *s = malloc(n);
	if (!s)
		abort();
	size_t o = (size_t)sprintf(s, "{\"xmp\":{\"a\":");
	memset(s + o, '[', depth);
	o += depth;
	memset(s + o, ']', depth);
	o += depth;
	s[o++] = '}';
	s[o++] = '}';
	fuzz_seed(name, s, o);
	free(s);
}

/* Many members and elements: a huge document in few bytes of input is
 * not possible with JSON, but long lists are. */
static void long_seed(void)
{
	size_t n = 2000, cap = 64 + n * 16;
	char *s = malloc(cap);
	if (!s)
		abort();
	size_t o = (size_t)sprintf(s, "{\"errors\":[");
	for (size_t i = 0; i < n; i++)
		o += (size_t)sprintf(s + o, "%s\"e%zu\"", i ? "," : "", i);
	o += (size_t)sprintf(s + o, "],\"facts\":{\"streams\":[");
	for (size_t i = 0; i < n; i++)
		o += (size_t)sprintf(s + o, "%s%zu", i ? "," : "", i);
	o += (size_t)sprintf(s + o, "]}}");
	fuzz_seed("long-lists", s, o);
	free(s);
}

static void write_seeds(void)
{
	fuzz_seed("whole", whole, strlen(whole));
	for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++)
		fuzz_seed(hostile[i].name, hostile[i].text,
			  strlen(hostile[i].text));
	deep_seed("deep", 2000);
	long_seed();
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
	return 0;
}

/* cli_print_meta(doc), its output caught in memory (stdout is a variable
 * in glibc) and checked: text and line breaks only, no control character
 * (C0, DEL, C1) from the document. */
static void print(json_t *doc)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len), *saved = stdout;
	FUZZ_CHECK(mem != NULL, "no memory stream");
	stdout = mem;
	cli_print_meta(doc);
	stdout = saved;
	FUZZ_CHECK(fclose(mem) == 0, "memory stream");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		FUZZ_CHECK(c == '\n' || (c >= 0x20 && c != 0x7f),
			   "control character 0x%02x at byte %zu", c, i);
		FUZZ_CHECK(!(c == 0xc2 && i + 1 < len &&
			     (unsigned char)text[i + 1] >= 0x80 &&
			     (unsigned char)text[i + 1] <= 0x9f),
			   "C1 control at byte %zu of the listing", i);
	}
	fuzz_say("%s", text);
	free(text);
}

/* Whether a "data" member is left anywhere in j. */
static int has_data(json_t *j)
{
	const char *k;
	json_t *v;
	size_t i;
	if (json_is_object(j)) {
		if (json_object_get(j, "data"))
			return 1;
		json_object_foreach(j, k, v)
			if (has_data(v))
				return 1;
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			if (has_data(v))
				return 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t je;
	json_t *doc = json_loadb((const char *)data, size,
				 JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(doc)) {
		fuzz_say("not a JSON object: %s\n", doc ? "other" : je.text);
		json_decref(doc);
		return 0;
	}
	json_t *before = json_deep_copy(doc);
	FUZZ_CHECK(before != NULL, "cannot copy the document");

	print(doc);
	FUZZ_CHECK(json_equal(doc, before), "printing changed the document");

	cli_meta_strip(doc);
	FUZZ_CHECK(!has_data(doc), "a \"data\" member survived the strip");
	json_decref(before);
	before = json_deep_copy(doc);
	cli_meta_strip(doc);
	FUZZ_CHECK(json_equal(doc, before),
		   "a second strip changed the document");
	print(doc);

	json_decref(before);
	json_decref(doc);
	return 0;
}
