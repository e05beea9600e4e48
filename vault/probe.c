/*
 * probe.c: running evault-probe, the sandboxed media parser, from the
 * side that holds the keys.
 *
 * The probe is started with posix_spawn (so nothing of this process's
 * memory, keys included, is ever copied into it: it is exec'd fresh),
 * with an empty environment, its end of a socket pair on fds 0 and 1,
 * /dev/null on 2 and no other descriptor.  Each request passes one open
 * file (SCM_RIGHTS); the answer is a length-prefixed JSON document, at
 * most VAULT_PROBE_DOC_MAX bytes, read under a wall-clock deadline.
 * Whatever goes wrong on the probe's side (a crash, a forbidden system
 * call, a hang, a malformed answer) becomes a sentence in the result, the
 * probe is killed and reaped, and the next request starts a fresh one:
 * a hostile file can cost its own metadata, never the ingest.
 *
 * Thumbnails (for the certificate's page) are asked for and answered the
 * same way, and the answer is checked before anything of it is passed on:
 * every picture a plain baseline JPEG of the size it claims, no larger
 * than asked for, every text one line.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "vault/internal.h"

struct vault_probe {
	char *exe;
	unsigned timeout_s;
	pid_t pid;     /* 0 when not running */
	int sock;      /* our end, -1 when not running */
	int pending;   /* a request was sent and not yet answered */
	char failed[256]; /* why the last request could not even be sent */
};

vault_err vault_probe_new(const char *exe, unsigned timeout_s,
			  vault_probe **out)
{
	vault_probe *p = calloc(1, sizeof *p);
	if (!p || !(p->exe = strdup(exe))) {
		free(p);
		return VAULT_E_NOMEM;
	}
	p->timeout_s = timeout_s ? timeout_s : VAULT_PROBE_TIMEOUT;
	p->sock = -1;
	*out = p;
	return VAULT_OK;
}

/* Kill (if asked) and reap the probe; describe how it ended in `why`. */
static void reap(vault_probe *p, int kill_it, char *why, size_t whylen)
{
	int status = 0;
	if (p->sock >= 0)
		close(p->sock);
	p->sock = -1;
	if (p->pid <= 0)
		return;
	if (kill_it)
		kill(p->pid, SIGKILL);
	/* It has closed its socket or been killed: it ends at once, but
	 * do not wait forever for a process stuck in the kernel. */
	for (int i = 0; i < 200; i++) {
		pid_t r = waitpid(p->pid, &status, WNOHANG);
		if (r == p->pid || (r < 0 && errno != EINTR))
			break;
		if (i == 100)
			kill(p->pid, SIGKILL);
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	if (why && WIFSIGNALED(status))
		snprintf(why, whylen, "probe killed by signal %d (%s)",
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
	else if (why && WIFEXITED(status) && WEXITSTATUS(status) == 3)
		snprintf(why, whylen, "the probe could not start its sandbox");
	else if (why && WIFEXITED(status))
		snprintf(why, whylen, "probe exited with status %d without "
			 "answering", WEXITSTATUS(status));
	p->pid = 0;
}

void vault_probe_free(vault_probe *p)
{
	if (!p)
		return;
	reap(p, 0, NULL, 0);
	free(p->exe);
	free(p);
}

static int start(vault_probe *p)
{
	int sv[2];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	char *argv[] = {p->exe, NULL};
	char *envp[] = {NULL};

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
					      POSIX_SPAWN_SETSIGDEF);
	int rc = posix_spawn(&p->pid, p->exe, &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(sv[1]);
	if (rc != 0) {
		close(sv[0]);
		p->pid = 0;
		return -rc;
	}
	p->sock = sv[0];
	return 0;
}

static void put_le32(unsigned char *b, uint32_t v)
{
	b[0] = (unsigned char)v;
	b[1] = (unsigned char)(v >> 8);
	b[2] = (unsigned char)(v >> 16);
	b[3] = (unsigned char)(v >> 24);
}

/* Send one request (its bytes, the file descriptor attached), starting the
 * probe first if none runs; why it could not be sent is kept for
 * vault_probe_end(). */
static void send_request(vault_probe *p, const unsigned char *req,
			 size_t len, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof u);
	struct iovec iov = {(void *)req, len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.buf, .msg_controllen = sizeof u.buf};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof fd);

	p->failed[0] = '\0';
	p->pending = 1;
	if (p->pid == 0) {
		int rc = start(p);
		if (rc < 0) {
			snprintf(p->failed, sizeof p->failed,
				 "cannot start the probe '%s': %s", p->exe,
				 strerror(-rc));
			return;
		}
	}
	ssize_t n;
	do
		n = sendmsg(p->sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)len) {
		/* It died between files: say how, and start afresh next time. */
		reap(p, 1, p->failed, sizeof p->failed);
		if (!p->failed[0])
			snprintf(p->failed, sizeof p->failed,
				 "the probe stopped listening");
	}
}

