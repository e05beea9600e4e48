/*
 * cert.c: verification certificates (docs/certificate.md).
 *
 * A certificate is the artefact that leaves the vault: a statement signed
 * by the log key (the item's hash and size, what the probe found it to be,
 * the custody records that name it, each with its inclusion proof) and the
 * checkpoint those proofs lead to.  A recipient checks it with nothing but
 * the log's verifier key, using `evault check-cert` or the stand-alone
 * evault-verify, which share no code with this file: the issuer and the
 * verifier are written independently from the specification.
 *
 * Issuing is itself a custody event, recorded as a `certify` record that
 * names the certificate's SHA-256; the certificate is handed out only once
 * that record is committed.
 */
#include <inttypes.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "vault/internal.h"
#include "vault/merkle.h"

#define CERT_VALUE_MAX 1024
#define CERT_MAX_BYTES (64u << 20) /* docs/certificate.md section 2 */

/* Characters that change how the text around them is shown without being
 * seen: bidirectional controls, zero-width characters, the BOM.  A model
 * name must not be able to make a capture time read backwards. */
static int disguises(unsigned cp)
{
	return (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2060 && cp <= 0x2069) || cp == 0xfeff;
}

/* Append a value taken from a file: backslash and control characters
 * (C0, DEL, C1) escaped, cut at CERT_VALUE_MAX bytes on a character
 * boundary.  The input is valid UTF-8 (it comes through jansson). */
void cert_escape(textbuf *t, const char *s)
{
	size_t used = 0;
	while (*s) {
		unsigned char c = (unsigned char)*s;
		size_t n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
		char esc[8];
		const char *out = s;
		size_t outlen = n;
		if (strnlen(s, n) < n)
			break; /* cut inside a character: stop */
		unsigned cp = c;
		if (n == 2)
			cp = ((c & 0x1fu) << 6) | ((unsigned char)s[1] & 0x3fu);
		else if (n == 3)
			cp = ((c & 0x0fu) << 12) |
			     (((unsigned char)s[1] & 0x3fu) << 6) |
			     ((unsigned char)s[2] & 0x3fu);
		if (c == '\\') {
			out = "\\\\";
			outlen = 2;
		} else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || disguises(cp)) {
			snprintf(esc, sizeof esc, "\\u%04x", cp);
			out = esc;
			outlen = 6;
		}
		if (used + outlen > CERT_VALUE_MAX)
			break;
		tb_add(t, out, outlen);
		used += outlen;
		s += n;
	}
}

static void field(textbuf *t, const char *name, const char *value)
{
	tb_printf(t, "%s ", name);
	cert_escape(t, value);
	tb_add(t, "\n", 1);
}

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* A number as the certificate writes it: integers as such, reals with
 * three decimals (C locale: the CLI never sets LC_NUMERIC). */
