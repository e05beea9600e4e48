/*
 * custody.c: who did what to which item, provably.
 *
 * Every record of the log is a C2SP signed note: its text is the record's
 * one-line JSON body, signed with the Ed25519 key of the custodian who
 * acted (the handle's identity).  A record only counts if it is signed by
 * a custodian registered before it: the first record ("init") registers
 * the vault's creator and is signed by that same key; "custodian-add" and
 * "custodian-remove" records, signed by a registered custodian, change the
 * set.  Replaying the log therefore rebuilds, and checks, the registry at
 * every point in history.  Custody of an item starts with its ingester and
 * moves by a "transfer" record, completed by an "accept" record that the
 * receiver signs and that names the transfer's leaf hash: the receiver's
 * countersignature.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "vault/internal.h"

void vault_set_identity(vault *v, const vault_identity *id)
{
	v->actor = id;
}

vault_err custody_log_key(vault *v)
{
	unsigned char *seed = sodium_malloc(32);
	if (!seed)
		return vault_fail(v, VAULT_E_NOMEM, "out of memory");
	crypto_kdf_derive_from_key(seed, 32, KEYID_LOG, VAULT_KDF_CONTEXT,
				   v->keys->master);
	snprintf(v->log.origin, sizeof v->log.origin, "evault/%s", v->id_hex);
	note_signer_free(v->log.signer);
	v->log.signer = note_signer_new(v->log.origin, NOTE_TYPE_ED25519, seed);
	sodium_free(seed);
	if (!v->log.signer)
		return vault_fail(v, VAULT_E_NOMEM, "out of memory");
	v->log.vkey = *note_signer_verifier(v->log.signer);
	return VAULT_OK;
}

vault_err custody_sign(vault *v, const char *body, size_t len, char **note,
		       size_t *notelen)
{
	if (!v->actor)
		return vault_fail(v, VAULT_E_STATE,
				  "no custodian key: every action is signed by "
				  "its custodian (make a key with 'evault key new "
				  "NAME' and name it with EVAULT_KEY)");
	if (note_sign(identity_signer(v->actor), body, len, 0, note, notelen) != 0)
		return vault_fail(v, VAULT_E_INVALID, "cannot sign the record");
	return VAULT_OK;
}

int custody_body(const char *note, size_t len, const char **body,
		 size_t *bodylen)
{
	note_parsed *p = malloc(sizeof *p);
	if (!p)
		return -1;
	note_err ne = note_open(note, len, NULL, 0, p);
	int rc = ne == NOTE_E_UNVERIFIED ? 0 : -1;
	if (rc == 0) {
		*body = p->text;
		*bodylen = p->text_len;
	}
	free(p);
	return rc;
}

/* The custodians whose signature counts on record `index`: those
 * registered before it and not removed before it; for the init record,
 * the creator it registers. */
static size_t known_at(const vault *v, uint64_t index, note_verifier *out)
{
	size_t n = 0;
	for (size_t i = 0; i < v->cat.ncust; i++) {
		const custodian_entry *c = &v->cat.cust[i];
		bool ok = index == 0 ? c->pub.added == 0
				     : c->pub.added < index && c->removed >= index;
		if (ok)
			out[n++] = c->ver;
	}
	return n;
}

/* Check one record's signature; NULL if good, else why not. */
static const char *check_record(const vault *v, const char *note, size_t len,
				uint64_t index, note_verifier *known,
				note_parsed *p)
{
	size_t nknown = known_at(v, index, known);
	note_err ne = note_open(note, len, known, nknown, p);
	if (ne == NOTE_E_UNVERIFIED)
		return "is not signed by a custodian registered at that time";
	if (ne == NOTE_E_BADSIG)
		return "carries a custodian signature that does not verify";
	if (ne != NOTE_OK)
		return "is not a valid signed note";
	/* The signer must be the actor the body names. */
	json_t *rec = json_loadb(p->text, p->text_len, 0, NULL);
	const char *actor = json_string_value(json_object_get(rec, "actor"));
	bool match = false;
	for (size_t i = 0; actor && i < p->nsigs; i++)
		if (p->sigs[i].key >= 0 &&
		    strcmp(known[p->sigs[i].key].name, actor) == 0)
			match = true;
	json_decref(rec);
	return match ? NULL : "is not signed by the custodian it names as actor";
}

