/*
 * cmd-check-cert.c: evault check-cert CERT [FILE]: check a verification
 * certificate (docs/certificate.md) without a vault.  The checks are those
 * of the stand-alone evault-verify, the same code (cli/evault-verify.c,
 * built with EVV_LIBRARY): this file only reads the files, hashes FILE,
 * and prints the report as text or JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cli.h"
#include "evault-verify.h"

#define CERT_MAX ((size_t)64 << 20)       /* as the verifier reads them */
#define CHECKPOINT_MAX ((size_t)64 << 10)
#define PROOF_MAX ((size_t)64 << 10)
#define HASH_CHUNK ((size_t)1 << 20)

static const char help[] =
	"usage: evault check-cert CERT [FILE] [--key VKEY] [--witness VKEY]...\n"
	"                         [--checkpoint FILE --consistency FILE] [--json]\n\n"
	"Check a verification certificate ('evault certify'); no vault is needed.\n"
	"Checked: the statement and the checkpoint are signed by the vault's log\n"
	"key; every custody record is in the log (its inclusion proof leads to\n"
	"the checkpoint's root) and signed by the custodian it names, registered\n"
	"before it; the records concern the certificate's item.  Given FILE, also\n"
	"that FILE is the item (its SHA-256 and size).\n\n"
	"  --key VKEY          the vault's log key, obtained from its holders; without\n"
	"                      it the certificate's own key is used, and the\n"
	"                      certificate proves only that it is self-consistent\n"
	"  --witness VKEY      a witness that must have cosigned the checkpoint (or\n"
	"                      the later one); any number\n"
	"  --checkpoint FILE   a later checkpoint of the log ('evault checkpoint'),\n"
	"  --consistency FILE  with the proof that the certificate's tree is a\n"
	"                      prefix of it ('evault consistency SIZE'): the log\n"
	"                      was not forked or rewritten since\n"
	"  --json              the checks and what the certificate says, as JSON\n\n"
	"A VKEY is the key itself (name+keyid+base64) or a file whose first line\n"
	"is the key.  'evault-verify' (one C file, libsodium only) checks the same.\n"
	"Exit status: 0 valid, 1 invalid, 2 could not check.\n";

typedef struct {
	char **wit;               /* --witness values, as given */
	size_t nwit;
	const char *checkpoint, *consistency;
	bool json;
} cc_opts;

static int cc_opt(void *ctx, int opt, const char *arg)
{
	cc_opts *o = ctx;

	switch (opt) {
	case 'w': o->wit[o->nwit++] = (char *)arg; return 0;
	case 'c': o->checkpoint = arg; return 0;
	case 's': o->consistency = arg; return 0;
	case 'j': o->json = true; return 0;
	}
	return -1;
}

/* A VKEY argument: a file whose first line is the key, else the key
 * itself.  malloc'd; NULL with the error printed. */
static char *vkey_arg(const char *arg)
{
	FILE *f = fopen(arg, "rbe");
	char *k, *nl;
	size_t len;

	if (!f) {
		if (errno != ENOENT && errno != ENOTDIR && errno != ENAMETOOLONG) {
			cli_error("cannot read the key file '%s': %s", arg,
				  strerror(errno));
			return NULL;
		}
		if (!(k = strdup(arg)))
			cli_error("out of memory");
		return k;
	}
	fclose(f);
	if (!(k = cli_read_file(arg, 4096, &len)))
		return NULL;
	if ((nl = memchr(k, '\n', len)) != NULL)
		len = (size_t)(nl - k);
	if (memchr(k, '\0', len))
		len = 0; /* not a key; the verifier says so */
	k[len] = '\0';
	return k;
}

