/*
 * probe-main.c: evault-probe, the process that parses hostile media.
 *
 * evault starts it once per batch (vault/probe.c) with an empty
 * environment and only its end of a socket pair on fds 0 and 1, and feeds
 * it one open file descriptor per file (SCM_RIGHTS).  It never holds a
 * key: it is exec'd fresh, so nothing of evault's memory comes with it,
 * and it is never given one.  Once start-up is over (libmagic's database
 * loaded, the libraries' one-time set-up done) it limits itself
 * (no core dumps, no files written, bounded data and open files) and
 * closes the door behind it with a seccomp filter: from then on it can
 * read what it is given, allocate memory and answer on its socket,
 * nothing else.  A parser bug can crash it or make it hang; evault
 * records that with the item and starts a fresh probe for the next file.
 *
 * For each file it maps the bytes read-only, hashes them (SHA-256: the
 * parent compares this with what it stored, so the document provably
 * describes the stored bytes), runs the parsers on the mapping and
 * answers with one JSON metadata document.  Or, asked for thumbnails,
 * decodes pictures of it and answers with them as JPEGs (thumbs.c).
 * Protocol (docs/formats.md, "The probe protocol"): request "EVPQ" + u32
 * flags, or "EVPT" + u32 count + u32 largest width, with the fd attached;
 * answer "EVPR" + u32 length + u32 number of errors + the document
 * (integers little-endian).
 *
 *   evault-probe                 serve on fds 0/1 (how evault runs it)
 *   evault-probe --file PATH     print PATH's document, no sandbox (debug)
 *   evault-probe --thumbnails N W PATH   the same for thumbnails
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <seccomp.h>

#include "vault/media/media.h"
#include "vault/vault.h" /* VAULT_PROBE_DOC_MAX, VAULT_THUMB*: the limits */

/* Files up to this size are read, bigger ones mapped. */
#define PROBE_READ_MAX (8u << 20)
/* Data segment limit: parsers that try to allocate more fail cleanly. */
#define PROBE_DATA_MAX (1024ull << 20)

/* One request: the file, and what is asked of it. */
struct request {
	int fd;
	int thumbs;       /* EVPT: thumbnails, else EVPQ: metadata */
	uint32_t flags;   /* EVPQ: bit 0, lean (no raw bytes) */
	uint32_t count;   /* EVPT: how many, */
	uint32_t width;   /* at most how wide */
};

static json_t *examine(const struct request *rq, const uint8_t *data,
		       size_t len)
{
	if (rq->thumbs)
		return media_thumbs(data, len, rq->count, rq->width);
	return media_document(data, len);
}

/* Read or map the file open on rq->fd, and examine it. */
static json_t *probe_fd(const struct request *rq)
{
	int fd = rq->fd;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		json_t *d = json_object();
		json_object_set_new(d, "v", json_integer(1));
		json_object_set_new(d, "errors",
				    json_pack("[s]", "probe: not a regular file"));
		return d;
	}
	size_t len = (size_t)st.st_size;
	const uint8_t *data = (const uint8_t *)"";
	void *map = NULL;
	/* Small files (photos) are read into one buffer kept from file to
	 * file: cheaper than mapping each (page faults, a TLB shoot-down at
	 * every munmap).  The document describes the bytes actually read. */
	static uint8_t *buf;
	static size_t cap;
	if (len && len <= PROBE_READ_MAX) {
		if (len > cap) {
			uint8_t *nb = realloc(buf, len);
			if (nb) {
				buf = nb;
				cap = len;
			}
		}
		if (len <= cap) {
			size_t got = 0;
			while (got < len) {
				ssize_t r = pread(fd, buf + got, len - got, (off_t)got);
				if (r < 0 && errno == EINTR)
					continue;
				if (r <= 0)
					break;
				got += (size_t)r;
			}
			return examine(rq, buf, got);
		}
	}
	if (len) {
		map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			json_t *d = json_object();
			json_object_set_new(d, "v", json_integer(1));
			json_object_set_new(d, "errors",
					    json_pack("[s]", "probe: cannot map the file"));
			return d;
		}
		madvise(map, len, MADV_SEQUENTIAL);
		data = map;
	}
	json_t *doc = examine(rq, data, len);
	if (map)
		munmap(map, len);
	return doc;
}

/* --- the sandbox ------------------------------------------------------ */