typedef struct {
	const vault *v;
	uint64_t from, to; /* records [from, to) */
	uint64_t *bad;     /* indexes of bad records */
	const char **why;
	size_t nbad;
	int failed;        /* could not run */
} sig_job;

static void *sig_worker(void *arg)
{
	sig_job *j = arg;
	note_verifier *known = malloc((j->v->cat.ncust + 1) * sizeof *known);
	note_parsed *p = malloc(sizeof *p);
	int fd = openat(j->v->dirfd, "log/records", O_RDONLY | O_CLOEXEC);
	if (!known || !p || fd < 0) {
		j->failed = 1;
		goto out;
	}
	for (uint64_t i = j->from; i < j->to; i++) {
		char *note = NULL;
		size_t len;
		const char *why = NULL;
		if (log_read_record_fd(j->v, fd, i, &note, &len, &why) == 0)
			why = check_record(j->v, note, len, i, known, p);
		free(note);
		if (why) {
			void *nb = realloc(j->bad, (j->nbad + 1) * sizeof *j->bad);
			void *nw = nb ? realloc(j->why, (j->nbad + 1) * sizeof *j->why)
				      : NULL;
			if (nb)
				j->bad = nb;
			if (!nw) {
				j->failed = 1;
				break;
			}
			j->why = nw;
			j->bad[j->nbad] = i;
			j->why[j->nbad++] = why;
		}
	}
out:
	if (fd >= 0)
		close(fd);
	free(known);
	free(p);
	return NULL;
}

size_t custody_verify_signatures(vault *v,
				 void (*fn)(void *ctx, const char *file,
					    const char *detail),
				 void *ctx)
{
	sig_job jobs[2];
	pthread_t th;
	size_t bad = 0;
	uint64_t half = v->log.size / 2;
	char msg[160];

	memset(jobs, 0, sizeof jobs);
	jobs[0] = (sig_job){v, 0, half, NULL, NULL, 0, 0};
	jobs[1] = (sig_job){v, half, v->log.size, NULL, NULL, 0, 0};
	bool threaded = pthread_create(&th, NULL, sig_worker, &jobs[1]) == 0;
	sig_worker(&jobs[0]);
	if (threaded)
		pthread_join(th, NULL);
	else
		sig_worker(&jobs[1]);
	for (int k = 0; k < 2; k++) {
		if (jobs[k].failed) {
			fn(ctx, "log/records", "signatures could not all be checked");
			bad++;
		}
		for (size_t i = 0; i < jobs[k].nbad; i++) {
			snprintf(msg, sizeof msg, "record %" PRIu64 " %s",
				 jobs[k].bad[i], jobs[k].why[i]);
			fn(ctx, "log/records", msg);
			bad++;
		}
		free(jobs[k].bad);
		free(jobs[k].why);
	}
	return bad;
}

/* --- Registry -------------------------------------------------------------- */

size_t vault_custodian_count(const vault *v)
{
	return catalog_custodians_active(&v->cat);
}

const vault_custodian *vault_custodian_at(const vault *v, size_t i)
{
	for (size_t k = 0; k < v->cat.ncust; k++)
		if (v->cat.cust[k].removed == UINT64_MAX && i-- == 0)
			return &v->cat.cust[k].pub;
	return NULL;
}

static vault_err commit_record(vault *v, const char *kind, json_t *fields)
{
	vault_err e;
	if (!v->unlocked || !v->writable) {
		json_decref(fields);
		return vault_fail(v, VAULT_E_STATE, "vault not open for writing");
	}
	if ((e = log_stage_json(v, kind, fields)) != VAULT_OK)
		return e;
	return v->manual_commit ? VAULT_OK : vault_commit(v);
}

