/*
 * catalog.c: the items a vault holds, rebuilt in memory from the log's
 * records each time the vault is unlocked (it is never stored on its own,
 * so it cannot disagree with the log).  Items are found by SHA-256 through
 * a small open-addressing table, and by unique hex prefix.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "vault/internal.h"

static size_t slot_of(const char id[65], size_t tcap)
{
	unsigned char b[8];
	uint64_t h;
	util_unhex(b, 8, id);
	h = util_get_le64(b);
	return (size_t)(h & (tcap - 1));
}

static int table_grow(vault_catalog *c)
{
	size_t tcap = c->tcap ? c->tcap * 2 : 256;
	uint32_t *t = calloc(tcap, sizeof *t);
	if (!t)
		return -1;
	for (size_t i = 0; i < c->n; i++) {
		size_t s = slot_of(c->items[i]->id, tcap);
		while (t[s])
			s = (s + 1) & (tcap - 1);
		t[s] = (uint32_t)(i + 1);
	}
	free(c->table);
	c->table = t;
	c->tcap = tcap;
	return 0;
}

vault_item *catalog_lookup(const vault_catalog *c, const char id[65])
{
	if (!c->tcap)
		return NULL;
	size_t s = slot_of(id, c->tcap);
	while (c->table[s]) {
		vault_item *it = c->items[c->table[s] - 1];
		if (memcmp(it->id, id, 64) == 0)
			return it;
		s = (s + 1) & (c->tcap - 1);
	}
	return NULL;
}

static void item_free(vault_item *it)
{
	if (!it)
		return;
	free((char *)it->name);
	free((char *)it->path);
	free((char *)it->ingested);
	free((char *)it->case_name);
	free((char *)it->probe_error);
	free((char *)it->source);
	free((char *)it->note);
	free((char *)it->holder);
	free((char *)it->pending_to);
	free(it);
}

void catalog_truncate(vault_catalog *c, size_t n)
{
	while (c->n > n)
		item_free(c->items[--c->n]);
	if (c->tcap) {
		memset(c->table, 0, c->tcap * sizeof *c->table);
		for (size_t i = 0; i < c->n; i++) {
			size_t s = slot_of(c->items[i]->id, c->tcap);
			while (c->table[s])
				s = (s + 1) & (c->tcap - 1);
			c->table[s] = (uint32_t)(i + 1);
		}
	}
}

void catalog_release(vault_catalog *c)
{
	catalog_truncate(c, 0);
	free(c->cust);
	free(c->slot_added);
	free(c->slot_removed);
	free(c->items);
	free(c->table);
	memset(c, 0, sizeof *c);
}

static char *dup_field(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? strdup(s) : NULL;
}

static int valid_id(const char *s)
{
	if (!s || strlen(s) != 64)
		return 0;
	for (int i = 0; i < 64; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return 0;
	return 1;
}

static vault_err add_item(vault *v, json_t *rec, json_t *item, uint64_t index,
			  const char *signer)
{
	vault_catalog *c = &v->cat;
	const char *id = json_string_value(json_object_get(item, "sha256"));
	json_t *size = json_object_get(item, "size");
	vault_item *it, *old;

	if (!valid_id(id) || !json_is_integer(size) ||
	    json_integer_value(size) < 0)
		return vault_fail(v, VAULT_E_CORRUPT, "ingest record lacks a "
						      "valid sha256 or size");
	old = catalog_lookup(c, id);
	if (old) {
		old->receipts++;
		return VAULT_OK;
	}
	if (c->n + 1 > c->tcap / 2 && table_grow(c) < 0)
		return vault_fail(v, VAULT_E_NOMEM, "out of memory");
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		vault_item **p = realloc(c->items, cap * sizeof *p);
		if (!p)
			return vault_fail(v, VAULT_E_NOMEM, "out of memory");
		c->items = p;
		c->cap = cap;
	}
	it = calloc(1, sizeof *it);
	if (!it)
		return vault_fail(v, VAULT_E_NOMEM, "out of memory");
	memcpy(it->id, id, 65);
	it->size = (uint64_t)json_integer_value(size);
	snprintf(it->type, sizeof it->type, "%s",
		 json_string_value(json_object_get(item, "type"))
			 ? json_string_value(json_object_get(item, "type"))
			 : "application/octet-stream");
	it->name = dup_field(item, "name");
	it->path = dup_field(item, "path");
	it->ingested = dup_field(rec, "time");
	it->mtime = (int64_t)json_integer_value(json_object_get(item, "mtime"));
	it->case_name = dup_field(item, "case");
	it->source = dup_field(item, "source");
	it->note = dup_field(item, "note");
	json_t *probe = json_object_get(item, "probe");
	const char *meta = json_string_value(json_object_get(probe, "meta"));
	json_t *msize = json_object_get(probe, "meta_size");
	if (meta && valid_id(meta) && json_is_integer(msize) &&
	    json_integer_value(msize) >= 0 &&
	    json_integer_value(msize) <= VAULT_PROBE_DOC_MAX) {
		memcpy(it->meta, meta, 65);
		it->meta_size = (uint64_t)json_integer_value(msize);
	}
	it->probe_error = dup_field(probe, "error");
	it->record = index;
	it->receipts = 1;
	it->holder = strdup(signer);
	if (!it->name || !it->path || !it->ingested || !it->holder) {
		item_free(it);
		return vault_fail(v, VAULT_E_CORRUPT,
				  "ingest record lacks name, path or time");
	}
	c->items[c->n++] = it;
	size_t s = slot_of(it->id, c->tcap);
	while (c->table[s])
		s = (s + 1) & (c->tcap - 1);
	c->table[s] = (uint32_t)c->n;
	return VAULT_OK;
}

const custodian_entry *catalog_custodian(const vault_catalog *c,
					 const char *name)
{
	for (size_t i = 0; i < c->ncust; i++)
		if (c->cust[i].removed == UINT64_MAX &&
		    strcmp(c->cust[i].ver.name, name) == 0)
			return &c->cust[i];
	return NULL;
}

size_t catalog_custodians_active(const vault_catalog *c)
{
	size_t n = 0;
	for (size_t i = 0; i < c->ncust; i++)
		n += c->cust[i].removed == UINT64_MAX;
	return n;
}

/* Point each entry's public view at its own strings (after a move). */
static void custodians_fix(vault_catalog *c)
{
	for (size_t i = 0; i < c->ncust; i++) {
		c->cust[i].pub.name = c->cust[i].ver.name;
		c->cust[i].pub.vkey = c->cust[i].vkey;
	}
}

