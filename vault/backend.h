/*
 * backend.h: where encrypted objects live.
 *
 * The vault speaks to its object store only through this small interface,
 * so that a bucket on S3-compatible storage (Ceph RGW, Swift) can stand
 * where the local objects/ directory stands today.  Objects are immutable
 * once placed: a backend never needs to update one in place.  Names are
 * 64 hex digits (keyed hashes), never the content's SHA-256.
 */
#ifndef EVAULT_BACKEND_H
#define EVAULT_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct vault_backend vault_backend;
typedef struct vault_stream vault_stream;

/* A sequential reader of one object. */
struct vault_stream {
	/* Read up to n bytes; returns bytes read (0 at the end) or -errno. */
	ssize_t (*read)(vault_stream *s, void *buf, size_t n);
	void (*close)(vault_stream *s);
};

struct vault_backend_ops {
	const char *kind; /* "local", later "s3" */
	/* Place the finished, synced local file tmp_path (relative to the
	 * vault directory) as object `name`; *existed tells whether an object
	 * of that name was already there (it is replaced: same name, same
	 * content).  0 or -errno. */
	int (*put)(vault_backend *b, const char *tmp_path, const char *name,
		   int *existed);
	/* Open an object for reading; -ENOENT if absent. */
	int (*get)(vault_backend *b, const char *name, vault_stream **out,
		   uint64_t *size);
	/* Remove an object placed by an operation that did not commit. */
	int (*remove)(vault_backend *b, const char *name);
	/* Make every put so far durable. */
	int (*sync)(vault_backend *b);
	/* Call fn for each stored object name (stop if fn returns non-zero).
	 * Entries that are not valid names are passed too, for reporting. */
	int (*list)(vault_backend *b, int (*fn)(void *ctx, const char *name),
		    void *ctx);
	/* Where the object is, for messages: "objects/ab/ab12...". */
	void (*locate)(vault_backend *b, const char *name, char *buf,
		       size_t n);
	void (*free)(vault_backend *b);
};

struct vault_backend {
	const struct vault_backend_ops *ops;
};

/* The local-directory backend: objects/<first two hex digits>/<name>
 * below the vault directory `dirfd` (not owned). */
vault_backend *backend_local_new(int dirfd);

#endif
