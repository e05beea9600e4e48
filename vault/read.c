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
