/*
 * util.c: small helpers the vault modules share: hex, little-endian
 * integers, Padmé padding, and the one way evault writes a file that must
 * survive a crash (temp file, fsync, rename, fsync of the directory).
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vault/internal.h"

void util_hex(char *out, const unsigned char *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int util_unhex(unsigned char *out, size_t n, const char *in)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(in[2 * i]), lo;
		if (hi < 0)
			return -1;
		lo = hexval(in[2 * i + 1]);
		if (lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* Padmé (Nikitin et al., PETS 2019): round a length up so that at most
 * O(log log L) bits of it show, costing at most about 12% of the size. */
void *util_page_alloc(size_t n)
{
	void *p = NULL;
	return posix_memalign(&p, 4096, n) == 0 ? p : NULL;
}

uint64_t util_padme(uint64_t len)
{
	if (len < 2)
		return len;
	unsigned e = 63 - (unsigned)__builtin_clzll(len);
	unsigned s = 32 - (unsigned)__builtin_clz(e);
	unsigned last = e - s;
	uint64_t mask = (1ULL << last) - 1;
	return (len + mask) & ~mask;
}

void util_le32(unsigned char *p, uint32_t x)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(x >> (8 * i));
}

void util_le64(unsigned char *p, uint64_t x)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(x >> (8 * i));
}

uint32_t util_get_le32(const unsigned char *p)
{
	uint32_t x = 0;
	for (int i = 3; i >= 0; i--)
		x = x << 8 | p[i];
	return x;
}

uint64_t util_get_le64(const unsigned char *p)
{
	uint64_t x = 0;
	for (int i = 7; i >= 0; i--)
		x = x << 8 | p[i];
	return x;
}

int util_write_all(int fd, const void *buf, size_t n)
{
	const unsigned char *p = buf;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (w == 0)
			return -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

ssize_t util_read_full(int fd, void *buf, size_t n)
{
	unsigned char *p = buf;
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int util_fsync_dir(int dirfd, const char *rel)
{
	int fd = openat(dirfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

int util_tmpfile(int dirfd, const char *tmpdir, char *rel, size_t relsize)
{
	for (int tries = 0; tries < 16; tries++) {
		unsigned char rnd[12];
		char hex[25];
		randombytes_buf(rnd, sizeof rnd);
		util_hex(hex, rnd, sizeof rnd);
		if ((size_t)snprintf(rel, relsize, "%s/t-%s", tmpdir, hex) >= relsize)
			return -ENAMETOOLONG;
		int fd = openat(dirfd, rel,
				O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
				0600);
		if (fd >= 0 || errno != EEXIST)
			return fd >= 0 ? fd : -errno;
	}
	return -EEXIST;
}

static void split_dir(const char *rel, char *dir, size_t n)
{
	const char *slash = strrchr(rel, '/');
	if (!slash) {
		snprintf(dir, n, ".");
		return;
	}
	snprintf(dir, n, "%.*s", (int)(slash - rel), rel);
}

int util_atomic_write(int dirfd, const char *rel, const void *buf, size_t n)
{
	char dir[256], tmp[300];
	int fd, rc;

	split_dir(rel, dir, sizeof dir);
	fd = util_tmpfile(dirfd, dir, tmp, sizeof tmp);
	if (fd < 0)
		return fd;
	rc = util_write_all(fd, buf, n);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && renameat(dirfd, tmp, dirfd, rel) < 0)
		rc = -errno;
	if (rc < 0) {
		unlinkat(dirfd, tmp, 0);
		return rc;
	}
	/* Renamed: the new content is in place whatever happens next.  A
	 * failed directory sync is reported as 1, not as an error, so that a
	 * caller never undoes what readers may already see. */
	return util_fsync_dir(dirfd, dir) < 0 ? 1 : 0;
}

int util_read_small(int dirfd, const char *rel, size_t max,
		    unsigned char **out, size_t *outlen)
{
	int fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	unsigned char *buf = malloc(max + 2);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	ssize_t r = util_read_full(fd, buf, max + 1);
	int saved = errno;
	close(fd);
	if (r < 0) {
		free(buf);
		return (int)r;
	}
	(void)saved;
	if ((size_t)r > max) {
		free(buf);
		return -EFBIG;
	}
	buf[r] = '\0';
	*out = buf;
	*outlen = (size_t)r;
	return 0;
}

void util_iso8601_now(char out[32])
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void tb_add(textbuf *t, const char *s, size_t n)
{
	if (t->failed)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 1024;
		while (cap < t->len + n + 1)
			cap *= 2;
		char *np = realloc(t->p, cap);
		if (!np) {
			t->failed = 1;
			return;
		}
		t->p = np;
		t->cap = cap;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

void tb_printf(textbuf *t, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		t->failed = 1;
	} else if ((size_t)n < sizeof small) {
		tb_add(t, small, (size_t)n);
	} else {
		char *big = malloc((size_t)n + 1);
		if (!big) {
			t->failed = 1;
			return;
		}
		va_start(ap, fmt);
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		va_end(ap);
		tb_add(t, big, (size_t)n);
		free(big);
	}
}

void tb_b64(textbuf *t, const unsigned char *b, size_t n)
{
	size_t len = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *s = malloc(len);
	if (!s) {
		t->failed = 1;
		return;
	}
	sodium_bin2base64(s, len, b, n, sodium_base64_VARIANT_ORIGINAL);
	tb_add(t, s, len - 1);
	free(s);
}

void tb_hash(textbuf *t, const unsigned char h[32])
{
	tb_b64(t, h, 32);
	tb_add(t, "\n", 1);
}
