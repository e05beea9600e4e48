/*
 * cmd-verify.c: evault verify [ID...]: check that nothing held has been
 * altered.  Every object is decrypted and hashed in full; the log and the
 * passphrase slots are checked.  Exit 0 all intact, 1 damage found, 2 the
 * check could not run.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static const char help[] =
	"usage: evault verify [--vault DIR] [--json] [ID...]\n\n"
	"Decrypt every object (or the given items), authenticate every chunk and\n"
	"the final tag, recompute SHA-256, size and keyed object name, and check\n"
	"the log (records, leaf hashes, Merkle root, state) and passphrase slots.\n"
	"Each damaged or missing item is named with its id and file.  Objects no\n"
	"item refers to are listed, never deleted.  The log's checkpoints are\n"
	"checked against its leaves and the log key; the result is recorded in\n"
	"the log, signed, when a custodian key is at hand (--no-record: not).\n\n"
	"  --public          check, without the passphrase, what is public:\n"
	"                    leaf hashes, signed checkpoints, one history\n"
	"  --checkpoint FILE a checkpoint of this vault kept elsewhere (or by a\n"
	"                    witness): the log must still contain it\n"
	"  --json            one JSON document on stdout\n\n"
	"Exit status: 0 all intact, 1 damage found, 2 could not run.\n";

typedef struct {
	bool json;
	json_t *problems;
	json_t *notes;
	cli_progress *prog;
} verify_out;

static const char *kind_name(vault_check_kind k)
{
	switch (k) {
	case VAULT_CHECK_ITEM_OK: return "ok";
	case VAULT_CHECK_ITEM_MISSING: return "missing";
	case VAULT_CHECK_ITEM_DAMAGED: return "damaged";
	case VAULT_CHECK_LOG_DAMAGED: return "log-damaged";
	case VAULT_CHECK_SLOT_DAMAGED: return "slot-damaged";
	case VAULT_CHECK_UNREFERENCED: return "unreferenced";
	}
	return "?";
}

static void on_check(void *ctx, const vault_check *c)
{
	verify_out *o = ctx;
	if (c->kind == VAULT_CHECK_ITEM_OK)
		return;
	if (o->json) {
		json_t *p = json_object();
		json_object_set_new(p, "kind", json_string(kind_name(c->kind)));
		if (c->item) {
			json_object_set_new(p, "id", json_string(c->item->id));
			json_object_set_new(p, "name", json_string(c->item->name));
		}
		if (c->file)
			json_object_set_new(p, "file", json_string(c->file));
		if (c->detail)
			json_object_set_new(p, "detail", json_string(c->detail));
		json_array_append_new(c->kind == VAULT_CHECK_UNREFERENCED ? o->notes
									 : o->problems,
				      p);
		return;
	}
	cli_progress_done(o->prog);
	if (c->item)
		printf("%s  %s  %s: %s\n", kind_name(c->kind), c->item->id,
		       c->item->name, c->detail);
	else
		printf("%s  %s: %s\n", kind_name(c->kind), c->file ? c->file : "?",
		       c->detail);
	fflush(stdout);
}

typedef struct {
	verify_out *out;
	bool public, no_record;
	const char *checkpoint;
} verify_args;

static int verify_opt(void *ctx, int opt, const char *arg)
{
	verify_args *a = ctx;
	switch (opt) {
	case 'j': a->out->json = true; return 0;
	case 'p': a->public = true; return 0;
	case 'n': a->no_record = true; return 0;
	case 'c': a->checkpoint = arg; return 0;
	}
	return -1;
}

int cmd_verify(int argc, char **argv, cli_global *g)
{
	static const struct option extra[] = {
		{"json", no_argument, NULL, 'j'},
		{"public", no_argument, NULL, 'p'},
		{"no-record", no_argument, NULL, 'n'},
		{"checkpoint", required_argument, NULL, 'c'},
		{NULL, 0, NULL, 0},
	};
	verify_out out = {0};
	verify_args a = {&out, false, false, NULL};
	cli_progress prog;
	int code = EXIT_OK;
	char *trusted = NULL;
	size_t tlen = 0;

	int rc = cli_getopt(argc, argv, g, extra, help, verify_opt, &a);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_ERROR;
	if (a.public && optind < argc) {
		cli_error("verify --public checks the log only: no item ids");
		return EXIT_ERROR;
	}
	if (a.checkpoint && !(trusted = cli_read_file(a.checkpoint, 65536, &tlen)))
		return EXIT_ERROR;
	/* The result is recorded, signed, when a custodian key is at hand. */
	bool record = !a.public && !a.no_record && cli_has_key(g);
	vault *v = a.public ? cli_open_locked(g, &code) : cli_open(g, record, &code);
	if (!v) {
		free(trusted);
		return code;
	}
	size_t n = (size_t)(argc - optind);
	const vault_item **items = calloc(n ? n : 1, sizeof *items);
	if (!items) {
		free(trusted);
		vault_free(v);
		return EXIT_ERROR;
	}
	for (size_t i = 0; i < n; i++)
		if (!(items[i] = cli_find(v, argv[optind + (int)i], &code))) {
			free(items);
			free(trusted);
			vault_free(v);
			return code;
		}
	cli_progress_init(&prog, g, "verify");
	out.prog = &prog;
	out.problems = json_array();
	out.notes = json_array();
	vault_verify_opts o = VAULT_VERIFY_OPTS_INIT;
	vault_verify_summary sum;
	o.on_check = on_check;
	o.check_ctx = &out;
	o.progress = cli_progress_cb;
	o.progress_ctx = &prog;
	o.trusted_checkpoint = trusted;
	o.trusted_len = tlen;
	double t0 = cli_now();
	vault_err e = a.public ? vault_verify_public(v, &o, &sum)
			       : vault_verify(v, items, n, &o, &sum);
	double el = cli_now() - t0;
	cli_progress_done(&prog);
	if (e != VAULT_OK) {
		cli_error("cannot verify: %s", vault_errmsg(v));
		code = EXIT_ERROR;
	} else {
		bool bad = sum.items_damaged || sum.log_problems;
		code = bad ? EXIT_FAILED : EXIT_OK;
		if (record && !vault_log_problems(v) &&
		    vault_record_verify(v, &sum) != VAULT_OK)
			cli_warn("verify result not recorded: %s", vault_errmsg(v));
		else if (!a.public && !a.no_record && !record)
			cli_warn("verify result not recorded in the custody log: no "
				 "custodian key (see 'evault key new')");
		if (out.json) {
			json_t *doc = json_object();
			json_object_set_new(doc, "ok", json_boolean(!bad));
			json_object_set_new(doc, "items_checked",
					    json_integer((json_int_t)sum.items_checked));
			json_object_set_new(doc, "items_ok",
					    json_integer((json_int_t)sum.items_ok));
			json_object_set_new(doc, "items_damaged",
					    json_integer((json_int_t)sum.items_damaged));
			json_object_set_new(doc, "log_problems",
					    json_integer((json_int_t)sum.log_problems));
			json_object_set_new(doc, "unreferenced",
					    json_integer((json_int_t)sum.unreferenced));
			json_object_set_new(doc, "bytes",
					    json_integer((json_int_t)sum.bytes));
			json_object_set_new(doc, "log_size",
					    json_integer((json_int_t)(a.public
						? sum.log_checked : vault_log_size(v))));
			json_object_set_new(doc, "seconds", json_real(el));
			json_object_set_new(doc, "problems", json_incref(out.problems));
			json_object_set_new(doc, "notes", json_incref(out.notes));
			json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			putchar('\n');
			json_decref(doc);
		} else if (a.public) {
			printf("%s: %llu log records match their signed checkpoints "
			       "(%llu log problems)\n",
			       bad ? "DAMAGE FOUND" : "ok",
			       (unsigned long long)sum.log_checked,
			       (unsigned long long)sum.log_problems);
		} else {
			char size[32];
			cli_human_size(size, sizeof size, sum.bytes);
			printf("%s: %llu of %llu items intact (%s in %.1f s), %llu "
			       "log problems, %llu unreferenced objects\n",
			       bad ? "DAMAGE FOUND" : "ok",
			       (unsigned long long)sum.items_ok,
			       (unsigned long long)sum.items_checked, size, el,
			       (unsigned long long)sum.log_problems,
			       (unsigned long long)sum.unreferenced);
		}
	}
	json_decref(out.problems);
	json_decref(out.notes);
	free(trusted);
	free(items);
	vault_free(v);
	return code;
}
