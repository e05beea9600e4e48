/*
 * xmp.c: the few XMP properties the facts need, read from the packet as
 * text.  XMP is RDF/XML and a property may be written as an attribute
 * (exif:GPSLatitude="41,24.5N") or as an element
 * (<exif:GPSLatitude>41,24.5N</exif:GPSLatitude>); both are looked for,
 * with the usual prefixes.  The packet itself is kept byte-exact by the
 * caller; this is only the view for facts (candidates "xmp") and
 * doc.xmp.  No XML library: nothing here follows references or expands
 * entities, and every read is bounded by the packet's length.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vault/media/media.h"

#define XMP_VALUE_MAX 256

/* Find `name` as an attribute or element in xml[0..len); copy its value
 * (at most XMP_VALUE_MAX - 1 bytes) to out.  True if found. */
static int prop(const uint8_t *xml, size_t len, const char *name,
		char out[XMP_VALUE_MAX])
{
	size_t nl = strlen(name);
	const uint8_t *p = xml, *end = xml + len;
	while ((size_t)(end - p) > nl + 2) {
		const uint8_t *hit = memmem(p, (size_t)(end - p), name, nl);
		if (!hit)
			return 0;
		const uint8_t *q = hit + nl;
		p = hit + 1;
		/* Must be a whole name: preceded by space, '<' or quote-free. */
		if (hit > xml && hit[-1] != ' ' && hit[-1] != '<' &&
		    hit[-1] != '\t' && hit[-1] != '\n' && hit[-1] != '\r')
			continue;
		const uint8_t *v, *ve;
		if (hit > xml && hit[-1] != '<' && q + 1 < end && q[0] == '=' &&
		    (q[1] == '"' || q[1] == '\'')) {
			v = q + 2;
			ve = memchr(v, q[1], (size_t)(end - v));
		} else if (hit > xml && hit[-1] == '<' && q < end && q[0] == '>') {
			v = q + 1;
			ve = memchr(v, '<', (size_t)(end - v));
		} else {
			continue;
		}
		if (!ve)
			return 0;
		size_t n = (size_t)(ve - v);
		if (n >= XMP_VALUE_MAX)
			n = XMP_VALUE_MAX - 1;
		memcpy(out, v, n);
		out[n] = '\0';
		return 1;
	}
	return 0;
}

/* XMP GPS coordinate "DDD,MM,SSk" or "DDD,MM.mmk" (k = N S E W).  By
 * hand with strtod: scanf's %lf would take the "E" of "22.188E" for the
 * start of an exponent and fail. */
static int coord(const char *s, double *out)
{
	double part[3] = {0, 0, 0};
	char *end;
	int n = 0;
	for (;;) {
		if (*s < '0' || *s > '9')
			return 0;
		part[n++] = strtod(s, &end);
		s = end;
		if (*s != ',' || n == 3)
			break;
		s++;
	}
	/* The hemisphere letter, and nothing after it (none: the end of the
	 * text, where s[1] is not there to look at). */
	char k = *s;
	if (n < 2 || !k || s[1] != '\0' || !isfinite(part[0]) ||
	    part[0] > 180 || part[1] >= 60 || part[2] >= 60)
		return 0;
	double v = part[0] + part[1] / 60 + part[2] / 3600;
	if (k == 'S' || k == 'W')
		v = -v;
	else if (k != 'N' && k != 'E')
		return 0;
	*out = v;
	return 1;
}

void media_xmp(media_ctx *m, const uint8_t *xml, size_t len)
{
	static const struct {
		const char *name, *fact;
	} props[] = {
		{"exif:DateTimeOriginal", "capture_time"},
		{"photoshop:DateCreated", "capture_time"},
		{"xmp:CreateDate", "capture_time"},
		{"tiff:Make", "make"},
		{"tiff:Model", "model"},
		{"exifEX:BodySerialNumber", "serial"},
		{"aux:SerialNumber", "serial"},
		{"xmp:CreatorTool", "software"},
		{"exif:GPSLatitude", NULL},
		{"exif:GPSLongitude", NULL},
		{"exif:GPSAltitude", NULL},
		{"exif:GPSAltitudeRef", NULL},
	};
	char v[XMP_VALUE_MAX];
	json_t *x = json_object_get(m->doc, "xmp");
	if (x)
		return; /* the first packet is the main one */
	x = json_object();
	json_object_set_new(m->doc, "xmp", x);
	json_t *c = media_cand(m, "xmp");
	for (size_t i = 0; i < sizeof props / sizeof props[0]; i++) {
		if (!prop(xml, len, props[i].name, v))
			continue;
		json_object_set_new(x, props[i].name, media_str(v, strlen(v)));
		if (props[i].fact && !json_object_get(c, props[i].fact))
			json_object_set_new(c, props[i].fact, media_str(v, strlen(v)));
	}
	double lat, lon;
	const char *la = json_string_value(json_object_get(x, "exif:GPSLatitude"));
	const char *lo = json_string_value(json_object_get(x, "exif:GPSLongitude"));
	if (la && lo && coord(la, &lat) && coord(lo, &lon) && fabs(lat) <= 90) {
		json_t *loc = json_pack("{s:f,s:f}", "lat", lat, "lon", lon);
		const char *al = json_string_value(json_object_get(x, "exif:GPSAltitude"));
		long num, den = 1;
		if (al && (sscanf(al, "%ld/%ld", &num, &den) == 2 || (den = 1, sscanf(al, "%ld", &num) == 1)) && den > 0) {
			const char *ref = json_string_value(json_object_get(x, "exif:GPSAltitudeRef"));
			double alt = (double)num / (double)den;
			json_object_set_new(loc, "alt", json_real(ref && ref[0] == '1' ? -alt : alt));
		}
		json_object_set_new(c, "location", loc);
	}
}