static vault_err register_custodian(vault *v, json_t *cust, uint64_t index)
{
	vault_catalog *c = &v->cat;
	const char *name = json_string_value(json_object_get(cust, "name"));
	const char *vkey = json_string_value(json_object_get(cust, "vkey"));
	note_verifier ver;

	if (!name || !vkey || note_vkey_parse(&ver, vkey, strlen(vkey)) != 0 ||
	    ver.type != NOTE_TYPE_ED25519 || strcmp(ver.name, name) != 0)
		return vault_fail(v, VAULT_E_CORRUPT,
				  "custodian record with an invalid key");
	if (catalog_custodian(c, name))
		return vault_fail(v, VAULT_E_CORRUPT,
				  "custodian '%s' registered twice", name);
	if (c->ncust == c->capcust) {
		size_t cap = c->capcust ? c->capcust * 2 : 8;
		custodian_entry *p = realloc(c->cust, cap * sizeof *p);
		if (!p)
			return vault_fail(v, VAULT_E_NOMEM, "out of memory");
		c->cust = p;
		c->capcust = cap;
	}
	custodian_entry *ce = &c->cust[c->ncust++];
	memset(ce, 0, sizeof *ce);
	ce->ver = ver;
	note_vkey_format(&ver, ce->vkey);
	ce->pub.added = index;
	ce->removed = UINT64_MAX;
	custodians_fix(c);
	return VAULT_OK;
}

static vault_err unregister_custodian(vault *v, json_t *cust, uint64_t index)
{
	const char *name = json_string_value(json_object_get(cust, "name"));
	custodian_entry *ce =
		name ? (custodian_entry *)catalog_custodian(&v->cat, name) : NULL;
	if (!ce)
		return vault_fail(v, VAULT_E_CORRUPT,
				  "removal of an unknown custodian");
	if (catalog_custodians_active(&v->cat) == 1)
		return vault_fail(v, VAULT_E_CORRUPT,
				  "removal of the last custodian");
	ce->removed = index;
	return VAULT_OK;
}

