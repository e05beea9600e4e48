/* cmd-init.c: evault init: create a vault protected by a passphrase. */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"

static const char help[] =
	"usage: evault init [--vault DIR] [--kdf interactive|moderate|sensitive]\n"
	"                   [--passphrase-file FILE]\n\n"
	"Create a new vault in DIR (which must be new or empty), as the custodian\n"
	"whose key --key, EVAULT_KEY or the key folder gives (the first record\n"
	"registers that custodian).  A random master\n"
	"key is wrapped by the passphrase (Argon2id).  --kdf sets the cost of\n"
	"the key derivation: interactive (64 MiB), moderate (256 MiB, default),\n"
	"sensitive (1 GiB).\n";

int cmd_init(int argc, char **argv, cli_global *g)
{
	static const struct option extra[] = {
		{"kdf", required_argument, NULL, 'k'},
		{NULL, 0, NULL, 0},
	};
	vault_kdf kdf = VAULT_KDF_MODERATE;
	int code = EXIT_OK;
	int rc = cli_getopt(argc, argv, g, extra, help, cli_kdf_opt, &kdf);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_ERROR;
	if (optind < argc) {
		cli_error("init takes no arguments (the vault is --vault DIR)");
		return EXIT_ERROR;
	}
	if (!cli_identity(g))
		return EXIT_ERROR;
	size_t len;
	char *pass = cli_passphrase("New vault passphrase: ", g->passphrase_file,
				    true, true, &len);
	if (!pass)
		return EXIT_ERROR;
	vault *v = vault_new();
	if (v)
		vault_set_identity(v, g->identity);
	vault_err e = v ? vault_create(v, g->vault_dir, pass, len, kdf)
			: VAULT_E_NOMEM;
	cli_passphrase_free(pass);
	if (e != VAULT_OK) {
		cli_error("cannot create a vault: %s", vault_errmsg(v));
		code = EXIT_ERROR;
	} else {
		char vkey[VAULT_VKEY_MAX];
		printf("created vault %s in %s\n", vault_id(v), g->vault_dir);
		printf("custodian %s registered\n", vault_identity_name(g->identity));
		if (vault_log_vkey(v, vkey, sizeof vkey) == VAULT_OK)
			printf("log key   %s\n", vkey);
	}
	vault_free(v);
	return code;
}
