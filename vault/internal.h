/*
 * internal.h: what the modules of the vault library share and the CLI
 * never sees: the handle's layout, the key schedule, and each module's
 * cross-file helpers (prefixed with the module's name).
 */
#ifndef EVAULT_INTERNAL_H
#define EVAULT_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <sys/types.h>

#include <sodium.h>

#include "vault/backend.h"
#include "vault/merkle.h"
#include "vault/note.h"
#include "vault/vault.h"

/* --- Key schedule --------------------------------------------------------
 * One random 32-byte master key per vault, wrapped by passphrase slots.
 * Every purpose gets its own subkey (crypto_kdf, context "evault01"), so a
 * key is never used for two things. */
enum {
	KEYID_OBJECT = 1, /* secretstream key for object contents */
	KEYID_NAME = 2,   /* keyed hash that turns a SHA-256 into a name */
	KEYID_RECORD = 3, /* AEAD key for log records */
	KEYID_STATE = 4,  /* MAC key for the log's state file */
	KEYID_SLOT = 5,   /* MAC key over passphrase slot files */
	KEYID_LOG = 6,    /* Ed25519 seed of the log's checkpoint key */
};
#define VAULT_KDF_CONTEXT "evault01"

typedef struct {
	unsigned char master[32];
	unsigned char object[32];
	unsigned char name[32];
	unsigned char record[32];
	unsigned char state[32];
	unsigned char slot[32];
} vault_keys; /* lives in sodium_malloc'd memory, wiped by sodium_free */

/* --- Log (log.c) ----------------------------------------------------------
 * Encrypted records, plaintext leaf hashes, and the state file that is the
 * commit point.  See docs/formats.md. */
typedef struct {
	uint64_t size;        /* committed records */
	uint64_t rec_bytes;   /* committed length of log/records */
	unsigned char (*leaves)[32];
	size_t leaves_cap;
	uint64_t *offsets;    /* byte offset of each record in log/records */
	size_t offsets_cap;
	merkle_frontier frontier;      /* tree of the committed records */
	merkle_frontier pend_frontier; /* ... and of the staged ones */
	unsigned char root[32];
	char origin[64];      /* checkpoint origin: "evault/<vault id>" */
	note_signer *signer;  /* the log's checkpoint key (secret) */
	note_verifier vkey;   /* its public half, as in pub/log.vkey */
	/* the record last returned by vault_record_at() */
	char *cur_text;
	char *cur_fields[4];
	/* staged: encrypted entries and leaves not yet committed */
	unsigned char *pend;
	size_t pend_len, pend_cap;
	uint64_t pend_count;
	/* problems found while loading (for verify), as "file: detail" lines */
	char **problems;
	size_t nproblems;
} vault_log;

/* --- Catalogue (catalog.c) ----------------------------------------------- */
typedef struct {
	vault_custodian pub; /* name and vkey point into ver / vkey below */
	char vkey[NOTE_VKEY_BYTES];
	note_verifier ver;
	uint64_t removed;    /* log index of its removal; UINT64_MAX: active */
} custodian_entry;

typedef struct {
	vault_item **items; /* individually allocated: pointers stay valid */
	custodian_entry *cust; /* every custodian ever registered, in order */
	size_t ncust, capcust;
	size_t n, cap;
	size_t committed;   /* items present at the last commit */
	uint32_t *table;    /* open addressing: index+1 into items, 0 empty */
	size_t tcap;
	/* Passphrase slots the log says were added / removed (16 hex digits
	 * each): what finishes an interrupted passphrase change. */
	char (*slot_added)[17], (*slot_removed)[17];
	size_t nadded, nremoved;
} vault_catalog;

/* --- Staged objects ------------------------------------------------------ */
typedef struct {
	char (*names)[65];  /* objects placed since the last commit */
	size_t n, cap;
} vault_staged;

struct vault {
	char *dir;
	int dirfd;
	int lockfd;
	bool writable;
	bool unlocked;
	bool manual_commit; /* vault_set_autocommit(v, 0) */
	unsigned char id[16];
	char id_hex[33];
	vault_keys *keys;
	const vault_identity *actor; /* signs the records this handle writes */
	vault_backend *store;
	vault_log log;
	vault_catalog cat;
	vault_staged staged;
	char unlock_slot[17];  /* hex of the slot the passphrase opened */
	bool unlock_pending;   /* ... a pending one (keys/pending-*) */
	char err[1024];
};

