/*
 * cmd-witness.c: evault witness cosign: act as a witness for another
 * vault's log.  The witness remembers, per log, the last tree it cosigned
 * and cosigns a new checkpoint only if the log's signature verifies and a
 * consistency proof shows the new tree extends the old one: a fork or a
 * rollback is refused (exit 1).  Needs no access to the vault itself.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char help[] =
	"usage: evault witness cosign --key WITNESS_KEY --state DIR\n"
	"                             --log-key VKEY CHECKPOINT [PROOF]\n\n"
	"Check CHECKPOINT (a file, or - for stdin) against the log's verifier\n"
	"key VKEY ('evault checkpoint --vkey') and against the last checkpoint\n"
	"of that log this witness cosigned (kept in DIR); PROOF is the\n"
	"consistency proof from that size ('evault consistency OLD'), needed\n"
	"once a size has been cosigned.  Prints the cosignature line to attach\n"
	"with 'evault checkpoint add-cosignature'.  WITNESS_KEY is made with\n"
	"'evault key new NAME --witness'.\n\n"
	"Exit status: 0 cosigned, 1 refused (bad signature, fork, rollback),\n"
	"2 error.\n";

typedef struct {
	const char *state, *logkey;
} witness_opts;

static int w_opt(void *ctx, int opt, const char *arg)
{
	witness_opts *o = ctx;
	switch (opt) {
	case 's': o->state = arg; return 0;
	case 'l': o->logkey = arg; return 0;
	}
	return -1;
}

int cmd_witness(int argc, char **argv, cli_global *g)
{
	static const struct option extra[] = {
		{"state", required_argument, NULL, 's'},
		{"log-key", required_argument, NULL, 'l'},
		{NULL, 0, NULL, 0},
	};
	witness_opts o = {0};
	int rc = cli_getopt(argc, argv, g, extra, help, w_opt, &o);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_ERROR;
	int n = argc - optind;
	if (n < 2 || n > 3 || strcmp(argv[optind], "cosign") != 0 || !o.state ||
	    !o.logkey || !g->key_file) {
		cli_error("witness cosign needs --key, --state, --log-key and a "
			  "CHECKPOINT");
		fputs(help, stderr);
		return EXIT_ERROR;
	}
	size_t cplen, prooflen = 0;
	char *cp = cli_read_file(argv[optind + 1], 65536, &cplen);
	char *proof = n == 3 ? cli_read_file(argv[optind + 2], 65536, &prooflen)
			     : NULL;
	vault_identity *id = cp && (n == 2 || proof) ? cli_identity(g) : NULL;
	int code = EXIT_ERROR;
	if (id) {
		vault *v = vault_new();
		char line[512];
		uint64_t old = 0;
		vault_err e = vault_witness_cosign(v, id, o.state, o.logkey, cp, cplen,
						   proof, prooflen,
						   (uint64_t)time(NULL), line,
						   sizeof line, &old);
		if (e != VAULT_OK) {
			cli_error("witness: %s", vault_errmsg(v));
			code = e == VAULT_E_CORRUPT ? EXIT_FAILED : EXIT_ERROR;
		} else {
			fputs(line, stdout);
			code = EXIT_OK;
		}
		vault_free(v);
	}
	free(cp);
	free(proof);
	return code;
}
