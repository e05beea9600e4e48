/*
 * main.c: the evault command.  Global options, then one subcommand from
 * the table below, each in its own cmd-<name>.c.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <sodium.h>

#include "cli.h"

static const struct {
	const char *name;
	cli_cmd_fn fn;
	const char *summary;
} commands[] = {
	{"init", cmd_init, "create a new vault"},
	{"ingest", cmd_ingest, "take files and folders into the vault"},
	{"ls", cmd_ls, "list the items held"},
	{"show", cmd_show, "show one item and its metadata"},
	{"probe", cmd_probe, "show a file's metadata without a vault"},
	{"cat", cmd_cat, "write an item's original bytes to stdout"},
	{"extract", cmd_extract, "copy an item out to a file, checked"},
	{"verify", cmd_verify, "check that nothing held has been altered"},
	{"passphrase", cmd_passphrase, "add, remove or change a passphrase"},
	{"key", cmd_key, "make or show a custodian's signing key"},
	{"custodian", cmd_custodian, "add, list or remove who may act"},
	{"log", cmd_log, "the verified history of the vault or of an item"},
	{"note", cmd_note, "record a note about an item"},
	{"transfer", cmd_transfer, "offer custody of an item to a custodian"},
	{"accept", cmd_accept, "accept custody of an item (countersign)"},
	{"certify", cmd_certify, "issue a verification certificate for an item"},
	{"check-cert", cmd_check_cert, "check a verification certificate (no vault)"},
	{"checkpoint", cmd_checkpoint, "print the log's latest signed checkpoint"},
	{"prove", cmd_prove, "print an inclusion proof of a record"},
	{"consistency", cmd_consistency, "print a consistency proof"},
	{"witness", cmd_witness, "cosign another vault's checkpoint"},
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: evault [--vault DIR] COMMAND [ARGS]\n\n"
		"evault keeps photos, videos and other evidence encrypted, "
		"content-addressed\n(SHA-256) and checkable, with a log of every "
		"action.\n\nCommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
		"\nOptions every command takes:\n"
		"  --vault DIR             the vault (default: $EVAULT_DIR, else\n"
		"                          $XDG_DATA_HOME/evault, else "
		"~/.local/share/evault)\n"
		"  --passphrase-file FILE  read the passphrase from FILE (else\n"
		"                          $EVAULT_PASSPHRASE, else the terminal)\n"
		"  --no-wait               fail at once if another evault holds "
		"the vault\n"
		"  --quiet                 no progress bar\n"
		"  --key FILE              the custodian key to act with (else\n"
		"                          $EVAULT_KEY, else the only key in\n"
		"                          $XDG_CONFIG_HOME/evault/keys)\n"
		"  --key-passphrase-file FILE  its passphrase (else\n"
		"                          $EVAULT_KEY_PASSPHRASE, else the "
		"terminal)\n\n"
		"Run 'evault COMMAND --help' for a command's options.\n"
		"Exit status: 0 success, 1 verification failed or refused, 2 "
		"error.\n");
}

static char *default_vault(void)
{
	static char buf[4096];
	const char *env = getenv("EVAULT_DIR"), *xdg, *home;
	if (env && *env)
		return (char *)env;
	xdg = getenv("XDG_DATA_HOME");
	if (xdg && *xdg) {
		snprintf(buf, sizeof buf, "%s/evault", xdg);
		return buf;
	}
	home = getenv("HOME");
	snprintf(buf, sizeof buf, "%s/.local/share/evault", home ? home : ".");
	return buf;
}

int main(int argc, char **argv)
{
	cli_global g = {0};
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'v'},
		{NULL, 0, NULL, 0},
	};
	struct rlimit nocore = {0, 0};
	int opt;

	/* Secrets are in memory: never let them reach a core dump. */
	setrlimit(RLIMIT_CORE, &nocore);
	/* libsodium first: the secrets are captured into its locked memory,
	 * before anything else runs. */
	if (sodium_init() < 0) {
		cli_error("cannot initialise libsodium");
		return EXIT_ERROR;
	}
	cli_capture_env_secrets();
	g.vault_dir = default_vault();
	/* Global options stop at the first non-option: the command. */
	while ((opt = getopt_long(argc, argv, "+hv", longopts, NULL)) != -1) {
		if (cli_global_opt(&g, opt, optarg))
			continue;
		switch (opt) {
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'v':
			printf("evault %s (vault format %d)\n", EVAULT_VERSION,
			       VAULT_FORMAT_VERSION);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_ERROR;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_ERROR;
	}
	const char *name = argv[optind];
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
		if (strcmp(name, commands[i].name) == 0) {
			argc -= optind;
			argv += optind;
			optind = 0; /* restart getopt for the subcommand */
			int rc = commands[i].fn(argc, argv, &g);
			vault_identity_free(g.identity);
			return rc;
		}
	}
	cli_error("'%s' is not an evault command; see 'evault --help'", name);
	return EXIT_ERROR;
}
