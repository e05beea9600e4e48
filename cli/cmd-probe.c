/*
 * cmd-probe.c: evault probe FILE...: what files say about themselves,
 * without a vault.  The same sandboxed probe that ingest uses reads each
 * file; nothing is stored and no key is needed.  For looking at a file
 * before taking it in, and for measuring the probe (bench/meta).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char help[] =
	"usage: evault probe [--json] [--raw] [--probe-timeout S] FILE...\n\n"
	"Show the metadata of files without taking them into a vault: the facts\n"
	"(capture time, place, device, size, duration...) and where they\n"
	"disagree, then every tag by source.  The files are read by\n"
	"evault-probe, a sandboxed process, as during ingest.\n\n"
	"  --json          an array of the files' metadata documents, one a\n"
	"                  line, each with the \"path\" given\n"
	"  --raw           with --json, keep the raw bytes (base64) of segments,\n"
	"                  thumbnails, maker notes and attachments\n"
	"  --probe-timeout S  give up on a file after S seconds (default 30)\n\n"
	"Exit status: 0 every file probed without error, 1 if the probe reported\n"
	"an error for any file (damaged, unreadable or hostile), 2 if a file\n"
	"could not be opened.\n";

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
};

static int probe_opt(void *ctx, int opt, const char *arg)
{
	struct probe_args *a = ctx;
	switch (opt) {
	case 'j': a->json = true; return 0;
	case 'r': a->raw = true; return 0;
	case 'T': a->timeout = cli_probe_timeout(arg); return a->timeout < 0 ? -1 : 0;
	}
	return -1;
}

int cmd_probe(int argc, char **argv, cli_global *g)
{
	static const struct option extra[] = {
		CLI_JSON_OPTION,
		{"raw", no_argument, NULL, 'r'},
		{"probe-timeout", required_argument, NULL, 'T'},
		{NULL, 0, NULL, 0},
	};
	struct probe_args a = {false, false, 0};
	int rc = cli_getopt(argc, argv, g, extra, help, probe_opt, &a);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_ERROR;
	if (optind >= argc) {
		cli_error("probe needs at least one FILE");
		fputs(help, stderr);
		return EXIT_ERROR;
	}
	vault_probe *p = cli_probe((unsigned)a.timeout);
	if (!p)
		return EXIT_ERROR;
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
