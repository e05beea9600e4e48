/*
 * vault.c: the vault handle.  Creating a vault's directory layout, opening
 * one (format check, lock, cleaning up what an interrupted writer left in
 * tmp/), unlocking it, and keeping the last error's detail.
 *
 * Layout of a vault directory (docs/formats.md has the bytes):
 *   VAULT     format version and vault id, no secrets
 *   lock      flock(): exclusive for writers, shared for readers
 *   keys/     passphrase slots wrapping the master key
 *   objects/  encrypted objects, fanned out by the first byte of the name
 *   log/      encrypted records, leaf hashes, the state file (commit point)
 *   pub/      public keys (custody log, later)
 *   hooks/    executables run on events (later)
 *   tmp/      staging; emptied whenever a writer opens the vault
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "vault/internal.h"

#define VAULT_FILE_MAX 4096

const char *vault_strerror(vault_err err)
{
	switch (err) {
	case VAULT_OK: return "success";
	case VAULT_E_NOMEM: return "out of memory";
	case VAULT_E_IO: return "input/output error";
	case VAULT_E_NOVAULT: return "no vault here";
	case VAULT_E_EXISTS: return "already exists";
	case VAULT_E_VERSION: return "vault format too new";
	case VAULT_E_PASSPHRASE: return "wrong passphrase";
	case VAULT_E_BUSY: return "vault busy";
	case VAULT_E_CORRUPT: return "damaged data";
	case VAULT_E_NOTFOUND: return "no such item";
	case VAULT_E_AMBIGUOUS: return "ambiguous id";
	case VAULT_E_INVALID: return "invalid argument";
	case VAULT_E_FILETYPE: return "not a regular file";
	case VAULT_E_CHANGED: return "file changed while reading";
	case VAULT_E_NOSPACE: return "no space left on device";
	case VAULT_E_STATE: return "operation not allowed now";
	case VAULT_E_LASTSLOT: return "last passphrase slot";
	case VAULT_E_WRITE: return "output failed";
	case VAULT_E_DENIED: return "not allowed";
	}
	return "unknown error";
}

int vault_kdf_parse(const char *name, vault_kdf *out)
{
	static const char *const names[] = {"interactive", "moderate",
					    "sensitive"};
	for (int i = 0; i < 3; i++) {
		if (strcmp(name, names[i]) == 0) {
			*out = (vault_kdf)i;
			return 0;
		}
	}
	return -1;
}

vault_err vault_err_from_errno(int errnum)
{
	switch (errnum) {
	case ENOSPC:
	case EDQUOT:
		return VAULT_E_NOSPACE;
	case ENOMEM:
		return VAULT_E_NOMEM;
	default:
		return VAULT_E_IO;
	}
}

vault_err vault_fail(vault *v, vault_err e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->err, sizeof v->err, fmt, ap);
	va_end(ap);
	return e;
}

vault_err vault_fail_errno(vault *v, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t len;
	if (errnum < 0)
		errnum = -errnum;
	va_start(ap, fmt);
	vsnprintf(v->err, sizeof v->err, fmt, ap);
	va_end(ap);
	len = strlen(v->err);
	snprintf(v->err + len, sizeof v->err - len, ": %s", strerror(errnum));
	return vault_err_from_errno(errnum);
}

const char *vault_errmsg(const vault *v)
{
	return v ? v->err : "out of memory";
}

/* Undo everything staged since the last commit: objects this batch placed
 * (and that were not there before) are removed, staged records dropped,
 * and, if asked, the catalogue rebuilt from the committed log. */
static vault_err discard_staged(vault *v, bool reload)
{
	bool had = v->log.pend_count > 0;
	for (size_t i = 0; i < v->staged.n; i++)
		v->store->ops->remove(v->store, v->staged.names[i]);
	v->staged.n = 0;
	log_discard(v);
	if (!had || !reload)
		return VAULT_OK;
	catalog_release(&v->cat);
	return log_load(v);
}

