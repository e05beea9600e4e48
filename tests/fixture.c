/*
 * fixture.c: the per-test temporary directory and vault of the unit tests
 * (see fixture.h).  Each run makes one directory with mkdtemp under $TMPDIR
 * (or /tmp), each test its own directory inside it; both are removed
 * depth-first without following links, so a test that plants a FIFO or a
 * symbolic link cleans up like any other.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"

char fx_root[PATH_MAX - 64]; /* room for "/vault" in fx_vdir */
char fx_vdir[PATH_MAX];
vault *fx_v;

static void **kept;
static size_t nkept, capkept;

void *fx_keep(void *p)
{
	ck_assert_ptr_nonnull(p);
	if (nkept == capkept) {
		size_t cap = capkept ? capkept * 2 : 32;
		void **np = realloc(kept, cap * sizeof *np);
		ck_assert_ptr_nonnull(np);
		kept = np;
		capkept = cap;
	}
	kept[nkept++] = p;
	return p;
}

static vault *handles[16];

/* Every record is signed by a custodian: the tests act as "fixture",
 * whose key is made once per run (in fx_run, before the tests fork) and
 * set on every handle the fixture hands out. */
vault_identity *fx_id;

static void make_identity(const char *dir)
{
	char path[PATH_MAX];
	vault *v = vault_new();
	snprintf(path, sizeof path, "%s/fixture.key", dir);
	if (!v ||
	    vault_identity_create(v, "fixture", 0, FX_PASS, FX_PASSLEN,
				  VAULT_KDF_INTERACTIVE, path, NULL, 0) != VAULT_OK ||
	    vault_identity_open(v, path, FX_PASS, FX_PASSLEN, &fx_id) != VAULT_OK)
		fprintf(stderr, "fixture: cannot make the custodian key: %s\n",
			v ? vault_errmsg(v) : "out of memory");
	vault_free(v);
}

vault *fx_new(void)
{
	vault *v = vault_new();
	ck_assert_ptr_nonnull(v);
	if (!fx_id)
		make_identity(fx_root);
	vault_set_identity(v, fx_id);
	return v;
}

vault *fx_handle(void)
{
	for (size_t i = 0; i < sizeof handles / sizeof *handles; i++) {
		if (!handles[i]) {
			handles[i] = fx_new();
			return handles[i];
		}
	}
	ck_abort_msg("too many vault handles in one test");
	return NULL;
}

void fx_handle_free(vault *v)
{
	for (size_t i = 0; i < sizeof handles / sizeof *handles; i++)
		if (handles[i] == v)
			handles[i] = NULL;
	vault_free(v);
}

static void release_kept(void)
{
	for (size_t i = 0; i < nkept; i++)
		free(kept[i]);
	free(kept);
	kept = NULL;
	nkept = capkept = 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) < 0)
		fprintf(stderr, "fixture: cannot remove %s: %s\n", path,
			strerror(errno));
	return 0;
}

/* The run's directory, made by fx_run() in the parent process: each test
 * makes its own directory inside it.  A test whose process ends without
 * teardown (a failed assertion in CK_FORK mode exits at once; a crash)
 * leaves its directory there, and fx_run() removes the lot at the end. */
static char run_base[PATH_MAX - 128];

static void remove_tree(char *path)
{
	if (path[0]) {
		nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
		path[0] = '\0';
	}
}

void fx_tmp_setup(void)
{
	const char *base = run_base;

	if (!base[0]) {
		base = getenv("TMPDIR");
		if (!base || !*base)
			base = "/tmp";
	}
	ck_assert_int_lt(snprintf(fx_root, sizeof fx_root, "%s/%s-XXXXXX", base,
				  run_base[0] ? "test" : "evault-test"),
			 (int)sizeof fx_root);
	ck_assert_msg(mkdtemp(fx_root) != NULL, "mkdtemp %s: %s", fx_root,
		      strerror(errno));
	snprintf(fx_vdir, sizeof fx_vdir, "%s/vault", fx_root);
	fx_v = NULL;
}

void fx_vault_setup(void)
{
	vault_err e;

	fx_tmp_setup();
	fx_v = fx_new();
	e = vault_create(fx_v, fx_vdir, FX_PASS, FX_PASSLEN,
			 VAULT_KDF_INTERACTIVE);
	ck_assert_msg(e == VAULT_OK, "vault_create: %s: %s", vault_strerror(e),
		      vault_errmsg(fx_v));
}

void fx_teardown(void)
{
	vault_free(fx_v);
	fx_v = NULL;
	for (size_t i = 0; i < sizeof handles / sizeof *handles; i++) {
		vault_free(handles[i]);
		handles[i] = NULL;
	}
	release_kept();
	remove_tree(fx_root);
}