/* --- Errors (vault.c) ---------------------------------------------------- */
vault_err vault_fail(vault *v, vault_err e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Like vault_fail, appending strerror(errnum) and mapping ENOSPC, ENOMEM. */
vault_err vault_fail_errno(vault *v, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
vault_err vault_err_from_errno(int errnum);

/* --- Utilities (util.c) -------------------------------------------------- */
void util_hex(char *out, const unsigned char *in, size_t n); /* 2n+1 */
int util_unhex(unsigned char *out, size_t n, const char *in); /* 0 / -1 */
uint64_t util_padme(uint64_t len);
/* A page-aligned buffer (free() it).  Bulk buffers are page-aligned: a
 * copy between addresses 16 bytes apart modulo 4 KiB (where malloc puts
 * large blocks) stalls on 4K aliasing and costs the kernel's read() and
 * write() copies several times over (bench/README.md). */
void *util_page_alloc(size_t n);
void util_le32(unsigned char *p, uint32_t x);
void util_le64(unsigned char *p, uint64_t x);
uint32_t util_get_le32(const unsigned char *p);
uint64_t util_get_le64(const unsigned char *p);
/* write() all of buf, retrying on EINTR and short writes; 0 or -errno. */
int util_write_all(int fd, const void *buf, size_t n);
/* read up to n bytes, stopping only at EOF; returns bytes read or -errno. */
ssize_t util_read_full(int fd, void *buf, size_t n);
int util_fsync_dir(int dirfd, const char *rel);
/* Atomically replace dirfd/rel with buf: temp file (0600), fsync, rename,
 * fsync of the directory.  0, -errno if nothing was replaced, or 1 if the
 * file was replaced but the directory could not be synced. */
int util_atomic_write(int dirfd, const char *rel, const void *buf, size_t n);
/* Read a whole small file (at most `max` bytes) into a malloc'd buffer
 * with a NUL after it; -EFBIG if larger.  0 or -errno. */
int util_read_small(int dirfd, const char *rel, size_t max,
		    unsigned char **out, size_t *outlen);
/* Open a new temporary file under dirfd/tmpdir, mode 0600, O_EXCL; its
 * relative path is written to `rel` (at least 80 bytes). fd or -errno. */
int util_tmpfile(int dirfd, const char *tmpdir, char *rel, size_t relsize);
void util_iso8601_now(char out[32]);
/* A growing NUL-terminated text buffer: appending after a failed
 * allocation does nothing, and `failed` says so at the end. */
typedef struct {
	char *p;
	size_t len, cap;
	int failed;
} textbuf;
void tb_add(textbuf *t, const char *s, size_t n);
void tb_printf(textbuf *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Base64 (RFC 4648, padded) of n bytes. */
void tb_b64(textbuf *t, const unsigned char *b, size_t n);
/* A hash in base64 and "\n": a line of a proof. */
void tb_hash(textbuf *t, const unsigned char h[32]);

/* --- Keys and slots (keyslot.c) ------------------------------------------ */
/* Write a new slot for `pass` as <prefix><16 hex digits> ("keys/slot-",
 * or "keys/pending-" until its addition is committed); the hex digits in
 * hexout if not NULL. */
vault_err keyslot_create(vault *v, const char *pass, size_t len,
			 vault_kdf kdf, const char *prefix, char hexout[17]);
vault_err keyslot_unlock(vault *v, const char *pass, size_t len);
/* After the log is loaded: accept an unlock by a pending slot only if the
 * log records its addition; for a writer, finish the passphrase changes
 * the log records and a crash cut short (keyslot.c). */
vault_err keyslot_settle(vault *v);
/* Whether the catalogue records slot `hex` as added / removed. */
int catalog_slot_added(const vault_catalog *c, const char *hex);
int catalog_slot_removed(const vault_catalog *c, const char *hex);
/* Find the slot file `pass` opens; writes its name (keys/slot-...). */
vault_err keyslot_find(vault *v, const char *pass, size_t len, char *rel,
		       size_t relsize);
vault_err keyslot_count(vault *v, unsigned *out);
/* Check every slot's MAC; calls fn for each damaged one. */
vault_err keyslot_check_all(vault *v,
			    void (*fn)(void *ctx, const char *file,
				       const char *why),
			    void *ctx);
void keys_derive(vault_keys *k);

/* --- Objects (object.c) -------------------------------------------------- */
#define OBJ_CHUNK 65536u
#define OBJ_MAGIC "EVAULTO1"
#define OBJ_HEADER_BYTES (8 + crypto_secretstream_xchacha20poly1305_HEADERBYTES)
#define OBJ_CHUNK_CT (OBJ_CHUNK + crypto_secretstream_xchacha20poly1305_ABYTES)
#define OBJ_TRAILER_BYTES 48
#define OBJ_TRAILER_CT \
	(OBJ_TRAILER_BYTES + crypto_secretstream_xchacha20poly1305_ABYTES)

/* The keyed object name of a SHA-256 (64 hex digits + NUL). */
void object_name(const vault *v, const unsigned char sha[32], char out[65]);
/* Total ciphertext size of an object holding `size` original bytes. */
uint64_t object_ct_size(uint64_t size);

typedef int (*object_write_fn)(void *ctx, const void *buf, size_t n);

typedef struct {
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned char *out; /* scratch for ciphertext, OBJ_BATCH chunks */
	unsigned char part[OBJ_CHUNK];
	size_t plen;
	uint64_t padded_done;
	object_write_fn write;
	void *wctx;
} object_enc;

#define OBJ_BATCH 16 /* chunks per I/O block: 1 MiB of plaintext */

int object_enc_begin(object_enc *e, const unsigned char key[32],
		     object_write_fn write, void *wctx);
int object_enc_update(object_enc *e, const unsigned char *in, size_t len);
/* Pad to util_padme(size) and write the trailer (size, sha). */
int object_enc_final(object_enc *e, uint64_t size,
		     const unsigned char sha[32]);
void object_enc_release(object_enc *e);

/* Decrypt, authenticate and hash an object; pass the original bytes to
 * sink (called from a worker thread, never concurrently).  On damage,
 * returns VAULT_E_CORRUPT with the reason on the handle. */
vault_err object_decrypt(vault *v, const vault_item *item,
			 vault_sink_fn sink, void *sink_ctx,
			 vault_progress_fn progress, void *progress_ctx,
			 char *file, size_t filesize);

/* --- Pipeline (pipeline.c) ------------------------------------------------
 * Two stages over both cores: the caller's thread produces buffers, a
 * worker consumes them in order.  Memory is nbufs * bufsize, whatever the
 * length of the stream. */
typedef struct vpipe vpipe;
typedef struct {
	unsigned char *data;
	size_t len;
	size_t cap;
} vpipe_buf;
typedef int (*vpipe_consume_fn)(void *ctx, vpipe_buf *b);
vpipe *vpipe_new(size_t nbufs, size_t bufsize, vpipe_consume_fn fn,
		 void *ctx);
/* A free buffer to fill, or NULL if the consumer has failed. */
vpipe_buf *vpipe_get(vpipe *p);
void vpipe_put(vpipe *p, vpipe_buf *b);
/* Wait for the consumer to drain; returns its first non-zero result.
 * May be called again: returns the same result. */
int vpipe_finish(vpipe *p);
void vpipe_free(vpipe *p);

/* --- Log (log.c) ---------------------------------------------------------- */
vault_err log_create(vault *v);
vault_err log_load(vault *v);
vault_err log_stage(vault *v, const char *record, size_t len);
vault_err log_commit(vault *v);
void log_discard(vault *v);
void log_release(vault_log *l);
void log_problem(vault_log *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Read committed record `index` back from log/records, checked against
 * its leaf: the signed note, malloc'd and NUL-terminated. */
vault_err log_read_record(vault *v, uint64_t index, char **out, size_t *len);
/* The same on an open log/records fd, safe from several threads (it
 * touches no handle state); -1 with *why. */
int log_read_record_fd(const vault *v, int fd, uint64_t index, char **out,
		       size_t *len, const char **why);
/* Stage a record of `kind` with the given JSON fields (stolen). */
vault_err log_stage_json(vault *v, const char *kind, void *json_fields);

/* --- Catalogue (catalog.c) ------------------------------------------------ */
/* Apply a record's body (one JSON line, or parsed) to the catalogue and
 * the custodian registry.  The body's actor must be a custodian registered
 * before it (the init record registers its own actor); that the actor
 * really signed it is checked by custody_verify_signatures(). */
vault_err catalog_apply(vault *v, const char *body, size_t len,
			uint64_t index);
vault_err catalog_apply_json(vault *v, void *json_rec, uint64_t index);
/* The active custodian of that name, or NULL. */
const custodian_entry *catalog_custodian(const vault_catalog *c,
					 const char *name);
size_t catalog_custodians_active(const vault_catalog *c);
vault_item *catalog_lookup(const vault_catalog *c, const char id[65]);
void catalog_truncate(vault_catalog *c, size_t n);
void catalog_release(vault_catalog *c);

/* --- Custody (custody.c, identity.c, witness.c) --------------------------- */
note_signer *identity_signer(const vault_identity *id);
void keyslot_costs(vault_kdf kdf, uint64_t *ops, uint64_t *mem);
/* Parse base64 hashes, one per line (empty lines skipped). */
int proof_lines_parse(const char *text, size_t len,
		      unsigned char out[MERKLE_MAX_PROOF][32], size_t *count);
/* Derive the log's checkpoint key from the master key; origin from id. */
vault_err custody_log_key(vault *v);
/* Sign a record body as the handle's actor: the signed note, malloc'd. */
vault_err custody_sign(vault *v, const char *body, size_t len, char **note,
		       size_t *notelen);
/* The body of a record (the signed note's text), unverified, pointing
 * into `note`; -1 if it is not a signed note. */
int custody_body(const char *note, size_t len, const char **body,
		 size_t *bodylen);
/* Check every committed record's signature against the custodians
 * registered at its time, on both cores; each bad record is reported
 * through fn ("log/records", detail).  Returns the number of bad ones. */
size_t custody_verify_signatures(vault *v,
				 void (*fn)(void *ctx, const char *file,
					    const char *detail),
				 void *ctx);
/* Write the signed checkpoint of the staged tree before the commit. */
vault_err custody_checkpoint_write(vault *v, uint64_t size,
				   const unsigned char root[32]);
/* Writers: remove checkpoints beyond the committed size (left by a commit
 * that did not finish). */
void custody_checkpoint_cleanup(vault *v);
/* Check every stored checkpoint against the leaves; problems are noted
 * through fn.  `committed` is the size the state commits to (or the
 * latest checkpoint's size when checking without a key). */
typedef void (*custody_problem_fn)(void *ctx, const char *file,
				   const char *detail);
int custody_check_checkpoints(vault *v, const unsigned char (*leaves)[32],
			      uint64_t nleaves, uint64_t committed,
			      uint64_t *latest, custody_problem_fn fn, void *ctx);

/* Check a checkpoint kept outside the vault against the leaves: NULL if
 * the log still contains it, else why not. */
const char *custody_check_trusted(vault *v, const char *cp, size_t len,
				  const unsigned char (*leaves)[32],
				  uint64_t nleaves);
/* For a vault opened without its key: the log key from pub/log.vkey and
 * every leaf in log/leaves (malloc'd). */
vault_err custody_load_public(vault *v, unsigned char (**leaves)[32],
			      uint64_t *n);

/* --- Certificates (cert.c, docs/certificate.md) ------------------------- */
typedef struct {
	uint64_t index;
	const char *text;  /* the whole signed record, as its leaf covers it */
	size_t len;
} cert_record;
typedef struct {
	const char *origin, *log_vkey, *issued, *issuer, *item, *type;
	uint64_t size;
	uint64_t tree;                     /* the checkpoint's size ... */
	unsigned char root[32];            /* ... and root */
	const char *lines;                 /* fact/media/stream lines, or NULL */
	const cert_record *records;        /* in increasing index order */
	size_t nrecords;
	const unsigned char (*leaves)[32]; /* at least `tree` of them */
	const char *checkpoint;            /* the checkpoint of `tree`, as stored */
	size_t cplen;
} cert_input;
/* The certificate for `in`, its statement signed by the log key: 0, or
 * one of these. */
enum { CERT_E_NOMEM = -1, CERT_E_TOO_BIG = -2, CERT_E_PROOF = -3,
       CERT_E_TEXT = -4 };
int cert_build(const cert_input *in, const note_signer *log, char **out,
	       size_t *outlen);
/* A value from a file, escaped as the certificate writes it. */
void cert_escape(textbuf *t, const char *s);
/* The fact, media and stream lines of a metadata document (a json_t *). */
void cert_fact_lines(textbuf *t, void *doc, int omit_location);

/* --- Type detection (sniff.c) -------------------------------------------- */
void sniff_type(const unsigned char *buf, size_t len, char out[48]);

#endif
