/*
 * cmd-ingest.c: evault ingest PATH...: take files and folders into the vault.
 *
 * The paths are walked first (folders recursively, in name order; symbolic
 * links are never followed and are reported), so the progress bar can show
 * the whole job.  Each file is then ingested; commits are grouped (every
 * half second, and at the end), and a file is reported as ingested only
 * once its commit is durable, so what evault says it holds, it holds, even
 * if the machine dies a moment later.  A file that cannot be ingested is
 * reported by name and reason, the others go on, and the exit status is 2.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

#define COMMIT_INTERVAL 0.5
#define COMMIT_MAX_PENDING 1000

static const char help[] =
	"usage: evault ingest [--vault DIR] [--case C] [--source S] [--note N]\n"
	"                     [--no-probe] [--probe-timeout S] [--json]\n"
	"                     [--no-wait] [--quiet] PATH...\n\n"
	"Take files and folders (recursively) into the vault.  Each file is read\n"
	"once: hashed (SHA-256) and encrypted while it is copied.  Bytes already\n"
	"held are reported as such and stored once.  Symbolic links are not\n"
	"followed (they are reported); FIFOs and devices are refused.\n"
	"Meanwhile evault-probe, a sandboxed process that holds no key, reads\n"
	"each file's metadata; it is kept encrypted with the item ('evault\n"
	"show').  A file the probe cannot read is ingested all the same, with\n"
	"the reason recorded (\"probe: ...\" below the file's line).\n\n"
	"  --case C      case or investigation the files belong to\n"
	"  --source S    where they came from (person, device, URL)\n"
	"  --note N      free text kept with the ingest\n"
	"  --no-probe    do not extract metadata (photos' EXIF, containers...)\n"
	"  --probe-timeout S\n"
	"                give up on a file's metadata after S seconds (default\n"
	"                30); the file is ingested all the same\n"
	"  --json        print the results as one JSON document on stdout\n\n"
	"Exit status: 0 all ingested, 2 if any path could not be ingested.\n";

typedef struct {
	char *path;
	uint64_t size;
	int skip;          /* 1: symlink, reported and skipped */
	char *error; /* set when the walk could not read it */
} job;

typedef struct {
	job *jobs;
	size_t n, cap;
	uint64_t total;
} job_list;

static int add_job(job_list *l, const char *path, uint64_t size, int skip,
		   const char *error)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		job *p = realloc(l->jobs, cap * sizeof *p);
		if (!p)
			return -1;
		l->jobs = p;
		l->cap = cap;
	}
	l->jobs[l->n].path = strdup(path);
	l->jobs[l->n].size = size;
	l->jobs[l->n].skip = skip;
	l->jobs[l->n].error = error ? strdup(error) : NULL;
	if (!l->jobs[l->n].path || (error && !l->jobs[l->n].error))
		return -1;
	l->n++;
	l->total += size;
	return 0;
}

