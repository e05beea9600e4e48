/* cmd-ls.c: evault ls: list the items held, decrypted on the fly. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>

#include "cli.h"

static const char help[] =
	"usage: evault ls [--vault DIR] [--json]\n\n"
	"List the items held: id (SHA-256, shown shortened), size, detected type,\n"
	"ingest time and original file name.  --json prints every field.\n";

json_t *cli_item_json(const vault_item *it)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_string(it->id));
	json_object_set_new(o, "sha256", json_string(it->id));
	json_object_set_new(o, "size", json_integer((json_int_t)it->size));
	json_object_set_new(o, "type", json_string(it->type));
	json_object_set_new(o, "name", json_string(it->name));
	json_object_set_new(o, "path", json_string(it->path));
	json_object_set_new(o, "ingested", json_string(it->ingested));
	json_object_set_new(o, "mtime", json_integer(it->mtime));
	json_object_set_new(o, "case", it->case_name ? json_string(it->case_name)
						       : json_null());
	json_object_set_new(o, "source",
			    it->source ? json_string(it->source) : json_null());
	json_object_set_new(o, "note", it->note ? json_string(it->note) : json_null());
	json_object_set_new(o, "receipts", json_integer(it->receipts));
	json_object_set_new(o, "record", json_integer((json_int_t)it->record));
	json_object_set_new(o, "custodian",
			    it->holder ? json_string(it->holder) : json_null());
	json_object_set_new(o, "pending_transfer_to",
			    it->pending_to ? json_string(it->pending_to) : json_null());
	json_object_set_new(o, "metadata_sha256", it->meta[0] ? json_string(it->meta)
						       : json_null());
	json_object_set_new(o, "probe_error", it->probe_error
						  ? json_string(it->probe_error)
						  : json_null());
	return o;
}

int cmd_ls(int argc, char **argv, cli_global *g)
{
	static const struct option extra[] = {CLI_JSON_OPTION, {NULL, 0, NULL, 0}};
	bool json = false;
	int code = EXIT_OK;
	int rc = cli_getopt(argc, argv, g, extra, help, cli_json_opt, &json);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_ERROR;
	if (optind < argc) {
		cli_error("ls takes no arguments; use 'evault show ID' for one item");
		return EXIT_ERROR;
	}
	vault *v = cli_open(g, false, &code);
	if (!v)
		return code;
	size_t n = vault_item_count(v);
	if (json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, cli_item_json(vault_item_at(v, i)));
		json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(arr);
	} else {
		if (n)
			printf("%-16s  %9s  %-18s %-20s  %s\n", "ID", "SIZE", "TYPE",
			       "INGESTED", "NAME");
		for (size_t i = 0; i < n; i++) {
			const vault_item *it = vault_item_at(v, i);
			char size[32];
			cli_human_size(size, sizeof size, it->size);
			printf("%.16s  %9s  %-18s %-20s  %s\n", it->id, size, it->type,
			       it->ingested, it->name);
		}
	}
	vault_free(v);
	return code;
}
