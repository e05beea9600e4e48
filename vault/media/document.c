/*
 * document.c: one file's metadata document, from its bytes in memory:
 * which parsers read it (by what its leading bytes say, and libavformat's
 * verdict on what they do not), the SHA-256 of exactly the bytes read, the
 * facts.  The probe (cli/probe-main.c) calls this for each file it is given;
 * the media fuzz target (fuzz/fuzz_media.c) calls it on mutated files.
 */
#include <string.h>

#include <magic.h>
#include <openssl/evp.h>

#include "vault/internal.h"
#include "vault/media/media.h"

static magic_t magic_db;

void media_magic_init(void)
{
	magic_db = magic_open(MAGIC_NONE);
	if (magic_db && magic_load(magic_db, NULL) != 0) {
		magic_close(magic_db);
		magic_db = NULL;
	}
}

void media_magic_done(void)
{
	if (magic_db)
		magic_close(magic_db);
	magic_db = NULL;
}

/* --- one file --------------------------------------------------------- */

/* libmagic's description and MIME type, for files no parser knows.  Only
 * the first 256 KiB: enough for every magic rule that matters here. */
static void describe(media_ctx *m, char type[48])
{
	if (!magic_db)
		return;
	size_t n = m->len < (256u << 10) ? m->len : (256u << 10);
	json_t *mg = json_object();
	int flags = MAGIC_NONE;
	for (int pass = 0; pass < 2; pass++) {
		magic_setflags(magic_db, flags);
		const char *d = magic_buffer(magic_db, m->data, n);
		if (d)
			json_object_set_new(mg, pass ? "mime" : "description",
					    media_str(d, strlen(d)));
		if (d && pass && !strcmp(type, "application/octet-stream")) {
			size_t l = strcspn(d, ";");
			if (l < 48 && l > 0)
				snprintf(type, 48, "%.*s", (int)l, d);
		}
		flags = MAGIC_MIME_TYPE;
	}
	json_object_set_new(m->doc, "magic", mg);
}

static int is_image(const char *type)
{
	return !strncmp(type, "image/", 6);
}

static int is_av(const char *type)
{
	return !strncmp(type, "video/", 6) || !strncmp(type, "audio/", 6);
}

json_t *media_document(const uint8_t *data, size_t len)
{
	unsigned char sha[32];
	char hex[65];
	char type[48];

	EVP_Digest(data, len, sha, NULL, EVP_sha256(), NULL);
	util_hex(hex, sha, sizeof sha);
	sniff_type(data, len, type);

	media_ctx m = {
		.data = data,
		.len = len,
		.type = type,
		.doc = json_object(),
		.cand = json_object(),
		.errors = json_array(),
		.warnings = json_array(),
	};
	json_object_set_new(m.doc, "v", json_integer(1));
	json_object_set_new(m.doc, "sha256", json_string(hex));
	json_object_set_new(m.doc, "size", json_integer((json_int_t)len));

	if (len >= 12 && !memcmp(data + 4, "ftyp", 4))
		media_boxes(&m);
	if (!strcmp(type, "image/heif") || !strcmp(type, "image/avif"))
		media_heif(&m);
	else if (is_image(type))
		media_segments(&m);
	/* Containers, audio and video; and files no quick look recognised
	 * (MPEG-TS, raw MP3...), where libavformat decides: if it does not
	 * know them either, they are simply not media, not broken media. */
	if (is_av(type)) {
		media_av(&m);
	} else if (!strcmp(type, "application/octet-stream") && len > 0) {
		json_t *errors = m.errors;
		m.errors = json_array();
		if (media_av(&m)) {
			json_array_extend(errors, m.errors);
			const char *c = json_string_value(json_object_get(
				json_object_get(m.doc, "container"), "mime"));
			if (c)
				snprintf(type, sizeof type, "%s", c);
		}
		json_decref(m.errors);
		m.errors = errors;
	}
	if (!strcmp(type, "application/octet-stream") ||
	    !strncmp(type, "application/", 12) || !strncmp(type, "text/", 5))
		describe(&m, type);

	json_object_set_new(m.doc, "type", json_string(type));
	media_facts(&m);
	json_object_set_new(m.doc, "errors", m.errors);
	json_object_set_new(m.doc, "warnings", m.warnings);
	json_decref(m.cand);
	return m.doc;
}

