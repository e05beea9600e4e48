/* cmd-cat.c: evault cat ID: an item's original bytes on stdout. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char help[] =
	"usage: evault cat [--vault DIR] ID\n\n"
	"Write the item's original bytes to standard output, authenticating each\n"
	"64 KiB chunk before it is written.  If damage is found part-way, what\n"
	"came before it has already been written and evault exits 1: use\n"
	"'evault extract' for an all-or-nothing copy.  The access is recorded\n"
	"in the custody log, signed by your key, before anything is read.\n";

static int to_stdout(void *ctx, const void *buf, size_t n)
{
	(void)ctx;
	return cli_write_all(STDOUT_FILENO, buf, n) == 0 ? 0 : -1;
}

int cmd_cat(int argc, char **argv, cli_global *g)
{
	int code = EXIT_OK;
	int rc = cli_getopt(argc, argv, g, NULL, help, NULL, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_ERROR;
	if (optind + 1 != argc) {
		cli_error("cat takes exactly one ID");
		return EXIT_ERROR;
	}
	vault *v = cli_open(g, true, &code);
	if (!v)
		return code;
	const vault_item *it = cli_find(v, argv[optind], &code);
	/* Access is recorded (signed, committed) before a byte is read. */
	vault_err ae = it ? vault_item_access(v, it, "cat") : VAULT_OK;
	if (ae != VAULT_OK) {
		cli_error("cannot record access to %.16s: %s", it->id,
			  vault_errmsg(v));
		code = cli_exit_code(ae); /* refused: 1 */
		it = NULL;
	}
	if (it) {
		vault_err e = vault_item_read(v, it, to_stdout, NULL, NULL, NULL);
		if (e == VAULT_E_WRITE) {
			cli_error("cannot write item %.16s to standard output",
				  it->id);
			code = EXIT_ERROR;
		} else if (e != VAULT_OK) {
			cli_error("item %.16s: %s", it->id, vault_errmsg(v));
			/* The item is in the log, so a missing object is damage. */
			code = e == VAULT_E_NOTFOUND ? EXIT_FAILED
						     : cli_exit_code(e);
		}
	}
	vault_free(v);
	return code;
}
