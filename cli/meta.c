/*
 * meta.c: showing a metadata document (the probe's answer, kept with each
 * item) to a person: the facts first, those that disagree flagged, then
 * every tag grouped by where it came from.  Shared by `evault show` and
 * `evault probe`.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Every line goes out through here.  What the document says is the file's
 * (or a taken-over probe's) to choose, and it must not reach the terminal
 * as control characters that move the cursor, set the window title or
 * forge a line of this listing: control characters (C0, DEL, C1) are
 * written as \xNN, all but the line breaks the format itself starts or
 * ends with. */
__attribute__((format(__printf__, 1, 2))) static void
out(const char *fmt, ...)
{
	char stack[1024], *buf = stack;
	va_list ap;

	va_start(ap, fmt);
	int r = vsnprintf(stack, sizeof stack, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	size_t n = (size_t)r;
	if (n >= sizeof stack) {
		buf = malloc(n + 1);
		if (!buf)
			return;
		va_start(ap, fmt);
		vsnprintf(buf, n + 1, fmt, ap);
		va_end(ap);
	}
	size_t flen = strlen(fmt), lead = strspn(fmt, "\n"), trail = 0;
	while (trail < flen - lead && fmt[flen - 1 - trail] == '\n')
		trail++;
	size_t from = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)buf[i];
		size_t len = 0;
		if (c == '\n' && (i < lead || i >= n - trail))
			continue;
		if (c < 0x20 || c == 0x7f)
			len = 1;
		else if (c == 0xc2 && i + 1 < n &&
			 (unsigned char)buf[i + 1] >= 0x80 &&
			 (unsigned char)buf[i + 1] <= 0x9f)
			len = 2; /* U+0080..U+009F */
		if (!len)
			continue;
		fwrite(buf + from, 1, i - from, stdout);
		for (size_t k = 0; k < len; k++)
			fprintf(stdout, "\\x%02x", (unsigned char)buf[i + k]);
		i += len - 1;
		from = i + 1;
	}
	fwrite(buf + from, 1, n - from, stdout);
	if (buf != stack)
		free(buf);
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* One value as text: strings as they are, numbers plainly. */
static void value_text(json_t *v, char *buf, size_t n)
{
	if (json_is_string(v))
		snprintf(buf, n, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, n, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, n, "%.6g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, n, "%s", json_is_true(v) ? "yes" : "no");
	else {
		char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
		snprintf(buf, n, "%s", s ? s : "?");
		free(s);
	}
}

static const char *orientation_name(long o)
{
	static const char *const names[] = {
		"?", "top-left (normal)", "top-right (mirrored)",
		"bottom-right (rotated 180)", "bottom-left (mirrored, 180)",
		"left-top (mirrored, 90 cw)", "right-top (rotated 90 cw)",
		"right-bottom (mirrored, 90 ccw)", "left-bottom (rotated 90 ccw)"};
	return o >= 1 && o <= 8 ? names[o] : "not a valid value";
}

static void print_facts(json_t *doc)
{
	json_t *f = json_object_get(doc, "facts");
	json_t *src = json_object_get(f, "sources");
	char buf[512];
	if (!json_is_object(f)) {
		out("facts          none (no metadata document)\n");
		return;
	}
#define FROM(k) (str(src, k) ? str(src, k) : "")
	if (str(f, "capture_time"))
		out("captured       %s  (%s)\n", str(f, "capture_time"),
		    FROM("capture_time"));
	json_t *loc = json_object_get(f, "location");
	if (loc) {
		out("location       %.6f, %.6f",
		    json_number_value(json_object_get(loc, "lat")),
		    json_number_value(json_object_get(loc, "lon")));
		if (json_object_get(loc, "alt"))
			out(", %.1f m",
			    json_number_value(json_object_get(loc, "alt")));
		out("  (%s)\n", FROM("location"));
	}
	static const char *const plain[][2] = {
		{"make", "make"}, {"model", "model"}, {"serial", "serial"},
		{"software", "software"}, {"container", "container"},
	};
	for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
		json_t *v = json_object_get(f, plain[i][0]);
		if (!v)
			continue;
		value_text(v, buf, sizeof buf);
		out("%-14s %s  (%s)\n", plain[i][1], buf, FROM(plain[i][0]));
	}
	if (json_object_get(f, "width"))
		out("dimensions     %lld x %lld  (%s)\n",
		    (long long)json_integer_value(json_object_get(f, "width")),
		    (long long)json_integer_value(json_object_get(f, "height")),
		    FROM("width"));
	if (json_object_get(f, "duration"))
		out("duration       %.3f s\n",
		    json_number_value(json_object_get(f, "duration")));
	if (json_object_get(f, "rotation"))
		out("rotation       %lld degrees clockwise for display\n",
		    (long long)json_integer_value(
			    json_object_get(f, "rotation")));
	if (json_object_get(f, "orientation")) {
		long o = (long)json_integer_value(json_object_get(f, "orientation"));
		out("orientation    %ld, %s\n", o, orientation_name(o));
	}
	json_t *streams = json_object_get(f, "streams");
	if (json_array_size(streams)) {
		out("streams        ");
		size_t i;
		json_t *s;
		json_array_foreach(streams, i, s) {
			value_text(s, buf, sizeof buf);
			out("%s%s", i ? ", " : "", buf);
		}
		out("\n");
	}
	if (str(f, "gps_time"))
		out("gps time       %s\n", str(f, "gps_time"));
	size_t i;
	json_t *d;
	json_array_foreach(json_object_get(f, "inconsistencies"), i, d) {
		out("DISAGREE       %s:",
		    str(d, "fact") ? str(d, "fact") : "?");
		const char *k;
		json_t *v;
		json_object_foreach(json_object_get(d, "values"), k, v) {
			value_text(v, buf, sizeof buf);
			out(" %s %s;", k, buf);
		}
		out(" %s\n", str(d, "why") ? str(d, "why") : "");
	}
#undef FROM
}

