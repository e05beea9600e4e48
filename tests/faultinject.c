/*
 * faultinject.c: an LD_PRELOAD shim that makes one system call fail, so
 * that the reliability campaigns (tests/campaign/crash.sh) can check what
 * evault does when the disk says no at every point of an operation.
 *
 * It wraps write, pwrite, fsync, fdatasync, rename, renameat, link,
 * linkat and ftruncate, counts the calls of each (per name, across
 * threads), and fails the Nth call of one of them.  The environment says
 * which:
 *
 *   EVAULT_FAULT_CALL   the call to fail: write, pwrite, fsync, ...
 *   EVAULT_FAULT_AT     N, counted from 1; 0 only counts
 *   EVAULT_FAULT_ERRNO  EIO (default) or ENOSPC: the call returns -1 with
 *                       that errno and does nothing; or KILL: the process
 *                       kills itself with SIGKILL just before the call,
 *                       a crash at an exact point of the protocol
 *   EVAULT_FAULT_REPORT a file to which, at exit, one line "NAME COUNT" per
 *                       call is appended (and, when a fault was injected,
 *                       "injected NAME N ERRNO" at that moment)
 *
 * Calls on file descriptors 0, 1 and 2 are neither counted nor failed:
 * what is tested is the vault's own files, not the terminal that receives
 * evault's report.  Calls made inside the C library (stdio's own writes)
 * do not go through these wrappers either.
 */
/* Define both the plain and the 64-bit names of pwrite and ftruncate,
 * whatever the build's default file offset size. */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

enum {
	C_WRITE,
	C_PWRITE,
	C_FSYNC,
	C_FDATASYNC,
	C_RENAME,
	C_RENAMEAT,
	C_LINK,
	C_LINKAT,
	C_FTRUNCATE,
	C_COUNT
};

static const char *const names[C_COUNT] = {
	"write", "pwrite", "fsync", "fdatasync", "rename",
	"renameat", "link", "linkat", "ftruncate",
};

static unsigned long counts[C_COUNT];
static int target = -1;        /* index of the call to fail, or -1 */
static unsigned long fail_at;  /* 0: count only */
static int fail_errno = EIO;   /* 0: SIGKILL */
static const char *report;

/* Append a line to the report file with raw system calls (never through
 * the wrappers, never through stdio). */
static void report_line(const char *line)
{
	if (!report)
		return;
	int fd = (int)syscall(SYS_openat, AT_FDCWD, report,
			      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	syscall(SYS_write, fd, line, strlen(line));
	syscall(SYS_close, fd);
}

__attribute__((constructor)) static void fault_init(void)
{
	const char *call = getenv("EVAULT_FAULT_CALL");
	const char *at = getenv("EVAULT_FAULT_AT");
	const char *err = getenv("EVAULT_FAULT_ERRNO");

	report = getenv("EVAULT_FAULT_REPORT");
	if (report && !*report)
		report = NULL;
	for (int i = 0; call && i < C_COUNT; i++)
		if (strcmp(call, names[i]) == 0)
			target = i;
	fail_at = at ? strtoul(at, NULL, 10) : 0;
	if (err && strcmp(err, "ENOSPC") == 0)
		fail_errno = ENOSPC;
	else if (err && strcmp(err, "KILL") == 0)
		fail_errno = 0;
}

__attribute__((destructor)) static void fault_report(void)
{
	char line[64];
	for (int i = 0; i < C_COUNT; i++) {
		snprintf(line, sizeof line, "%s %lu\n", names[i],
			 __atomic_load_n(&counts[i], __ATOMIC_SEQ_CST));
		report_line(line);
	}
}

/* Count a call; nonzero if this one must fail (errno is then set). */
static int fault_hit(int which, int fd)
{
	char line[96];
	if (fd >= 0 && fd <= 2)
		return 0;
	unsigned long n = __atomic_add_fetch(&counts[which], 1, __ATOMIC_SEQ_CST);
	if (which != target || fail_at == 0 || n != fail_at)
		return 0;
	snprintf(line, sizeof line, "injected %s %lu %s\n", names[which], n,
		 fail_errno == 0 ? "KILL" : fail_errno == ENOSPC ? "ENOSPC" : "EIO");
	report_line(line);
	if (fail_errno == 0) {
		kill(getpid(), SIGKILL);
		for (;;)
			pause();
	}
	errno = fail_errno;
	return 1;
}

/* The real function, looked up once. */
#define REAL(fn, type)                                   \
	static type *real_##fn;                          \
	if (!real_##fn)                                  \
		real_##fn = (type *)dlsym(RTLD_NEXT, #fn); \
	if (!real_##fn) {                                \
		errno = ENOSYS;                          \
		return -1;                               \
	}

typedef ssize_t write_fn(int, const void *, size_t);
typedef ssize_t pwrite_fn(int, const void *, size_t, off_t);
typedef ssize_t pwrite64_fn(int, const void *, size_t, off64_t);
typedef int fsync_fn(int);
typedef int fdatasync_fn(int);
typedef int rename_fn(const char *, const char *);
typedef int renameat_fn(int, const char *, int, const char *);
typedef int link_fn(const char *, const char *);
typedef int linkat_fn(int, const char *, int, const char *, int);
typedef int ftruncate_fn(int, off_t);
typedef int ftruncate64_fn(int, off64_t);

ssize_t write(int fd, const void *buf, size_t n)
{
	REAL(write, write_fn);
	if (fault_hit(C_WRITE, fd))
		return -1;
	return real_write(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	REAL(pwrite, pwrite_fn);
	if (fault_hit(C_PWRITE, fd))
		return -1;
	return real_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	REAL(pwrite64, pwrite64_fn);
	if (fault_hit(C_PWRITE, fd))
		return -1;
	return real_pwrite64(fd, buf, n, off);
}

int fsync(int fd)
{
	REAL(fsync, fsync_fn);
	if (fault_hit(C_FSYNC, fd))
		return -1;
	return real_fsync(fd);
}

int fdatasync(int fd)
{
	REAL(fdatasync, fdatasync_fn);
	if (fault_hit(C_FDATASYNC, fd))
		return -1;
	return real_fdatasync(fd);
}

int rename(const char *from, const char *to)
{
	REAL(rename, rename_fn);
	if (fault_hit(C_RENAME, -1))
		return -1;
	return real_rename(from, to);
}

int renameat(int fromdir, const char *from, int todir, const char *to)
{
	REAL(renameat, renameat_fn);
	if (fault_hit(C_RENAMEAT, -1))
		return -1;
	return real_renameat(fromdir, from, todir, to);
}

int link(const char *from, const char *to)
{
	REAL(link, link_fn);
	if (fault_hit(C_LINK, -1))
		return -1;
	return real_link(from, to);
}

int linkat(int fromdir, const char *from, int todir, const char *to,
	   int flags)
{
	REAL(linkat, linkat_fn);
	if (fault_hit(C_LINKAT, -1))
		return -1;
	return real_linkat(fromdir, from, todir, to, flags);
}

int ftruncate(int fd, off_t len)
{
	REAL(ftruncate, ftruncate_fn);
	if (fault_hit(C_FTRUNCATE, fd))
		return -1;
	return real_ftruncate(fd, len);
}

int ftruncate64(int fd, off64_t len)
{
	REAL(ftruncate64, ftruncate64_fn);
	if (fault_hit(C_FTRUNCATE, fd))
		return -1;
	return real_ftruncate64(fd, len);
}