void vault_probe_begin(vault_probe *p, int fd, unsigned flags)
{
	unsigned char req[8] = {'E', 'V', 'P', 'Q'};
	put_le32(req + 4, flags);
	send_request(p, req, sizeof req, fd);
}

/* Read exactly len bytes before the deadline: 0, or -1 with `why`. */
static int read_until(vault_probe *p, void *buf, size_t len,
		      const struct timespec *deadline, char *why, size_t wl)
{
	char *b = buf;
	while (len) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long ms = (deadline->tv_sec - now.tv_sec) * 1000 +
			  (deadline->tv_nsec - now.tv_nsec) / 1000000;
		if (ms <= 0) {
			snprintf(why, wl, "probe timed out after %u s", p->timeout_s);
			return -1;
		}
		struct pollfd pfd = {p->sock, POLLIN, 0};
		int r = poll(&pfd, 1, (int)ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			continue; /* the deadline check above says so */
		ssize_t n = r < 0 ? -1 : read(p->sock, b, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			why[0] = '\0'; /* it ended: reap() says how */
			return -1;
		}
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

void vault_probe_end(vault_probe *p, vault_probe_result *r)
{
	unsigned char hdr[12];
	struct timespec deadline;

	memset(r, 0, sizeof *r);
	if (!p->pending) {
		snprintf(r->error, sizeof r->error, "no probe request pending");
		return;
	}
	p->pending = 0;
	if (p->failed[0]) {
		snprintf(r->error, sizeof r->error, "%s", p->failed);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += p->timeout_s;
	if (read_until(p, hdr, sizeof hdr, &deadline, r->error, sizeof r->error))
		goto dead;
	uint32_t len;
	memcpy(&len, hdr + 4, 4);
	if (!memcmp(hdr, "EVPS", 4)) {
		reap(p, 1, NULL, 0);
		snprintf(r->error, sizeof r->error,
			 "probe stopped by its sandbox: forbidden system call %u",
			 len);
		return;
	}
	if (memcmp(hdr, "EVPR", 4) != 0 || len > VAULT_PROBE_DOC_MAX) {
		snprintf(r->error, sizeof r->error,
			 "the probe broke its protocol (bad answer header)");
		reap(p, 1, NULL, 0);
		return;
	}
	r->doc = malloc((size_t)len + 1);
	if (!r->doc) {
		snprintf(r->error, sizeof r->error, "out of memory");
		reap(p, 1, NULL, 0);
		return;
	}
	if (read_until(p, r->doc, len, &deadline, r->error, sizeof r->error)) {
		free(r->doc);
		r->doc = NULL;
		goto dead;
	}
	r->doc[len] = '\0';
	r->len = len;
	memcpy(&r->nerrors, hdr + 8, 4);
	return;
dead:
	/* Timed out (error set: kill it) or ended (say how). */
	if (r->error[0])
		reap(p, 1, NULL, 0);
	else
		reap(p, 1, r->error, sizeof r->error);
	if (!r->error[0])
		snprintf(r->error, sizeof r->error, "the probe ended without "
			 "answering");
}

void vault_probe_result_free(vault_probe_result *r)
{
	free(r->doc);
	r->doc = NULL;
	r->len = 0;
}

/* --- thumbnails ------------------------------------------------------- */

/* The probe's words (UTF-8, as jansson takes no other), made one line
 * without control characters, C0 or C1: a taken-over probe could send
 * anything, and a terminal may show it. */
static void add_text(char *buf, size_t cap, const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t l = strlen(buf);
	if (l && l + 2 < cap) {
		memcpy(buf + l, "; ", 3);
		l += 2;
	}
	while (*s) {
		/* Whole characters only: the line stays valid UTF-8. */
		size_t n = *s < 0x80 ? 1 : *s < 0xe0 ? 2 : *s < 0xf0 ? 3 : 4;
		if (l + n + 1 > cap)
			break;
		if (*s < 0x20 || *s == 0x7f || (*s == 0xc2 && s[1] <= 0x9f)) {
			buf[l++] = '?';
		} else {
			memcpy(buf + l, s, n);
			l += n;
		}
		s += n;
	}
	buf[l] = '\0';
}

/* Is p a plain baseline JPEG of w x h pixels, as libavcodec's encoder
 * writes one: SOI, then only JFIF/comment/table/restart segments, one
 * 8-bit SOF0 of 1 or 3 components, one scan, EOI as the last two bytes?
 * A taken-over probe could otherwise hand the reader's browser whatever a
 * JPEG decoder might trip on (a 65500-pixel frame, progressive or
 * arithmetic coding, embedded profiles, data after the end).  Checking the
 * structure needs no decoder, so the parent can do it. */
static int jpeg_plain(const unsigned char *p, size_t n, long w, long h)
{
	size_t i = 2;
	int sof = 0, sos = 0;

	if (n < 4 || p[0] != 0xff || p[1] != 0xd8)
		return 0;
	while (i + 1 < n) {
		if (p[i] != 0xff)
			return 0;
		unsigned m = p[i + 1];
		if (m == 0xd9)
			return i + 2 == n && sof && sos;
		if (i + 4 > n)
			return 0;
		size_t len = (size_t)p[i + 2] << 8 | p[i + 3];
		if (len < 2 || i + 2 + len > n)
			return 0;
		const unsigned char *seg = p + i + 4;
		switch (m) {
		case 0xe0: case 0xfe: case 0xdb: case 0xc4: case 0xdd:
			break;
		case 0xc0: /* precision, height, width, components */
			if (sof++ || len < 8 || seg[0] != 8 ||
			    ((long)seg[1] << 8 | seg[2]) != h ||
			    ((long)seg[3] << 8 | seg[4]) != w ||
			    (seg[5] != 1 && seg[5] != 3))
				return 0;
			break;
		case 0xda:
			if (!sof || sos++)
				return 0;
			i += 2 + len;
			/* entropy-coded data: stuffed FF 00 and restart markers
			 * only, up to the next marker */
			while (i + 1 < n && (p[i] != 0xff || p[i + 1] == 0x00 ||
					     (p[i + 1] >= 0xd0 && p[i + 1] <= 0xd7)))
				i += p[i] == 0xff ? 2 : 1;
			continue;
		default:
			return 0;
		}
		i += 2 + len;
	}
	return 0;
}

/* One thumbnail of the answer, checked: 0, or -1 (the answer is bad). */
static int thumb_take(json_t *o, unsigned max_width, vault_thumb *t)
{
	json_t *w = json_object_get(o, "width"), *h = json_object_get(o, "height");
	json_t *tm = json_object_get(o, "time");
	const char *b64 = json_string_value(json_object_get(o, "jpeg"));
	size_t b64len = json_string_length(json_object_get(o, "jpeg"));

	if (!json_is_integer(w) || !json_is_integer(h) || !b64 ||
	    json_integer_value(w) < 1 || json_integer_value(w) > max_width ||
	    json_integer_value(h) < 1 ||
	    json_integer_value(h) > (json_int_t)max_width * VAULT_THUMB_TALL ||
	    (tm && (!json_is_number(tm) || !(json_number_value(tm) >= 0) ||
		    json_number_value(tm) > 1e9)) ||
	    b64len > sodium_base64_ENCODED_LEN(VAULT_THUMB_JPEG_MAX,
					       sodium_base64_VARIANT_ORIGINAL))
		return -1;
	t->time = tm ? json_number_value(tm) : -1;
	t->width = (int)json_integer_value(w);
	t->height = (int)json_integer_value(h);
	t->jpeg = malloc(b64len / 4 * 3 + 3);
	if (!t->jpeg ||
	    sodium_base642bin(t->jpeg, b64len / 4 * 3 + 3, b64, b64len, NULL,
			      &t->len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    t->len < 4 || t->len > VAULT_THUMB_JPEG_MAX ||
	    !jpeg_plain(t->jpeg, t->len, t->width, t->height)) {
		free(t->jpeg);
		t->jpeg = NULL;
		return -1;
	}
	return 0;
}

/* The answer's thumbnails and errors: 0, or -1 if it is not what the
 * protocol says (*list then freed). */
static int thumbs_take(const char *doc, size_t len, unsigned count,
		       unsigned max_width, vault_thumb **list, size_t *n,
		       char *why, size_t wl)
{
	json_t *d = json_loadb(doc, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *a = json_object_get(d, "thumbnails");
	json_t *errs = json_object_get(d, "errors"), *e;
	size_t i;
	int rc = -1;

	*list = NULL;
	*n = 0;
	if (!json_is_object(d) ||
	    json_integer_value(json_object_get(d, "v")) != 1 ||
	    (a && !json_is_array(a)) || json_array_size(a) > count ||
	    (errs && !json_is_array(errs)))
		goto out;
	json_array_foreach(errs, i, e) {
		if (!json_is_string(e))
			goto out;
		if (i < 8)
			add_text(why, wl, json_string_value(e));
	}
	if (json_array_size(a)) {
		*list = calloc(json_array_size(a), sizeof **list);
		if (!*list)
			goto out;
	}
	json_array_foreach(a, i, e) {
		if (!json_is_object(e) || thumb_take(e, max_width, &(*list)[i]))
			goto out;
		*n = i + 1;
	}
	rc = 0;
out:
	if (rc) {
		vault_thumbs_free(*list, *n);
		*list = NULL;
		*n = 0;
	}
	json_decref(d);
	return rc;
}

vault_err vault_probe_thumbnails(vault_probe *p, int fd, unsigned count,
				 unsigned max_width, vault_thumb **out,
				 size_t *n, char **error)
{
	unsigned char req[12] = {'E', 'V', 'P', 'T'};
	vault_probe_result r;
	vault_thumb *list = NULL;
	size_t k = 0;
	char why[1024] = "";

	if (count < 1 || count > VAULT_THUMBS_MAX ||
	    max_width < VAULT_THUMB_WIDTH_MIN || max_width > VAULT_THUMB_WIDTH_MAX)
		return VAULT_E_INVALID;
	put_le32(req + 4, count);
	put_le32(req + 8, max_width);
	send_request(p, req, sizeof req, fd);
	vault_probe_end(p, &r);
	if (!r.doc) {
		snprintf(why, sizeof why, "%s", r.error);
	} else if (thumbs_take(r.doc, r.len, count, max_width, &list, &k, why,
			       sizeof why) != 0) {
		/* Whatever it is now, it is not to be trusted with the next
		 * file: a fresh probe serves that. */
		reap(p, 1, NULL, 0);
		snprintf(why, sizeof why, "the probe broke its protocol (bad "
			 "thumbnail answer)");
	} else if (!k && !why[0]) {
		snprintf(why, sizeof why, "no picture in the file");
	}
	vault_probe_result_free(&r);
	char *e = why[0] ? strdup(why) : NULL;
	if (why[0] && !e) {
		vault_thumbs_free(list, k);
		return VAULT_E_NOMEM;
	}
	*out = list;
	*n = k;
	*error = e;
	return VAULT_OK;
}

void vault_thumbs_free(vault_thumb *t, size_t n)
{
	if (!t)
		return;
	for (size_t i = 0; i < n; i++)
		free(t[i].jpeg);
	free(t);
}
