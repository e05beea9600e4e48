/*
 * cmd-probe.c: evault probe FILE...: what files say about themselves,
 * without a vault.  The same sandboxed probe that ingest uses reads each
 * file; nothing is stored and no key is needed.  For looking at a file
 * before taking it in, and for measuring the probe (bench/meta).  With
 * --thumbnails, the pictures the certificate's page shows instead: frames
 * of a video, a photo made small, decoded by the same probe.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const char help[] =
	"usage: evault probe [--json] [--raw] [--probe-timeout S] FILE...\n"
	"       evault probe --thumbnails N [--thumb-width W] --thumb-dir DIR\n"
	"                    [--json] [--probe-timeout S] FILE...\n\n"
	"Show the metadata of files without taking them into a vault: the facts\n"
	"(capture time, place, device, size, duration...) and where they\n"
	"disagree, then every tag by source.  The files are read by\n"
	"evault-probe, a sandboxed process, as during ingest.\n\n"
	"  --json          an array of the files' metadata documents, one a\n"
	"                  line, each with the \"path\" given; with\n"
	"                  --thumbnails, of {\"path\", \"thumbnails\", \"error\"}\n"
	"  --raw           with --json, keep the raw bytes (base64) of segments,\n"
	"                  thumbnails, maker notes and attachments\n"
	"  --probe-timeout S  give up on a file after S seconds (default 30)\n"
	"  --thumbnails N  instead, make N thumbnails of each video (1 to 64,\n"
	"                  frames at evenly spaced times) or one of each photo,\n"
	"                  as JPEG files DIR/NAME-1.jpg... (NAME: the file's\n"
	"                  name), and list them with their size and time\n"
	"  --thumb-width W at most W pixels wide (16 to 1024, default 320)\n"
	"  --thumb-dir DIR where to write them (made if missing; files 0600)\n\n"
	"Exit status: 0 every file probed without error, 1 if the probe reported\n"
	"an error for any file (damaged, unreadable or hostile; with\n"
	"--thumbnails, also a file of which it made none), 2 if a file could\n"
	"not be opened or a thumbnail not written.\n";

/* Whether s has only characters of `set` (and is not empty). */
static bool is_plain(const char *s, const char *set)
{
	return *s && strspn(s, set) == strlen(s);
}

/* jansson writes no raw control character; a document that has one did
 * not come from an honest probe, and is printed only after parsing (which
 * escapes it), never passed through to a terminal. */
static bool no_control(const char *doc, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)doc[i] < 0x20 || doc[i] == 0x7f)
			return false;
	return true;
}

struct probe_args {
	bool json, raw;
	int timeout;
	long thumbs, width; /* --thumbnails N (0: none), --thumb-width W */
	const char *dir;    /* --thumb-dir */
};

/* A whole number from lo to hi, or -1 (said why). */
static long number_opt(const char *opt, const char *arg, long lo, long hi)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (*arg == '\0' || *end || errno || v < lo || v > hi) {
		cli_error("--%s takes a whole number from %ld to %ld, not '%s'",
			  opt, lo, hi, arg);
		return -1;
	}
	return v;
}

static int probe_opt(void *ctx, int opt, const char *arg)
{
	struct probe_args *a = ctx;
	switch (opt) {
	case 'j': a->json = true; return 0;
	case 'r': a->raw = true; return 0;
	case 'T': a->timeout = cli_probe_timeout(arg); return a->timeout < 0 ? -1 : 0;
	case 'n':
		a->thumbs = number_opt("thumbnails", arg, 1, VAULT_THUMBS_MAX);
		return a->thumbs < 0 ? -1 : 0;
	case 'w':
		a->width = number_opt("thumb-width", arg, VAULT_THUMB_WIDTH_MIN,
				      VAULT_THUMB_WIDTH_MAX);
		return a->width < 0 ? -1 : 0;
	case 'd': a->dir = arg; return 0;
	}
	return -1;
}

/* --- thumbnails ------------------------------------------------------- */

/* The file's name, as its thumbnails are named (malloc'd). */
static char *name_of(const char *path)
{
	char *copy = strdup(path), *name = NULL;
	if (copy)
		name = strdup(basename(copy));
	free(copy);
	return name;
}

