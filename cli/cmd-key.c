/*
 * cmd-key.c: evault key new|show: a custodian's (or witness's) Ed25519
 * signing key, kept outside any vault in a file sealed by its own
 * passphrase.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static const char help[] =
	"usage: evault key new NAME [-o FILE] [--witness] [--kdf COST]\n"
	"       evault key show [FILE]\n\n"
	"  new   make an Ed25519 key named NAME (no spaces, no '+'); its secret\n"
	"        half is sealed with a passphrase of its own (asked twice, or\n"
	"        --key-passphrase-file, or EVAULT_KEY_PASSPHRASE) and written\n"
	"        0600 to FILE, by default $XDG_CONFIG_HOME/evault/keys/NAME.key.\n"
	"        --witness makes a key for cosigning checkpoints.\n"
	"  show  print the public key (C2SP note verifier key, name+id+base64)\n"
	"        of FILE, or of the key this command would act with.\n";

struct key_opts {
	const char *out;
	bool witness;
	vault_kdf kdf;
};

static int key_opt(void *ctx, int opt, const char *arg)
{
	struct key_opts *k = ctx;
	switch (opt) {
	case 'o': k->out = arg; return 0;
	case 'w': k->witness = true; return 0;
	case 'k': return cli_kdf_opt(&k->kdf, opt, arg);
	}
	return -1;
}

static int mkdirs(const char *path)
{
	char buf[4096];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

static int key_new(cli_global *g, const char *name, struct key_opts *k)
{
	char path[4096], dir[4000], vkey[VAULT_VKEY_MAX];
	size_t len;
	if (!k->out) {
		cli_key_dir(dir, sizeof dir);
		if (mkdirs(dir) < 0) {
			cli_error("cannot create '%s': %s", dir, strerror(errno));
			return EXIT_ERROR;
		}
		snprintf(path, sizeof path, "%s/%s.key", dir, name);
		k->out = path;
	}
	char *pass = cli_key_passphrase(g, "Passphrase for the new key: ", true,
					&len);
	if (!pass)
		return EXIT_ERROR;
	vault *v = vault_new();
	vault_err e = vault_identity_create(v, name, k->witness, pass, len, k->kdf,
					    k->out, vkey, sizeof vkey);
	cli_passphrase_free(pass);
	if (e != VAULT_OK) {
		cli_error("cannot make key '%s': %s", name, vault_errmsg(v));
		vault_free(v);
		return EXIT_ERROR;
	}
	vault_free(v);
	fprintf(stderr, "key written to %s\n", k->out);
	printf("%s\n", vkey);
	return EXIT_OK;
}

int cmd_key(int argc, char **argv, cli_global *g)
{
	static const struct option extra[] = {
		{"output", required_argument, NULL, 'o'},
		{"witness", no_argument, NULL, 'w'},
		{"kdf", required_argument, NULL, 'k'},
		{NULL, 0, NULL, 0},
	};
	struct key_opts k = {NULL, false, VAULT_KDF_MODERATE};
	int rc = cli_getopt(argc, argv, g, extra, help, key_opt, &k);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_ERROR;
	if (optind >= argc) {
		fputs(help, stderr);
		return EXIT_ERROR;
	}
	const char *verb = argv[optind];
	if (strcmp(verb, "new") == 0 && optind + 2 == argc)
		return key_new(g, argv[optind + 1], &k);
	if (strcmp(verb, "show") == 0 && optind + 2 >= argc) {
		char vkey[VAULT_VKEY_MAX];
		const char *why, *path = optind + 2 == argc ? argv[optind + 1]
							     : cli_key_path(g, &why);
		if (!path) {
			cli_error("no key to show (%s): give FILE", why);
			return EXIT_ERROR;
		}
		/* The public half needs no passphrase. */
		vault *v = vault_new();
		vault_err e = vault_identity_vkey_of_file(v, path, vkey, sizeof vkey);
		if (e != VAULT_OK)
			cli_error("%s", vault_errmsg(v));
		vault_free(v);
		if (e != VAULT_OK)
			return EXIT_ERROR;
		printf("%s\n", vkey);
		return EXIT_OK;
	}
	fputs(help, stderr);
	return EXIT_ERROR;
}
