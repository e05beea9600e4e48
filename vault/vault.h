/*
 * vault.h: the public interface of the evault library.
 *
 * An evault vault is a directory that holds evidence (photos, videos, any
 * file) encrypted and content-addressed by SHA-256, with a log of every
 * action.  This header is the only one the `evault` command includes.
 *
 * Conventions:
 *  - Every call that can fail returns a vault_err; VAULT_OK is 0.  The
 *    detail of the last failure (file name, reason) is kept on the handle
 *    and read with vault_errmsg().  Out-parameters are written only on
 *    success.
 *  - The library never prints, never exits and never reads the
 *    environment: passphrases, paths and options are passed in.
 *  - Secrets passed in (passphrases) are only read; the caller owns and
 *    wipes them.
 *  - Strings returned by the library are owned by the handle and stay
 *    valid until vault_free() unless said otherwise.
 */
#ifndef EVAULT_VAULT_H
#define EVAULT_VAULT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* On-disk format version this library writes and the newest it reads. */
#define VAULT_FORMAT_VERSION 2

/* Item ids are SHA-256 hex; a prefix must have at least this many digits. */
#define VAULT_ID_MIN_PREFIX 8

typedef enum {
	VAULT_OK = 0,
	VAULT_E_NOMEM,      /* out of memory */
	VAULT_E_IO,         /* an operating-system call failed */
	VAULT_E_NOVAULT,    /* no vault at the given directory */
	VAULT_E_EXISTS,     /* a vault (or something else) already there */
	VAULT_E_VERSION,    /* vault written by a newer evault */
	VAULT_E_PASSPHRASE, /* no key slot opens with this passphrase */
	VAULT_E_BUSY,       /* another writer holds the vault (no-wait) */
	VAULT_E_CORRUPT,    /* stored data failed authentication or checks */
	VAULT_E_NOTFOUND,   /* no item with that id */
	VAULT_E_AMBIGUOUS,  /* id prefix matches several items */
	VAULT_E_INVALID,    /* bad argument (short id prefix, empty name...) */
	VAULT_E_FILETYPE,   /* not a regular file (FIFO, device, symlink...) */
	VAULT_E_CHANGED,    /* source file changed while it was being read */
	VAULT_E_NOSPACE,    /* the file system is full */
	VAULT_E_STATE,      /* call not allowed now (not unlocked, read-only) */
	VAULT_E_LASTSLOT,   /* refusing to remove the only passphrase slot */
	VAULT_E_WRITE,      /* the caller's output callback failed */
	VAULT_E_DENIED,     /* refused: not a registered custodian, not the
			     * holder of the item, not the receiver... */
} vault_err;

/* A fixed English name for an error code, never NULL. */
const char *vault_strerror(vault_err err);

typedef struct vault vault;

/* Cost of the passphrase key derivation (Argon2id, crypto_pwhash). */
typedef enum {
	VAULT_KDF_INTERACTIVE = 0, /* 64 MiB, fast: tests and demos */
	VAULT_KDF_MODERATE,        /* 256 MiB: the default */
	VAULT_KDF_SENSITIVE,       /* 1 GiB: slow, for long-lived vaults */
} vault_kdf;

/* Parse "interactive" | "moderate" | "sensitive"; returns -1 if unknown. */
int vault_kdf_parse(const char *name, vault_kdf *out);

/* Progress of a long operation: bytes done out of total (total may be 0
 * when unknown).  Called from the thread that made the call. */
typedef void (*vault_progress_fn)(void *ctx, uint64_t done, uint64_t total);

/* --- Custodians' keys ----------------------------------------------------
 * A custodian (a person or organisation handling evidence) signs every
 * action with its own Ed25519 key, kept outside the vault in a key file
 * sealed by its own passphrase.  Keys are named; the public half is a
 * C2SP note verifier key "name+keyid+base64".  Witness keys (cosignature
 * type) are made the same way with `witness` set.  The handle `v` is used
 * only for error messages here and need not be open. */
typedef struct vault_identity vault_identity;
/* Bytes needed for a verifier key string, NUL included. */
#define VAULT_VKEY_MAX 320

