/*
 * ingest.c: taking a file into the vault in one streaming pass.
 *
 * The calling thread reads the source in 1 MiB blocks and hashes them
 * (SHA-256, OpenSSL: SHA-NI where the CPU has it); a worker thread seals
 * them into an object under tmp/ (object.c).  Memory stays at a few MiB
 * whatever the file's size.  The source is checked before and after: its
 * size, modification and change times must not move and the bytes read
 * must equal its size, or the ingest is refused as "changed while
 * reading".  Once the SHA-256 is known the object is renamed to its keyed
 * name, unless the catalogue already holds those bytes, and an ingest
 * record is staged; vault_commit() makes it all durable at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "vault/internal.h"

#define INGEST_BLOCK ((size_t)OBJ_BATCH * OBJ_CHUNK)
#define INGEST_BUFFERS 4

/* Three stages: this thread reads and hashes, the sealer thread
 * encrypts, the writer thread copies ciphertext into the temp file (the
 * kernel's copy into the page cache costs as much as the encryption). */
typedef struct {
	object_enc enc;
	vpipe *out;     /* sealer -> writer */
	int fd;
	uint64_t written, synced;
} ingest_sink;

#define WRITEBACK_STEP (8u << 20)

static int write_block(void *ctx, vpipe_buf *b)
{
	ingest_sink *s = ctx;
	int rc = util_write_all(s->fd, b->data, b->len);
	if (rc < 0)
		return rc;
	s->written += b->len;
	/* Start write-back as we go, so the final fdatasync has little
	 * left to do. */
	if (s->written - s->synced >= WRITEBACK_STEP) {
		sync_file_range(s->fd, (off_t)s->synced,
				(off_t)(s->written - s->synced),
				SYNC_FILE_RANGE_WRITE);
		s->synced = s->written;
	}
	return 0;
}

/* The encoder's output goes to the writer stage, in order. */
static int queue_ciphertext(void *ctx, const void *buf, size_t n)
{
	ingest_sink *s = ctx;
	const unsigned char *p = buf;
	while (n > 0) {
		vpipe_buf *b = vpipe_get(s->out);
		if (!b)
			return -EIO; /* the writer failed: reported on finish */
		size_t take = n < b->cap ? n : b->cap;
		memcpy(b->data, p, take);
		b->len = take;
		vpipe_put(s->out, b);
		p += take;
		n -= take;
	}
	return 0;
}

static int seal_block(void *ctx, vpipe_buf *b)
{
	return object_enc_update(&((ingest_sink *)ctx)->enc, b->data, b->len);
}

static const char *file_kind(mode_t m)
{
	if (S_ISDIR(m))
		return "is a directory";
	if (S_ISFIFO(m))
		return "is a FIFO (named pipe); only regular files are ingested";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "is a device; only regular files are ingested";
	if (S_ISSOCK(m))
		return "is a socket; only regular files are ingested";
	if (S_ISLNK(m))
		return "is a symbolic link (not followed)";
	return "is not a regular file";
}