static void number(char *out, size_t n, json_t *j)
{
	if (json_is_integer(j))
		snprintf(out, n, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
	else
		snprintf(out, n, "%.3f", json_number_value(j));
}

static void stream_line(textbuf *t, json_t *s)
{
	char d[512], num[64];
	size_t off = 0;
	const char *type = str(s, "type"), *codec = str(s, "codec");
	off += (size_t)snprintf(d + off, sizeof d - off, "%s %s",
				type ? type : "unknown", codec ? codec : "unknown");
	if (str(s, "profile") && off < sizeof d)
		off += (size_t)snprintf(d + off, sizeof d - off, " (%s)",
					str(s, "profile"));
	json_t *w = json_object_get(s, "width"), *h = json_object_get(s, "height");
	if (json_is_integer(w) && json_is_integer(h) && off < sizeof d)
		off += (size_t)snprintf(d + off, sizeof d - off,
					", %" JSON_INTEGER_FORMAT "x%" JSON_INTEGER_FORMAT,
					json_integer_value(w), json_integer_value(h));
	if (str(s, "avg_frame_rate") && strcmp(str(s, "avg_frame_rate"), "0/0") &&
	    off < sizeof d)
		off += (size_t)snprintf(d + off, sizeof d - off, ", %s fps",
					str(s, "avg_frame_rate"));
	json_t *sr = json_object_get(s, "sample_rate");
	if (json_is_number(sr) && off < sizeof d) {
		number(num, sizeof num, sr);
		off += (size_t)snprintf(d + off, sizeof d - off, ", %s Hz", num);
	}
	json_t *ch = json_object_get(s, "channels");
	if (json_is_integer(ch) && off < sizeof d)
		off += (size_t)snprintf(d + off, sizeof d - off,
					", %" JSON_INTEGER_FORMAT " channel%s",
					json_integer_value(ch),
					json_integer_value(ch) == 1 ? "" : "s");
	json_t *du = json_object_get(s, "duration");
	if (json_is_number(du) && off < sizeof d) {
		number(num, sizeof num, du);
		snprintf(d + off, sizeof d - off, ", %s s", num);
	}
	tb_printf(t, "stream %" JSON_INTEGER_FORMAT " ",
		  json_integer_value(json_object_get(s, "index")));
	cert_escape(t, d);
	tb_add(t, "\n", 1);
}

/* Does an inconsistency involve the GPS receiver or a location? */
static int about_location(json_t *inc)
{
	if (!strcmp(str(inc, "fact") ? str(inc, "fact") : "", "location"))
		return 1;
	return json_object_get(json_object_get(inc, "values"), "gps") != NULL;
}

/* The fact, omitted, media and stream lines for a metadata document
 * (docs/formats.md section 18).  Never a serial number or an owner. */
void cert_fact_lines(textbuf *t, void *docp, int omit_location)
{
	json_t *doc = docp;
	json_t *facts = json_object_get(doc, "facts");
	json_t *sources = json_object_get(facts, "sources");
	char num[64], buf[CERT_VALUE_MAX + 64];

	if (str(facts, "capture_time")) {
		const char *src = str(sources, "capture_time");
		snprintf(buf, sizeof buf, "%s (%s)", str(facts, "capture_time"),
			 src ? src : "unknown");
		field(t, "fact capture_time", buf);
	}
	if (str(facts, "make"))
		field(t, "fact make", str(facts, "make"));
	if (str(facts, "model"))
		field(t, "fact model", str(facts, "model"));
	json_t *loc = json_object_get(facts, "location");
	if (!json_is_number(json_object_get(loc, "lat")) ||
	    !json_is_number(json_object_get(loc, "lon")))
		loc = NULL; /* never state 0,0 for a place the file does not give */
	if (loc && !omit_location) {
		json_t *alt = json_object_get(loc, "alt");
		int n = snprintf(buf, sizeof buf, "%.7f %.7f",
				 json_number_value(json_object_get(loc, "lat")),
				 json_number_value(json_object_get(loc, "lon")));
		if (json_is_number(alt))
			snprintf(buf + n, sizeof buf - (size_t)n, " %.1f",
				 json_number_value(alt));
		field(t, "fact location", buf);
	}
	if (str(facts, "gps_time") && !omit_location)
		field(t, "fact gps_time", str(facts, "gps_time"));
	static const char *const numeric[] = {"width", "height", "duration",
					      "rotation"};
	for (size_t i = 0; i < sizeof numeric / sizeof *numeric; i++) {
		json_t *j = json_object_get(facts, numeric[i]);
		if (!json_is_number(j))
			continue;
		number(num, sizeof num, j);
		tb_printf(t, "fact %s %s\n", numeric[i], num);
	}
	json_t *inc;
	size_t i;
	json_array_foreach(json_object_get(facts, "inconsistencies"), i, inc) {
		if (omit_location && about_location(inc))
			continue;
		snprintf(buf, sizeof buf, "%s: %s",
			 str(inc, "fact") ? str(inc, "fact") : "?",
			 str(inc, "why") ? str(inc, "why") : "differ");
		field(t, "fact inconsistency", buf);
	}
	if (omit_location && (loc || str(facts, "gps_time")))
		tb_add(t, "omitted location\n", 17);

	json_t *c = json_object_get(doc, "container");
	if (str(facts, "container"))
		field(t, "media container", str(facts, "container"));
	if (json_is_integer(json_object_get(c, "bit_rate")))
		tb_printf(t, "media bit-rate %" JSON_INTEGER_FORMAT "\n",
			  json_integer_value(json_object_get(c, "bit_rate")));
	json_t *s;
	json_array_foreach(json_object_get(c, "streams"), i, s)
		if (json_is_integer(json_object_get(s, "index")))
			stream_line(t, s);
}

int cert_build(const cert_input *in, const note_signer *log, char **out,
	       size_t *outlen)
{
	textbuf t = {0};
	unsigned char proof[MERKLE_MAX_PROOF][32];
	size_t count;
	merkle_tree tree;

	/* every node once: a proof per record in O(log n), not O(n) */
	if (merkle_tree_build(&tree, in->leaves, in->tree) != 0)
		return CERT_E_NOMEM;

	tb_printf(&t, "evault-certificate/v1\norigin %s\nlog-key %s\n"
		  "issued %s\nissuer %s\nitem %s\nsize %" PRIu64 "\n",
		  in->origin, in->log_vkey, in->issued, in->issuer, in->item,
		  in->size);
	field(&t, "type", in->type);
	tb_printf(&t, "tree %" PRIu64 " ", in->tree);
	tb_hash(&t, in->root);
	tb_add(&t, in->lines ? in->lines : "", in->lines ? strlen(in->lines) : 0);
	for (size_t i = 0; i < in->nrecords; i++) {
		const cert_record *r = &in->records[i];
		if (merkle_tree_path(&tree, r->index, proof, &count) != 0) {
			merkle_tree_free(&tree);
			free(t.p);
			return CERT_E_PROOF;
		}
		tb_printf(&t, "record %" PRIu64 " ", r->index);
		tb_b64(&t, (const unsigned char *)r->text, r->len);
		for (size_t k = 0; k < count; k++) {
			tb_add(&t, " ", 1);
			tb_b64(&t, proof[k], 32);
		}
		tb_add(&t, "\n", 1);
	}
	merkle_tree_free(&tree);
	char line[NOTE_LINE_BYTES];
	size_t linelen;
	if (t.failed) {
		free(t.p);
		return CERT_E_NOMEM;
	}
	if (t.len + 2 + NOTE_LINE_BYTES + in->cplen > CERT_MAX_BYTES) {
		free(t.p);
		return CERT_E_TOO_BIG;
	}
	if (note_sign_line_max(log, t.p, t.len, CERT_MAX_BYTES, 0, line,
			       &linelen) != 0) {
		free(t.p);
		return CERT_E_TEXT;
	}
	tb_add(&t, "\n", 1);
	tb_add(&t, line, linelen);
	tb_add(&t, "\n", 1);
	tb_add(&t, in->checkpoint, in->cplen);
	if (t.failed) {
		free(t.p);
		return CERT_E_NOMEM;
	}
	*out = t.p;
	*outlen = t.len;
	return 0;
}

/* --- Choosing the records -------------------------------------------------- */

enum { R_OTHER, R_INIT, R_ADD, R_REMOVE, R_ITEM };

typedef struct {
	unsigned char kind;
	unsigned char take;
	char *actor;   /* who signed it */
	char *name;    /* custodian-add/-remove: whom it concerns */
} rec_info;

/* The names of those who signed a chosen record: few, however long the
 * log. */
typedef struct {
	const char **names;
	size_t n, cap;
} name_set;

static int set_has(const name_set *set, const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (!strcmp(set->names[i], name))
			return 1;
	return 0;
}

static int set_add(name_set *set, const char *name)
{
	if (!name || set_has(set, name))
		return 0;
	if (set->n == set->cap) {
		size_t cap = set->cap ? 2 * set->cap : 8;
		const char **p = realloc(set->names, cap * sizeof *p);
		if (!p)
			return -1;
		set->names = p;
		set->cap = cap;
	}
	set->names[set->n++] = name;
	return 1;
}

/* Read the kind, actor and subject of every record up to `size`. */
static vault_err scan_records(vault *v, uint64_t size, const char *id,
			      rec_info *r)
{
	for (uint64_t i = 0; i < size; i++) {
		char *rec = NULL;
		size_t len;
		const char *body;
		size_t blen;
		vault_err e = log_read_record(v, i, &rec, &len);
		if (e != VAULT_OK)
			return e;
		json_t *j = NULL;
		if (custody_body(rec, len, &body, &blen) == 0)
			j = json_loadb(body, blen, JSON_REJECT_DUPLICATES, NULL);
		free(rec);
		if (!json_is_object(j)) {
			json_decref(j);
			return vault_fail(v, VAULT_E_CORRUPT,
					  "log/records: record %" PRIu64
					  " cannot be read back", i);
		}
		const char *kind = str(j, "kind") ? str(j, "kind") : "";
		json_t *item = json_object_get(j, "item");
		const char *subject = json_is_object(item) ? str(item, "sha256")
							   : json_string_value(item);
		r[i].actor = str(j, "actor") ? strdup(str(j, "actor")) : NULL;
		if (!strcmp(kind, "init")) {
			r[i].kind = R_INIT;
		} else if (!strcmp(kind, "custodian-add") ||
			   !strcmp(kind, "custodian-remove")) {
			const char *who = str(json_object_get(j, "custodian"), "name");
			r[i].kind = kind[10] == 'a' ? R_ADD : R_REMOVE;
			r[i].name = who ? strdup(who) : NULL;
		} else if (subject && !strcmp(subject, id)) {
			r[i].kind = R_ITEM;
		}
		json_decref(j);
	}
	return VAULT_OK;
}

/* Record 0, the item's records, and (to a fixed point) the registrations
 * and removals of everyone who signed a chosen record.  0, or -1 when
 * out of memory. */
static int choose_records(rec_info *r, uint64_t size)
{
	name_set signers = {0};
	int rc = 0;
	for (uint64_t i = 0; i < size; i++) {
		r[i].take = i == 0 || r[i].kind == R_ITEM;
		if (r[i].take && set_add(&signers, r[i].actor) < 0)
			rc = -1;
	}
	for (int changed = 1; changed && rc == 0;) {
		changed = 0;
		for (uint64_t i = 0; i < size; i++) {
			if (r[i].take || (r[i].kind != R_ADD && r[i].kind != R_REMOVE) ||
			    !r[i].name || !set_has(&signers, r[i].name))
				continue;
			r[i].take = 1;
			changed = 1;
			if (set_add(&signers, r[i].actor) < 0)
				rc = -1;
		}
	}
	free(signers.names);
	return rc;
}

static void free_infos(rec_info *r, uint64_t n)
{
	for (uint64_t i = 0; r && i < n; i++) {
		free(r[i].actor);
		free(r[i].name);
	}
	free(r);
}

/* --- Issuing ----------------------------------------------------------------- */

/* A name that may stand in a certificate as it is: no DEL, no C1
 * control (note_name_valid() already refuses C0). */
static int cert_name_ok(const char *name)
{
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
			return 0;
	return 1;
}

static vault_err facts_of(vault *v, const vault_item *item, int omit,
			  textbuf *lines)
{
	char *doc = NULL;
	size_t len;
	if (!item->meta[0])
		return VAULT_OK; /* no document: no facts, the records still say it all */
	vault_err e = vault_item_meta(v, item, &doc, &len);
	if (e != VAULT_OK)
		return e;
	json_t *j = json_loadb(doc, len, 0, NULL);
	free(doc);
	if (!json_is_object(j)) {
		json_decref(j);
		return vault_fail(v, VAULT_E_CORRUPT,
				  "the metadata document of item %.16s is not JSON",
				  item->id);
	}
	cert_fact_lines(lines, j, omit);
	json_decref(j);
	return VAULT_OK;
}

static vault_err record_certify(vault *v, const vault_item *item,
				const char *cert, size_t len, uint64_t tree,
				int omit)
{
	unsigned char sha[32];
	char hex[65];
	EVP_Digest(cert, len, sha, NULL, EVP_sha256(), NULL);
	util_hex(hex, sha, 32);
	json_t *f = json_pack("{s:s,s:s,s:I}", "item", item->id, "certificate",
			      hex, "tree", (json_int_t)tree);
	if (omit)
		json_object_set_new(f, "omitted", json_pack("[s]", "location"));
	vault_err e = log_stage_json(v, "certify", f);
	if (e != VAULT_OK)
		return e;
	/* Committed now even in manual-commit mode: a certificate must never
	 * exist without its record. */
	return vault_commit(v);
}

vault_err vault_certify(vault *v, const vault_item *item,
			const vault_certify_opts *o, char **out, size_t *outlen)
{
	uint64_t size = v->log.size;
	rec_info *r = NULL;
	cert_record *recs = NULL;
	size_t nrecs = 0;
	textbuf lines = {0};
	char vkey[NOTE_VKEY_BYTES], issued[32];
	char *cp = NULL;
	size_t cplen;
	int omit = o && o->omit_location;
	vault_err e;

	if (!v->unlocked || !v->writable)
		return vault_fail(v, VAULT_E_STATE, "vault not open for writing");
	if (!v->actor)
		return vault_fail(v, VAULT_E_STATE,
				  "issuing a certificate is recorded: a custodian "
				  "key is needed");
	if (!cert_name_ok(vault_identity_name(v->actor)))
		return vault_fail(v, VAULT_E_INVALID,
				  "custodian names with control characters cannot "
				  "appear in a certificate (docs/certificate.md "
				  "section 2)");
	if (vault_log_problems(v))
		return vault_fail(v, VAULT_E_CORRUPT,
				  "the log has problems ('evault verify'): no "
				  "certificate can be issued from it");
	if (!(r = calloc(size ? size : 1, sizeof *r)))
		return vault_fail(v, VAULT_E_NOMEM, "out of memory");
	if ((e = scan_records(v, size, item->id, r)) != VAULT_OK)
		goto out;
	if (choose_records(r, size) != 0) {
		e = vault_fail(v, VAULT_E_NOMEM, "out of memory");
		goto out;
	}
	if ((e = facts_of(v, item, omit, &lines)) != VAULT_OK)
		goto out;
	if ((e = vault_checkpoint_get(v, size, &cp, &cplen)) != VAULT_OK)
		goto out;
	if (!(recs = calloc(size, sizeof *recs))) {
		e = vault_fail(v, VAULT_E_NOMEM, "out of memory");
		goto out;
	}
	for (uint64_t i = 0; i < size; i++) {
		if (!r[i].take)
			continue;
		char *text;
		if ((e = log_read_record(v, i, &text, &recs[nrecs].len)) != VAULT_OK)
			goto out;
		recs[nrecs].text = text;
		recs[nrecs++].index = i;
	}
	note_vkey_format(&v->log.vkey, vkey);
	util_iso8601_now(issued);
	cert_input in = {
		.origin = v->log.origin,
		.log_vkey = vkey,
		.issued = issued,
		.issuer = vault_identity_name(v->actor),
		.item = item->id,
		.size = item->size,
		.type = item->type,
		.tree = size,
		.lines = lines.p,
		.records = recs,
		.nrecords = nrecs,
		.leaves = (const unsigned char (*)[32])v->log.leaves,
		.checkpoint = cp,
		.cplen = cplen,
	};
	merkle_root(in.leaves, size, in.root);
	int rc = lines.failed ? CERT_E_NOMEM
			      : cert_build(&in, v->log.signer, out, outlen);
	if (rc != 0) {
		e = rc == CERT_E_NOMEM ? vault_fail(v, VAULT_E_NOMEM, "out of memory")
		    : rc == CERT_E_TOO_BIG
			? vault_fail(v, VAULT_E_INVALID,
				     "the certificate would be larger than 64 MiB "
				     "(%zu records about the item)", nrecs)
			: vault_fail(v, VAULT_E_CORRUPT,
				     "cannot sign the certificate: %s",
				     rc == CERT_E_PROOF ? "no inclusion proof"
							: "its text is not valid");
		goto out;
	}
	if ((e = record_certify(v, item, *out, *outlen, size, omit)) != VAULT_OK) {
		free(*out);
		*out = NULL;
	}
out:
	for (size_t i = 0; i < nrecs; i++)
		free((char *)recs[i].text);
	free(recs);
	free(cp);
	free(lines.p);
	free_infos(r, size);
	return e;
}
