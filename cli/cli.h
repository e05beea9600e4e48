/*
 * cli.h: what the evault subcommands share: global options, opening and
 * unlocking a vault, reading passphrases, the progress bar, and the one
 * way to report an error.
 */
#ifndef EVAULT_CLI_H
#define EVAULT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "vault/vault.h"

/* Exit codes (as minisign and signify): */
#define EXIT_OK 0
#define EXIT_FAILED 1 /* verification failed, or refused */
#define EXIT_ERROR 2  /* could not run */

typedef struct {
	const char *vault_dir;       /* --vault, EVAULT_DIR, or the default */
	const char *passphrase_file; /* --passphrase-file */
	bool no_wait;                /* --no-wait */
	bool quiet;                  /* --quiet: no progress bar */
	const char *key_file;        /* --key, EVAULT_KEY, or the only key */
	const char *key_passphrase_file; /* --key-passphrase-file */
	vault_identity *identity;    /* loaded on demand, freed at exit */
} cli_global;

typedef int (*cli_cmd_fn)(int argc, char **argv, cli_global *g);

/* Subcommands, one file each. */
int cmd_init(int argc, char **argv, cli_global *g);
int cmd_ingest(int argc, char **argv, cli_global *g);
int cmd_ls(int argc, char **argv, cli_global *g);
int cmd_show(int argc, char **argv, cli_global *g);
int cmd_cat(int argc, char **argv, cli_global *g);
int cmd_extract(int argc, char **argv, cli_global *g);
int cmd_verify(int argc, char **argv, cli_global *g);
int cmd_passphrase(int argc, char **argv, cli_global *g);
int cmd_key(int argc, char **argv, cli_global *g);
int cmd_custodian(int argc, char **argv, cli_global *g);
int cmd_log(int argc, char **argv, cli_global *g);
int cmd_checkpoint(int argc, char **argv, cli_global *g);
int cmd_prove(int argc, char **argv, cli_global *g);
int cmd_consistency(int argc, char **argv, cli_global *g);
int cmd_witness(int argc, char **argv, cli_global *g);
int cmd_probe(int argc, char **argv, cli_global *g);
int cmd_note(int argc, char **argv, cli_global *g);
int cmd_transfer(int argc, char **argv, cli_global *g);
int cmd_accept(int argc, char **argv, cli_global *g);
int cmd_certify(int argc, char **argv, cli_global *g);
int cmd_check_cert(int argc, char **argv, cli_global *g);

/* "evault: <message>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Exit code for a library error: 1 for verification failures (damaged
 * data) and refusals (VAULT_E_DENIED), 2 for everything else (a wrong
 * passphrase too: the check could not run). */
int cli_exit_code(vault_err e);

/* Handle the options every subcommand takes (--vault, --passphrase-file,
 * --no-wait, --quiet); returns 1 if `opt` was one of them. */
#define CLI_GLOBAL_LONGOPTS                                          \
	{"vault", required_argument, NULL, 'V'},                     \
	{"passphrase-file", required_argument, NULL, 'P'},           \
	{"no-wait", no_argument, NULL, 'W'},                         \
	{"quiet", no_argument, NULL, 'q'},                           \
	{"key", required_argument, NULL, 'K'},                       \
	{"key-passphrase-file", required_argument, NULL, 'Q'}
int cli_global_opt(cli_global *g, int opt, const char *arg);

/* The passphrase captured from EVAULT_PASSPHRASE at start-up (and removed
 * from the environment before anything else runs), or NULL. */
void cli_capture_env_secrets(void);

/* Get a passphrase: from `file` if given, else from the captured
 * environment value (when `env_ok`), else from the terminal without echo
 * (asked twice when `confirm`).  Returns sodium_malloc'd memory to free
 * with cli_passphrase_free(), or NULL with an error printed. */
char *cli_passphrase(const char *prompt, const char *file, bool env_ok,
		     bool confirm, size_t *len);
void cli_passphrase_free(char *p);
/* The second passphrase for `passphrase add|change`: from
 * --new-passphrase-file, EVAULT_NEW_PASSPHRASE, or the terminal. */
char *cli_new_passphrase(const char *file, size_t *len);

/* Open and unlock the vault; prints the error and returns NULL on failure
 * (*code tells the exit code).  Writers act as the custodian whose key
 * cli_identity() gives. */
