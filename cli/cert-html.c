/*
 * cert-html.c: the human-readable rendering of a verification certificate
 * (docs/certificate.md section 8).
 *
 * One self-contained page for an editor, a judge or a case officer: what
 * they must check and how, the hashes, the facts, frames of the video (or
 * the photo), and the custody timeline.  Inline CSS, images as data: URIs,
 * no script and nothing fetched, so the page shows the same offline and in
 * ten years, and prints on A4.  It is drawn from the certificate's own
 * text, never from the vault, so it shows nothing the certificate does not
 * carry; it is not the proof and says so.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void esc(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i]; i++) {
		switch (s[i]) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(s[i], f);
		}
	}
}

static void escs(FILE *f, const char *s)
{
	esc(f, s, strlen(s));
}

/* The value of the statement field `name` (the first), or NULL. */
static const char *field(char **lines, size_t n, const char *name, size_t *len)
{
	size_t k = strlen(name);
	for (size_t i = 0; i < n; i++)
		if (!strncmp(lines[i], name, k) && lines[i][k] == ' ') {
			*len = strlen(lines[i] + k + 1);
			return lines[i] + k + 1;
		}
	return NULL;
}

static void row(FILE *f, const char *label, const char *value, const char *cls)
{
	fputs("<tr><th>", f);
	escs(f, label);
	fprintf(f, "</th><td%s%s%s>", cls ? " class=\"" : "", cls ? cls : "",
		cls ? "\"" : "");
	escs(f, value ? value : "");
	fputs("</td></tr>\n", f);
}

static void row_field(FILE *f, char **lines, size_t n, const char *name,
		      const char *label, const char *cls)
{
	size_t len;
	const char *v = field(lines, n, name, &len);
	if (v)
		row(f, label, v, cls);
}

static const char css[] =
	"@page{size:A4;margin:14mm 14mm 16mm 14mm}"
	"body{font:10.5pt/1.4 'DejaVu Sans',Arial,sans-serif;color:#111;"
	"max-width:182mm;margin:0 auto;padding:6mm 0}"
	"h1{font-size:17pt;margin:0 0 2mm}h2{font-size:12.5pt;margin:6mm 0 2mm;"
	"border-bottom:1px solid #999;break-after:avoid}"
	".sub{color:#444;margin:0 0 4mm}"
	".verdict{border:2px solid #a30;background:#fff6f0;padding:3mm 4mm;"
	"break-inside:avoid}.verdict p{margin:1.5mm 0}"
	"code,.hash{font:9pt 'DejaVu Sans Mono',monospace;word-break:break-all}"
	"table{border-collapse:collapse;width:100%}th,td{text-align:left;"
	"vertical-align:top;padding:1mm 2mm;border-bottom:1px solid #ddd}"
	"th{width:32%;font-weight:600;color:#333}tr{break-inside:avoid}"
	".timeline th{width:auto}.timeline td.idx{width:9%}"
	".sheet{display:grid;grid-template-columns:repeat(3,1fr);gap:2mm}"
	".sheet figure{margin:0;break-inside:avoid}.sheet img{width:100%;"
	"display:block;border:1px solid #ccc}.sheet figcaption{font-size:8.5pt;"
	"color:#333;text-align:center}"
	".photo img{max-width:100%;max-height:110mm;border:1px solid #ccc}"
	".note{color:#444;font-size:9pt}"
	"@media print{.verdict{background:none}}";

static void images(FILE *f, const cli_image *img, size_t n, int video,
		   const char *why)
{
	fputs(video ? "<h2>Frames</h2>\n" : "<h2>Picture</h2>\n", f);
	if (!n) {
		fputs("<p class=\"note\">No picture could be made", f);
		if (why) {
			fputs(": ", f);
			escs(f, why);
		}
		fputs(".</p>\n", f);
		return;
	}
	fputs(video ? "<div class=\"sheet\">\n" : "<div class=\"photo\">\n", f);
	for (size_t i = 0; i < n; i++) {
		size_t b64 = sodium_base64_ENCODED_LEN(img[i].len,
						       sodium_base64_VARIANT_ORIGINAL);
		char *s = malloc(b64);
		if (!s)
			continue;
		sodium_bin2base64(s, b64, img[i].jpeg, img[i].len,
				  sodium_base64_VARIANT_ORIGINAL);
		fputs("<figure><img alt=\"frame\" src=\"data:image/jpeg;base64,", f);
		fputs(s, f);
		fputs("\">", f);
		if (video && img[i].time >= 0) {
			unsigned t = (unsigned)(img[i].time + 0.5);
			fprintf(f, "<figcaption>%u:%02u:%02u</figcaption>", t / 3600,
				t / 60 % 60, t % 60);
		}
		fputs("</figure>\n", f);
		free(s);
	}
	fputs("</div>\n", f);
	if (video)
		fputs("<p class=\"note\">Frames decoded from the held item at "
		      "regular times, for recognition only; the SHA-256 above is "
		      "what identifies the file.</p>\n", f);
}

