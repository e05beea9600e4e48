/*
 * facts.c: the normalised view of what a file says about itself, the
 * answer to "when, where, with what device", and the facts that disagree.
 *
 * Each parser left candidate facts per source (exif, gps, xmp, image,
 * container).  A fact is taken from the first source that has it, in an
 * order that prefers what the capturing device wrote over what an editor
 * or a muxer added: EXIF over XMP over the container for the device and
 * the time (EXIF DateTime, the last save, comes after all of them); the GPS IFD over XMP over the container's ISO 6709 tag for
 * the place; the coded picture's own frame header over EXIF for the size.
 * doc.facts.sources says where each came from.  Where two sources give
 * the same fact differently, doc.facts.inconsistencies says so: that is
 * often the first sign that a file was edited or its metadata forged.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "vault/media/media.h"

static const struct {
	const char *fact;
	const char *sources[4];
} order[] = {
	{"capture_time", {"exif", "xmp", "container", "exif_saved"}},
	{"location", {"gps", "xmp", "container"}},
	{"make", {"exif", "xmp", "container"}},
	{"model", {"exif", "xmp", "container"}},
	{"serial", {"exif", "xmp", "container"}},
	{"software", {"exif", "xmp", "container"}},
	{"width", {"image", "container", "exif"}},
	{"height", {"image", "container", "exif"}},
	{"duration", {"container"}},
	{"rotation", {"container"}},
	{"orientation", {"exif"}},
	{"container", {"image", "container"}},
	{"streams", {"container"}},
};

/* --- times ------------------------------------------------------------ */

/* Parse "YYYY-MM-DD[T ]HH:MM:SS[.fff][Z|+HH:MM|-HHMM]" (also with ':' in
 * the date, as EXIF writes it).  *secs is the time as if it were UTC;
 * *zone is 1 with the offset in *off (seconds east), 0 if none given. */
static int parse_time(const char *s, double *secs, int *zone, long *off)
{
	int y, mo, d, h, mi, n = 0;
	double sec;
	if (!s || sscanf(s, "%4d%*1[-:]%2d%*1[-:]%2d%*1[T ]%2d:%2d:%lf%n", &y,
			 &mo, &d, &h, &mi, &sec, &n) != 6)
		return 0;
	if (y < 1800 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || !(sec >= 0 && sec < 61))
		return 0;
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
			.tm_hour = h, .tm_min = mi};
	*secs = (double)timegm(&tm) + sec;
	const char *z = s + n;
	int oh, om = 0;
	*zone = 0;
	*off = 0;
	if (*z == 'Z') {
		*zone = 1;
	} else if ((*z == '+' || *z == '-') &&
		   (sscanf(z + 1, "%2d:%2d", &oh, &om) == 2 ||
		    sscanf(z + 1, "%2d%2d", &oh, &om) >= 1)) {
		*zone = 1;
		*off = (*z == '-' ? -1 : 1) * (oh * 3600L + om * 60L);
	}
	return 1;
}

/* Do two times disagree?  With both zones known the instants must agree
 * within `slack` seconds; otherwise one is local time of unknown zone and
 * they may differ only by a whole quarter-hour offset within +-14 h. */
static int times_disagree(const char *a, const char *b, double slack,
			  char why[160])
{
	double ta, tb;
	int za, zb;
	long oa, ob;
	if (!parse_time(a, &ta, &za, &oa) || !parse_time(b, &tb, &zb, &ob))
		return 0;
	if (za && zb) {
		double diff = fabs((ta - (double)oa) - (tb - (double)ob));
		if (diff <= slack)
			return 0;
		snprintf(why, 160, "%.0f s apart", diff);
		return 1;
	}
	double diff = fabs(ta - tb);
	if (diff > 14 * 3600 + slack) {
		snprintf(why, 160, "%.1f h apart, more than any time zone",
			 diff / 3600);
		return 1;
	}
	double rem = fmod(diff, 900);
	if (rem > slack && 900 - rem > slack) {
		snprintf(why, 160, "%.0f min apart, not a time-zone offset",
			 diff / 60);
		return 1;
	}
	return 0;
}

/* --- places ----------------------------------------------------------- */

static double metres_between(json_t *a, json_t *b)
{
	const double r = 6371008.8, rad = M_PI / 180;
	double la1 = json_number_value(json_object_get(a, "lat")) * rad;
	double la2 = json_number_value(json_object_get(b, "lat")) * rad;
	double dla = la2 - la1;
	double dlo = (json_number_value(json_object_get(b, "lon")) -
		      json_number_value(json_object_get(a, "lon"))) * rad;
	double h = sin(dla / 2) * sin(dla / 2) +
		   cos(la1) * cos(la2) * sin(dlo / 2) * sin(dlo / 2);
	return 2 * r * asin(sqrt(h < 1 ? h : 1));
}

