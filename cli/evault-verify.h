/*
 * evault-verify.h: the certificate verifier (cli/evault-verify.c compiled
 * with -DEVV_LIBRARY), as `evault check-cert` and the tests use it.  It
 * checks an evault verification certificate (docs/certificate.md,
 * sections 5 and 6) with libsodium alone and needs no vault.
 *
 * cli/evault-verify.c repeats these declarations for its stand-alone
 * build (one file a recipient can compile and read); keep both the same.
 */
#ifndef EVAULT_VERIFY_H
#define EVAULT_VERIFY_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	const char *log_vkey;               /* NULL: taken from the certificate */
	const char *const *witness_vkeys;   /* each must have cosigned */
	size_t nwitnesses;
	int have_file;                      /* file_sha256/file_size are set */
	unsigned char file_sha256[32];
	uint64_t file_size;
	const char *later_checkpoint;       /* NULL: none (section 6) */
	size_t later_checkpoint_len;
	const char *consistency;            /* given with later_checkpoint */
	size_t consistency_len;
} evv_opts;

typedef enum { EVV_PASS, EVV_FAIL, EVV_NOTE, EVV_INFO } evv_status;

/*
 * check: a short stable name: "read", "key" (a key given is not usable),
 * "usage" (a later checkpoint without a proof, or the other way round),
 * "log-key", "statement-signature", "checkpoint", "later-checkpoint",
 * "consistency", "witness", "record-inclusion", "record-form", "init",
 * "record-signature", "custodian", "item", "file".  detail: one sentence
 * (for EVV_FAIL the reason, naming the record index where one is
 * concerned).  Values a record holds are quoted with control characters,
 * backslashes and invalid UTF-8 escaped; details are valid UTF-8.
 *
 * EVV_INFO reports what the certificate says, for display, after all the
 * checks: check = "item", "size", "type", "origin", "log-key", "issued",
 * "issuer", "tree" ("<size> <root>"), "fact", "omitted", "media",
 * "stream" (the values as written), "record" ("<index> <time> <kind>
 * <actor>", "?" for what could not be read; time and kind never contain
 * a space) and "witness-line" ("<name>+<key id>" of a cosignature line of
 * a witness that was not checked).
 */
typedef void (*evv_report_fn)(void *ctx, evv_status st, const char *check,
			      const char *detail);

/*
 * Verify the certificate cert[0..len) (need not be NUL-terminated).  o may
 * be NULL (no key, witness, file or later checkpoint given).  Runs every
 * check, also after one failed, and reports each through fn.  Returns 0
 * valid, 1 invalid (some check failed), 2 could not run (the certificate
 * cannot be read as one, a key given is not a key of the right type, or
 * a later checkpoint was given without a consistency proof or the other
 * way round).
 */
int evv_verify(const char *cert, size_t len, const evv_opts *o,
	       evv_report_fn fn, void *ctx);

/* A report as text, the way both evault-verify and `evault check-cert`
 * print it (an evv_report_fn; ctx an evv_text).  Errors that stop the
 * check go to stderr as "<program>: ...". */
typedef struct {
	const char *program;  /* "evault-verify", "evault" */
	const char *cert;     /* the certificate's path, for messages */
	int infos;            /* lines of what it says, printed so far */
} evv_text;
void evv_print_text(void *ctx, evv_status st, const char *check,
		    const char *detail);

#endif
