/*
 * cmd-custody.c: the item actions a custodian signs: evault note ID TEXT,
 * evault transfer ID --to NAME, evault accept ID.  A transfer is complete
 * only when the receiver accepts it with its own key.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char note_help[] =
	"usage: evault note ID TEXT\n\n"
	"Record a note about an item in the custody log, signed by your key.\n";
static const char transfer_help[] =
	"usage: evault transfer ID --to NAME\n\n"
	"Offer custody of an item you hold to custodian NAME.  The transfer is\n"
	"complete when NAME runs 'evault accept ID' with their key.\n";
static const char accept_help[] =
	"usage: evault accept ID\n\n"
	"Accept custody of an item transferred to you: a record signed by your\n"
	"key that names the transfer's leaf hash (your countersignature).\n";

static int to_opt(void *ctx, int opt, const char *arg)
{
	if (opt != 't')
		return -1;
	*(const char **)ctx = arg;
	return 0;
}

/* Shared shape: options, open for writing, find the item, act, report. */
static int item_action(int argc, char **argv, cli_global *g, const char *help,
		       int operands, const char *verb)
{
	static const struct option extra[] = {
		{"to", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	const char *to = NULL;
	int code = EXIT_OK;
	int rc = cli_getopt(argc, argv, g, !strcmp(verb, "transfer") ? extra : NULL,
			    help, to_opt, &to);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_ERROR;
	if (argc - optind != operands || (!strcmp(verb, "transfer") && !to)) {
		fputs(help, stderr);
		return EXIT_ERROR;
	}
	vault *v = cli_open(g, true, &code);
	if (!v)
		return code;
	const vault_item *it = cli_find(v, argv[optind], &code);
	vault_err e = VAULT_OK;
	if (it) {
		if (!strcmp(verb, "note"))
			e = vault_item_note(v, it, argv[optind + 1]);
		else if (!strcmp(verb, "transfer"))
			e = vault_item_transfer(v, it, to);
		else
			e = vault_item_accept(v, it);
		if (e != VAULT_OK) {
			cli_error("cannot %s item %.16s: %s", verb, it->id,
				  vault_errmsg(v));
			code = cli_exit_code(e);
		} else {
			printf("%s recorded for %.16s (log record %llu)\n", verb,
			       it->id, (unsigned long long)vault_log_size(v) - 1);
		}
	}
	vault_free(v);
	return code;
}

int cmd_note(int argc, char **argv, cli_global *g)
{
	return item_action(argc, argv, g, note_help, 2, "note");
}

int cmd_transfer(int argc, char **argv, cli_global *g)
{
	return item_action(argc, argv, g, transfer_help, 1, "transfer");
}

int cmd_accept(int argc, char **argv, cli_global *g)
{
	return item_action(argc, argv, g, accept_help, 1, "accept");
}