void vault_set_autocommit(vault *v, int on)
{
	v->manual_commit = !on;
}

vault_err vault_custodian_add(vault *v, const char *name, const char *vkey)
{
	note_verifier ver;
	if (note_vkey_parse(&ver, vkey, strlen(vkey)) != 0 ||
	    ver.type != NOTE_TYPE_ED25519)
		return vault_fail(v, VAULT_E_INVALID,
				  "'%s' is not a custodian's verifier key "
				  "(name+keyid+base64, as 'evault key show' prints)",
				  vkey);
	if (strcmp(ver.name, name) != 0)
		return vault_fail(v, VAULT_E_INVALID,
				  "the key is named '%s', not '%s'", ver.name, name);
	if (catalog_custodian(&v->cat, name))
		return vault_fail(v, VAULT_E_EXISTS,
				  "custodian '%s' is already registered", name);
	json_t *f = json_pack("{s:{s:s,s:s}}", "custodian", "name", name, "vkey",
			      vkey);
	return commit_record(v, "custodian-add", f);
}

vault_err vault_custodian_remove(vault *v, const char *name)
{
	if (!catalog_custodian(&v->cat, name))
		return vault_fail(v, VAULT_E_NOTFOUND, "no custodian named '%s'",
				  name);
	if (catalog_custodians_active(&v->cat) == 1)
		return vault_fail(v, VAULT_E_LASTSLOT,
				  "refusing to remove the last custodian");
	/* Custody must never be stranded with someone who can no longer act. */
	for (size_t i = 0; i < v->cat.n; i++) {
		const vault_item *it = v->cat.items[i];
		if ((it->holder && !strcmp(it->holder, name)) ||
		    (it->pending_to && !strcmp(it->pending_to, name)))
			return vault_fail(v, VAULT_E_DENIED,
					  "'%s' %s item %.16s: transfer it (or let "
					  "the transfer be accepted) first",
					  name,
					  it->pending_to && !strcmp(it->pending_to, name)
						  ? "has a pending transfer of"
						  : "holds",
					  it->id);
	}
	return commit_record(v, "custodian-remove",
			     json_pack("{s:{s:s}}", "custodian", "name", name));
}

/* --- Actions on items -------------------------------------------------------- */

vault_err vault_item_note(vault *v, const vault_item *item, const char *text)
{
	if (!text || !*text)
		return vault_fail(v, VAULT_E_INVALID, "empty note");
	return commit_record(v, "note",
			     json_pack("{s:s,s:s}", "item", item->id, "text", text));
}

vault_err vault_item_access(vault *v, const vault_item *item, const char *how)
{
	return commit_record(v, "access",
			     json_pack("{s:s,s:s}", "item", item->id, "how", how));
}

vault_err vault_item_transfer(vault *v, const vault_item *item, const char *to)
{
	if (!catalog_custodian(&v->cat, to))
		return vault_fail(v, VAULT_E_NOTFOUND,
				  "'%s' is not a registered custodian of this "
				  "vault ('evault custodian add' first)",
				  to);
	if (item->pending_to)
		return vault_fail(v, VAULT_E_STATE,
				  "item %.16s already awaits acceptance by '%s'",
				  item->id, item->pending_to);
	if (v->actor && item->holder &&
	    strcmp(item->holder, vault_identity_name(v->actor)) != 0)
		return vault_fail(v, VAULT_E_DENIED,
				  "item %.16s is held by '%s', not by '%s'",
				  item->id, item->holder,
				  vault_identity_name(v->actor));
	if (item->holder && strcmp(item->holder, to) == 0)
		return vault_fail(v, VAULT_E_INVALID, "'%s' already holds item %.16s",
				  to, item->id);
	return commit_record(v, "transfer",
			     json_pack("{s:s,s:s}", "item", item->id, "to", to));
}

