/*
 * read.c: giving held items back: streamed to the caller (cat), or copied
 * to a file that appears only once every byte has been authenticated and
 * the SHA-256 and size match (extract).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vault/internal.h"

vault_err vault_item_read(vault *v, const vault_item *item, vault_sink_fn sink,
			  void *sink_ctx, vault_progress_fn progress,
			  void *progress_ctx)
{
	char file[128];
	if (!v->unlocked)
		return vault_fail(v, VAULT_E_STATE, "vault is locked");
	return object_decrypt(v, item, sink, sink_ctx, progress, progress_ctx,
			      file, sizeof file);
}

/* The sink runs on the pipeline's worker thread: keep its errno here. */
typedef struct {
	int fd;
	int err;
} fd_sink;

static int write_fd(void *ctx, const void *buf, size_t n)
{
	fd_sink *s = ctx;
	int rc = util_write_all(s->fd, buf, n);
	if (rc < 0) {
		s->err = -rc;
		return -1;
	}
	return 0;
}

vault_err vault_item_extract(vault *v, const vault_item *item,
			     const char *outpath, vault_progress_fn progress,
			     void *progress_ctx)
{
	char dir[PATH_MAX], tmp[PATH_MAX + 64], file[128];
	const char *slash = strrchr(outpath, '/');
	int fd, dfd;
	vault_err e;

	if (!v->unlocked)
		return vault_fail(v, VAULT_E_STATE, "vault is locked");
	if (slash)
		snprintf(dir, sizeof dir, "%.*s",
			 (int)(slash == outpath ? 1 : slash - outpath), outpath);
	else
		snprintf(dir, sizeof dir, ".");
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return vault_fail_errno(v, errno, "cannot write '%s'", outpath);
	fd = util_tmpfile(dfd, ".", tmp, sizeof tmp);
	if (fd < 0) {
		close(dfd);
		return vault_fail_errno(v, fd, "cannot create a file in '%s'", dir);
	}
	fd_sink sink = {fd, 0};
	e = object_decrypt(v, item, write_fd, &sink, progress, progress_ctx,
			   file, sizeof file);
	if (e == VAULT_E_WRITE)
		e = vault_fail_errno(v, sink.err ? sink.err : EIO,
				     "cannot write '%s'", outpath);
	if (e == VAULT_OK && fsync(fd) < 0)
		e = vault_fail_errno(v, errno, "cannot write '%s'", outpath);
	close(fd);
	if (e == VAULT_OK && renameat(dfd, tmp, AT_FDCWD, outpath) < 0)
		e = vault_fail_errno(v, errno, "cannot rename into '%s'", outpath);
	if (e != VAULT_OK)
		unlinkat(dfd, tmp, 0);
	else
		fsync(dfd);
	close(dfd);
	return e;
}

/* The metadata document: small (at most VAULT_PROBE_DOC_MAX), so it is
 * read into memory, where object_decrypt checks it against the SHA-256
 * and size its ingest record signed. */
typedef struct {
	char *buf;
	size_t len, cap;
} mem_sink;

static int append(void *ctx, const void *buf, size_t n)
{
	mem_sink *m = ctx;
	if (n > m->cap - m->len)
		return -1; /* longer than the record says: corrupt */
	memcpy(m->buf + m->len, buf, n);
	m->len += n;
	return 0;
}

vault_err vault_item_meta(vault *v, const vault_item *item, char **doc,
			  size_t *len)
{
	char file[128];
	if (!v->unlocked)
		return vault_fail(v, VAULT_E_STATE, "vault is locked");
	if (!item->meta[0])
		return vault_fail(v, VAULT_E_NOTFOUND, "item %.16s has no metadata "
				  "document%s%s", item->id,
				  item->probe_error ? ": " : "",
				  item->probe_error ? item->probe_error : "");
	vault_item m;
	memset(&m, 0, sizeof m);
	memcpy(m.id, item->meta, sizeof m.id);
	m.size = item->meta_size;
	mem_sink s = {malloc(item->meta_size + 1), 0, item->meta_size};
	if (!s.buf)
		return vault_fail(v, VAULT_E_NOMEM, "out of memory");
	vault_err e = object_decrypt(v, &m, append, &s, NULL, NULL, file,
				     sizeof file);
	if (e != VAULT_OK) {
		char why[sizeof v->err];
		snprintf(why, sizeof why, "%s", v->err);
		free(s.buf);
		return vault_fail(v, e, "metadata of item %.16s: %s", item->id,
				  why);
	}
	s.buf[s.len] = '\0';
	*doc = s.buf;
	*len = s.len;
	return VAULT_OK;
}
