/* cmd-show.c: evault show ID: everything known about one item. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <time.h>

#include "cli.h"

static const char help[] =
	"usage: evault show [--vault DIR] [--json] ID\n\n"
	"Show one item: SHA-256, size, type, original name and path, file time,\n"
	"ingest time, case, source and note.  ID is a unique prefix of at least\n"
	"8 hex digits.\n";

int cmd_show(int argc, char **argv, cli_global *g)
{
	static const struct option extra[] = {CLI_JSON_OPTION, {NULL, 0, NULL, 0}};
	bool json = false;
	int code = EXIT_OK;
	int rc = cli_getopt(argc, argv, g, extra, help, cli_json_opt, &json);
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
	if (it && json) {
		json_t *o = cli_item_json(it);
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
	}
	vault_free(v);
	return code;
}