vault_err vault_identity_create(vault *v, const char *name, int witness,
				const char *pass, size_t passlen, vault_kdf kdf,
				const char *path, char *vkey_out, size_t vkeysize);
vault_err vault_identity_open(vault *v, const char *path, const char *pass,
			      size_t passlen, vault_identity **out);
/* The verifier key stored in a key file, without its passphrase. */
vault_err vault_identity_vkey_of_file(vault *v, const char *path, char *out,
				      size_t n);
const char *vault_identity_name(const vault_identity *id);
const char *vault_identity_vkey(const vault_identity *id);
void vault_identity_free(vault_identity *id);

/* --- Handle lifecycle --------------------------------------------------- */

/* A new, closed handle, or NULL when out of memory. */
vault *vault_new(void);

/* Close the vault (discarding anything staged but not committed), wipe
 * every key from memory and free the handle.  Accepts NULL. */
void vault_free(vault *v);

/* The detail of the last error on this handle ("" if none). */
const char *vault_errmsg(const vault *v);

/* Flags for vault_open(). */
#define VAULT_OPEN_WRITE  0x1 /* take the writer lock (exclusive) */
#define VAULT_OPEN_NOWAIT 0x2 /* fail with VAULT_E_BUSY instead of waiting */

/* Called once if the lock is held by someone else and we are about to wait,
 * so that the caller can tell its user why nothing happens. */
typedef void (*vault_wait_fn)(void *ctx);

typedef struct {
	unsigned flags;
	vault_wait_fn on_wait;
	void *wait_ctx;
} vault_open_opts;
#define VAULT_OPEN_OPTS_INIT {0, NULL, NULL}

/* The custodian who acts through this handle: every record it writes is
 * signed with this key.  Needed before vault_create() and before any call
 * that writes a record; the key must be a registered custodian of the
 * vault (vault_create registers it).  The handle does not take ownership:
 * keep `id` alive until vault_free(). */
void vault_set_identity(vault *v, const vault_identity *id);

/* Create a new vault in `dir` (created if missing; must be empty if it
 * exists), protected by one passphrase slot.  On success the handle is
 * open for writing and unlocked, with an "init" record committed that
 * registers the handle's identity as the first custodian, and the log's
 * first checkpoint signed by the vault's log key (derived from the master
 * key; its verifier key is written to pub/log.vkey). */
vault_err vault_create(vault *v, const char *dir, const char *pass,
		       size_t passlen, vault_kdf kdf);

/* Open an existing vault: check its format, take the lock (shared for
 * readers, exclusive with VAULT_OPEN_WRITE), and for writers remove
 * leftovers of interrupted operations from tmp/.  The vault stays
 * unreadable until vault_unlock(). */
vault_err vault_open(vault *v, const char *dir, const vault_open_opts *opts);

/* Unlock with a passphrase: open the master key from a matching slot and
 * load the catalogue of items from the log (every record authenticated). */
vault_err vault_unlock(vault *v, const char *pass, size_t passlen);

/* The vault id (32 hex digits) of an open vault. */
const char *vault_id(const vault *v);

/* --- Passphrase slots --------------------------------------------------- */

/* Add a slot for `pass` (needs an unlocked, writable vault). */
vault_err vault_passphrase_add(vault *v, const char *pass, size_t passlen,
			       vault_kdf kdf);
/* Remove the slot that `pass` opens; refuses to remove the last slot. */
vault_err vault_passphrase_remove(vault *v, const char *pass, size_t passlen);
/* Number of passphrase slots. */
vault_err vault_passphrase_count(vault *v, unsigned *out);

/* --- Items -------------------------------------------------------------- */

typedef struct {
	char id[65];          /* SHA-256 of the original bytes, lower-case hex */
	uint64_t size;        /* original size in bytes */
	char type[48];        /* detected type, e.g. "image/jpeg" */
	const char *name;     /* original file name (last path component) */
	const char *path;     /* the path as given at ingest */
	const char *ingested; /* ISO 8601 UTC time of the first ingest */
	int64_t mtime;        /* source file modification time (Unix) */
	const char *case_name;/* provenance given at ingest, or NULL */
	const char *source;
	const char *note;
	uint64_t record;      /* log index of the first ingest record */
	uint32_t receipts;    /* how many ingests delivered these bytes */
	const char *holder;   /* custodian holding it (ingester, or the last
			       * who accepted a transfer) */
	const char *pending_to; /* custodian a transfer awaits, or NULL */
	uint64_t pending_record; /* log index of that transfer record */
	char meta[65];        /* SHA-256 of its metadata document (the
			       * probe's answer, an object), or "" */
	uint64_t meta_size;
	const char *probe_error; /* what the probe could not read, or NULL */
} vault_item;

