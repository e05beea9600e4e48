/*
 * cmd-certify.c: evault certify ID: a verification certificate for an
 * item (docs/certificate.md), and with --html its human-readable page.
 *
 * The certificate is written only after the `certify` record that names
 * its SHA-256 is committed, so every certificate in circulation is in the
 * log.  The pictures of the HTML page are decoded by the sandboxed probe
 * from a copy of the item in memory (a memfd: no plaintext on disk).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "cli.h"

static const char help[] =
	"usage: evault certify [--vault DIR] ID [-o FILE] [--html FILE] [--frames N]\n"
	"                      [--omit-location] [--probe-timeout S] [--force]\n"
	"                      [--json]\n\n"
	"Issue a verification certificate for item ID: its SHA-256 and size,\n"
	"what the metadata probe found (container, streams, capture time,\n"
	"device, location), the custody records that name it with their\n"
	"signatures and inclusion proofs to the latest checkpoint (with any\n"
	"witness cosignatures), signed by the vault's log key.  Anyone can check\n"
	"it offline with 'evault check-cert' or 'evault-verify' and the vault's\n"
	"log key ('evault checkpoint --vkey').  Issuing it is recorded in the\n"
	"log, signed by your key.\n\n"
	"  -o, --output FILE  write the certificate to FILE (default: stdout)\n"
	"  --html FILE        also write a self-contained HTML page for readers:\n"
	"                     hashes, facts, frames of a video or the photo,\n"
	"                     the custody timeline (prints on A4)\n"
	"  --omit-location    leave the location and GPS time out\n"
	"  --frames N         frames on the HTML contact sheet (default 9)\n"
	"  --probe-timeout S  seconds the probe may take for the pictures (30)\n"
	"  -f, --force        replace existing output files\n"
	"  --json             print what was issued as JSON\n\n"
	"The records are carried whole, so the certificate discloses the file\n"
	"name and path given at ingest, its case, source and note, and every\n"
	"note about the item (docs/certificate.md section 1).\n";

struct certify_opts {
	const char *out, *html;
	bool omit, force, json;
	unsigned frames, timeout;
	int bad;
};

static int certify_opt(void *ctx, int opt, const char *arg)
{
	struct certify_opts *o = ctx;
	long n;
	char *end;
	switch (opt) {
	case 'o': o->out = arg; return 0;
	case 'H': o->html = arg; return 0;
	case 'L': o->omit = true; return 0;
	case 'f': o->force = true; return 0;
	case 'j': o->json = true; return 0;
	case 'T': {
		int t = cli_probe_timeout(arg);
		if (t < 0)
			return -1;
		o->timeout = (unsigned)t;
		return 0;
	}
	case 'F':
		n = strtol(arg, &end, 10);
		if (*arg == '\0' || *end || n < 1 || n > 36) {
			cli_error("--frames takes a number from 1 to 36, not '%s'", arg);
			return -1;
		}
		o->frames = (unsigned)n;
		return 0;
	}
	return -1;
}

/* Write buf to path through a temporary file beside it, renamed into
 * place once complete (a reader never sees half a certificate) and made
 * durable.  Without `force` an existing path is never replaced, even one
 * created since the command started (RENAME_NOREPLACE). */
