/*
 * progress.c: the progress bar of long operations (ingest, verify, extract).
 * Drawn on stderr only when it is a terminal, redrawn at most ten times a
 * second, and erased when the operation ends, so logs and pipes stay clean.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

double cli_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_human_size(char *buf, size_t n, uint64_t bytes)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double x = (double)bytes;
	int u = 0;
	while (x >= 1024 && u < 4) {
		x /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, n, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, n, "%.1f %s", x, units[u]);
}

void cli_progress_init(cli_progress *p, const cli_global *g, const char *label)
{
	memset(p, 0, sizeof *p);
	snprintf(p->label, sizeof p->label, "%s", label);
	p->enabled = !g->quiet && isatty(STDERR_FILENO);
	p->start = cli_now();
}

void cli_progress_cb(void *ctx, uint64_t done, uint64_t total)
{
	cli_progress *p = ctx;
	double now = cli_now(), el;
	char d[32], t[32], rate[32], eta[32] = "";

	if (!p->enabled || (now - p->last < 0.1 && done != total))
		return;
	p->last = now;
	el = now - p->start;
	cli_human_size(d, sizeof d, done);
	cli_human_size(t, sizeof t, total);
	if (el > 0.05) {
		double r = (double)done / el;
		cli_human_size(rate, sizeof rate, (uint64_t)r);
		strcat(rate, "/s");
		if (r > 0 && total > done) {
			unsigned s = (unsigned)((double)(total - done) / r);
			snprintf(eta, sizeof eta, "ETA %u:%02u", s / 60, s % 60);
		}
	} else {
		snprintf(rate, sizeof rate, "-");
	}
	unsigned pct = total ? (unsigned)(done * 100 / total) : 100;
	int width = 24, fill = (int)(pct * (unsigned)width / 100);
	char bar[32];
	memset(bar, '#', (size_t)fill);
	memset(bar + fill, '.', (size_t)(width - fill));
	bar[width] = '\0';
	fprintf(stderr, "\r\033[K%-20.20s [%s] %3u%%  %s / %s  %s  %s", p->label,
		bar, pct, d, t, rate, eta);
	p->drawn = true;
}

void cli_progress_done(cli_progress *p)
{
	if (p->drawn)
		fputs("\r\033[K", stderr);
	p->drawn = false;
}
