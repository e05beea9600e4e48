/* cmd-show.c: evault show ID: everything known about one item. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <time.h>

#include "cli.h"

static const char help[] =
	"usage: evault show [--vault DIR] [--json] [--raw] ID\n\n"
	"Show one item: SHA-256, size, type, original name and path, file time,\n"
	"ingest time, case, source, note and custodian; then what the file says\n"
	"about itself, as read at ingest by the sandboxed probe: the facts\n"
	"(capture time, place, device, dimensions, duration...), those that\n"
	"disagree with each other, and every tag grouped by source (EXIF IFDs,\n"
	"maker note, XMP, container and streams, metadata segments).  ID is a\n"
	"unique prefix of at least 8 hex digits.\n\n"
	"  --json   the item and its metadata document (\"facts\", \"metadata\")\n"
	"  --raw    with --json, keep the raw bytes (base64) the document holds\n";

struct show_args {
	bool json, raw;
};

static int show_opt(void *ctx, int opt, const char *arg)
{
	struct show_args *a = ctx;
	(void)arg;
	if (opt == 'j')
		a->json = true;
	else if (opt == 'r')
		a->raw = true;
	else
		return -1;
	return 0;
}

/* The item's metadata document, parsed; NULL (and *why) if none. */
static json_t *load_meta(vault *v, const vault_item *it, const char **why)
{
	char *text;
	size_t len;
	*why = NULL;
	if (!it->meta[0]) {
		*why = it->probe_error ? it->probe_error
				       : "none (ingested without the probe)";
		return NULL;
	}
	if (vault_item_meta(v, it, &text, &len) != VAULT_OK) {
		*why = vault_errmsg(v);
		return NULL;
	}
	json_error_t je;
	json_t *doc = json_loadb(text, len, 0, &je);
	free(text);
	if (!doc)
		*why = "the stored document is not JSON";
	return doc;
}

int cmd_show(int argc, char **argv, cli_global *g)
{
	static const struct option extra[] = {
		CLI_JSON_OPTION,
		{"raw", no_argument, NULL, 'r'},
		{NULL, 0, NULL, 0},
	};
	struct show_args a = {false, false};
	int code = EXIT_OK;
	int rc = cli_getopt(argc, argv, g, extra, help, show_opt, &a);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_ERROR;
	if (optind + 1 != argc) {
		cli_error("show takes exactly one ID");
		return EXIT_ERROR;
	}
	vault *v = cli_open(g, false, &code);
	if (!v)
		return code;
	const vault_item *it = cli_find(v, argv[optind], &code);
	const char *why = NULL;
	json_t *doc = it ? load_meta(v, it, &why) : NULL;
	if (it && it->meta[0] && !doc) {
		cli_error("%s", why);
		code = EXIT_FAILED;
	}
	if (it && a.json) {
		json_t *o = cli_item_json(it);
		json_object_set(o, "facts", doc ? json_object_get(doc, "facts") : json_null());
		if (doc && !a.raw)
			cli_meta_strip(doc);
		json_object_set(o, "metadata_document", doc ? doc : json_null());
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
	} else if (it) {
		char mtime[32] = "?";
		struct tm tm;
		time_t t = (time_t)it->mtime;
		if (gmtime_r(&t, &tm))
			strftime(mtime, sizeof mtime, "%Y-%m-%dT%H:%M:%SZ", &tm);
		printf("id        %s\n", it->id);
		printf("sha256    %s\n", it->id);
		printf("size      %llu bytes\n", (unsigned long long)it->size);
		printf("type      %s\n", it->type);
		printf("name      %s\n", it->name);
		printf("path      %s\n", it->path);
		printf("modified  %s (file time at ingest)\n", mtime);
		printf("ingested  %s\n", it->ingested);
		if (it->case_name)
			printf("case      %s\n", it->case_name);
		if (it->source)
			printf("source    %s\n", it->source);
		if (it->note)
			printf("note      %s\n", it->note);
		if (it->holder)
			printf("custodian %s%s%s\n", it->holder,
			       it->pending_to ? ", transfer pending to " : "",
			       it->pending_to ? it->pending_to : "");
		if (it->receipts > 1)
			printf("received  %u times (same bytes)\n", it->receipts);
		if (it->probe_error)
			printf("probe     %s\n", it->probe_error);
		putchar('\n');
		if (doc)
			cli_print_meta(doc);
		else
			printf("metadata  %s\n", why ? why : "none");
	}
	json_decref(doc);
	vault_free(v);
	return code;
}
