/*
 * cmd-passphrase.c: evault passphrase add|remove|change: manage the
 * passphrase slots that open the vault's master key.  Nothing is
 * re-encrypted: each slot wraps the same key.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char help[] =
	"usage: evault passphrase add|remove|change [--vault DIR]\n"
	"           [--passphrase-file FILE] [--new-passphrase-file FILE]\n"
	"           [--kdf interactive|moderate|sensitive]\n\n"
	"  add     add a slot for a new passphrase (the current one still works)\n"
	"  remove  remove the slot the current passphrase opens (never the last)\n"
	"  change  add the new passphrase, then remove the current one\n\n"
	"The current passphrase comes from --passphrase-file, EVAULT_PASSPHRASE\n"
	"or the terminal; the new one from --new-passphrase-file,\n"
	"EVAULT_NEW_PASSPHRASE or the terminal (asked twice).\n";

struct pass_opts {
	const char *newfile;
	vault_kdf kdf;
};

static int pass_opt(void *ctx, int opt, const char *arg)
{
	struct pass_opts *o = ctx;
	if (opt == 'N') {
		o->newfile = arg;
		return 0;
	}
	return opt == 'k' ? cli_kdf_opt(&o->kdf, opt, arg) : -1;
}

int cmd_passphrase(int argc, char **argv, cli_global *g)
{
	static const struct option extra[] = {
		{"new-passphrase-file", required_argument, NULL, 'N'},
		{"kdf", required_argument, NULL, 'k'},
		{NULL, 0, NULL, 0},
	};
	struct pass_opts po = {NULL, VAULT_KDF_MODERATE};
	int code = EXIT_OK;
	int rc = cli_getopt(argc, argv, g, extra, help, pass_opt, &po);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_ERROR;
	const char *newfile = po.newfile;
	vault_kdf kdf = po.kdf;
	if (optind + 1 != argc) {
		fputs(help, stderr);
		return EXIT_ERROR;
	}
	const char *verb = argv[optind];
	bool add = !strcmp(verb, "add"), rem = !strcmp(verb, "remove"),
	     change = !strcmp(verb, "change");
	if (!add && !rem && !change) {
		cli_error("'passphrase %s': use add, remove or change", verb);
		return EXIT_ERROR;
	}
	/* The current passphrase is needed again to find its slot. */
	size_t curlen = 0, newlen = 0;
	char *cur = cli_passphrase("Current passphrase: ", g->passphrase_file,
				   true, false, &curlen);
	if (!cur)
		return EXIT_ERROR;
	char *newp = NULL;
	if (add || change) {
		newp = cli_new_passphrase(newfile, &newlen);
		if (!newp) {
			cli_passphrase_free(cur);
			return EXIT_ERROR;
		}
	}
	vault_open_opts o = VAULT_OPEN_OPTS_INIT;
	o.flags = VAULT_OPEN_WRITE | (g->no_wait ? VAULT_OPEN_NOWAIT : 0);
	/* The change is recorded in the log, signed by the custodian. */
	if (!cli_identity(g)) {
		cli_passphrase_free(cur);
		cli_passphrase_free(newp);
		return EXIT_ERROR;
	}
	vault *v = vault_new();
	if (v)
		vault_set_identity(v, g->identity);
	vault_err e = v ? vault_open(v, g->vault_dir, &o) : VAULT_E_NOMEM;
	if (e == VAULT_OK)
		e = vault_unlock(v, cur, curlen);
	if (e == VAULT_OK && (add || change))
		e = vault_passphrase_add(v, newp, newlen, kdf);
	if (e == VAULT_OK && (rem || change))
		e = vault_passphrase_remove(v, cur, curlen);
	if (e != VAULT_OK) {
		cli_error("passphrase %s: %s", verb, vault_errmsg(v));
		code = EXIT_ERROR;
	} else {
		unsigned n = 0;
		vault_passphrase_count(v, &n);
		printf("passphrase %s: done; the vault has %u passphrase slot%s\n",
		       change ? "changed" : add ? "added" : "removed", n,
		       n == 1 ? "" : "s");
	}
	cli_passphrase_free(cur);
	cli_passphrase_free(newp);
	vault_free(v);
	return code;
}