/* SHA-256 and size of FILE, streamed through OpenSSL (constant memory). */
static int hash_file(const char *path, unsigned char out[32], uint64_t *size)
{
	FILE *f = fopen(path, "rbe");
	EVP_MD_CTX *md = NULL;
	unsigned char *buf = NULL;
	unsigned int len = 0;
	size_t n;
	int rc = -1;

	if (!f) {
		cli_error("cannot read '%s': %s", path, strerror(errno));
		return -1;
	}
	md = EVP_MD_CTX_new();
	buf = malloc(HASH_CHUNK);
	if (!md || !buf || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		cli_error("cannot hash '%s': out of memory", path);
		goto out;
	}
	*size = 0;
	while ((n = fread(buf, 1, HASH_CHUNK, f)) > 0) {
		if (EVP_DigestUpdate(md, buf, n) != 1) {
			cli_error("cannot hash '%s'", path);
			goto out;
		}
		*size += n;
	}
	if (ferror(f)) {
		cli_error("cannot read '%s': %s", path, strerror(errno));
		goto out;
	}
	if (EVP_DigestFinal_ex(md, out, &len) != 1 || len != 32) {
		cli_error("cannot hash '%s'", path);
		goto out;
	}
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	free(buf);
	fclose(f);
	return rc;
}

/* The report as it comes from evv_verify: printed (text), or gathered
 * (--json). */
typedef struct {
	bool json;
	evv_text text;            /* the text printer's state */
	json_t *checks;
	json_t *cert;             /* what the certificate says */
} cc_report;

/* "name value" as {"name", "value"}. */
static json_t *name_value(const char *detail)
{
	const char *sp = strchr(detail, ' ');

	if (!sp)
		return json_pack("{s:s,s:s}", "name", detail, "value", "");
	return json_pack("{s:s%,s:s}", "name", detail, (size_t)(sp - detail),
			 "value", sp + 1);
}

/* Append to the array member `key` of the certificate object. */
static void cert_append(cc_report *r, const char *key, json_t *v)
{
	json_t *a = json_object_get(r->cert, key);

	if (!a) {
		a = json_array();
		json_object_set_new(r->cert, key, a);
	}
	json_array_append_new(a, v);
}

static void cert_info(cc_report *r, const char *check, const char *detail)
{
	char when[128], kind[128];
	unsigned long long index;
	int used = 0;

	if (!strcmp(check, "size")) {
		json_object_set_new(r->cert, "size",
				    json_integer((json_int_t)strtoull(detail, NULL, 10)));
	} else if (!strcmp(check, "tree")) {
		const char *sp = strchr(detail, ' ');
		json_object_set_new(r->cert, "tree", json_pack("{s:I,s:s}", "size",
			(json_int_t)strtoull(detail, NULL, 10), "root",
			sp ? sp + 1 : ""));
	} else if (!strcmp(check, "fact") || !strcmp(check, "media")) {
		cert_append(r, !strcmp(check, "fact") ? "facts" : "media",
			    name_value(detail));
	} else if (!strcmp(check, "omitted") || !strcmp(check, "stream") ||
		   !strcmp(check, "witness-line")) {
		cert_append(r, !strcmp(check, "omitted") ? "omitted" :
			    !strcmp(check, "stream") ? "streams" : "witness_lines",
			    json_string(detail));
	} else if (!strcmp(check, "record")) {
		/* "<index> <time> <kind> <actor>": time and kind hold no space */
		if (sscanf(detail, "%llu %127s %127s %n", &index, when, kind,
			   &used) == 3 && used > 0)
			cert_append(r, "records", json_pack("{s:I,s:s,s:s,s:s}",
				    "index", (json_int_t)index, "time", when,
				    "kind", kind, "actor", detail + used));
	} else {
		/* item, type, origin, log-key, issued, issuer */
		json_object_set_new(r->cert, !strcmp(check, "log-key") ? "log_key"
				    : check, json_string(detail));
	}
}