/* Write one JPEG, 0600, never through a symbolic link: 0 or -1 (said). */
static int write_thumb(const char *file, const vault_thumb *t)
{
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		      0600);
	if (fd < 0) {
		cli_error("cannot write '%s': %s", file, strerror(errno));
		return -1;
	}
	/* An older file of that name keeps its mode through O_TRUNC. */
	int rc = fchmod(fd, 0600);
	if (rc == 0 && cli_write_all(fd, t->jpeg, t->len) != 0)
		rc = -1;
	if (close(fd) != 0)
		rc = -1;
	if (rc)
		cli_error("cannot write '%s': %s", file, strerror(errno));
	return rc;
}

/* One thumbnail in the listing: as text, or added to `list`. */
static void thumb_line(const struct probe_args *a, const char *file,
		       const vault_thumb *t, json_t *list)
{
	if (a->json) {
		json_t *jf = json_string(file);
		json_array_append_new(list, json_pack(
			"{s:o,s:o,s:i,s:i}", "file", jf ? jf : json_null(),
			"time", t->time < 0 ? json_null() : json_real(t->time),
			"width", t->width, "height", t->height));
	} else if (t->time >= 0) {
		printf("%s  %dx%d  at %.3f s\n", file, t->width, t->height,
		       t->time);
	} else {
		printf("%s  %dx%d\n", file, t->width, t->height);
	}
}

/* The thumbnails of one file: written, and listed (as text, or as a JSON
 * object added to `all`).  The exit status it deserves. */
static int thumbs_one(vault_probe *p, const struct probe_args *a,
		      const char *path, json_t *all)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		cli_error("cannot open '%s': %s", path, strerror(errno));
		return EXIT_ERROR;
	}
	vault_thumb *t = NULL;
	size_t n = 0;
	char *why = NULL;
	vault_err err = vault_probe_thumbnails(p, fd, (unsigned)a->thumbs,
					       (unsigned)a->width, &t, &n, &why);
	close(fd);
	if (err != VAULT_OK) {
		cli_error("cannot make thumbnails of '%s': %s", path,
			  vault_strerror(err));
		return EXIT_ERROR;
	}
	int code = why || !n ? EXIT_FAILED : EXIT_OK;
	char *name = name_of(path);
	json_t *list = json_array();
	if (!name)
		code = EXIT_ERROR;
	for (size_t i = 0; name && i < n; i++) {
		char *file = NULL;
		if (asprintf(&file, "%s/%s-%zu.jpg", a->dir, name, i + 1) < 0) {
			code = EXIT_ERROR;
			break;
		}
		if (write_thumb(file, &t[i]) != 0)
			code = EXIT_ERROR;
		else
			thumb_line(a, file, &t[i], list);
		free(file);
	}
	if (a->json) {
		json_t *jp = json_string(path);
		json_array_append_new(all, json_pack(
			"{s:o,s:o,s:o}", "path", jp ? jp : json_null(),
			"thumbnails", list,
			"error", why ? json_string(why) : json_null()));
	} else {
		json_decref(list);
		if (why)
			cli_error("thumbnails of '%s': %s", path, why);
	}
	free(name);
	free(why);
	vault_thumbs_free(t, n);
	return code;
}

/* Two files of the same name would write the same thumbnails. */
static bool names_clash(char **files, int n)
{
	bool clash = false;
	for (int i = 0; i < n && !clash; i++) {
		char *x = name_of(files[i]);
		for (int k = i + 1; x && k < n && !clash; k++) {
			char *y = name_of(files[k]);
			if (y && !strcmp(x, y)) {
				cli_error("'%s' and '%s' would give thumbnails of "
					  "the same names", files[i], files[k]);
				clash = true;
			}
			free(y);
		}
		free(x);
	}
	return clash;
}

static int probe_thumbs(vault_probe *p, const struct probe_args *a,
			char **files, int n)
{
	struct stat st;
	if (names_clash(files, n))
		return EXIT_ERROR;
	if (mkdir(a->dir, 0700) != 0 &&
	    (errno != EEXIST || stat(a->dir, &st) != 0 || !S_ISDIR(st.st_mode))) {
		cli_error("cannot use '%s' for thumbnails: %s", a->dir,
			  errno == EEXIST ? "not a directory" : strerror(errno));
		return EXIT_ERROR;
	}
	json_t *all = a->json ? json_array() : NULL;
	int code = EXIT_OK;
	for (int i = 0; i < n; i++) {
		int rc = thumbs_one(p, a, files[i], all);
		if (rc > code)
			code = rc;
	}
	if (all) {
		char *text = json_dumps(all, JSON_INDENT(1) | JSON_PRESERVE_ORDER |
					 JSON_REAL_PRECISION(10));
		if (text)
			puts(text);
		free(text);
		json_decref(all);
	}
	return code;
}