static void timeline(FILE *f, char **lines, size_t n)
{
	fputs("<h2>Custody</h2>\n<table class=\"timeline\"><tr><th>record</th>"
	      "<th>time (UTC)</th><th>custodian</th><th>what happened</th></tr>\n",
	      f);
	for (size_t i = 0; i < n; i++) {
		if (strncmp(lines[i], "record ", 7))
			continue;
		char *idx = lines[i] + 7, *sp = strchr(idx, ' ');
		if (!sp)
			continue;
		char *b64 = sp + 1, *end = strchr(b64, ' ');
		size_t blen = end ? (size_t)(end - b64) : strlen(b64);
		unsigned char *rec = malloc(blen);
		size_t rlen;
		vault_record_info info;
		if (!rec)
			continue;
		if (sodium_base642bin(rec, blen, b64, blen, NULL, &rlen, NULL,
				      sodium_base64_VARIANT_ORIGINAL) == 0 &&
		    vault_record_describe((char *)rec, rlen, &info) == 0) {
			fputs("<tr><td class=\"idx\">", f);
			esc(f, idx, (size_t)(sp - idx));
			fputs("</td><td>", f);
			escs(f, info.time);
			fputs("</td><td>", f);
			escs(f, info.actor);
			fputs("</td><td><b>", f);
			escs(f, info.kind);
			fputs("</b> ", f);
			escs(f, info.summary);
			fputs("</td></tr>\n", f);
			free(info.summary);
		}
		free(rec);
	}
	fputs("</table>\n<p class=\"note\">Each record is signed by the custodian "
	      "named, and the certificate proves it is in the vault's log at the "
	      "position shown.</p>\n", f);
}

/* Names of the checkpoint's signers other than the log (the witnesses). */
static void cosigners(FILE *f, const char *cp, const char *origin)
{
	int any = 0;
	for (const char *p = cp; (p = strstr(p, "\n\xe2\x80\x94 ")); p++) {
		const char *name = p + 5, *sp = strchr(name, ' ');
		if (!sp || (origin && (size_t)(sp - name) == strlen(origin) &&
			    !strncmp(name, origin, strlen(origin))))
			continue;
		fputs(any ? ", " : "<tr><th>cosigned by witnesses</th><td>", f);
		esc(f, name, (size_t)(sp - name));
		any = 1;
	}
	if (any)
		fputs(" (check with --witness KEY)</td></tr>\n", f);
}