vault_err vault_item_accept(vault *v, const vault_item *item)
{
	char leaf[65];
	if (!item->pending_to)
		return vault_fail(v, VAULT_E_STATE,
				  "no transfer of item %.16s awaits acceptance",
				  item->id);
	if (!v->actor || strcmp(item->pending_to, vault_identity_name(v->actor)))
		return vault_fail(v, VAULT_E_DENIED,
				  "the transfer of item %.16s is to '%s': only that "
				  "custodian's key can accept it",
				  item->id, item->pending_to);
	util_hex(leaf, v->log.leaves[item->pending_record], 32);
	return commit_record(v, "accept",
			     json_pack("{s:s,s:I,s:s}", "item", item->id,
				       "transfer", (json_int_t)item->pending_record,
				       "transfer_leaf", leaf));
}

vault_err vault_record_verify(vault *v, const vault_verify_summary *s)
{
	return commit_record(
		v, "verify",
		json_pack("{s:b,s:I,s:I,s:I,s:I}", "ok",
			  !(s->items_damaged || s->log_problems), "items_checked",
			  (json_int_t)s->items_checked, "items_damaged",
			  (json_int_t)s->items_damaged, "log_problems",
			  (json_int_t)s->log_problems, "bytes", (json_int_t)s->bytes));
}

/* --- Reading the log ----------------------------------------------------------- */

static char *summarise(json_t *rec, const char *kind)
{
	char buf[512];
	json_t *item = json_object_get(rec, "item");
	const char *s;
	if (!strcmp(kind, "ingest") && json_is_object(item)) {
		snprintf(buf, sizeof buf, "%s%s (%" JSON_INTEGER_FORMAT " bytes)",
			 json_is_true(json_object_get(item, "already_held"))
				 ? "received again: "
				 : "",
			 json_string_value(json_object_get(item, "name"))
				 ? json_string_value(json_object_get(item, "name"))
				 : "?",
			 json_integer_value(json_object_get(item, "size")));
	} else if (!strcmp(kind, "init") || !strcmp(kind, "custodian-add") ||
		   !strcmp(kind, "custodian-remove")) {
		json_t *c = json_object_get(rec, "custodian");
		s = json_string_value(json_object_get(c, "name"));
		snprintf(buf, sizeof buf, "%s custodian %s",
			 !strcmp(kind, "custodian-remove") ? "removed" : "registered",
			 s ? s : "?");
	} else if (!strcmp(kind, "note")) {
		s = json_string_value(json_object_get(rec, "text"));
		snprintf(buf, sizeof buf, "%s", s ? s : "");
	} else if (!strcmp(kind, "access")) {
		s = json_string_value(json_object_get(rec, "how"));
		snprintf(buf, sizeof buf, "read (%s)", s ? s : "?");
	} else if (!strcmp(kind, "transfer")) {
		s = json_string_value(json_object_get(rec, "to"));
		snprintf(buf, sizeof buf, "custody offered to %s", s ? s : "?");
	} else if (!strcmp(kind, "accept")) {
		snprintf(buf, sizeof buf,
			 "custody accepted (transfer record %" JSON_INTEGER_FORMAT ")",
			 json_integer_value(json_object_get(rec, "transfer")));
	} else if (!strcmp(kind, "certify")) {
		s = json_string_value(json_object_get(rec, "certificate"));
		snprintf(buf, sizeof buf,
			 "certificate issued (tree %" JSON_INTEGER_FORMAT ", sha256 %.16s...)%s",
			 json_integer_value(json_object_get(rec, "tree")), s ? s : "?",
			 json_object_get(rec, "omitted") ? ", location omitted" : "");
	} else if (!strcmp(kind, "verify")) {
		snprintf(buf, sizeof buf,
			 "%s: %" JSON_INTEGER_FORMAT " items checked, %" JSON_INTEGER_FORMAT
			 " damaged, %" JSON_INTEGER_FORMAT " log problems",
			 json_is_true(json_object_get(rec, "ok")) ? "intact"
								  : "DAMAGE",
			 json_integer_value(json_object_get(rec, "items_checked")),
			 json_integer_value(json_object_get(rec, "items_damaged")),
			 json_integer_value(json_object_get(rec, "log_problems")));
	} else {
		snprintf(buf, sizeof buf, "%s", kind);
	}
	return strdup(buf);
}