/* The item a record concerns, by its "item" id. */
static vault_item *record_item(vault *v, json_t *rec)
{
	const char *id = json_string_value(json_object_get(rec, "item"));
	if (!valid_id(id)) {
		vault_fail(v, VAULT_E_CORRUPT, "record names no valid item");
		return NULL;
	}
	vault_item *it = catalog_lookup(&v->cat, id);
	if (!it)
		vault_fail(v, VAULT_E_CORRUPT, "record names an item not held");
	return it;
}

static vault_err apply_transfer(vault *v, json_t *rec, uint64_t index,
				const char *signer, bool accept)
{
	vault_item *it = record_item(v, rec);
	if (!it)
		return VAULT_E_CORRUPT;
	if (!accept) {
		const char *to = json_string_value(json_object_get(rec, "to"));
		if (!to || !catalog_custodian(&v->cat, to))
			return vault_fail(v, VAULT_E_CORRUPT,
					  "transfer to an unregistered custodian");
		if (strcmp(it->holder, signer) != 0 || it->pending_to)
			return vault_fail(v, VAULT_E_CORRUPT,
					  "transfer by '%s', who does not hold the "
					  "item",
					  signer);
		free((char *)it->pending_to);
		it->pending_to = strdup(to);
		it->pending_record = index;
		return it->pending_to ? VAULT_OK
				      : vault_fail(v, VAULT_E_NOMEM, "out of memory");
	}
	json_int_t t = json_integer_value(json_object_get(rec, "transfer"));
	const char *leaf = json_string_value(json_object_get(rec, "transfer_leaf"));
	char want[65];
	if (!it->pending_to || strcmp(it->pending_to, signer) != 0 ||
	    t != (json_int_t)it->pending_record || !leaf)
		return vault_fail(v, VAULT_E_CORRUPT,
				  "acceptance by '%s' of no transfer pending to it",
				  signer);
	util_hex(want, v->log.leaves[it->pending_record], 32);
	if (strcmp(leaf, want) != 0)
		return vault_fail(v, VAULT_E_CORRUPT,
				  "acceptance names another transfer record");
	free((char *)it->holder);
	it->holder = it->pending_to;
	it->pending_to = NULL;
	return VAULT_OK;
}

static int find_slot(char (*list)[17], size_t n, const char *hex)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], hex) == 0)
			return 1;
	return 0;
}

int catalog_slot_added(const vault_catalog *c, const char *hex)
{
	return find_slot(c->slot_added, c->nadded, hex);
}

int catalog_slot_removed(const vault_catalog *c, const char *hex)
{
	return find_slot(c->slot_removed, c->nremoved, hex);
}

/* A passphrase change names its slot (records before format 2's "slot"
 * field have none: nothing to note). */
static vault_err note_slot(vault *v, const char *hex, int added)
{
	vault_catalog *c = &v->cat;
	if (!hex)
		return VAULT_OK;
	if (strlen(hex) != 16 || strspn(hex, "0123456789abcdef") != 16)
		return vault_fail(v, VAULT_E_CORRUPT, "passphrase record names "
				  "no valid slot");
	char (**list)[17] = added ? &c->slot_added : &c->slot_removed;
	size_t *n = added ? &c->nadded : &c->nremoved;
	void *np = realloc(*list, (*n + 1) * sizeof **list);
	if (!np)
		return vault_fail(v, VAULT_E_NOMEM, "out of memory");
	*list = np;
	memcpy((*list)[(*n)++], hex, 17);
	return VAULT_OK;
}

