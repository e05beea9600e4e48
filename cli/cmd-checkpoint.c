/*
 * cmd-checkpoint.c: the log's public artefacts: evault checkpoint (the
 * latest signed checkpoint, its verifier key, attaching cosignatures),
 * evault prove (a C2SP tlog-proof of one record) and evault consistency
 * (an RFC 9162 consistency proof, as a witness wants it).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char checkpoint_help[] =
	"usage: evault checkpoint [--json]\n"
	"       evault checkpoint --vkey\n"
	"       evault checkpoint add-cosignature FILE --witness VKEY\n\n"
	"Print the latest checkpoint of the custody log (C2SP tlog-checkpoint,\n"
	"signed by the vault's log key, with witnesses' cosignatures), or the\n"
	"log's verifier key.  add-cosignature attaches the cosignature line in\n"
	"FILE (from 'evault witness cosign') to the checkpoint it signs, once\n"
	"checked against the witness's verifier key (--witness VKEY).\n";
static const char prove_help[] =
	"usage: evault prove ID | --index N [--size M]\n\n"
	"Print a C2SP tlog-proof that a record is in the log: extra = the record\n"
	"(the item's ingest record for ID), its index, the inclusion path, and\n"
	"the checkpoint of size M (default: the latest).\n";
static const char consistency_help[] =
	"usage: evault consistency OLD_SIZE [NEW_SIZE]\n\n"
	"Print the consistency proof from the tree of OLD_SIZE records to that\n"
	"of NEW_SIZE (default: the latest), as base64 hashes one per line.\n";

typedef struct {
	bool json, vkey;
	const char *witness;
	const char *index, *size;
} cp_opts;

static int cp_opt(void *ctx, int opt, const char *arg)
{
	cp_opts *o = ctx;
	switch (opt) {
	case 'j': o->json = true; return 0;
	case 'k': o->vkey = true; return 0;
	case 'w': o->witness = arg; return 0;
	case 'i': o->index = arg; return 0;
	case 's': o->size = arg; return 0;
	}
	return -1;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (!s || !*s || *s == '-')
		return -1;
	unsigned long long x = strtoull(s, &end, 10);
	if (*end)
		return -1;
	*out = x;
	return 0;
}

static void print_text(const char *text, size_t len)
{
	fwrite(text, 1, len, stdout);
}

int cmd_checkpoint(int argc, char **argv, cli_global *g)
{
	static const struct option extra[] = {
		{"json", no_argument, NULL, 'j'},
		{"vkey", no_argument, NULL, 'k'},
		{"witness", required_argument, NULL, 'w'},
		{NULL, 0, NULL, 0},
	};
	cp_opts o = {0};
	int code = EXIT_OK;
	int rc = cli_getopt(argc, argv, g, extra, checkpoint_help, cp_opt, &o);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_ERROR;
	bool add = optind + 2 == argc && !strcmp(argv[optind], "add-cosignature");
	if (!add && optind != argc) {
		fputs(checkpoint_help, stderr);
		return EXIT_ERROR;
	}
	vault *v = cli_open(g, add, &code);
	if (!v)
		return code;
	char *text = NULL;
	size_t len;
	vault_err e;
	if (add) {
		char *line = cli_read_file(argv[optind + 1], 8192, &len);
		if (!line) {
			vault_free(v);
			return EXIT_ERROR;
		}
		line[strcspn(line, "\n")] = '\0';
		e = vault_checkpoint_add_cosignature(v, line, o.witness);
		free(line);
		if (e == VAULT_OK)
			printf("cosignature attached: %s\n", vault_errmsg(v));
	} else if (o.vkey) {
		char vkey[VAULT_VKEY_MAX];
		e = vault_log_vkey(v, vkey, sizeof vkey);
		if (e == VAULT_OK)
			printf("%s\n", vkey);
	} else {
		e = vault_checkpoint_latest(v, &text, &len);
		if (e == VAULT_OK && o.json) {
			char vkey[VAULT_VKEY_MAX];
			vault_log_vkey(v, vkey, sizeof vkey);
			json_t *doc = json_pack("{s:I,s:s%,s:s}", "size",
						(json_int_t)vault_log_size(v),
						"checkpoint", text, len, "vkey", vkey);
			json_dumpf(doc, stdout, JSON_INDENT(2));
			putchar('\n');
			json_decref(doc);
		} else if (e == VAULT_OK) {
			print_text(text, len);
		}
	}
	if (e != VAULT_OK) {
		cli_error("checkpoint: %s", vault_errmsg(v));
		code = cli_exit_code(e);
	}
	free(text);
	vault_free(v);
	return code;
}

int cmd_prove(int argc, char **argv, cli_global *g)
{
	static const struct option extra[] = {
		{"index", required_argument, NULL, 'i'},
		{"size", required_argument, NULL, 's'},
		{NULL, 0, NULL, 0},
	};
	cp_opts o = {0};
	uint64_t index = 0, size = 0;
	int code = EXIT_OK;
	int rc = cli_getopt(argc, argv, g, extra, prove_help, cp_opt, &o);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_ERROR;
	if ((o.index ? optind != argc : optind + 1 != argc) ||
	    (o.index && parse_u64(o.index, &index) < 0) ||
	    (o.size && parse_u64(o.size, &size) < 0)) {
		fputs(prove_help, stderr);
		return EXIT_ERROR;
	}
	vault *v = cli_open(g, false, &code);
	if (!v)
		return code;
	if (!o.index) {
		const vault_item *it = cli_find(v, argv[optind], &code);
		if (!it) {
			vault_free(v);
			return code;
		}
		index = it->record;
	}
	char *text = NULL;
	size_t len;
	vault_err e = vault_prove(v, index, size, &text, &len);
	if (e != VAULT_OK) {
		cli_error("prove: %s", vault_errmsg(v));
		code = cli_exit_code(e);
	} else {
		print_text(text, len);
	}
	free(text);
	vault_free(v);
	return code;
}

int cmd_consistency(int argc, char **argv, cli_global *g)
{
	uint64_t old_size, new_size = 0;
	int code = EXIT_OK;
	int rc = cli_getopt(argc, argv, g, NULL, consistency_help, NULL, NULL);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_ERROR;
	int n = argc - optind;
	if (n < 1 || n > 2 || parse_u64(argv[optind], &old_size) < 0 ||
	    (n == 2 && parse_u64(argv[optind + 1], &new_size) < 0)) {
		fputs(consistency_help, stderr);
		return EXIT_ERROR;
	}
	vault *v = cli_open(g, false, &code);
	if (!v)
		return code;
	char *text = NULL;
	size_t len;
	vault_err e = vault_consistency(v, old_size, new_size, &text, &len);
	if (e != VAULT_OK) {
		cli_error("consistency: %s", vault_errmsg(v));
		code = cli_exit_code(e);
	} else {
		print_text(text, len);
	}
	free(text);
	vault_free(v);
	return code;
}