int cli_cert_html(FILE *f, const char *cert, size_t len, const char *cert_name,
		  const unsigned char cert_sha[32], const cli_image *img,
		  size_t nimg, const char *img_why)
{
	char *copy = malloc(len + 1), **lines = NULL;
	size_t n = 0, vlen;
	if (!copy)
		return -1;
	memcpy(copy, cert, len);
	copy[len] = '\0';
	char *end = strstr(copy, "\n\n"), *cp = end ? strstr(end + 2, "\n\n") : NULL;
	if (!end || !(lines = calloc(len / 2 + 2, sizeof *lines))) {
		free(copy);
		return -1;
	}
	end[1] = '\0';
	for (char *p = copy, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
		*nl = '\0';
		lines[n++] = p;
	}
	char hex[65], id16[17] = "";
	sodium_bin2hex(hex, sizeof hex, cert_sha, 32);
	const char *item = field(lines, n, "item", &vlen);
	const char *type = field(lines, n, "type", &vlen);
	const char *origin = field(lines, n, "origin", &vlen);
	const char *key = field(lines, n, "log-key", &vlen);
	int video = type && !strncmp(type, "video/", 6);
	if (item)
		snprintf(id16, sizeof id16, "%.16s", item);

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		   "<meta name=\"referrer\" content=\"no-referrer\">"
		   "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
		   "'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
		   "form-action 'none'\">"
		   "<title>Verification certificate ", f);
	escs(f, id16);
	fprintf(f, "</title><style>%s</style></head><body>\n", css);
	fputs("<h1>Verification certificate</h1>\n<p class=\"sub\">Item <span "
	      "class=\"hash\">", f);
	escs(f, item ? item : "?");
	fputs("</span></p>\n", f);

	fputs("<div class=\"verdict\"><p><b>This page is not the proof.</b> The "
	      "proof is the certificate file <code>", f);
	escs(f, cert_name);
	fprintf(f, "</code>, SHA-256 <span class=\"hash\">%s</span>. Rely on what "
		   "this page says only if the certificate checks as "
		   "<b>VALID</b>:</p>\n<p><code>evault check-cert ", hex);
	escs(f, cert_name);
	fputs(" FILE --key LOGKEY</code><br>or, with the stand-alone verifier, "
	      "<code>evault-verify --key LOGKEY ", f);
	escs(f, cert_name);
	fputs(" FILE</code></p>\n<p>where FILE is the copy of the item you hold, "
	      "and LOGKEY is the vault's key obtained <b>independently</b> of this "
	      "page (from the vault's holders, a publication, a witness). It must "
	      "equal the key the certificate names:<br><span class=\"hash\">", f);
	escs(f, key ? key : "?");
	fputs("</span></p></div>\n", f);

	fputs("<h2>The item</h2>\n<table>\n", f);
	row_field(f, lines, n, "item", "SHA-256", "hash");
	row_field(f, lines, n, "size", "size in bytes", NULL);
	row_field(f, lines, n, "type", "type", NULL);
	row_field(f, lines, n, "origin", "vault log", "hash");
	row_field(f, lines, n, "tree", "log size and root", "hash");
	row_field(f, lines, n, "issued", "certificate issued (UTC)", NULL);
	row_field(f, lines, n, "issuer", "issued by", NULL);
	if (cp)
		cosigners(f, cp + 2, origin);
	fputs("</table>\n", f);

	fputs("<h2>What the file says about itself</h2>\n<table>\n", f);
	int facts = 0;
	for (size_t i = 0; i < n; i++) {
		const char *l = lines[i];
		char label[64];
		if (!strncmp(l, "fact ", 5) || !strncmp(l, "media ", 6) ||
		    !strncmp(l, "stream ", 7)) {
			const char *name = strchr(l, ' ') + 1, *sp = strchr(name, ' ');
			if (!sp)
				continue;
			if (!strncmp(l, "stream ", 7))
				snprintf(label, sizeof label, "stream %.*s",
					 (int)(sp - name), name);
			else
				snprintf(label, sizeof label, "%.*s", (int)(sp - name),
					 name);
			for (char *u = label; *u; u++)
				if (*u == '_' || *u == '-')
					*u = ' ';
			row(f, label, sp + 1, NULL);
			facts++;
		} else if (!strncmp(l, "omitted ", 8)) {
			fputs("<tr><th>", f);
			escs(f, l + 8);
			fputs("</th><td><i>left out of this certificate on purpose"
			      "</i></td></tr>\n", f);
			facts++;
		}
	}
	if (!facts)
		fputs("<tr><td>The vault recorded no metadata for this item.</td></tr>\n",
		      f);
	fputs("</table>\n<p class=\"note\">As the vault's sandboxed metadata probe "
	      "read them at ingest; stated by the vault (signed by its log key), "
	      "not recomputed by the verifier. Disagreements between the file's own "
	      "sources are listed as inconsistencies.</p>\n", f);

	images(f, img, nimg, video, img_why);
	timeline(f, lines, n);
	fputs("<p class=\"note\">Format: docs/certificate.md of evault. "
	      "Made by evault " EVAULT_VERSION ".</p>\n</body></html>\n", f);
	free(lines);
	free(copy);
	return ferror(f) ? -1 : 0;
}