static int same_file_state(const struct stat *a, const struct stat *b)
{
	return a->st_size == b->st_size && a->st_ino == b->st_ino &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Open the source without following a symbolic link and without blocking
 * on a FIFO, and accept only a regular file. */
static vault_err open_source(vault *v, const char *path, int *fdout,
			     struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
				    O_NOCTTY);
	if (fd < 0) {
		if (errno == ELOOP)
			return vault_fail(v, VAULT_E_FILETYPE,
					  "'%s' is a symbolic link (not followed)",
					  path);
		return vault_fail_errno(v, errno, "cannot open '%s'", path);
	}
	if (fstat(fd, st) < 0) {
		int err = errno;
		close(fd);
		return vault_fail_errno(v, err, "cannot stat '%s'", path);
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return vault_fail(v, VAULT_E_FILETYPE, "'%s' %s", path,
				  file_kind(st->st_mode));
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	*fdout = fd;
	return VAULT_OK;
}

/* Read, hash and seal the whole source into the open temp file. */
static vault_err stream_source(vault *v, const char *path, int fd,
			       ingest_sink *sink, uint64_t expect,
			       unsigned char sha[32], char type[48],
			       uint64_t *total, const vault_ingest_opts *o)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	vpipe *p = vpipe_new(INGEST_BUFFERS, INGEST_BLOCK, seal_block, sink);
	vault_err e = VAULT_OK;
	int first = 1, rc;

	*total = 0;
	if (!md || !p || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		e = vault_fail(v, VAULT_E_NOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		vpipe_buf *b = vpipe_get(p);
		if (!b)
			break; /* sealing failed: reported below */
		ssize_t r = util_read_full(fd, b->data, b->cap);
		if (r < 0) {
			vpipe_put(p, b);
			e = vault_fail_errno(v, (int)r, "cannot read '%s'", path);
			break;
		}
		b->len = (size_t)r;
		if (first) {
			sniff_type(b->data, b->len, type);
			first = 0;
		}
		EVP_DigestUpdate(md, b->data, b->len);
		*total += b->len;
		vpipe_put(p, b);
		if (o->progress)
			o->progress(o->progress_ctx, *total, expect);
		if ((size_t)r < b->cap)
			break;
		if (*total > expect)
			break; /* growing: caught by the size check */
	}
	rc = vpipe_finish(p);
	if (rc == -EIO && sink->out) {
		/* The sealer stopped because the writer failed: say why. */
		int wrc = vpipe_finish(sink->out);
		if (wrc != 0)
			rc = wrc;
	}
	if (e == VAULT_OK && rc != 0)
		e = vault_fail_errno(v, rc, "cannot write the object for '%s' in "
					    "'%s/tmp'",
				     path, v->dir);
	if (e == VAULT_OK)
		EVP_DigestFinal_ex(md, sha, NULL);
out:
	vpipe_free(p);
	EVP_MD_CTX_free(md);
	return e;
}

/* Move the sealed temp file `tmp` to the object `name`, and remember it
 * as staged (removed again if the commit does not happen). */
static vault_err put_object(vault *v, const char *tmp, const char *name,
			    const char *path)
{
	int existed = 0;
	int rc = v->store->ops->put(v->store, tmp, name, &existed);
	if (rc < 0)
		return vault_fail_errno(v, rc, "cannot store the object for '%s'",
					path);
	if (existed)
		return VAULT_OK;
	vault_staged *s = &v->staged;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		void *np = realloc(s->names, cap * sizeof *s->names);
		if (!np) {
			v->store->ops->remove(v->store, name);
			return vault_fail(v, VAULT_E_NOMEM, "out of memory");
		}
		s->names = np;
		s->cap = cap;
	}
	memcpy(s->names[s->n++], name, 65);
	return VAULT_OK;
}

static int write_fd(void *ctx, const void *buf, size_t n)
{
	return util_write_all(*(int *)ctx, buf, n);
}

/* Seal `len` bytes held in memory (a metadata document) as an object;
 * its SHA-256 in hex to `id`. */
static vault_err store_buffer(vault *v, const void *buf, size_t len,
			      const char *path, char id[65])
{
	unsigned char sha[32];
	char tmp[96], name[65];
	object_enc enc;
	int rc;

	EVP_Digest(buf, len, sha, NULL, EVP_sha256(), NULL);
	int fd = util_tmpfile(v->dirfd, "tmp", tmp, sizeof tmp);
	if (fd < 0)
		return vault_fail_errno(v, fd, "cannot create a file in '%s/tmp'",
					v->dir);
	rc = object_enc_begin(&enc, v->keys->object, write_fd, &fd);
	if (rc == 0)
		rc = object_enc_update(&enc, buf, len);
	if (rc == 0)
		rc = object_enc_final(&enc, len, sha);
	object_enc_release(&enc);
	close(fd);
	if (rc != 0) {
		unlinkat(v->dirfd, tmp, 0);
		return vault_fail_errno(v, rc, "cannot write the metadata of '%s'",
					path);
	}
	util_hex(id, sha, 32);
	object_name(v, sha, name);
	vault_err e = put_object(v, tmp, name, path);
	if (e != VAULT_OK)
		unlinkat(v->dirfd, tmp, 0);
	return e;
}

/* What the probe found, for the ingest record. */
typedef struct {
	json_t *probe; /* the record's item.probe, or NULL (no probe run) */
} ingest_meta;

/* Collect the probe's answer for the file just read; check that it
 * describes the very bytes stored (its SHA-256 and size), store it, and
 * say what went wrong, if anything, in item.probe.error. */