vault_err vault_record_at(vault *v, uint64_t index, vault_record *out)
{
	vault_log *l = &v->log;
	note_parsed *p = NULL;
	json_t *rec = NULL;
	char *text = NULL;
	size_t len;
	vault_err e;

	if (!v->unlocked)
		return vault_fail(v, VAULT_E_STATE, "vault is locked");
	if ((e = log_read_record(v, index, &text, &len)) != VAULT_OK)
		return e;
	p = malloc(sizeof *p);
	if (!p) {
		free(text);
		return vault_fail(v, VAULT_E_NOMEM, "out of memory");
	}
	note_err ne = note_open(text, len, NULL, 0, p);
	if (ne == NOTE_E_UNVERIFIED)
		rec = json_loadb(p->text, p->text_len, 0, NULL);
	free(p);
	const char *kind = json_string_value(json_object_get(rec, "kind"));
	if (!kind) {
		json_decref(rec);
		free(text);
		return vault_fail(v, VAULT_E_CORRUPT,
				  "log/records: record %" PRIu64 " is not valid",
				  index);
	}
	free(l->cur_text);
	for (int i = 0; i < 4; i++)
		free(l->cur_fields[i]);
	l->cur_text = text;
	l->cur_fields[0] = strdup(kind);
	const char *t = json_string_value(json_object_get(rec, "time"));
	l->cur_fields[1] = strdup(t ? t : "");
	const char *a = json_string_value(json_object_get(rec, "actor"));
	l->cur_fields[2] = strdup(a ? a : "");
	l->cur_fields[3] = summarise(rec, kind);
	json_t *item = json_object_get(rec, "item");
	const char *id = json_is_object(item)
				 ? json_string_value(json_object_get(item, "sha256"))
				 : json_string_value(item);
	memset(out, 0, sizeof *out);
	out->index = index;
	out->text = text;
	out->text_len = len;
	out->kind = l->cur_fields[0];
	out->time = l->cur_fields[1];
	out->actor = l->cur_fields[2];
	out->summary = l->cur_fields[3] ? l->cur_fields[3] : "";
	/* item ids are 64 hex digits: find it in the catalogue for a stable
	 * pointer that outlives the JSON */
	if (id && strlen(id) == 64) {
		const vault_item *it = catalog_lookup(&v->cat, id);
		out->item = it ? it->id : NULL;
	}
	json_decref(rec);
	return VAULT_OK;
}

int vault_record_describe(const char *note, size_t len, vault_record_info *out)
{
	const char *body;
	size_t blen;
	memset(out, 0, sizeof *out);
	if (custody_body(note, len, &body, &blen) != 0)
		return -1;
	json_t *rec = json_loadb(body, blen, JSON_REJECT_DUPLICATES, NULL);
	const char *kind = json_string_value(json_object_get(rec, "kind"));
	if (!json_is_object(rec) || !kind) {
		json_decref(rec);
		return -1;
	}
	const char *t = json_string_value(json_object_get(rec, "time"));
	const char *a = json_string_value(json_object_get(rec, "actor"));
	snprintf(out->kind, sizeof out->kind, "%s", kind);
	snprintf(out->time, sizeof out->time, "%s", t ? t : "");
	snprintf(out->actor, sizeof out->actor, "%s", a ? a : "");
	out->summary = summarise(rec, kind);
	json_decref(rec);
	return out->summary ? 0 : -1;
}

typedef struct {
	vault_check_fn fn;
	void *ctx;
} check_forward;

static void forward_problem(void *ctx, const char *file, const char *detail)
{
	check_forward *f = ctx;
	vault_check c = {VAULT_CHECK_LOG_DAMAGED, NULL, file, detail};
	if (f->fn)
		f->fn(f->ctx, &c);
}

size_t vault_log_check_signatures(vault *v, vault_check_fn fn, void *ctx)
{
	check_forward f = {fn, ctx};
	if (!v->unlocked)
		return 0;
	return custody_verify_signatures(v, forward_problem, &f);
}
