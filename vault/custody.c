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

/* The creator's key, as the init record (unverified yet) names it. */
static int init_signer(const char *text, size_t len, note_verifier *out)
{
	json_t *rec = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	const char *kind = json_string_value(json_object_get(rec, "kind"));
	const char *vkey = json_string_value(
		json_object_get(json_object_get(rec, "custodian"), "vkey"));
	int rc = -1;
	if (kind && vkey && strcmp(kind, "init") == 0 &&
	    note_vkey_parse(out, vkey, strlen(vkey)) == 0 &&
	    out->type == NOTE_TYPE_ED25519)
		rc = 0;
	json_decref(rec);
	return rc;
}

vault_err custody_open(vault *v, const char *note, size_t len, uint64_t index,
		       const char **body, size_t *bodylen, char *signer,
		       size_t signersize)
{
	note_parsed *p = malloc(sizeof *p);
	note_verifier *known = NULL;
	size_t nknown = 0;
	vault_err e = VAULT_OK;
	note_err ne;

	if (!p)
		return vault_fail(v, VAULT_E_NOMEM, "out of memory");
	if (index == 0) {
		known = malloc(sizeof *known);
		ne = note_open(note, len, NULL, 0, p);
		if (!known || (ne != NOTE_E_UNVERIFIED && ne != NOTE_OK) ||
		    init_signer(p->text, p->text_len, known) != 0) {
			e = vault_fail(v, VAULT_E_CORRUPT,
				       "the first record is not an init record "
				       "naming its signer");
			goto out;
		}
		nknown = 1;
	} else {
		known = malloc((v->cat.ncust ? v->cat.ncust : 1) * sizeof *known);
		if (!known) {
			e = vault_fail(v, VAULT_E_NOMEM, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < v->cat.ncust; i++)
			known[nknown++] = v->cat.cust[i].ver;
	}
	ne = note_open(note, len, known, nknown, p);
	if (ne != NOTE_OK) {
		e = vault_fail(v, VAULT_E_CORRUPT, "%s",
			       ne == NOTE_E_UNVERIFIED
				       ? "not signed by a custodian registered at "
					 "that time"
				       : ne == NOTE_E_BADSIG
						 ? "a custodian's signature does not "
						   "verify"
						 : "not a valid signed note");
		goto out;
	}
	for (size_t i = 0; i < p->nsigs; i++) {
		if (p->sigs[i].key >= 0) {
			snprintf(signer, signersize, "%s", known[p->sigs[i].key].name);
			break;
		}
	}
	*body = p->text;
	*bodylen = p->text_len;
out:
	free(known);
	free(p);
	return e;
}

/* --- Registry -------------------------------------------------------------- */

size_t vault_custodian_count(const vault *v)
{
	return v->cat.ncust;
}

const vault_custodian *vault_custodian_at(const vault *v, size_t i)
{
	return i < v->cat.ncust ? &v->cat.cust[i].pub : NULL;
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
	return vault_commit(v);
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
	if (v->cat.ncust == 1)
		return vault_fail(v, VAULT_E_LASTSLOT,
				  "refusing to remove the last custodian");
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
		return vault_fail(v, VAULT_E_STATE,
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
		return vault_fail(v, VAULT_E_STATE,
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