static void print_list(const char *title, json_t *list)
{
	size_t i;
	json_t *s;
	char buf[512];
	json_array_foreach(list, i, s) {
		value_text(s, buf, sizeof buf);
		out("%-14s %s\n", i ? "" : title, buf);
	}
}

static void print_tags(const char *indent, json_t *tags)
{
	const char *k;
	json_t *v;
	char buf[512];
	json_object_foreach(tags, k, v) {
		value_text(v, buf, sizeof buf);
		out("%s%-32s %s\n", indent, k, buf);
	}
}

static void print_exif(json_t *ex)
{
	static const char *const ifds[] = {"0", "1", "EXIF", "GPS", "Interoperability"};
	char buf[512];
	out("\nEXIF (%s, %s-endian)\n",
	    str(ex, "where") ? str(ex, "where") : "?",
	    str(ex, "byte_order") ? str(ex, "byte_order") : "?");
	for (size_t i = 0; i < sizeof ifds / sizeof ifds[0]; i++) {
		json_t *tags = json_object_get(json_object_get(ex, "ifds"), ifds[i]);
		if (!json_array_size(tags))
			continue;
		out("  IFD %s\n", ifds[i]);
		size_t j;
		json_t *t;
		json_array_foreach(tags, j, t) {
			value_text(json_object_get(t, "value"), buf, sizeof buf);
			out("    %-7s %-28s %s\n",
			    str(t, "tag") ? str(t, "tag") : "",
			    str(t, "name") ? str(t, "name") : "?", buf);
		}
	}
	json_t *mn = json_object_get(ex, "makernote");
	if (mn) {
		json_t *tags = json_object_get(mn, "tags");
		out("  maker note (%s): %zu tags decoded, %lld bytes kept\n",
		    str(mn, "maker") ? str(mn, "maker") : "unknown maker",
		    json_array_size(tags),
		    (long long)json_integer_value(
			    json_object_get(json_object_get(mn, "raw"),
					    "size")));
		size_t j;
		json_t *t;
		json_array_foreach(tags, j, t) {
			value_text(json_object_get(t, "value"), buf, sizeof buf);
			out("    %-36s %s\n",
			    str(t, "name") ? str(t, "name") : "?", buf);
		}
	}
	json_t *th = json_object_get(ex, "thumbnail");
	if (th)
		out("  thumbnail: %lld bytes kept\n",
		    (long long)json_integer_value(json_object_get(th, "size")));
}