static void on_report(void *ctx, evv_status st, const char *check,
		      const char *detail)
{
	static const char *const status[] = {"ok", "fail", "note"};
	cc_report *r = ctx;

	if (!r->json) {
		evv_print_text(&r->text, st, check, detail);
		return;
	}
	/* Could not run: the certificate or a key given is unusable. */
	if (st == EVV_FAIL && !strcmp(check, "read"))
		cli_error("cannot check '%s': %s", r->text.cert, detail);
	else if (st == EVV_FAIL && (!strcmp(check, "key") || !strcmp(check, "usage")))
		cli_error("%s", detail);
	if (st == EVV_INFO)
		cert_info(r, check, detail);
	else
		json_array_append_new(r->checks, json_pack("{s:s,s:s,s:s}",
				      "check", check, "status", status[st],
				      "detail", detail));
}

int cmd_check_cert(int argc, char **argv, cli_global *g)
{
	static const struct option extra[] = {
		{"witness", required_argument, NULL, 'w'},
		{"checkpoint", required_argument, NULL, 'c'},
		{"consistency", required_argument, NULL, 's'},
		CLI_JSON_OPTION,
		{NULL, 0, NULL, 0},
	};
	cc_opts o = {0};
	cc_report rep = {0};
	evv_opts eo;
	char *cert = NULL, *later = NULL, *proof = NULL, *logkey = NULL;
	char **wkeys = NULL;
	size_t len = 0, i, nkeys = 0;
	int rc = EXIT_ERROR, r;

	memset(&eo, 0, sizeof eo);
	if (!(o.wit = calloc((size_t)argc + 1, sizeof *o.wit)) ||
	    !(wkeys = calloc((size_t)argc + 1, sizeof *wkeys))) {
		cli_error("out of memory");
		goto out;
	}
	/* --key is a global option (a custodian key file); here it names the
	 * vault's log key.  One given before the command is not this. */
	g->key_file = NULL;
	r = cli_getopt(argc, argv, g, extra, help, cc_opt, &o);
	if (r) {
		rc = r > 0 ? EXIT_OK : EXIT_ERROR;
		goto out;
	}
	if (argc - optind < 1 || argc - optind > 2 ||
	    !o.checkpoint != !o.consistency) {
		if (!o.checkpoint != !o.consistency)
			cli_error("--checkpoint and --consistency go together");
		fputs(help, stderr);
		goto out;
	}
	if (g->key_file && !(logkey = vkey_arg(g->key_file)))
		goto out;
	for (i = 0; i < o.nwit; i++)
		if (!(wkeys[nkeys++] = vkey_arg(o.wit[i])))
			goto out;
	if (!(cert = cli_read_file(argv[optind], CERT_MAX, &len)))
		goto out;
	if (o.checkpoint) {
		if (!(later = cli_read_file(o.checkpoint, CHECKPOINT_MAX,
					    &eo.later_checkpoint_len)) ||
		    !(proof = cli_read_file(o.consistency, PROOF_MAX,
					    &eo.consistency_len)))
			goto out;
		eo.later_checkpoint = later;
		eo.consistency = proof;
	}
	if (optind + 1 < argc) {
		if (hash_file(argv[optind + 1], eo.file_sha256, &eo.file_size) < 0)
			goto out;
		eo.have_file = 1;
	}
	eo.log_vkey = logkey;
	eo.witness_vkeys = (const char *const *)wkeys;
	eo.nwitnesses = nkeys;

	rep.json = o.json;
	rep.text = (evv_text){"evault", argv[optind], 0};
	if (o.json) {
		rep.checks = json_array();
		rep.cert = json_object();
	}
	rc = evv_verify(cert, len, &eo, on_report, &rep);
	if (o.json) {
		json_t *doc = json_pack("{s:b,s:i,s:o,s:o}", "valid", rc == 0,
					"exit", rc, "checks", rep.checks,
					"certificate", json_object_size(rep.cert) ?
					json_incref(rep.cert) : json_null());
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(doc);
		json_decref(rep.cert);
	} else if (rc != EXIT_ERROR) {
		printf("\n%s\n", rc == EXIT_OK ? "VALID" : "INVALID");
	}
out:
	for (i = 0; i < nkeys; i++)
		free(wkeys[i]);
	free(wkeys);
	free(o.wit);
	free(logkey);
	free(cert);
	free(later);
	free(proof);
	return rc;
}