/* SIGSYS from the filter: tell the parent which call it was, then die. */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	unsigned char frame[12] = {'E', 'V', 'P', 'S'};
	uint32_t nr = (uint32_t)si->si_syscall;
	memcpy(frame + 4, &nr, 4);
	ssize_t w = write(1, frame, sizeof frame);
	(void)w;
	_exit(125);
}

static int limit(int res, rlim_t n)
{
	struct rlimit r = {n, n};
	return setrlimit(res, &r);
}

static int lock_down(void)
{
	/* No core dump of hostile input, no files, few fds.  The data limit
	 * does not fit AddressSanitizer's shadow memory. */
	if (limit(RLIMIT_CORE, 0) || limit(RLIMIT_FSIZE, 0) ||
	    limit(RLIMIT_NOFILE, 16) || prctl(PR_SET_DUMPABLE, 0) ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
#if !defined(__SANITIZE_ADDRESS__)
	if (limit(RLIMIT_DATA, PROBE_DATA_MAX))
		return -1;
#endif
	struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};
	sigaction(SIGSYS, &sa, NULL);

	scmp_filter_ctx f = seccomp_init(SCMP_ACT_TRAP);
	if (!f)
		return -1;
	static const int ok[] = {
		SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(pread64),
		SCMP_SYS(lseek), SCMP_SYS(close), SCMP_SYS(recvmsg),
		SCMP_SYS(sendmsg), SCMP_SYS(sendto), SCMP_SYS(munmap),
		SCMP_SYS(brk), SCMP_SYS(madvise), SCMP_SYS(mremap),
		SCMP_SYS(futex), SCMP_SYS(exit), SCMP_SYS(exit_group),
		SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask),
		SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday),
		SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(fstat),
		SCMP_SYS(sched_yield), SCMP_SYS(getrandom),
	};
	int rc = 0;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, ok[i], 0);
	/* fstat() is newfstatat(fd, "", st, AT_EMPTY_PATH): only that form. */
	rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(newfstatat), 1,
			       SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH,
				       AT_EMPTY_PATH));
	/* Memory, never executable. */
	rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
			       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
			       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (rc == 0)
		rc = seccomp_load(f);
	seccomp_release(f);
	return rc ? -1 : 0;
}

/* Everything that would open a file or read the environment later, done
 * now: libmagic's database, OpenSSL's digest, jansson's hash seed, the
 * time zone, libavformat's logging, libheif's plugins. */
static void start_up(void)
{
	media_magic_init();
	unsigned char sha[32];
	EVP_Digest("", 0, sha, NULL, EVP_sha256(), NULL);
	tzset(); /* /etc/localtime, read by the C library's time functions */
	json_decref(json_object());
	media_av_init();
	media_heif_init();
	media_thumbs_init();
}

/* --- the protocol ----------------------------------------------------- */

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Drop the raw bytes (base64 "data", hex "raw" members, left null by
 * media_b64() and media_hex()) for a lean answer. */
static void strip_raw(json_t *j)
{
	const char *k;
	json_t *v;
	size_t i;
	if (json_is_object(j)) {
		json_object_del(j, "data");
		if (json_is_null(json_object_get(j, "raw")))
			json_object_del(j, "raw");
		json_object_foreach(j, k, v)
			strip_raw(v);
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			strip_raw(v);
	}
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Wait for the next request: 0, or -1 when the parent is done (or speaks
 * no request we know). */
static int next_request(struct request *rq)
{
	unsigned char req[12];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {req, sizeof req};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.buf, .msg_controllen = sizeof u.buf};
	ssize_t n;
	do
		n = recvmsg(0, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int)))
		return -1;
	memcpy(&rq->fd, CMSG_DATA(c), sizeof rq->fd);
	/* The parent waits for each answer: nothing follows a request. */
	size_t want = n >= 4 && !memcmp(req, "EVPT", 4) ? 12 : 8;
	while (n > 0 && (size_t)n < want) {
		ssize_t r = read(0, req + n, want - (size_t)n);
		if (r < 0 && errno == EINTR)
			continue;
		n = r <= 0 ? -1 : n + r;
	}
	if (n != (ssize_t)want || (want == 8 && memcmp(req, "EVPQ", 4) != 0)) {
		close(rq->fd);
		return -1;
	}
	rq->thumbs = want == 12;
	rq->flags = rq->thumbs ? 0 : le32(req + 4);
	rq->count = rq->thumbs ? le32(req + 4) : 0;
	rq->width = rq->thumbs ? le32(req + 8) : 0;
	return 0;
}

