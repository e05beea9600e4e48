/*
 * backend-local.c: the object store in the vault's own directory, as git
 * keeps loose objects: objects/<first 2 hex digits>/<64 hex digits>.
 * A finished object is renamed in from tmp/ (same file system), and the
 * fan-out directories touched are synced when the operation commits.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vault/internal.h"

typedef struct {
	vault_backend base;
	int dirfd;
	unsigned char dirty[32]; /* bitmap of fan-out dirs to fsync */
} local_backend;

typedef struct {
	vault_stream base;
	int fd;
} local_stream;

static void object_path(const char *name, char *buf, size_t n)
{
	snprintf(buf, n, "objects/%.2s/%s", name, name);
}

static int local_put(vault_backend *b, const char *tmp_path, const char *name,
		     int *existed)
{
	local_backend *l = (local_backend *)b;
	char dir[16], path[96];
	struct stat st;
	unsigned byte;

	snprintf(dir, sizeof dir, "objects/%.2s", name);
	if (mkdirat(l->dirfd, dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	object_path(name, path, sizeof path);
	*existed = fstatat(l->dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (renameat(l->dirfd, tmp_path, l->dirfd, path) < 0)
		return -errno;
	if (sscanf(name, "%2x", &byte) == 1)
		l->dirty[byte >> 3] |= (unsigned char)(1u << (byte & 7));
	return 0;
}

static ssize_t local_read(vault_stream *s, void *buf, size_t n)
{
	return util_read_full(((local_stream *)s)->fd, buf, n);
}

static void local_close(vault_stream *s)
{
	if (!s)
		return;
	close(((local_stream *)s)->fd);
	free(s);
}

static int local_get(vault_backend *b, const char *name, vault_stream **out,
		     uint64_t *size)
{
	local_backend *l = (local_backend *)b;
	char path[96];
	struct stat st;
	object_path(name, path, sizeof path);
	int fd = openat(l->dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int err = errno ? errno : EINVAL;
		close(fd);
		return -err;
	}
	local_stream *s = malloc(sizeof *s);
	if (!s) {
		close(fd);
		return -ENOMEM;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	s->base.read = local_read;
	s->base.close = local_close;
	s->fd = fd;
	*out = &s->base;
	*size = (uint64_t)st.st_size;
	return 0;
}

static int local_remove(vault_backend *b, const char *name)
{
	local_backend *l = (local_backend *)b;
	char path[96];
	object_path(name, path, sizeof path);
	return unlinkat(l->dirfd, path, 0) < 0 ? -errno : 0;
}

/* Make every object placed since the last sync durable, data and
 * directory entries: one syncfs() of the vault's file system per commit
 * (objects are not synced one by one; their write-back was started while
 * they were written, bench/README.md has the figures).  A write-back
 * error fails the commit.  Where syncfs cannot run at all, sync() and an
 * fsync of each touched fan-out directory stand in for it. */
static int local_sync(vault_backend *b)
{
	local_backend *l = (local_backend *)b;
	char dir[16];
	int rc = 0;
	if (syncfs(l->dirfd) == 0) {
		memset(l->dirty, 0, sizeof l->dirty);
		return 0;
	}
	if (errno == EIO || errno == ENOSPC || errno == EDQUOT)
		return -errno; /* write-back failed: the commit must not stand */
	sync();
	for (unsigned i = 0; i < 256; i++) {
		if (!(l->dirty[i >> 3] & (1u << (i & 7))))
			continue;
		snprintf(dir, sizeof dir, "objects/%02x", i);
		int r = util_fsync_dir(l->dirfd, dir);
		if (r < 0 && rc == 0)
			rc = r;
	}
	if (rc == 0) {
		rc = util_fsync_dir(l->dirfd, "objects");
		memset(l->dirty, 0, sizeof l->dirty);
	}
	return rc;
}

static int local_list(vault_backend *b, int (*fn)(void *ctx, const char *name),
		      void *ctx)
{
	local_backend *l = (local_backend *)b;
	int fd = openat(l->dirfd, "objects", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *top = fdopendir(fd);
	if (!top) {
		close(fd);
		return -errno;
	}
	struct dirent *e;
	int stop = 0;
	while (!stop && (e = readdir(top)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		int sfd = openat(fd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sfd < 0) {
			stop = fn(ctx, e->d_name); /* a stray file in objects/ */
			continue;
		}
		DIR *sub = fdopendir(sfd);
		if (!sub) {
			close(sfd);
			continue;
		}
		struct dirent *f;
		while (!stop && (f = readdir(sub)) != NULL)
			if (f->d_name[0] != '.')
				stop = fn(ctx, f->d_name);
		closedir(sub);
	}
	closedir(top);
	return 0;
}

static void local_locate(vault_backend *b, const char *name, char *buf,
			 size_t n)
{
	(void)b;
	object_path(name, buf, n);
}

static void local_free(vault_backend *b)
{
	free(b);
}

static const struct vault_backend_ops local_ops = {
	"local", local_put, local_get, local_remove, local_sync, local_list,
	local_locate, local_free,
};

vault_backend *backend_local_new(int dirfd)
{
	local_backend *l = calloc(1, sizeof *l);
	if (!l)
		return NULL;
	l->base.ops = &local_ops;
	l->dirfd = dirfd;
	return &l->base;
}
