/*
 * cmd-log.c: evault log [ID]: the verified history of the vault, or of one
 * item.  Every record shown was decrypted and matched to its leaf hash
 * when the vault was unlocked, and every signature is checked against the
 * custodians registered at the time before anything is printed (exit 1,
 * with each bad record named, if one fails).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char help[] =
	"usage: evault log [--json] [ID]\n\n"
	"Print the custody log: index, time, custodian, action, item, summary.\n"
	"With ID, only the records about that item.  --json adds each record's\n"
	"full signed text.\n";

static void log_problem(void *ctx, const vault_check *c)
{
	(void)ctx;
	cli_error("%s: %s", c->file, c->detail);
}

int cmd_log(int argc, char **argv, cli_global *g)
{
	static const struct option extra[] = {CLI_JSON_OPTION, {NULL, 0, NULL, 0}};
	bool json = false;
	int code = EXIT_OK, rc = cli_getopt(argc, argv, g, extra, help, cli_json_opt,
					    &json);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_ERROR;
	if (argc - optind > 1) {
		fputs(help, stderr);
		return EXIT_ERROR;
	}
	vault *v = cli_open(g, false, &code);
	if (!v)
		return code;
	const vault_item *only = NULL;
	if (optind < argc && !(only = cli_find(v, argv[optind], &code))) {
		vault_free(v);
		return code;
	}
	/* "Verified history": every signature is checked before printing. */
	if (vault_log_check_signatures(v, log_problem, NULL) > 0)
		code = EXIT_FAILED;
	json_t *arr = json ? json_array() : NULL;
	for (uint64_t i = 0; i < vault_log_size(v); i++) {
		vault_record r;
		vault_err e = vault_record_at(v, i, &r);
		if (e != VAULT_OK) {
			cli_error("%s", vault_errmsg(v));
			code = EXIT_FAILED;
			continue;
		}
		if (only && (!r.item || strcmp(r.item, only->id) != 0))
			continue;
		if (json) {
			json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s%}", "index",
					      (json_int_t)r.index, "time", r.time,
					      "actor", r.actor, "kind", r.kind,
					      "summary", r.summary, "record",
					      r.text, r.text_len);
			json_object_set_new(o, "item",
					    r.item ? json_string(r.item) : json_null());
			json_array_append_new(arr, o);
		} else {
			printf("%6llu  %s  %-12s %-16s %.16s  %s\n",
			       (unsigned long long)r.index, r.time, r.actor, r.kind,
			       r.item ? r.item : "-", r.summary);
		}
	}
	if (json) {
		json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(arr);
	}
	vault_free(v);
	return code;
}