vault *vault_new(void)
{
	vault *v = calloc(1, sizeof *v);
	if (!v)
		return NULL;
	if (sodium_init() < 0) {
		free(v);
		return NULL;
	}
	v->dirfd = -1;
	v->lockfd = -1;
	return v;
}

void vault_free(vault *v)
{
	if (!v)
		return;
	if (v->unlocked)
		discard_staged(v, false);
	log_release(&v->log);
	catalog_release(&v->cat);
	free(v->staged.names);
	if (v->store)
		v->store->ops->free(v->store);
	if (v->keys)
		sodium_free(v->keys);
	if (v->lockfd >= 0)
		close(v->lockfd); /* releases the flock */
	if (v->dirfd >= 0)
		close(v->dirfd);
	free(v->dir);
	free(v);
}

const char *vault_id(const vault *v)
{
	return v->id_hex;
}

/* VAULT is a short text file: "evault-vault\nformat N\nid HEX\n". */
static vault_err read_vault_file(vault *v)
{
	unsigned char *buf = NULL;
	size_t len;
	unsigned format = 0;
	char idhex[33] = "";
	int rc = util_read_small(v->dirfd, "VAULT", VAULT_FILE_MAX, &buf, &len);

	if (rc == -ENOENT)
		return vault_fail(v, VAULT_E_NOVAULT,
				  "'%s' is not an evault vault (no VAULT file)",
				  v->dir);
	if (rc < 0)
		return vault_fail_errno(v, rc, "cannot read '%s/VAULT'", v->dir);
	/* Parsed, then written back and compared byte for byte: one exact
	 * spelling, so that no bit of VAULT can change unnoticed. */
	char again[128];
	if (sscanf((char *)buf, "evault-vault\nformat %u\nid %32[0-9a-f]\n",
		   &format, idhex) != 2 ||
	    strlen(idhex) != 32 ||
	    (size_t)snprintf(again, sizeof again,
			     "evault-vault\nformat %u\nid %s\n", format,
			     idhex) != len ||
	    memcmp(again, buf, len) != 0) {
		free(buf);
		return vault_fail(v, VAULT_E_CORRUPT,
				  "'%s/VAULT' is not a valid vault file", v->dir);
	}
	free(buf);
	if (format > VAULT_FORMAT_VERSION)
		return vault_fail(v, VAULT_E_VERSION,
				  "vault '%s' has format %u; this evault reads up to "
				  "format %u: upgrade evault",
				  v->dir, format, VAULT_FORMAT_VERSION);
	if (format == 0)
		return vault_fail(v, VAULT_E_CORRUPT, "'%s/VAULT': bad format 0",
				  v->dir);
	if (format < VAULT_FORMAT_VERSION)
		return vault_fail(v, VAULT_E_VERSION,
				  "vault '%s' has format %u, made by a development "
				  "version of evault before signed custody records; "
				  "this evault reads format %u only",
				  v->dir, format, VAULT_FORMAT_VERSION);
	util_unhex(v->id, sizeof v->id, idhex);
	memcpy(v->id_hex, idhex, sizeof v->id_hex);
	return VAULT_OK;
}