static int answer(json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
	if (!text)
		return -1;
	size_t len = strlen(text);
	if (len > VAULT_PROBE_DOC_MAX) {
		/* Too much to send: keep what identifies the file and say why. */
		free(text);
		json_t *small = json_pack("{s:i,s:O?,s:O?,s:O?,s:[s]}", "v", 1,
					  "sha256", json_object_get(doc, "sha256"),
					  "size", json_object_get(doc, "size"),
					  "type", json_object_get(doc, "type"),
					  "errors", "probe: metadata larger than 64 MiB left out");
		text = small ? json_dumps(small, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12)) : NULL;
		json_decref(small);
		if (!text)
			return -1;
		len = strlen(text);
	}
	unsigned char hdr[12] = {'E', 'V', 'P', 'R'};
	uint32_t l = (uint32_t)len;
	uint32_t nerr = (uint32_t)json_array_size(json_object_get(doc, "errors"));
	/* Little-endian on every platform we build. */
	memcpy(hdr + 4, &l, 4);
	memcpy(hdr + 8, &nerr, 4);
	int rc = write_all(1, hdr, sizeof hdr) || write_all(1, text, len) ? -1 : 0;
	free(text);
	return rc;
}

static int serve(void)
{
	/* If evault dies (kill -9 in the middle of an ingest), so does its
	 * probe, even one stuck in a parser. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() == 1)
		_exit(4);
	start_up();
	if (lock_down() != 0)
		_exit(3); /* the parent says "the probe could not start its sandbox" */
	for (;;) {
		struct request rq;
		if (next_request(&rq) != 0)
			break;
		media_keep_raw = !(rq.flags & 1);
		json_t *doc;
		if (rq.thumbs && (rq.count < 1 || rq.count > VAULT_THUMBS_MAX ||
				  rq.width < VAULT_THUMB_WIDTH_MIN ||
				  rq.width > VAULT_THUMB_WIDTH_MAX))
			doc = json_pack("{s:i,s:[],s:[s]}", "v", 1, "thumbnails",
					"errors", "probe: thumbnail count or "
					"width out of range");
		else
			doc = probe_fd(&rq);
		close(rq.fd);
		if (rq.flags & 1)
			strip_raw(doc);
		int rc = answer(doc);
		json_decref(doc);
		if (rc)
			break;
	}
	/* _exit: no exit handlers (LeakSanitizer's would need ptrace). */
	_exit(0);
}

int main(int argc, char **argv)
{
	struct request rq = {.fd = -1};
	const char *path = NULL;
	if (argc == 3 && !strcmp(argv[1], "--file")) {
		path = argv[2];
	} else if (argc == 5 && !strcmp(argv[1], "--thumbnails")) {
		rq.thumbs = 1;
		rq.count = (uint32_t)strtoul(argv[2], NULL, 10);
		rq.width = (uint32_t)strtoul(argv[3], NULL, 10);
		path = argv[4];
		if (rq.count < 1 || rq.count > VAULT_THUMBS_MAX ||
		    rq.width < VAULT_THUMB_WIDTH_MIN ||
		    rq.width > VAULT_THUMB_WIDTH_MAX) {
			fprintf(stderr, "evault-probe: count 1..%d, width "
				"%d..%d\n", VAULT_THUMBS_MAX,
				VAULT_THUMB_WIDTH_MIN, VAULT_THUMB_WIDTH_MAX);
			return 2;
		}
	}
	if (path) {
		rq.fd = open(path, O_RDONLY | O_CLOEXEC);
		if (rq.fd < 0) {
			fprintf(stderr, "evault-probe: %s: %s\n", path,
				strerror(errno));
			return 2;
		}
		start_up();
		json_t *doc = probe_fd(&rq);
		close(rq.fd);
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(doc);
		media_magic_done();
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--version")) {
		printf("evault-probe %s\n", EVAULT_VERSION);
		return 0;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: evault-probe [--file PATH | --thumbnails "
				"COUNT WIDTH PATH]\n"
				"evault runs this program itself; --file prints "
				"one file's metadata document, --thumbnails its "
				"thumbnails (JPEG in base64).\n");
		return 2;
	}
	return serve();
}