static void take_probe_answer(vault *v, vault_probe *p, const char *path,
			      vault_ingest_result *r, ingest_meta *meta)
{
	vault_probe_result pr;
	json_t *doc = NULL;
	char id[65];

	vault_probe_end(p, &pr);
	meta->probe = json_object();
	if (pr.doc) {
		json_error_t je;
		doc = json_loadb(pr.doc, pr.len, JSON_REJECT_DUPLICATES, &je);
		const char *sha = json_string_value(json_object_get(doc, "sha256"));
		json_t *size = json_object_get(doc, "size");
		if (!json_is_object(doc))
			snprintf(pr.error, sizeof pr.error,
				 "the probe's answer is not JSON (%s)", je.text);
		else if (!sha || strcmp(sha, r->id) != 0 || !json_is_integer(size) ||
			 (uint64_t)json_integer_value(size) != r->size)
			snprintf(pr.error, sizeof pr.error,
				 "the probe read other bytes than were stored "
				 "(the file changed under it?)");
	}
	if (doc && !pr.error[0]) {
		if (store_buffer(v, pr.doc, pr.len, path, id) == VAULT_OK) {
			json_object_set_new(meta->probe, "meta", json_string(id));
			json_object_set_new(meta->probe, "meta_size",
					    json_integer((json_int_t)pr.len));
			r->probed = 1;
			/* The probe's type, if it is one: a media type in plain
			 * characters, as sniff_type() writes them. */
			const char *t = json_string_value(json_object_get(doc, "type"));
			if (t && strlen(t) < sizeof r->type && strchr(t, '/') &&
			    strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789/.-+") ==
				    strlen(t))
				snprintf(r->type, sizeof r->type, "%s", t);
		} else {
			snprintf(pr.error, sizeof pr.error,
				 "the metadata could not be stored: %.200s", v->err);
		}
		/* The first error a parser reported, for listings. */
		const char *first = json_string_value(
			json_array_get(json_object_get(doc, "errors"), 0));
		if (first && !pr.error[0])
			snprintf(pr.error, sizeof pr.error, "%s", first);
	}
	if (pr.error[0]) {
		json_object_set_new(meta->probe, "error", json_string(pr.error));
		snprintf(r->probe_error, sizeof r->probe_error, "%s", pr.error);
	}
	json_decref(doc);
	vault_probe_result_free(&pr);
}

static const char *base_name(const char *path)
{
	size_t len = strlen(path);
	while (len > 1 && path[len - 1] == '/')
		len--;
	const char *s = path + len;
	while (s > path && s[-1] != '/')
		s--;
	return s;
}

static vault_err stage_record(vault *v, const char *path, const struct stat *st,
			      const vault_ingest_result *r,
			      const ingest_meta *meta,
			      const vault_ingest_opts *o)
{
	json_t *item = json_object(), *fields = json_object();
	char name[4096];
	const char *b = base_name(path);
	size_t blen = strcspn(b, "/");

	if (!item || !fields) {
		json_decref(item);
		json_decref(fields);
		return vault_fail(v, VAULT_E_NOMEM, "out of memory");
	}
	snprintf(name, sizeof name, "%.*s", (int)blen, b);
	json_object_set_new(item, "sha256", json_string(r->id));
	json_object_set_new(item, "size", json_integer((json_int_t)r->size));
	json_object_set_new(item, "type", json_string(r->type));
	/* File names need not be UTF-8; jansson refuses those, so keep such
	 * names as a lossless escape ("\xNN") of every byte outside ASCII. */
	json_t *jn = json_string(name), *jp = json_string(path);
	if (!jn || !jp) {
		char esc[4 * 4096 + 1];
		size_t k = 0;
		const char *srcs[2] = {name, path};
		json_t **dst[2] = {&jn, &jp};
		for (int i = 0; i < 2; i++) {
			if (*dst[i])
				continue;
			k = 0;
			for (const unsigned char *c = (const unsigned char *)srcs[i];
			     *c && k + 5 < sizeof esc; c++) {
				if (*c >= 0x80)
					k += (size_t)snprintf(esc + k, 5, "\\x%02x", *c);
				else
					esc[k++] = (char)*c;
			}
			esc[k] = '\0';
			*dst[i] = json_string(esc);
		}
	}
	json_object_set_new(item, "name", jn);
	json_object_set_new(item, "path", jp);
	json_object_set_new(item, "mtime", json_integer(st->st_mtim.tv_sec));
	if (o->case_name)
		json_object_set_new(item, "case", json_string(o->case_name));
	if (o->source)
		json_object_set_new(item, "source", json_string(o->source));
	if (o->note)
		json_object_set_new(item, "note", json_string(o->note));
	json_object_set_new(item, "already_held", json_boolean(r->already_held));
	if (r->restored)
		json_object_set_new(item, "restored", json_true());
	if (meta->probe && json_object_size(meta->probe))
		json_object_set(item, "probe", meta->probe);
	json_object_set_new(fields, "item", item);
	return log_stage_json(v, "ingest", fields);
}