static int walk(job_list *l, const char *path, int depth)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return add_job(l, path, 0, 0, strerror(errno));
	if (S_ISLNK(st.st_mode))
		return add_job(l, path, 0, 1, NULL);
	if (!S_ISDIR(st.st_mode))
		return add_job(l, path, S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0,
			       0, NULL);
	if (depth > 256)
		return add_job(l, path, 0, 0, "folders nested too deep");
	struct dirent **names;
	int n = scandir(path, &names, NULL, alphasort);
	if (n < 0)
		return add_job(l, path, 0, 0, strerror(errno));
	int rc = 0;
	for (int i = 0; i < n; i++) {
		const char *d = names[i]->d_name;
		if (rc == 0 && strcmp(d, ".") && strcmp(d, "..")) {
			size_t len = strlen(path) + strlen(d) + 2;
			char *child = malloc(len);
			if (!child) {
				rc = -1;
			} else {
				snprintf(child, len, "%s%s%s", path,
					 path[strlen(path) - 1] == '/' ? "" : "/", d);
				rc = walk(l, child, depth + 1);
				free(child);
			}
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

/* Progress of one file, shown as progress of the whole job. */
typedef struct {
	cli_progress *p;
	uint64_t offset, total;
} overall;

static void overall_cb(void *ctx, uint64_t done, uint64_t total)
{
	overall *o = ctx;
	(void)total;
	cli_progress_cb(o->p, o->offset + done, o->total);
}

/* One finished file, waiting for its commit before it is reported. */
typedef struct {
	size_t job;
	vault_ingest_result r;
} done_entry;

typedef struct {
	vault *v;
	job_list *jobs;
	done_entry *done;
	size_t ndone;
	bool json;
	json_t *results;
	unsigned ingested, held, failed, skipped;
	uint64_t bytes;
} report;

static void report_line(report *rp, const char *status, const char *path,
			const vault_ingest_result *r, const char *error)
{
	if (rp->json) {
		json_t *o = json_object();
		json_t *jp = json_string(path); /* NULL if not UTF-8 */
		json_object_set_new(o, "path", jp ? jp : json_null());
		json_object_set_new(o, "status", json_string(status));
		if (r) {
			json_object_set_new(o, "id", json_string(r->id));
			json_object_set_new(o, "size", json_integer((json_int_t)r->size));
			json_object_set_new(o, "type", json_string(r->type));
			if (r->probe_error[0])
				json_object_set_new(o, "probe_error",
						    json_string(r->probe_error));
		}
		if (error)
			json_object_set_new(o, "error", json_string(error));
		json_array_append_new(rp->results, o);
		return;
	}
	if (error) {
		cli_error("cannot ingest '%s': %s", path, error);
		return;
	}
	if (strcmp(status, "skipped") == 0) {
		printf("skipped       %s (symbolic link, not followed)\n", path);
		return;
	}
	char size[32];
	cli_human_size(size, sizeof size, r->size);
	printf("%-13s %.16s  %9s  %-18s %s\n", status, r->id, size, r->type, path);
	if (r->probe_error[0])
		printf("              probe: %s\n", r->probe_error);
}

/* Commit what is staged, then report the files it covered. */
static int flush(report *rp)
{
	vault_err e = vault_commit(rp->v);
	for (size_t i = 0; i < rp->ndone; i++) {
		done_entry *d = &rp->done[i];
		const char *path = rp->jobs->jobs[d->job].path;
		if (e != VAULT_OK) {
			rp->failed++;
			report_line(rp, "error", path, NULL, vault_errmsg(rp->v));
			continue;
		}
		if (d->r.already_held)
			rp->held++;
		else
			rp->ingested++;
		rp->bytes += d->r.size;
		report_line(rp, d->r.restored ? "restored"
				: d->r.already_held ? "already-held"
						    : "ingested",
			    path, &d->r, NULL);
	}
	rp->ndone = 0;
	fflush(stdout);
	return e == VAULT_OK ? 0 : -1;
}

struct ingest_args {
	vault_ingest_opts *o;
	bool *json;
	bool no_probe;
	int timeout;
};

static int ingest_opt(void *ctx, int opt, const char *arg)
{
	struct ingest_args *a = ctx;
	switch (opt) {
	case 'c': a->o->case_name = arg; return 0;
	case 's': a->o->source = arg; return 0;
	case 'n': a->o->note = arg; return 0;
	case 'j': *a->json = true; return 0;
	case 'x': a->no_probe = true; return 0;
	case 'T': a->timeout = cli_probe_timeout(arg); return a->timeout < 0 ? -1 : 0;
	}
	return -1;
}

int cmd_ingest(int argc, char **argv, cli_global *g)
{
	static const struct option extra[] = {
		{"case", required_argument, NULL, 'c'},
		{"source", required_argument, NULL, 's'},
		{"note", required_argument, NULL, 'n'},
		{"no-probe", no_argument, NULL, 'x'},
		{"probe-timeout", required_argument, NULL, 'T'},
		CLI_JSON_OPTION,
		{NULL, 0, NULL, 0},
	};
	vault_ingest_opts o = VAULT_INGEST_OPTS_INIT;
	job_list jobs = {0};
	report rp = {0};
	cli_progress prog;
	int code = EXIT_OK;
	uint64_t before = 0;
	struct ingest_args a = {&o, &rp.json, false, 0};

	int rc = cli_getopt(argc, argv, g, extra, help, ingest_opt, &a);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_ERROR;
	if (optind >= argc) {
		cli_error("ingest needs at least one PATH");
		fputs(help, stderr);
		return EXIT_ERROR;
	}
	for (int i = optind; i < argc; i++)
		if (walk(&jobs, argv[i], 0) < 0) {
			cli_error("out of memory");
			return EXIT_ERROR;
		}
	if (!a.no_probe && !(o.probe = cli_probe((unsigned)a.timeout))) {
		code = EXIT_ERROR;
		goto out;
	}
	rp.v = cli_open(g, true, &code);
	if (!rp.v)
		goto out;
	rp.jobs = &jobs;
	rp.done = calloc(jobs.n ? jobs.n : 1, sizeof *rp.done);
	rp.results = json_array();
	if (!rp.done || !rp.results) {
		cli_error("out of memory");
		vault_free(rp.v);
		json_decref(rp.results);
		code = EXIT_ERROR;
		goto out;
	}
	cli_progress_init(&prog, g, "ingest");
	overall whole = {&prog, 0, jobs.total};
	o.progress = overall_cb;
	o.progress_ctx = &whole;
	double last_commit = cli_now();
	for (size_t i = 0; i < jobs.n; i++) {
		job *j = &jobs.jobs[i];
		vault_ingest_result r;
		snprintf(prog.label, sizeof prog.label, "%s",
			 strrchr(j->path, '/') ? strrchr(j->path, '/') + 1 : j->path);
		if (j->skip || j->error) {
			cli_progress_done(&prog);
			if (j->skip)
				rp.skipped++;
			else
				rp.failed++;
			report_line(&rp, j->skip ? "skipped" : "error", j->path, NULL,
				    j->error);
			continue;
		}
		whole.offset = before;
		vault_err e = vault_ingest_file(rp.v, j->path, &o, &r);
		before += j->size;
		if (e != VAULT_OK) {
			cli_progress_done(&prog);
			rp.failed++;
			report_line(&rp, "error", j->path, NULL, vault_errmsg(rp.v));
			if (e == VAULT_E_NOSPACE || e == VAULT_E_CORRUPT)
				break; /* nothing more will fit / be accepted */
			continue;
		}
		rp.done[rp.ndone].job = i;
		rp.done[rp.ndone].r = r;
		rp.ndone++;
		if (cli_now() - last_commit > COMMIT_INTERVAL ||
		    vault_pending(rp.v) >= COMMIT_MAX_PENDING) {
			cli_progress_done(&prog);
			if (flush(&rp) < 0)
				break;
			last_commit = cli_now();
		}
	}
	cli_progress_done(&prog);
	flush(&rp);
	vault_free(rp.v);

	if (rp.failed)
		code = EXIT_ERROR;
	char total[32];
	cli_human_size(total, sizeof total, rp.bytes);
	if (rp.json) {
		json_t *doc = json_object();
		json_object_set_new(doc, "results", rp.results);
		json_object_set_new(doc, "ingested", json_integer(rp.ingested));
		json_object_set_new(doc, "already_held", json_integer(rp.held));
		json_object_set_new(doc, "skipped", json_integer(rp.skipped));
		json_object_set_new(doc, "failed", json_integer(rp.failed));
		json_object_set_new(doc, "bytes", json_integer((json_int_t)rp.bytes));
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(doc);
	} else {
		json_decref(rp.results);
		fprintf(rp.failed ? stderr : stdout,
			"%u ingested, %u already held, %u skipped, %u failed (%s)\n",
			rp.ingested, rp.held, rp.skipped, rp.failed, total);
	}
out:
	vault_probe_free(o.probe);
	for (size_t i = 0; i < jobs.n; i++) {
		free(jobs.jobs[i].path);
		free(jobs.jobs[i].error);
	}
	free(jobs.jobs);
	free(rp.done);
	return code;
}
