/* cmd-extract.c: evault extract ID -o FILE: a checked copy of an item. */
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>

#include "cli.h"

static const char help[] =
	"usage: evault extract [--vault DIR] [--force] ID -o FILE\n\n"
	"Copy the item's original bytes to FILE.  The copy is written to a\n"
	"temporary file beside FILE and renamed into place only if every chunk\n"
	"authenticated and the SHA-256 and size match; otherwise no FILE is\n"
	"made and evault exits 1.  An existing FILE is kept unless --force.\n"
	"The access is recorded in the custody log, signed by your key.\n";

struct extract_opts {
	const char *out;
	bool force;
};

static int extract_opt(void *ctx, int opt, const char *arg)
{
	struct extract_opts *o = ctx;
	if (opt == 'o')
		o->out = arg;
	else if (opt == 'f')
		o->force = true;
	else
		return -1;
	return 0;
}

int cmd_extract(int argc, char **argv, cli_global *g)
{
	static const struct option extra[] = {
		{"output", required_argument, NULL, 'o'},
		{"force", no_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	struct extract_opts o = {NULL, false};
	int code = EXIT_OK;
	struct stat st;

	int rc = cli_getopt(argc, argv, g, extra, help, extract_opt, &o);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_ERROR;
	const char *out = o.out;
	bool force = o.force;
	if (optind + 1 != argc || !out) {
		cli_error("extract takes one ID and -o FILE");
		return EXIT_ERROR;
	}
	if (!force && lstat(out, &st) == 0) {
		cli_error("'%s' already exists; use --force to replace it", out);
		return EXIT_ERROR;
	}
	vault *v = cli_open(g, true, &code);
	if (!v)
		return code;
	const vault_item *it = cli_find(v, argv[optind], &code);
	vault_err ae = it ? vault_item_access(v, it, "extract") : VAULT_OK;
	if (ae != VAULT_OK) {
		cli_error("cannot record access to %.16s: %s", it->id,
			  vault_errmsg(v));
		code = cli_exit_code(ae); /* refused: 1 */
		it = NULL;
	}
	if (it) {
		cli_progress prog;
		cli_progress_init(&prog, g, "extract");
		vault_err e = vault_item_extract(v, it, out, cli_progress_cb, &prog);
		cli_progress_done(&prog);
		if (e != VAULT_OK) {
			cli_error("cannot extract item %.16s: %s", it->id,
				  vault_errmsg(v));
			/* The item is in the log, so a missing object is damage. */
			code = e == VAULT_E_NOTFOUND ? EXIT_FAILED
						     : cli_exit_code(e);
		}
	}
	vault_free(v);
	return code;
}