/* --- merging ---------------------------------------------------------- */

static void disagree(json_t *list, const char *fact, const char *sa, json_t *a,
		     const char *sb, json_t *b, const char *why)
{
	json_t *v = json_object();
	json_object_set(v, sa, a);
	json_object_set(v, sb, b);
	json_array_append_new(list, json_pack("{s:s,s:o,s:s}", "fact", fact,
					      "values", v, "why", why));
}

static int same_text(json_t *a, json_t *b)
{
	const char *x = json_string_value(a), *y = json_string_value(b);
	if (!x || !y)
		return json_equal(a, b);
	/* Cameras pad with spaces; editors change case. */
	size_t lx = strlen(x), ly = strlen(y);
	while (lx && x[lx - 1] == ' ')
		lx--;
	while (ly && y[ly - 1] == ' ')
		ly--;
	return lx == ly && !strncasecmp(x, y, lx);
}

/* Compare every pair of sources that give `fact`. */
static void compare(media_ctx *m, json_t *incons, const char *fact,
		    const char *const *srcs)
{
	for (int i = 0; i < 4 && srcs[i]; i++) {
		/* A save time is not a capture time: no disagreement there. */
		if (!strcmp(srcs[i], "exif_saved"))
			continue;
		json_t *a = json_object_get(json_object_get(m->cand, srcs[i]), fact);
		for (int j = i + 1; a && j < 4 && srcs[j]; j++) {
			json_t *b = json_object_get(json_object_get(m->cand, srcs[j]), fact);
			if (!b || !strcmp(srcs[j], "exif_saved"))
				continue;
			char why[160] = "";
			int bad;
			if (!strcmp(fact, "capture_time")) {
				bad = times_disagree(json_string_value(a),
						     json_string_value(b), 2, why);
			} else if (!strcmp(fact, "location")) {
				double d = metres_between(a, b);
				bad = d > 50;
				if (d >= 10000)
					snprintf(why, sizeof why, "%.0f km apart", d / 1000);
				else
					snprintf(why, sizeof why, "%.0f m apart", d);
			} else if (!strcmp(fact, "width") || !strcmp(fact, "height")) {
				/* A container's size is the coded one; only a
				 * photo's EXIF against its frame is a question. */
				bad = !strcmp(srcs[j], "exif") && !strcmp(srcs[i], "image") &&
				      !json_equal(a, b);
				snprintf(why, sizeof why, "the picture is not the size "
					 "EXIF gives (resized after capture?)");
			} else {
				bad = !same_text(a, b);
				snprintf(why, sizeof why, "differ");
			}
			if (bad)
				disagree(incons, fact, srcs[i], a, srcs[j], b, why);
		}
	}
}

void media_facts(media_ctx *m)
{
	json_t *facts = json_object(), *sources = json_object();
	json_t *incons = json_array();

	for (size_t f = 0; f < sizeof order / sizeof order[0]; f++) {
		const char *const *srcs = order[f].sources;
		for (int i = 0; i < 4 && srcs[i]; i++) {
			json_t *v = json_object_get(json_object_get(m->cand, srcs[i]),
						    order[f].fact);
			if (v) {
				json_object_set(facts, order[f].fact, v);
				json_object_set_new(sources, order[f].fact,
						    json_string(srcs[i]));
				break;
			}
		}
		/* XMP's CreatorTool made the file, EXIF's Software last saved
		 * it: both are right. */
		if (strcmp(order[f].fact, "software") != 0)
			compare(m, incons, order[f].fact, srcs);
	}

	/* GPS time is UTC by definition: check the capture time against it. */
	json_t *gps_time = json_object_get(json_object_get(m->cand, "gps"), "gps_time");
	json_t *exif_time = json_object_get(json_object_get(m->cand, "exif"),
					    "capture_time");
	char why[160] = "";
	if (gps_time && exif_time &&
	    times_disagree(json_string_value(exif_time), json_string_value(gps_time),
			   120, why))
		disagree(incons, "capture_time", "exif", exif_time, "gps", gps_time,
			 why);
	if (gps_time)
		json_object_set(facts, "gps_time", gps_time);

	json_object_set_new(facts, "inconsistencies", incons);
	json_object_set_new(facts, "sources", sources);
	json_object_set_new(m->doc, "facts", facts);
}