int cmd_probe(int argc, char **argv, cli_global *g)
{
	static const struct option extra[] = {
		CLI_JSON_OPTION,
		{"raw", no_argument, NULL, 'r'},
		{"probe-timeout", required_argument, NULL, 'T'},
		{"thumbnails", required_argument, NULL, 'n'},
		{"thumb-width", required_argument, NULL, 'w'},
		{"thumb-dir", required_argument, NULL, 'd'},
		{NULL, 0, NULL, 0},
	};
	struct probe_args a = {false, false, 0, 0, 0, NULL};
	int rc = cli_getopt(argc, argv, g, extra, help, probe_opt, &a);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_ERROR;
	if (optind >= argc) {
		cli_error("probe needs at least one FILE");
		fputs(help, stderr);
		return EXIT_ERROR;
	}
	if (!a.thumbs && (a.width || a.dir)) {
		cli_error("--thumb-width and --thumb-dir go with --thumbnails");
		return EXIT_ERROR;
	}
	if (a.thumbs && (!a.dir || a.raw)) {
		cli_error(a.raw ? "--raw does not go with --thumbnails"
				: "--thumbnails needs --thumb-dir DIR");
		return EXIT_ERROR;
	}
	vault_probe *p = cli_probe((unsigned)a.timeout);
	if (!p)
		return EXIT_ERROR;
	if (a.thumbs) {
		if (!a.width)
			a.width = 320;
		int code = probe_thumbs(p, &a, argv + optind, argc - optind);
		vault_probe_free(p);
		return code;
	}
	int code = EXIT_OK, first = 1;
	if (a.json)
		fputs("[", stdout);
	for (int i = optind; i < argc; i++) {
		const char *path = argv[i];
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd < 0) {
			cli_error("cannot open '%s': %s", path, strerror(errno));
			code = EXIT_ERROR;
			continue;
		}
		vault_probe_result r;
		vault_probe_begin(p, fd, a.raw ? 0 : VAULT_PROBE_LEAN);
		close(fd);
		vault_probe_end(p, &r);
		if ((r.nerrors || !r.doc) && code == EXIT_OK)
			code = EXIT_FAILED;
		json_t *jp = json_string(path);
		if (!jp)
			jp = json_null(); /* a name that is not UTF-8 */
		if (a.json && r.doc && r.len > 2 && r.doc[0] == '{' &&
		    no_control(r.doc, r.len)) {
			/* As the probe wrote it, with the path put in front:
			 * parsing and printing it again would cost more than
			 * the probe took to make it. */
			char *jpath = json_dumps(jp, JSON_ENCODE_ANY);
			printf("%s\n{\"path\":%s,%s", first ? "" : ",", jpath ? jpath : "null",
			       r.doc + 1);
			free(jpath);
		} else {
			json_error_t je;
			json_t *doc = r.doc ? json_loadb(r.doc, r.len,
							 JSON_REJECT_DUPLICATES, &je)
					    : NULL;
			if (!doc) {
				doc = json_object();
				json_object_set_new(doc, "errors", json_pack(
					"[s]", r.doc ? "the probe's answer is not JSON" : r.error));
				if (code == EXIT_OK)
					code = EXIT_FAILED;
			}
			json_object_set(doc, "path", jp);
			if (a.json) {
				char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
				printf("%s\n%s", first ? "" : ",", text ? text : "{}");
				free(text);
			} else {
				printf("%s%s\n", i > optind ? "\n" : "", path);
				/* The probe's words: a taken-over probe could put
				 * anything here; only plain media types and hex pass. */
				const char *t = json_string_value(json_object_get(doc, "type"));
				const char *h = json_string_value(json_object_get(doc, "sha256"));
				if (t && h && is_plain(t, "abcdefghijklmnopqrstuvwxyz0123456789/.-+") &&
				    is_plain(h, "0123456789abcdef"))
					printf("type           %s, %lld bytes\nsha256         %s\n", t,
					       (long long)json_integer_value(json_object_get(doc, "size")),
					       h);
				cli_print_meta(doc);
			}
			json_decref(doc);
		}
		json_decref(jp);
		vault_probe_result_free(&r);
		first = 0;
	}
	if (a.json)
		fputs("\n]\n", stdout);
	vault_probe_free(p);
	return code;
}