/* Items held, in ingest order.  Pointers stay valid until vault_free()
 * or the next vault_ingest_file() (which may grow the catalogue). */
size_t vault_item_count(const vault *v);
const vault_item *vault_item_at(const vault *v, size_t i);

/* Find the item whose id starts with `prefix` (at least
 * VAULT_ID_MIN_PREFIX hex digits, any case).  VAULT_E_NOTFOUND,
 * VAULT_E_AMBIGUOUS or VAULT_E_INVALID otherwise. */
vault_err vault_item_find(vault *v, const char *prefix,
			  const vault_item **out);

/* --- The metadata probe -------------------------------------------------
 * Media is parsed by evault-probe, a separate program that never holds a
 * key, under a seccomp filter and resource limits.  One probe serves a
 * whole batch: it is started on first use (exec'd fresh, empty
 * environment, no open files but its socket), given one open file at a
 * time, and answers with a JSON metadata document (docs/formats.md).  A
 * probe that crashes, times out or breaks the protocol is killed; the
 * next file gets a fresh one. */
typedef struct vault_probe vault_probe;

#define VAULT_PROBE_TIMEOUT 30 /* seconds per file */
#define VAULT_PROBE_DOC_MAX (64u << 20)

/* `exe`: the evault-probe program; timeout_s 0 means the default. */
vault_err vault_probe_new(const char *exe, unsigned timeout_s,
			  vault_probe **out);
/* Stops the probe (it exits when its socket closes). */
void vault_probe_free(vault_probe *p);

typedef struct {
	char *doc;        /* the metadata document (JSON, malloc'd), or NULL */
	size_t len;
	unsigned nerrors; /* entries in its "errors" (parsers' complaints) */
	char error[256];  /* why there is no document ("probe killed by
			   * signal 11 (Segmentation fault)", "probe timed
			   * out after 30 s"...), or "" */
} vault_probe_result;

/* Hand the open file `fd` to the probe (it gets its own copy of the
 * descriptor) and return at once; collect the answer with
 * vault_probe_end().  Ingest overlaps the two with its own reading.
 * VAULT_PROBE_LEAN: leave the raw bytes (base64 "data" members) out of
 * the document, for a quick look; ingest always keeps them. */
#define VAULT_PROBE_LEAN 1u
void vault_probe_begin(vault_probe *p, int fd, unsigned flags);
void vault_probe_end(vault_probe *p, vault_probe_result *r);
void vault_probe_result_free(vault_probe_result *r);

/* Thumbnails, for people to look at (the certificate's HTML page): for a
 * video, `count` frames at evenly spaced times; for a photo, one picture.
 * Each is turned upright, at most max_width pixels wide (never enlarged),
 * and a baseline JPEG, decoded and encoded inside the probe. */
#define VAULT_THUMBS_MAX 64
#define VAULT_THUMB_WIDTH_MIN 16
#define VAULT_THUMB_WIDTH_MAX 1024
#define VAULT_THUMB_JPEG_MAX (8u << 20) /* bytes, each */
#define VAULT_THUMB_TALL 4 /* at most this many times max_width tall */
typedef struct {
	double time;         /* seconds from the video's start; -1 for a
			      * photo or a frame without a time */
	int width, height;
	unsigned char *jpeg; /* starts FF D8, ends FF D9 */
	size_t len;
} vault_thumb;