static int write_file(const char *path, const void *buf, size_t len, bool force)
{
	char tmp[4200], dir[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else
		slash[slash == dir] = '\0'; /* "/x" -> "/" */
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int rc = cli_write_all(fd, buf, len);
	if (rc == 0 && (fsync(fd) != 0 || close(fd) != 0))
		rc = -errno;
	else if (rc != 0)
		close(fd);
	if (rc == 0 && (force ? rename(tmp, path)
			      : renameat2(AT_FDCWD, tmp, AT_FDCWD, path,
					  RENAME_NOREPLACE)) != 0)
		rc = -errno;
	if (rc != 0) {
		unlink(tmp);
		return rc;
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

/* The item's bytes into an anonymous memory file the probe can read. */
static int sink_fd(void *ctx, const void *buf, size_t len)
{
	return cli_write_all(*(int *)ctx, buf, len) == 0 ? 0 : -1;
}

typedef struct {
	vault_thumb *thumbs;
	size_t n;
	cli_image img[36];
	char why[512];
} pictures;

static void make_pictures(vault *v, const vault_item *it, cli_global *g,
			  const struct certify_opts *o, pictures *pic)
{
	int video = !strncmp(it->type, "video/", 6);
	char *error = NULL;
	if (strncmp(it->type, "image/", 6) && !video) {
		snprintf(pic->why, sizeof pic->why, "the item is not a photo or video (%s)",
			 it->type);
		return;
	}
	/* The copy lives in memory (and in swap, if the machine swaps): at
	 * most half of it. */
	struct sysinfo si;
	if (sysinfo(&si) == 0 &&
	    it->size > (uint64_t)si.totalram * si.mem_unit / 2) {
		snprintf(pic->why, sizeof pic->why,
			 "the item (%llu bytes) is larger than half this machine's "
			 "memory, where its copy for the probe would be held",
			 (unsigned long long)it->size);
		return;
	}
	int fd = memfd_create("evault-item", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		snprintf(pic->why, sizeof pic->why, "cannot make a memory file: %s",
			 strerror(errno));
		return;
	}
	cli_progress prog;
	cli_progress_init(&prog, g, "pictures");
	vault_err re = vault_item_read(v, it, sink_fd, &fd, cli_progress_cb, &prog);
	cli_progress_done(&prog);
	if (re != VAULT_OK) {
		snprintf(pic->why, sizeof pic->why, "%s", vault_errmsg(v));
		close(fd);
		return;
	}
	/* The probe gets the copy sealed: it can read it, never change it. */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
				   F_SEAL_SEAL) != 0) {
		snprintf(pic->why, sizeof pic->why, "cannot seal the memory file: %s",
			 strerror(errno));
		close(fd);
		return;
	}
	vault_probe *p = cli_probe(o->timeout);
	if (!p) {
		snprintf(pic->why, sizeof pic->why, "the probe cannot start");
		close(fd);
		return;
	}
	vault_err e = vault_probe_thumbnails(p, fd, video ? o->frames : 1,
					     video ? 320 : 720, &pic->thumbs,
					     &pic->n, &error);
	if (e != VAULT_OK || !pic->n)
		snprintf(pic->why, sizeof pic->why, "%s",
			 error ? error : "the probe made none");
	for (size_t i = 0; i < pic->n && i < 36; i++)
		pic->img[i] = (cli_image){pic->thumbs[i].time, pic->thumbs[i].jpeg,
					  pic->thumbs[i].len};
	free(error);
	vault_probe_free(p);
	close(fd);
}

static int write_html(const char *path, bool force, const char *cert,
		      size_t len, const char *cert_name,
		      const unsigned char sha[32], const pictures *pic)
{
	char *buf = NULL;
	size_t blen = 0;
	FILE *f = open_memstream(&buf, &blen);
	if (!f)
		return -ENOMEM;
	int rc = cli_cert_html(f, cert, len, cert_name, sha, pic->img,
			       pic->n < 36 ? pic->n : 36, pic->why[0] ? pic->why : NULL);
	if (fclose(f) != 0 || rc != 0) {
		free(buf);
		return -ENOMEM;
	}
	rc = write_file(path, buf, blen, force);
	free(buf);
	return rc;
}

int cmd_certify(int argc, char **argv, cli_global *g)
{
	static const struct option extra[] = {
		{"output", required_argument, NULL, 'o'},
		{"html", required_argument, NULL, 'H'},
		{"omit-location", no_argument, NULL, 'L'},
		{"frames", required_argument, NULL, 'F'},
		{"probe-timeout", required_argument, NULL, 'T'},
		{"force", no_argument, NULL, 'f'},
		CLI_JSON_OPTION,
		{NULL, 0, NULL, 0},
	};
	struct certify_opts o = {.frames = 9, .timeout = 30};
	pictures pic = {0};
	struct stat st;
	int code = EXIT_OK;

	int rc = cli_getopt(argc, argv, g, extra, help, certify_opt, &o);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_ERROR;
	if (optind + 1 != argc) {
		cli_error("certify takes one item ID (see 'evault certify --help')");
		return EXIT_ERROR;
	}
	if (o.json && !o.out) {
		cli_error("--json needs -o FILE (the certificate would go to stdout)");
		return EXIT_ERROR;
	}
	if (o.out && o.html && !strcmp(o.out, o.html)) {
		cli_error("-o and --html name the same file, '%s'", o.out);
		return EXIT_ERROR;
	}
	const char *outs[2] = {o.out, o.html};
	for (int i = 0; i < 2; i++)
		if (outs[i] && !o.force && lstat(outs[i], &st) == 0) {
			cli_error("'%s' already exists; use --force to replace it",
				  outs[i]);
			return EXIT_ERROR;
		}
	vault *v = cli_open(g, true, &code);
	if (!v)
		return code;
	const vault_item *it = cli_find(v, argv[optind], &code);
	if (!it)
		goto out;
	char *cert = NULL;
	size_t len = 0;
	vault_certify_opts co = {.omit_location = o.omit};
	vault_err e = vault_certify(v, it, &co, &cert, &len);
	if (e != VAULT_OK) {
		cli_error("cannot certify item %.16s: %s", it->id, vault_errmsg(v));
		code = cli_exit_code(e);
		goto out;
	}
	unsigned char sha[32];
	char hex[65];
	EVP_Digest(cert, len, sha, NULL, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", sha[i]);
	const char *name = o.out ? strrchr(o.out, '/') ? strrchr(o.out, '/') + 1 : o.out
				 : "certificate";
	if (o.out && (rc = write_file(o.out, cert, len, o.force)) != 0) {
		cli_error("the certificate (sha256 %s) is recorded in the log but "
			  "cannot be written to '%s': %s; issue it again", hex, o.out,
			  strerror(-rc));
		code = EXIT_ERROR;
	} else if (!o.out && (fwrite(cert, 1, len, stdout) != len ||
				fflush(stdout) != 0)) {
		cli_error("cannot write the certificate to stdout");
		code = EXIT_ERROR;
	}
	/* The pictures are made only now: the certify record just committed
	 * is what covers this read of the item. */
	if (code == EXIT_OK && o.html)
		make_pictures(v, it, g, &o, &pic);
	if (code == EXIT_OK && o.html &&
	    (rc = write_html(o.html, o.force, cert, len, name, sha, &pic)) != 0) {
		cli_error("cannot write '%s': %s", o.html, strerror(-rc));
		code = EXIT_ERROR;
	}
	if (code == EXIT_OK && o.json && o.out) {
		json_t *j = json_pack("{s:s,s:s,s:s,s:I,s:I}", "item", it->id,
				      "certificate", o.out, "sha256", hex, "tree",
				      (json_int_t)vault_log_size(v) - 1, "record",
				      (json_int_t)vault_log_size(v) - 1);
		if (o.html)
			json_object_set_new(j, "html", json_string(o.html));
		if (o.html)
			json_object_set_new(j, "pictures", json_integer((json_int_t)pic.n));
		if (o.html && pic.why[0])
			json_object_set_new(j, "pictures_error", json_string(pic.why));
		json_dumpf(j, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(j);
	} else if (code == EXIT_OK && o.out) {
		fprintf(stderr, "certificate for %.16s written to %s (sha256 %.16s..., "
				"recorded as log record %llu)\n",
			it->id, o.out, hex, (unsigned long long)vault_log_size(v) - 1);
		if (o.html)
			fprintf(stderr, "HTML page written to %s (%zu picture%s%s%s)\n",
				o.html, pic.n, pic.n == 1 ? "" : "s",
				pic.why[0] ? ": " : "", pic.why);
	}
	free(cert);
out:
	vault_thumbs_free(pic.thumbs, pic.n);
	vault_free(v);
	return code;
}
