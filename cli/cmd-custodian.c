/*
 * cmd-custodian.c: evault custodian add|list|remove: who may act on this
 * vault.  Each change is a record signed by a registered custodian; a
 * record signed by anyone else is refused when the log is replayed.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char help[] =
	"usage: evault custodian add NAME VKEY\n"
	"       evault custodian list [--json]\n"
	"       evault custodian remove NAME\n\n"
	"VKEY is the custodian's public key as 'evault key show' prints it.\n";

int cmd_custodian(int argc, char **argv, cli_global *g)
{
	static const struct option extra[] = {CLI_JSON_OPTION, {NULL, 0, NULL, 0}};
	bool json = false;
	int code = EXIT_OK, rc = cli_getopt(argc, argv, g, extra, help, cli_json_opt,
					    &json);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_ERROR;
	int n = argc - optind;
	const char *verb = n > 0 ? argv[optind] : "";
	bool add = !strcmp(verb, "add") && n == 3;
	bool rem = !strcmp(verb, "remove") && n == 2;
	bool list = !strcmp(verb, "list") && n == 1;
	if (!add && !rem && !list) {
		fputs(help, stderr);
		return EXIT_ERROR;
	}
	vault *v = cli_open(g, !list, &code);
	if (!v)
		return code;
	vault_err e = VAULT_OK;
	if (add)
		e = vault_custodian_add(v, argv[optind + 1], argv[optind + 2]);
	else if (rem)
		e = vault_custodian_remove(v, argv[optind + 1]);
	if (e != VAULT_OK) {
		cli_error("custodian %s: %s", verb, vault_errmsg(v));
		code = cli_exit_code(e);
	} else if (list && json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < vault_custodian_count(v); i++) {
			const vault_custodian *c = vault_custodian_at(v, i);
			json_array_append_new(arr, json_pack("{s:s,s:s,s:I}", "name",
							     c->name, "vkey", c->vkey,
							     "record",
							     (json_int_t)c->added));
		}
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(arr);
	} else if (list) {
		for (size_t i = 0; i < vault_custodian_count(v); i++) {
			const vault_custodian *c = vault_custodian_at(v, i);
			printf("%-20s %s\n", c->name, c->vkey);
		}
	} else {
		printf("custodian %s %s\n", argv[optind + 1],
		       add ? "registered" : "removed");
	}
	vault_free(v);
	return code;
}