/* Ask the probe for `count` (1..VAULT_THUMBS_MAX) thumbnails of the open
 * file fd, at most max_width (VAULT_THUMB_WIDTH_MIN..MAX) wide: *out holds
 * *n thumbnails in time order (free with vault_thumbs_free(), NULL when
 * *n is 0), *error what went wrong (malloc'd, one line, or NULL).  A file
 * the probe could not decode, and a probe that crashed, timed out, was
 * stopped by its sandbox or broke the protocol (it is killed and the next
 * request starts a fresh one), give fewer or no thumbnails and a reason;
 * the call still returns VAULT_OK.  VAULT_E_INVALID for a count or width
 * out of range, VAULT_E_NOMEM. */
vault_err vault_probe_thumbnails(vault_probe *p, int fd, unsigned count,
				 unsigned max_width, vault_thumb **out,
				 size_t *n, char **error);
void vault_thumbs_free(vault_thumb *t, size_t n);

/* The metadata document of an item, decrypted and checked against the
 * SHA-256 its ingest record names (*doc malloc'd, NUL-terminated).
 * VAULT_E_NOTFOUND if the item has none. */
vault_err vault_item_meta(vault *v, const vault_item *item, char **doc,
			  size_t *len);

/* --- Ingest ------------------------------------------------------------- */

typedef struct {
	const char *case_name; /* optional provenance, kept encrypted */
	const char *source;
	const char *note;
	vault_progress_fn progress;
	void *progress_ctx;
	vault_probe *probe;    /* parse metadata with it, or NULL for none */
} vault_ingest_opts;
#define VAULT_INGEST_OPTS_INIT {NULL, NULL, NULL, NULL, NULL, NULL}

typedef struct {
	char id[65];
	uint64_t size;
	char type[48];
	int already_held; /* the same bytes were already in the vault */
	int restored;     /* ... but their object was missing: now restored */
	char probe_error[256]; /* first thing the probe could not read, or "" */
	int probed;       /* a metadata document was stored */
} vault_ingest_result;

/* Read the regular file at `path` once, hashing (SHA-256) and encrypting
 * it into the object store, and stage an ingest record.  Refuses FIFOs,
 * devices, directories and symbolic links (VAULT_E_FILETYPE) and files
 * that change while being read (VAULT_E_CHANGED).  Nothing is visible to
 * other processes, nor kept after a crash, until vault_commit(). */
vault_err vault_ingest_file(vault *v, const char *path,
			    const vault_ingest_opts *opts,
			    vault_ingest_result *out);

/* Make everything staged durable in one step: objects and records are
 * synced, then the log's state file (the single commit point) is replaced
 * atomically.  On failure nothing staged is kept and the vault is as it
 * was at the previous commit. */
vault_err vault_commit(vault *v);

/* By default every action that writes a record (note, access, custodian
 * changes...) commits at once.  With autocommit off they are only staged,
 * and the caller commits them together with vault_commit(): how a batch
 * of many records costs one commit.  Ingest always waits for a commit. */
void vault_set_autocommit(vault *v, int on);

/* Number of staged, uncommitted records. */
size_t vault_pending(const vault *v);

/* --- Reading ------------------------------------------------------------ */

/* Receives decrypted bytes; returns 0, or -1 to stop (VAULT_E_WRITE). */
typedef int (*vault_sink_fn)(void *ctx, const void *buf, size_t len);

/* Stream an item's original bytes to `sink`, authenticating each chunk
 * as it goes.  Bytes already passed on before a damaged chunk is found
 * cannot be taken back: use vault_item_extract() for an all-or-nothing
 * copy. */
vault_err vault_item_read(vault *v, const vault_item *item,
			  vault_sink_fn sink, void *sink_ctx,
			  vault_progress_fn progress, void *progress_ctx);

/* Write the item to `outpath` through a temporary file in the same
 * directory, renamed into place only if every chunk authenticated and the
 * SHA-256 and size match.  Otherwise no output file exists. */
vault_err vault_item_extract(vault *v, const vault_item *item,
			     const char *outpath, vault_progress_fn progress,
			     void *progress_ctx);

/* --- Verify ------------------------------------------------------------- */

typedef enum {
	VAULT_CHECK_ITEM_OK,       /* item decrypted and hashed correctly */
	VAULT_CHECK_ITEM_MISSING,  /* the item's object is absent */
	VAULT_CHECK_ITEM_DAMAGED,  /* the item's object failed a check */
	VAULT_CHECK_LOG_DAMAGED,   /* the log (records, leaves, state) failed */
	VAULT_CHECK_SLOT_DAMAGED,  /* a passphrase slot failed its MAC */
	VAULT_CHECK_UNREFERENCED,  /* an object no item refers to (a note) */
} vault_check_kind;