vault_err catalog_apply_json(vault *v, void *json_rec, uint64_t index)
{
	json_t *rec = json_rec;
	const char *kind = json_string_value(json_object_get(rec, "kind"));
	const char *actor = json_string_value(json_object_get(rec, "actor"));
	const custodian_entry *ce = actor ? catalog_custodian(&v->cat, actor) : NULL;

	if (!json_is_object(rec))
		return vault_fail(v, VAULT_E_CORRUPT, "record is not a JSON object");
	if (json_integer_value(json_object_get(rec, "v")) != 1)
		return vault_fail(v, VAULT_E_VERSION, "record of an unknown version");
	if (!kind || !actor)
		return vault_fail(v, VAULT_E_CORRUPT, "record has no kind or actor");
	if ((index == 0) != (strcmp(kind, "init") == 0))
		return vault_fail(v, VAULT_E_CORRUPT,
				  "an init record must be first, and only first");
	if (index > 0 && !ce)
		return vault_fail(v, VAULT_E_CORRUPT,
				  "by '%s', who is not a registered custodian",
				  actor);
	if (strcmp(kind, "init") == 0 || strcmp(kind, "custodian-add") == 0) {
		json_t *c = json_object_get(rec, "custodian");
		if (index == 0 &&
		    strcmp(actor, json_string_value(json_object_get(c, "name"))
					  ? json_string_value(json_object_get(c, "name"))
					  : "") != 0)
			return vault_fail(v, VAULT_E_CORRUPT,
					  "the init record registers someone else "
					  "than its actor");
		return register_custodian(v, c, index);
	}
	if (strcmp(kind, "custodian-remove") == 0)
		return unregister_custodian(v, json_object_get(rec, "custodian"),
					    index);
	if (strcmp(kind, "ingest") == 0)
		return add_item(v, rec, json_object_get(rec, "item"), index, actor);
	if (strcmp(kind, "transfer") == 0 || strcmp(kind, "accept") == 0)
		return apply_transfer(v, rec, index, actor,
				      strcmp(kind, "accept") == 0);
	if (strcmp(kind, "note") == 0 || strcmp(kind, "access") == 0 ||
	    strcmp(kind, "certify") == 0)
		return record_item(v, rec) ? VAULT_OK : VAULT_E_CORRUPT;
	if (strcmp(kind, "passphrase-add") == 0 ||
	    strcmp(kind, "passphrase-remove") == 0)
		return note_slot(v, json_string_value(json_object_get(rec, "slot")),
				 kind[11] == 'a');
	/* verify: nothing to replay */
	return VAULT_OK;
}

vault_err catalog_apply(vault *v, const char *body, size_t len, uint64_t index)
{
	json_error_t jerr;
	json_t *rec = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!rec)
		return vault_fail(v, VAULT_E_CORRUPT, "record is not JSON");
	vault_err e = catalog_apply_json(v, rec, index);
	json_decref(rec);
	return e;
}

size_t vault_item_count(const vault *v)
{
	return v->cat.n;
}

const vault_item *vault_item_at(const vault *v, size_t i)
{
	return i < v->cat.n ? v->cat.items[i] : NULL;
}

vault_err vault_item_find(vault *v, const char *prefix, const vault_item **out)
{
	size_t len = strlen(prefix), matches = 0;
	char lower[65];
	const vault_item *found = NULL;

	if (!v->unlocked)
		return vault_fail(v, VAULT_E_STATE, "vault is locked");
	if (len < VAULT_ID_MIN_PREFIX || len > 64)
		return vault_fail(v, VAULT_E_INVALID,
				  "'%s': an item id is 8 to 64 hex digits", prefix);
	for (size_t i = 0; i < len; i++) {
		if (!isxdigit((unsigned char)prefix[i]))
			return vault_fail(v, VAULT_E_INVALID,
					  "'%s' is not a hex item id", prefix);
		lower[i] = (char)tolower((unsigned char)prefix[i]);
	}
	lower[len] = '\0';
	for (size_t i = 0; i < v->cat.n; i++) {
		if (strncmp(v->cat.items[i]->id, lower, len) == 0) {
			if (++matches > 1)
				return vault_fail(v, VAULT_E_AMBIGUOUS,
						  "id prefix '%s' matches more than "
						  "one item; give more digits",
						  prefix);
			found = v->cat.items[i];
		}
	}
	if (!found)
		return vault_fail(v, VAULT_E_NOTFOUND, "no item with id '%s'",
				  prefix);
	*out = found;
	return VAULT_OK;
}