vault_err vault_ingest_file(vault *v, const char *path,
			    const vault_ingest_opts *opts,
			    vault_ingest_result *out)
{
	vault_ingest_opts defaults = VAULT_INGEST_OPTS_INIT;
	vault_ingest_result r;
	ingest_sink sink = {.fd = -1};
	struct stat before, after;
	unsigned char sha[32];
	char tmp[96], name[65];
	uint64_t total = 0;
	int src = -1, rc, probing = 0;
	ingest_meta meta = {NULL};
	vault_err e;

	if (!opts)
		opts = &defaults;
	memset(&r, 0, sizeof r);
	if (!v->unlocked || !v->writable)
		return vault_fail(v, VAULT_E_STATE, "vault not open for writing");
	if (v->log.nproblems > 0)
		return vault_fail(v, VAULT_E_CORRUPT,
				  "the log of '%s' is damaged; refusing to add to "
				  "it: run 'evault verify'",
				  v->dir);
	if ((e = open_source(v, path, &src, &before)) != VAULT_OK)
		return e;
	/* The probe parses the file on the other side while we read it. */
	if (opts->probe) {
		vault_probe_begin(opts->probe, src, 0);
		probing = 1;
	}
	sink.fd = util_tmpfile(v->dirfd, "tmp", tmp, sizeof tmp);
	if (sink.fd < 0) {
		e = vault_fail_errno(v, sink.fd, "cannot create a file in '%s/tmp'",
				     v->dir);
		sink.fd = -1;
		goto fail;
	}
	sink.out = vpipe_new(INGEST_BUFFERS, (size_t)OBJ_BATCH * OBJ_CHUNK_CT,
			     write_block, &sink);
	if (!sink.out) {
		e = vault_fail(v, VAULT_E_NOMEM, "out of memory");
		goto fail;
	}
	if ((rc = object_enc_begin(&sink.enc, v->keys->object, queue_ciphertext,
				   &sink)) != 0) {
		e = vault_fail_errno(v, rc, "cannot write in '%s/tmp'", v->dir);
		goto fail;
	}
	e = stream_source(v, path, src, &sink, (uint64_t)before.st_size, sha,
			  r.type, &total, opts);
	if (e != VAULT_OK)
		goto fail;
	if (fstat(src, &after) < 0 || !same_file_state(&before, &after) ||
	    total != (uint64_t)before.st_size) {
		e = vault_fail(v, VAULT_E_CHANGED,
			       "'%s' changed while it was being read (size or "
			       "times moved); not ingested: ingest it again once "
			       "it is complete",
			       path);
		goto fail;
	}
	rc = object_enc_final(&sink.enc, total, sha);
	/* The writer's own error (ENOSPC...) beats the sealer's stand-in. */
	int wrc = vpipe_finish(sink.out);
	if (wrc != 0)
		rc = wrc;
	/* Not synced here: the commit syncs the file system once for every
	 * object of the batch (backend sync) before the state moves. */
	if (rc != 0) {
		e = vault_fail_errno(v, rc, "cannot write the object for '%s'",
				     path);
		goto fail;
	}
	close(sink.fd);
	sink.fd = -1;
	object_enc_release(&sink.enc);
	vpipe_free(sink.out);
	sink.out = NULL;
	close(src);
	src = -1;

	util_hex(r.id, sha, 32);
	r.size = total;
	object_name(v, sha, name);
	r.already_held = catalog_lookup(&v->cat, r.id) != NULL;
	if (r.already_held) {
		/* Held: keep the stored object, unless it has gone missing, in
		 * which case these very bytes restore it. */
		vault_stream *s = NULL;
		uint64_t sz;
		rc = v->store->ops->get(v->store, name, &s, &sz);
		if (s)
			s->close(s);
		r.restored = rc == -ENOENT;
	}
	if (r.already_held && !r.restored) {
		unlinkat(v->dirfd, tmp, 0);
	} else {
		e = put_object(v, tmp, name, path);
		if (e != VAULT_OK)
			goto fail;
	}
	if (probing && r.already_held) {
		/* Held already, with the metadata of its first ingest. */
		vault_probe_result pr;
		vault_probe_end(opts->probe, &pr);
		vault_probe_result_free(&pr);
	} else if (probing) {
		take_probe_answer(v, opts->probe, path, &r, &meta);
	}
	probing = 0;
	e = stage_record(v, path, &before, &r, &meta, opts);
	json_decref(meta.probe);
	if (e != VAULT_OK)
		return e;
	*out = r;
	return VAULT_OK;

fail:
	if (probing) {
		vault_probe_result pr;
		vault_probe_end(opts->probe, &pr);
		vault_probe_result_free(&pr);
	}
	vpipe_free(sink.out); /* drains the writer before the fd closes */
	if (sink.fd >= 0) {
		close(sink.fd);
		unlinkat(v->dirfd, tmp, 0);
	}
	object_enc_release(&sink.enc);
	if (src >= 0)
		close(src);
	return e;
}