typedef struct {
	vault_check_kind kind;
	const vault_item *item; /* for ITEM_* kinds, else NULL */
	const char *file;       /* file inside the vault directory, or NULL */
	const char *detail;     /* what failed, or NULL when OK */
} vault_check;

typedef void (*vault_check_fn)(void *ctx, const vault_check *c);

typedef struct {
	vault_check_fn on_check;  /* called once per item and per problem */
	void *check_ctx;
	vault_progress_fn progress;
	void *progress_ctx;
	/* A checkpoint of this vault kept outside it (signed note), or NULL:
	 * the log must still contain it, else it was rolled back or forked. */
	const char *trusted_checkpoint;
	size_t trusted_len;
} vault_verify_opts;
#define VAULT_VERIFY_OPTS_INIT {NULL, NULL, NULL, NULL, NULL, 0}

typedef struct {
	uint64_t items_checked;
	uint64_t items_ok;
	uint64_t items_damaged;  /* damaged or missing */
	uint64_t log_problems;
	uint64_t unreferenced;
	uint64_t bytes;          /* original bytes authenticated and hashed */
	uint64_t log_checked;    /* records covered by the latest valid
				  * checkpoint */
} vault_verify_summary;

/* Check the log (every record authenticates, leaf hashes and the Merkle
 * root recompute, the state's MAC verifies), every passphrase slot, and
 * the given items (all items when n == 0): each object is decrypted
 * completely, every chunk and the final tag authenticated, and the
 * SHA-256, size and keyed object name recomputed.  Also lists objects no
 * item refers to.  Returns VAULT_OK when the check ran (look at the
 * summary for its result) and an error only when it could not run. */
vault_err vault_verify(vault *v, const vault_item *const *items, size_t n,
		       const vault_verify_opts *opts,
		       vault_verify_summary *out);

/* --- Custody ------------------------------------------------------------ */

typedef struct {
	const char *name;
	const char *vkey;
	uint64_t added;   /* log index of the record that registered it */
} vault_custodian;

/* Custodians registered now, in registration order. */
size_t vault_custodian_count(const vault *v);
const vault_custodian *vault_custodian_at(const vault *v, size_t i);
/* Register (or remove) a custodian: a signed, committed record.  Removing
 * the last custodian is refused. */
vault_err vault_custodian_add(vault *v, const char *name, const char *vkey);
vault_err vault_custodian_remove(vault *v, const char *name);

/* Record, and commit, an action on an item:
 *  "note"     free text about the item (`text`);
 *  "access"   the item's bytes were read (`text`: "cat" or "extract");
 *  "transfer" custody passes to custodian `text`, pending acceptance;
 *  "accept"   the handle's custodian accepts a pending transfer to it. */
vault_err vault_item_note(vault *v, const vault_item *item, const char *text);
vault_err vault_item_access(vault *v, const vault_item *item,
			    const char *how);
vault_err vault_item_transfer(vault *v, const vault_item *item,
			      const char *to);
vault_err vault_item_accept(vault *v, const vault_item *item);
/* Record the result of a verify (committed). */
vault_err vault_record_verify(vault *v, const vault_verify_summary *sum);

/* Check what needs no passphrase, on a vault opened but not unlocked:
 * the leaf hashes against every stored checkpoint, each checkpoint's
 * signature by pub/log.vkey, and so that the checkpoints form one
 * append-only history; and the trusted checkpoint in opts, if any. */
vault_err vault_verify_public(vault *v, const vault_verify_opts *opts,
			      vault_verify_summary *out);

/* --- Log ---------------------------------------------------------------- */

/* Check every committed record's signature against the custodians
 * registered at its time (both cores); each bad record is reported to fn
 * as a VAULT_CHECK_LOG_DAMAGED check.  Returns how many were bad.  The
 * same check runs in vault_verify(). */
size_t vault_log_check_signatures(vault *v, vault_check_fn fn, void *ctx);