void fx_tcase_tmp(TCase *tc)
{
	tcase_add_checked_fixture(tc, fx_tmp_setup, fx_teardown);
	tcase_set_timeout(tc, FX_TIMEOUT);
}

void fx_tcase_vault(TCase *tc)
{
	tcase_add_checked_fixture(tc, fx_vault_setup, fx_teardown);
	tcase_set_timeout(tc, FX_TIMEOUT);
}

static char *join(const char *dir, const char *rel)
{
	size_t n = strlen(dir) + strlen(rel) + 2;
	char *p = fx_keep(malloc(n));
	snprintf(p, n, "%s/%s", dir, rel);
	return p;
}

char *fx_path(const char *rel)
{
	return join(fx_root, rel);
}

char *fx_vpath(const char *rel)
{
	return join(fx_vdir, rel);
}

/* splitmix64: a fixed, well-mixed sequence from any seed. */
void fx_fill(unsigned char *buf, size_t n, uint64_t seed)
{
	uint64_t x = seed;
	for (size_t i = 0; i < n; i += 8) {
		uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		z ^= z >> 31;
		for (size_t k = 0; k < 8 && i + k < n; k++)
			buf[i + k] = (unsigned char)(z >> (8 * k));
	}
}

unsigned char *fx_random(size_t n, uint64_t seed)
{
	unsigned char *p = fx_keep(malloc(n ? n : 1));
	fx_fill(p, n, seed);
	return p;
}

char *fx_write_file(const char *rel, const void *data, size_t len)
{
	char *path = fx_path(rel);
	const unsigned char *p = data;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_msg(fd >= 0, "cannot create %s: %s", path, strerror(errno));
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		ck_assert_msg(w > 0, "cannot write %s: %s", path,
			      strerror(errno));
		p += w;
		len -= (size_t)w;
	}
	ck_assert_int_eq(close(fd), 0);
	return path;
}

char *fx_write_random(const char *rel, size_t n, uint64_t seed,
		      unsigned char **data)
{
	unsigned char *buf = fx_random(n, seed);
	char *path = fx_write_file(rel, buf, n);
	if (data)
		*data = buf;
	return path;
}

int fx_read_file(const char *path, unsigned char **data, size_t *len)
{
	struct stat st;
	unsigned char *buf;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int err = errno;
		close(fd);
		return -err;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size + 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = errno;
			free(buf);
			close(fd);
			return -err;
		}
		if (r == 0)
			break;
		got += (size_t)r;
		if (got > (size_t)st.st_size) {
			/* The file grew while being read. */
			free(buf);
			close(fd);
			return -EAGAIN;
		}
	}
	close(fd);
	*data = buf;
	*len = got;
	return 0;
}

long long fx_file_size(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return -1;
	return (long long)st.st_size;
}

int fx_dir_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

vault *fx_reopen(unsigned flags)
{
	vault_open_opts o = VAULT_OPEN_OPTS_INIT;
	vault_err e;

	vault_free(fx_v);
	fx_v = fx_new();
	o.flags = flags;
	e = vault_open(fx_v, fx_vdir, &o);
	ck_assert_msg(e == VAULT_OK, "vault_open: %s: %s", vault_strerror(e),
		      vault_errmsg(fx_v));
	e = vault_unlock(fx_v, FX_PASS, FX_PASSLEN);
	ck_assert_msg(e == VAULT_OK, "vault_unlock: %s: %s", vault_strerror(e),
		      vault_errmsg(fx_v));
	return fx_v;
}

const char *fx_corpus(char *why, size_t whysize)
{
	const char *dir = getenv("EVAULT_CORPUS");
	char manifest[PATH_MAX];
	struct stat st;

	if (!dir || !*dir) {
		snprintf(why, whysize, "EVAULT_CORPUS is not set");
		return NULL;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(why, whysize, "EVAULT_CORPUS '%s' is not a directory",
			 dir);
		return NULL;
	}
	snprintf(manifest, sizeof manifest, "%s/MANIFEST.tsv", dir);
	if (access(manifest, R_OK) < 0) {
		snprintf(why, whysize, "'%s' cannot be read", manifest);
		return NULL;
	}
	return dir;
}

int fx_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	const char *tmp = getenv("TMPDIR");
	int failed;

	if (!tmp || !*tmp)
		tmp = "/tmp";
	if ((size_t)snprintf(run_base, sizeof run_base, "%s/evault-test-XXXXXX",
			     tmp) >= sizeof run_base ||
	    !mkdtemp(run_base)) {
		fprintf(stderr, "fixture: cannot make a directory in %s: %s\n",
			tmp, strerror(errno));
		run_base[0] = '\0';
	}
	make_identity(run_base[0] ? run_base : tmp);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	vault_identity_free(fx_id);
	fx_id = NULL;
	remove_tree(run_base);
	return failed == 0 ? 0 : 1;
}