vault *cli_open(cli_global *g, bool write, int *code);
/* Open without unlocking (for what needs no passphrase). */
vault *cli_open_locked(cli_global *g, int *code);
/* The custodian key this command acts with: --key FILE, else EVAULT_KEY,
 * else the only key in the key folder; unlocked with
 * --key-passphrase-file, EVAULT_KEY_PASSPHRASE or the terminal.  NULL with
 * the error printed. */
vault_identity *cli_identity(cli_global *g);
/* The path of the key cli_identity() would open, or NULL (*why says). */
const char *cli_key_path(const cli_global *g, const char **why);
/* Whether a custodian key is configured (without unlocking it). */
bool cli_has_key(const cli_global *g);
/* A key's passphrase: --key-passphrase-file, EVAULT_KEY_PASSPHRASE, or
 * the terminal (twice when `confirm`). */
char *cli_key_passphrase(cli_global *g, const char *prompt, bool confirm,
			 size_t *len);
/* The key folder: $XDG_CONFIG_HOME/evault/keys, else ~/.config/evault/keys. */
void cli_key_dir(char *buf, size_t n);
/* Read a whole (small) file or "-" for stdin; malloc'd, NUL-terminated. */
char *cli_read_file(const char *path, size_t max, size_t *len);
/* write() all of buf to fd, through EINTR and short writes: 0 or -errno. */
int cli_write_all(int fd, const void *buf, size_t len);
/* Start (lazily) the metadata probe: $EVAULT_PROBE, else evault-probe
 * beside this program, else the installed one.  timeout_s 0: default.
 * Prints the error and returns NULL if none can be found. */
vault_probe *cli_probe(unsigned timeout_s);
/* Parse a --probe-timeout value (1..3600 s); -1 if invalid. */
int cli_probe_timeout(const char *arg);
/* A metadata document for people: facts first, then tags by source
 * (meta.c); and without its raw base64 bytes, for --json. */
/* A picture for the HTML certificate: a JPEG, and for a video frame its
 * time in seconds. */
typedef struct {
	double time;
	const unsigned char *jpeg;
	size_t len;
} cli_image;
/* Render a certificate (its text, as issued) as one self-contained HTML
 * page (cert-html.c).  img_why says why there are no pictures. */
int cli_cert_html(FILE *f, const char *cert, size_t len, const char *cert_name,
		  const unsigned char cert_sha[32], const cli_image *img,
		  size_t nimg, const char *img_why);
void cli_print_meta(json_t *doc);
void cli_meta_strip(json_t *doc);
/* Resolve an id prefix; prints the error on failure. */
const vault_item *cli_find(vault *v, const char *prefix, int *code);

/* Progress bar on stderr, drawn only on a terminal, at most 10 times a
 * second: "label  42%  1.2 GiB / 2.9 GiB  850 MB/s  ETA 0:02". */
typedef struct {
	char label[64];
	bool enabled;
	bool drawn;
	double start;
	double last;
} cli_progress;
void cli_progress_init(cli_progress *p, const cli_global *g,
		       const char *label);
void cli_progress_cb(void *ctx, uint64_t done, uint64_t total);
void cli_progress_done(cli_progress *p);
void cli_human_size(char *buf, size_t n, uint64_t bytes);
double cli_now(void);

/* An item as a JSON object (every field). */
json_t *cli_item_json(const vault_item *it);

/* Parse a subcommand's options: the global ones, `extra` (ending with a
 * zero entry; may be NULL) and --help.  on_opt gets each extra option and
 * returns 0, or -1 to refuse it.  Returns 0 (optind at the first operand),
 * 1 after printing the help (exit 0), or -1 after printing the usage. */
struct option;
int cli_getopt(int argc, char **argv, cli_global *g,
	       const struct option *extra, const char *help,
	       int (*on_opt)(void *ctx, int opt, const char *arg), void *ctx);

/* on_opt for commands whose only own option is --json (a bool *ctx). */
int cli_json_opt(void *ctx, int opt, const char *arg);
/* on_opt for --kdf COST (a vault_kdf *ctx). */
int cli_kdf_opt(void *ctx, int opt, const char *arg);
#define CLI_JSON_OPTION {"json", no_argument, NULL, 'j'}

/* Print a usage line and the option summary of a subcommand. */
void cli_usage(const char *text);

#endif