/* A record of the log, decrypted and checked against its leaf at unlock
 * (its signature: vault_log_check_signatures). */
typedef struct {
	uint64_t index;
	const char *text;      /* the whole signed note */
	size_t text_len;
	const char *kind;      /* "init", "ingest", "note", ... */
	const char *time;      /* ISO 8601 UTC */
	const char *actor;     /* custodian who signed it */
	const char *item;      /* item id the record concerns, or NULL */
	const char *summary;   /* one line for humans */
} vault_record;

/* Records of the committed log, in order (valid until vault_free()). */
vault_err vault_record_at(vault *v, uint64_t index, vault_record *out);

/* A record (a whole signed note, as a certificate carries it) described
 * for people, without checking its signature: -1 if it is not a record.
 * `summary` is malloc'd: free() it. */
typedef struct {
	char kind[32], time[32], actor[256];
	char *summary;
} vault_record_info;
int vault_record_describe(const char *note, size_t len, vault_record_info *out);

/* The latest checkpoint (C2SP tlog-checkpoint signed note, with any
 * cosignatures attached), malloc'd: free() it. */
vault_err vault_checkpoint_latest(vault *v, char **out, size_t *len);
/* The checkpoint of tree size `size`, as stored. */
vault_err vault_checkpoint_get(vault *v, uint64_t size, char **out,
			       size_t *len);
/* The vault log's verifier key (C2SP vkey), from pub/log.vkey. */
vault_err vault_log_vkey(vault *v, char *out, size_t n);
/* Attach a witness's cosignature line to the stored checkpoint it signs
 * (found by its tree size); the line's signature is checked against
 * `witness_vkey` when given. */
vault_err vault_checkpoint_add_cosignature(vault *v, const char *line,
					   const char *witness_vkey);

/* A C2SP tlog-proof of record `index` in the tree of `size` records
 * (0: the latest checkpoint's size), malloc'd. */
vault_err vault_prove(vault *v, uint64_t index, uint64_t size, char **out,
		      size_t *len);
/* The consistency proof between two stored checkpoints' sizes, as base64
 * hashes one per line, malloc'd. */
vault_err vault_consistency(vault *v, uint64_t old_size, uint64_t new_size,
			    char **out, size_t *len);

/* --- Certificates (docs/certificate.md) ----------------------------------
 * A verification certificate for an item: its hash and size, what the
 * probe found it to be, the custody records that name it (with the
 * registrations of those who signed them) and their inclusion proofs to
 * the latest checkpoint, signed by the log key.  Issuing is recorded as a
 * `certify` record (the acting custodian's key is needed); the certificate
 * is returned (malloc'd) only once that record is committed. */
typedef struct {
	int omit_location; /* leave the location and GPS time out */
} vault_certify_opts;
vault_err vault_certify(vault *v, const vault_item *item,
			const vault_certify_opts *o, char **cert, size_t *len);

/* --- Witnessing -----------------------------------------------------------
 * Cosign a vault's checkpoint as a witness: check its signature by
 * `log_vkey`, and, against the state this witness keeps in `statedir`
 * per origin, refuse a rollback or fork and require a consistency proof
 * (base64 lines) from the size cosigned last.  On success the new size and
 * root are stored atomically and the cosignature line written to `line`.
 * Needs no vault: `v` only carries the error message. */
vault_err vault_witness_cosign(vault *v, const vault_identity *witness,
			       const char *statedir, const char *log_vkey,
			       const char *checkpoint, size_t cplen,
			       const char *proof, size_t prooflen, uint64_t now,
			       char *line, size_t linesize,
			       uint64_t *old_size_out);

/* --- Log state ---------------------------------------------------------- */

/* Committed number of records in the log. */
uint64_t vault_log_size(const vault *v);

/* Problems found in the log when it was loaded (a record that does not
 * authenticate, a leaf that does not match, a state file that fails its
 * MAC...).  A vault with log problems can be read and verified, but
 * refuses new records.  Each problem names the file it concerns. */
size_t vault_log_problems(const vault *v);
const char *vault_log_problem(const vault *v, size_t i);

#ifdef __cplusplus
}
#endif
#endif