static vault_err take_lock(vault *v, const vault_open_opts *o)
{
	int op = (o->flags & VAULT_OPEN_WRITE) ? LOCK_EX : LOCK_SH;
	v->lockfd = openat(v->dirfd, "lock", O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (v->lockfd < 0)
		return vault_fail_errno(v, errno, "cannot open '%s/lock'", v->dir);
	if (flock(v->lockfd, op | LOCK_NB) == 0)
		return VAULT_OK;
	if (errno != EWOULDBLOCK)
		return vault_fail_errno(v, errno, "cannot lock '%s/lock'", v->dir);
	if (o->flags & VAULT_OPEN_NOWAIT)
		return vault_fail(v, VAULT_E_BUSY,
				  "vault '%s' is in use by another evault process",
				  v->dir);
	if (o->on_wait)
		o->on_wait(o->wait_ctx);
	while (flock(v->lockfd, op) < 0) {
		if (errno != EINTR)
			return vault_fail_errno(v, errno, "cannot lock '%s/lock'",
						v->dir);
	}
	return VAULT_OK;
}

/* Remove from `rel` the files an interrupted writer left: everything in
 * tmp/, and the "t-*" temporary files of atomic writes elsewhere.  Only
 * writers do this, under the exclusive lock, so no live operation owns
 * these files. */
static void clean_dir(vault *v, const char *rel, bool all)
{
	int fd = openat(v->dirfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (all || strncmp(e->d_name, "t-", 2) == 0)
			unlinkat(fd, e->d_name, 0);
	}
	closedir(d);
}

static void clean_tmp(vault *v)
{
	static const char *const dirs[] = {".", "keys", "log", "log/checkpoints",
					   "pub"};
	clean_dir(v, "tmp", true);
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
		clean_dir(v, dirs[i], false);
}

static vault_err open_dir(vault *v, const char *dir)
{
	free(v->dir);
	v->dir = strdup(dir);
	if (!v->dir)
		return vault_fail(v, VAULT_E_NOMEM, "out of memory");
	v->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (v->dirfd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return vault_fail(v, VAULT_E_NOVAULT,
					  "no vault at '%s': %s", dir,
					  strerror(errno));
		return vault_fail_errno(v, errno, "cannot open vault '%s'", dir);
	}
	return VAULT_OK;
}

vault_err vault_open(vault *v, const char *dir, const vault_open_opts *opts)
{
	vault_open_opts defaults = VAULT_OPEN_OPTS_INIT;
	vault_err e;

	if (!opts)
		opts = &defaults;
	if (v->dirfd >= 0)
		return vault_fail(v, VAULT_E_STATE, "handle already open");
	if ((e = open_dir(v, dir)) != VAULT_OK)
		return e;
	if ((e = read_vault_file(v)) != VAULT_OK)
		return e;
	if ((e = take_lock(v, opts)) != VAULT_OK)
		return e;
	/* Read VAULT again under the lock: a vault being created is complete
	 * only once its creator has released the lock. */
	if ((e = read_vault_file(v)) != VAULT_OK)
		return e;
	v->writable = (opts->flags & VAULT_OPEN_WRITE) != 0;
	if (v->writable)
		clean_tmp(v);
	v->store = backend_local_new(v->dirfd);
	if (!v->store)
		return vault_fail(v, VAULT_E_NOMEM, "out of memory");
	return VAULT_OK;
}

static vault_err make_layout(vault *v, const char *dir)
{
	static const char *const subdirs[] = {"keys", "objects", "log", "pub",
					      "hooks", "tmp"};
	struct stat st;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return vault_fail_errno(v, errno, "cannot create '%s'", dir);
	if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
		return vault_fail(v, VAULT_E_EXISTS,
				  "'%s' exists and is not a directory", dir);
	vault_err e = open_dir(v, dir);
	if (e != VAULT_OK)
		return e;
	if (fstatat(v->dirfd, "VAULT", &st, AT_SYMLINK_NOFOLLOW) == 0)
		return vault_fail(v, VAULT_E_EXISTS, "'%s' already holds a vault",
				  dir);
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *ent;
		int others = 0;
		while ((ent = readdir(d)) != NULL)
			if (strcmp(ent->d_name, ".") && strcmp(ent->d_name, ".."))
				others++;
		closedir(d);
		if (others)
			return vault_fail(v, VAULT_E_EXISTS,
					  "'%s' is not empty; a new vault needs an "
					  "empty or new directory",
					  dir);
	}
	for (size_t i = 0; i < sizeof subdirs / sizeof *subdirs; i++)
		if (mkdirat(v->dirfd, subdirs[i], 0700) < 0)
			return vault_fail_errno(v, errno, "cannot create '%s/%s'",
						dir, subdirs[i]);
	int fd = openat(v->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return vault_fail_errno(v, errno, "cannot create '%s/lock'", dir);
	v->lockfd = fd;
	if (flock(fd, LOCK_EX) < 0)
		return vault_fail_errno(v, errno, "cannot lock '%s/lock'", dir);
	return VAULT_OK;
}

vault_err vault_create(vault *v, const char *dir, const char *pass,
		       size_t passlen, vault_kdf kdf)
{
	char text[128];
	vault_err e;
	int rc;

	if (v->dirfd >= 0)
		return vault_fail(v, VAULT_E_STATE, "handle already open");
	if (passlen == 0)
		return vault_fail(v, VAULT_E_INVALID, "empty passphrase");
	if (!v->actor)
		return vault_fail(v, VAULT_E_STATE,
				  "no custodian key: a vault is created by a "
				  "custodian, who signs its first record (make a key "
				  "with 'evault key new NAME')");
	if ((e = make_layout(v, dir)) != VAULT_OK)
		return e;
	randombytes_buf(v->id, sizeof v->id);
	util_hex(v->id_hex, v->id, sizeof v->id);
	v->writable = true;
	v->store = backend_local_new(v->dirfd);
	if (!v->store)
		return vault_fail(v, VAULT_E_NOMEM, "out of memory");
	v->keys = sodium_malloc(sizeof *v->keys);
	if (!v->keys)
		return vault_fail(v, VAULT_E_NOMEM, "out of memory");
	randombytes_buf(v->keys->master, sizeof v->keys->master);
	keys_derive(v->keys);
	if ((e = keyslot_create(v, pass, passlen, kdf, "keys/slot-", NULL)) !=
	    VAULT_OK)
		return e;
	if ((e = log_create(v)) != VAULT_OK)
		return e;
	v->unlocked = true;
	/* VAULT is written last: until it exists the directory is not a
	 * vault, so a crash part-way leaves nothing that looks like one. */
	snprintf(text, sizeof text, "evault-vault\nformat %d\nid %s\n",
		 VAULT_FORMAT_VERSION, v->id_hex);
	rc = util_atomic_write(v->dirfd, "VAULT", text, strlen(text));
	if (rc < 0)
		return vault_fail_errno(v, rc, "cannot write '%s/VAULT'", dir);
	json_t *f = json_pack("{s:s,s:{s:s,s:s}}", "vault", v->id_hex,
			      "custodian", "name", vault_identity_name(v->actor),
			      "vkey", vault_identity_vkey(v->actor));
	if ((e = log_stage_json(v, "init", f)) != VAULT_OK)
		return e;
	return vault_commit(v);
}

vault_err vault_unlock(vault *v, const char *pass, size_t passlen)
{
	vault_err e;
	if (v->dirfd < 0 || !v->store)
		return vault_fail(v, VAULT_E_STATE, "vault not open");
	if (v->unlocked)
		return VAULT_OK;
	if (!v->keys) {
		v->keys = sodium_malloc(sizeof *v->keys);
		if (!v->keys)
			return vault_fail(v, VAULT_E_NOMEM, "out of memory");
	}
	if ((e = keyslot_unlock(v, pass, passlen)) != VAULT_OK)
		return e;
	keys_derive(v->keys);
	if ((e = log_load(v)) != VAULT_OK)
		return e;
	if ((e = keyslot_settle(v)) != VAULT_OK)
		return e;
	if (v->writable && v->log.nproblems == 0)
		custody_checkpoint_cleanup(v);
	v->unlocked = true;
	return VAULT_OK;
}

uint64_t vault_log_size(const vault *v)
{
	return v->log.size;
}

size_t vault_pending(const vault *v)
{
	return (size_t)v->log.pend_count;
}

vault_err vault_commit(vault *v)
{
	vault_err e;
	int rc;

	if (!v->unlocked || !v->writable)
		return vault_fail(v, VAULT_E_STATE, "vault not open for writing");
	if (v->log.pend_count == 0)
		return VAULT_OK;
	rc = v->store->ops->sync(v->store);
	if (rc < 0) {
		e = vault_fail_errno(v, rc, "cannot sync objects in '%s'", v->dir);
		goto rollback;
	}
	if ((e = log_commit(v)) != VAULT_OK)
		goto rollback;
	v->staged.n = 0;
	v->cat.committed = v->cat.n;
	return VAULT_OK;

rollback:
	discard_staged(v, true);
	return e;
}