static void print_container(json_t *c)
{
	char buf[512];
	out("\ncontainer (%s)\n", str(c, "format") ? str(c, "format") : "?");
	if (json_object_get(c, "duration"))
		out("  duration %.3f s",
		    json_number_value(json_object_get(c, "duration")));
	if (json_object_get(c, "bit_rate"))
		out(", %lld bit/s", (long long)json_integer_value(
					    json_object_get(c, "bit_rate")));
	out("\n");
	print_tags("  ", json_object_get(c, "tags"));
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(c, "streams"), i, s) {
		out("  stream %lld: %s %s",
		    (long long)json_integer_value(json_object_get(s, "index")),
		    str(s, "type") ? str(s, "type") : "?",
		    str(s, "codec") ? str(s, "codec") : "unknown codec");
		if (str(s, "profile"))
			out(" (%s)", str(s, "profile"));
		if (json_object_get(s, "width"))
			out(", %lldx%lld",
			    (long long)json_integer_value(
				    json_object_get(s, "width")),
			    (long long)json_integer_value(
				    json_object_get(s, "height")));
		if (str(s, "avg_frame_rate"))
			out(", %s fps", str(s, "avg_frame_rate"));
		if (json_object_get(s, "sample_rate"))
			out(", %lld Hz",
			    (long long)json_integer_value(
				    json_object_get(s, "sample_rate")));
		if (json_object_get(s, "channels"))
			out(", %lld ch",
			    (long long)json_integer_value(
				    json_object_get(s, "channels")));
		if (str(s, "language"))
			out(", %s", str(s, "language"));
		out("\n");
		print_tags("      ", json_object_get(s, "tags"));
		size_t j;
		json_t *sd;
		json_array_foreach(json_object_get(s, "side_data"), j, sd) {
			value_text(sd, buf, sizeof buf);
			out("      side data %s\n", buf);
		}
	}
	json_array_foreach(json_object_get(c, "chapters"), i, s) {
		out("  chapter %zu: %.3f-%.3f s\n", i,
		    json_number_value(json_object_get(s, "start")),
		    json_number_value(json_object_get(s, "end")));
		print_tags("      ", json_object_get(s, "tags"));
	}
	json_array_foreach(json_object_get(c, "attachments"), i, s)
		out("  attachment %s (%s), %lld bytes kept\n",
		    str(s, "filename") ? str(s, "filename") : "?",
		    str(s, "mimetype") ? str(s, "mimetype") : "?",
		    (long long)json_integer_value(json_object_get(s, "size")));
}

void cli_print_meta(json_t *doc)
{
	print_facts(doc);
	print_list("probe errors", json_object_get(doc, "errors"));
	print_list("warnings", json_object_get(doc, "warnings"));
	json_t *ex = json_object_get(doc, "exif");
	if (ex)
		print_exif(ex);
	json_t *xmp = json_object_get(doc, "xmp");
	if (json_object_size(xmp)) {
		out("\nXMP\n");
		print_tags("  ", xmp);
	}
	json_t *c = json_object_get(doc, "container");
	if (c)
		print_container(c);
	json_t *img = json_object_get(doc, "image");
	json_t *tr = json_object_get(img, "trailer");
	if (tr) {
		const char *in =
			str(json_object_get(tr, "container"), "format");
		out("\nafter the end of the %s: %lld bytes at offset %lld%s%s\n",
		    str(img, "format") ? str(img, "format") : "image",
		    (long long)json_integer_value(json_object_get(tr, "size")),
		    (long long)json_integer_value(
			    json_object_get(tr, "offset")),
		    in ? ", a " : "", in ? in : "");
	}
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(doc, "segments"), i, s) {
		if (!i)
			out("\nmetadata segments (kept byte for byte)\n");
		out("  %-8s %-14s %8lld bytes",
		    str(s, "where") ? str(s, "where") : "",
		    str(s, "kind") ? str(s, "kind") : "",
		    (long long)json_integer_value(json_object_get(s, "size")));
		if (json_object_get(s, "offset"))
			out(" at offset %lld",
			    (long long)json_integer_value(
				    json_object_get(s, "offset")));
		out("\n");
	}
	json_t *mg = json_object_get(doc, "magic");
	if (mg)
		out("\nfile type      %s\n",
		    str(mg, "description") ? str(mg, "description") : "?");
}

/* The raw bytes kept in a document (segments, thumbnails, maker notes,
 * attachments) are base64 "data" members: left out of --json unless
 * asked for, with their sizes still there. */
static void strip(json_t *j)
{
	if (json_is_object(j)) {
		json_object_del(j, "data");
		const char *k;
		json_t *v;
		json_object_foreach(j, k, v)
			strip(v);
	} else if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v)
			strip(v);
	}
}

void cli_meta_strip(json_t *doc)
{
	strip(doc);
}
