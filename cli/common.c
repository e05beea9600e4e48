/*
 * common.c: the pieces every evault subcommand uses: error reporting,
 * passphrase input, and opening a vault.
 *
 * Passphrases never travel through argv.  They come from a file named by
 * an option, from EVAULT_PASSPHRASE (read into locked memory and removed
 * from the environment first thing, so no process evault starts inherits
 * it), or from the terminal without echo.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"

#define PASS_MAX 1024

static char *env_pass, *env_new_pass, *env_key_pass;
static size_t env_pass_len, env_new_pass_len, env_key_pass_len;

void cli_error(const char *fmt, ...)
{
	va_list ap;
	fputs("evault: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;
	fputs("evault: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_exit_code(vault_err e)
{
	switch (e) {
	case VAULT_OK:
		return EXIT_OK;
	case VAULT_E_CORRUPT:
	case VAULT_E_DENIED:
		return EXIT_FAILED;
	default:
		return EXIT_ERROR;
	}
}

int cli_global_opt(cli_global *g, int opt, const char *arg)
{
	switch (opt) {
	case 'V':
		g->vault_dir = arg;
		return 1;
	case 'P':
		g->passphrase_file = arg;
		return 1;
	case 'W':
		g->no_wait = true;
		return 1;
	case 'q':
		g->quiet = true;
		return 1;
	case 'K':
		g->key_file = arg;
		return 1;
	case 'Q':
		g->key_passphrase_file = arg;
		return 1;
	}
	return 0;
}

static char *secret_dup(const char *s, size_t *len)
{
	size_t n = strlen(s);
	char *p = sodium_malloc(n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n + 1);
	*len = n;
	return p;
}

static char *take_env(const char *name, size_t *len)
{
	char *val = getenv(name), *copy = NULL;
	if (val) {
		copy = secret_dup(val, len);
		sodium_memzero(val, strlen(val));
		unsetenv(name);
	}
	return copy;
}

void cli_capture_env_secrets(void)
{
	env_pass = take_env("EVAULT_PASSPHRASE", &env_pass_len);
	env_new_pass = take_env("EVAULT_NEW_PASSPHRASE", &env_new_pass_len);
	env_key_pass = take_env("EVAULT_KEY_PASSPHRASE", &env_key_pass_len);
}

void cli_passphrase_free(char *p)
{
	if (p)
		sodium_free(p); /* wipes */
}

static char *read_pass_file(const char *file, size_t *len)
{
	char *p = sodium_malloc(PASS_MAX + 2);
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	ssize_t n = 0, r;
	if (!p) {
		cli_error("out of memory");
		return NULL;
	}
	if (fd < 0) {
		cli_error("cannot read passphrase file '%s': %s", file,
			  strerror(errno));
		sodium_free(p);
		return NULL;
	}
	while (n <= PASS_MAX && (r = read(fd, p + n, (size_t)(PASS_MAX + 1 - n))) > 0)
		n += r;
	close(fd);
	if (n > PASS_MAX) {
		cli_error("passphrase file '%s' is longer than %d bytes", file,
			  PASS_MAX);
		sodium_free(p);
		return NULL;
	}
	/* One trailing newline is not part of the passphrase. */
	if (n > 0 && p[n - 1] == '\n')
		n--;
	if (n > 0 && p[n - 1] == '\r')
		n--;
	p[n] = '\0';
	if (n == 0) {
		cli_error("passphrase file '%s' is empty", file);
		sodium_free(p);
		return NULL;
	}
	*len = (size_t)n;
	return p;
}

static char *read_tty(const char *prompt, size_t *len)
{
	struct termios old, quiet;
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	char *p;
	size_t n = 0;
	char c;

	if (fd < 0) {
		cli_error("no terminal to ask for a passphrase: use "
			  "--passphrase-file FILE or EVAULT_PASSPHRASE");
		return NULL;
	}
	p = sodium_malloc(PASS_MAX + 1);
	if (!p) {
		close(fd);
		return NULL;
	}
	if (write(fd, prompt, strlen(prompt)) < 0) {
		/* nothing to do: the prompt is a courtesy */
	}
	tcgetattr(fd, &old);
	quiet = old;
	quiet.c_lflag &= (tcflag_t)~(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	tcsetattr(fd, TCSAFLUSH, &quiet);
	bool toolong = false;
	while (read(fd, &c, 1) == 1 && c != '\n' && c != '\r') {
		if (n < PASS_MAX)
			p[n++] = c;
		else
			toolong = true;
	}
	p[n] = '\0';
	tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0) {
		/* ignore */
	}
	close(fd);
	if (toolong) {
		cli_error("passphrase longer than %d bytes", PASS_MAX);
		sodium_free(p);
		return NULL;
	}
	if (n == 0) {
		cli_error("empty passphrase");
		sodium_free(p);
		return NULL;
	}
	*len = n;
	return p;
}

char *cli_passphrase(const char *prompt, const char *file, bool env_ok,
		     bool confirm, size_t *len)
{
	if (file)
		return read_pass_file(file, len);
	if (env_ok && env_pass)
		return secret_dup(env_pass, len);
	char *p = read_tty(prompt, len), *q;
	size_t qlen;
	if (!p || !confirm)
		return p;
	q = read_tty("Repeat passphrase: ", &qlen);
	if (!q || qlen != *len || sodium_memcmp(p, q, qlen) != 0) {
		if (q)
			cli_error("passphrases do not match");
		cli_passphrase_free(p);
		cli_passphrase_free(q);
		return NULL;
	}
	cli_passphrase_free(q);
	return p;
}

char *cli_new_passphrase(const char *file, size_t *len)
{
	if (file)
		return read_pass_file(file, len);
	if (env_new_pass)
		return secret_dup(env_new_pass, len);
	return cli_passphrase("New passphrase: ", NULL, false, true, len);
}

static void tell_waiting(void *ctx)
{
	cli_global *g = ctx;
	fprintf(stderr, "evault: waiting for another evault process to finish "
			"with '%s' (use --no-wait to fail instead)\n",
		g->vault_dir);
}

void cli_key_dir(char *buf, size_t n)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	if (xdg && *xdg)
		snprintf(buf, n, "%s/evault/keys", xdg);
	else
		snprintf(buf, n, "%s/.config/evault/keys", home ? home : ".");
}

/* The only *.key file in the key folder, or NULL (with the reason). */
static char *only_key(const char **why)
{
	static char path[4096];
	char dir[4000];
	int found = 0;
	cli_key_dir(dir, sizeof dir);
	DIR *d = opendir(dir);
	if (!d) {
		*why = "no key folder";
		return NULL;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l > 4 && strcmp(e->d_name + l - 4, ".key") == 0) {
			if (found++ == 0)
				snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		}
	}
	closedir(d);
	if (found == 1)
		return path;
	*why = found ? "several keys in the key folder" : "no key in the key folder";
	return NULL;
}

char *cli_key_passphrase(cli_global *g, const char *prompt, bool confirm,
			 size_t *len)
{
	if (g->key_passphrase_file)
		return cli_passphrase(prompt, g->key_passphrase_file, false, false,
				      len);
	if (env_key_pass)
		return secret_dup(env_key_pass, len);
	return cli_passphrase(prompt, NULL, false, confirm, len);
}

bool cli_has_key(const cli_global *g)
{
	const char *why;
	return g->identity || cli_key_path(g, &why);
}

const char *cli_key_path(const cli_global *g, const char **why)
{
	const char *path = g->key_file;
	*why = NULL;
	if (!path)
		path = getenv("EVAULT_KEY");
	if (!path || !*path)
		path = only_key(why);
	return path;
}

vault_identity *cli_identity(cli_global *g)
{
	char *pass = NULL, prompt[4200], dir[4000];
	size_t plen;
	const char *why;
	if (g->identity)
		return g->identity;
	const char *path = cli_key_path(g, &why);
	if (!path) {
		cli_key_dir(dir, sizeof dir);
		cli_error("no custodian key (%s %s): every action is signed by the "
			  "custodian who takes it; make one with 'evault key new "
			  "NAME', or name one with --key FILE or EVAULT_KEY",
			  why, dir);
		return NULL;
	}
	vault *tmp = vault_new();
	if (!tmp)
		return NULL;
	snprintf(prompt, sizeof prompt, "Passphrase for key %s: ", path);
	pass = cli_key_passphrase(g, prompt, false, &plen);
	if (pass) {
		vault_err e = vault_identity_open(tmp, path, pass, plen, &g->identity);
		if (e != VAULT_OK)
			cli_error("%s", vault_errmsg(tmp));
	}
	cli_passphrase_free(pass);
	vault_free(tmp);
	return g->identity;
}

char *cli_read_file(const char *path, size_t max, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf;
	size_t n;
	if (!f) {
		cli_error("cannot read '%s': %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(max + 2);
	n = buf ? fread(buf, 1, max + 1, f) : 0;
	if (f != stdin)
		fclose(f);
	if (!buf || n > max) {
		cli_error("'%s' is too large (over %zu bytes)", path, max);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

vault *cli_open_locked(cli_global *g, int *code)
{
	vault_open_opts o = VAULT_OPEN_OPTS_INIT;
	vault *v = vault_new();
	if (!v) {
		*code = EXIT_ERROR;
		return NULL;
	}
	o.flags = g->no_wait ? VAULT_OPEN_NOWAIT : 0;
	vault_err e = vault_open(v, g->vault_dir, &o);
	if (e != VAULT_OK) {
		cli_error("%s", vault_errmsg(v));
		*code = cli_exit_code(e);
		vault_free(v);
		return NULL;
	}
	return v;
}

vault *cli_open(cli_global *g, bool write, int *code)
{
	vault_open_opts o = VAULT_OPEN_OPTS_INIT;
	vault *v = vault_new();
	char *pass = NULL;
	size_t plen = 0;
	vault_err e;

	if (!v) {
		cli_error("out of memory");
		*code = EXIT_ERROR;
		return NULL;
	}
	if (write) {
		/* Ask for the key first: a wrong key passphrase should not cost
		 * the vault's key derivation. */
		if (!cli_identity(g)) {
			vault_free(v);
			*code = EXIT_ERROR;
			return NULL;
		}
		vault_set_identity(v, g->identity);
	}
	o.flags = (write ? VAULT_OPEN_WRITE : 0) | (g->no_wait ? VAULT_OPEN_NOWAIT : 0);
	o.on_wait = tell_waiting;
	o.wait_ctx = g;
	e = vault_open(v, g->vault_dir, &o);
	if (e == VAULT_OK) {
		pass = cli_passphrase("Passphrase: ", g->passphrase_file, true,
				      false, &plen);
		if (!pass) {
			vault_free(v);
			*code = EXIT_ERROR;
			return NULL;
		}
		e = vault_unlock(v, pass, plen);
		cli_passphrase_free(pass);
	}
	if (e != VAULT_OK) {
		cli_error("%s", vault_errmsg(v));
		*code = e == VAULT_E_PASSPHRASE ? EXIT_ERROR : cli_exit_code(e);
		vault_free(v);
		return NULL;
	}
	for (size_t i = 0; i < vault_log_problems(v); i++)
		cli_warn("%s", vault_log_problem(v, i));
	if (vault_log_problems(v))
		cli_warn("the vault's log is damaged: what is listed may be "
			 "incomplete; run 'evault verify'");
	return v;
}

const vault_item *cli_find(vault *v, const char *prefix, int *code)
{
	const vault_item *it = NULL;
	vault_err e = vault_item_find(v, prefix, &it);
	if (e != VAULT_OK) {
		cli_error("%s", vault_errmsg(v));
		*code = EXIT_ERROR;
		return NULL;
	}
	return it;
}

void cli_usage(const char *text)
{
	fputs(text, stdout);
}

int cli_getopt(int argc, char **argv, cli_global *g,
	       const struct option *extra, const char *help,
	       int (*on_opt)(void *ctx, int opt, const char *arg), void *ctx)
{
	char shortopts[16] = "h";
	static const struct option global[] = {CLI_GLOBAL_LONGOPTS};
	struct option all[40];
	size_t n = 0;
	int opt;

	for (size_t i = 0; i < sizeof global / sizeof *global; i++)
		all[n++] = global[i];
	for (; extra && extra->name && n < 38; extra++) {
		all[n++] = *extra;
		/* The short options: -o FILE (output) and -f (force). */
		if (extra->val == 'o')
			strcat(shortopts, "o:");
		if (extra->val == 'f')
			strcat(shortopts, "f");
	}
	all[n++] = (struct option){"help", no_argument, NULL, 'h'};
	all[n] = (struct option){NULL, 0, NULL, 0};
	while ((opt = getopt_long(argc, argv, shortopts, all, NULL)) != -1) {
		if (cli_global_opt(g, opt, optarg))
			continue;
		if (opt == 'h') {
			fputs(help, stdout);
			return 1;
		}
		if (opt == '?' || !on_opt || on_opt(ctx, opt, optarg) < 0) {
			fputs(help, stderr);
			return -1;
		}
	}
	return 0;
}

int cli_json_opt(void *ctx, int opt, const char *arg)
{
	(void)arg;
	if (opt != 'j')
		return -1;
	*(bool *)ctx = true;
	return 0;
}

int cli_kdf_opt(void *ctx, int opt, const char *arg)
{
	if (opt != 'k')
		return -1;
	if (vault_kdf_parse(arg, ctx) == 0)
		return 0;
	cli_error("--kdf takes interactive, moderate or sensitive, not '%s'", arg);
	return -1;
}

/* --- the metadata probe --------------------------------------------- */

vault_probe *cli_probe(unsigned timeout_s)
{
	char here[PATH_MAX], path[PATH_MAX + 16];
	const char *exe = getenv("EVAULT_PROBE");
	if (!exe || !*exe) {
		ssize_t n = readlink("/proc/self/exe", here, sizeof here - 1);
		exe = EVAULT_PROBE_PATH;
		if (n > 0) {
			here[n] = '\0';
			char *slash = strrchr(here, '/');
			if (slash) {
				*slash = '\0';
				snprintf(path, sizeof path, "%s/evault-probe", here);
				if (access(path, X_OK) == 0)
					exe = path;
			}
		}
	}
	if (access(exe, X_OK) != 0) {
		cli_error("cannot find the metadata probe '%s': %s (set "
			  "EVAULT_PROBE, or use --no-probe)", exe, strerror(errno));
		return NULL;
	}
	vault_probe *p = NULL;
	if (vault_probe_new(exe, timeout_s, &p) != VAULT_OK) {
		cli_error("out of memory");
		return NULL;
	}
	return p;
}

int cli_probe_timeout(const char *arg)
{
	char *end;
	long t = strtol(arg, &end, 10);
	if (*arg == '\0' || *end || t < 1 || t > 3600) {
		cli_error("--probe-timeout takes whole seconds from 1 to 3600, "
			  "not '%s'", arg);
		return -1;
	}
	return (int)t;
}

int cli_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}
