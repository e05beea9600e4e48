/*
 * fuzz_keyslot.c: passphrase slot files (vault/keyslot.c), read when a
 * vault is unlocked and when verify checks every slot.
 *
 * Input: the bytes of keys/slot-0000000000000000, the fixture vault's only
 * slot; the vault is then opened and unlocked with the fixture passphrase
 * (vault_open() + vault_unlock()), and, if that works, every slot's MAC is
 * checked.  To keep each try fast, the Argon2id costs (bytes 16..31) are
 * used as given only if they are at most 3 passes and 64 KiB (which
 * includes the out-of-bounds small values); larger ones are replaced by
 * the minimum before the file is written.  Checks: a slot that unlocks
 * gives the fixture's master key (the catalogue replays to the fixture's
 * items) and is the fixture's slot in every byte the AEAD covers (bytes
 * 0..119: nothing else can open it); verify finds its MAC good exactly when
 * bytes 120..151 are the fixture slot's MAC.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"

static char dir[512], slotpath[700];
static size_t items;
static unsigned char expect[152];

static void write_seeds(vault *v)
{
	unsigned char slot[152];
	fuzz_slot(v, slot);
	fuzz_seed("minimum-cost-slot", slot, sizeof slot);
	fuzz_seeds_done();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	fuzz_fixture *f = fuzz_fixture_get();
	if (fuzz_seed_dir())
		write_seeds(f->v);
	items = vault_item_count(f->v);
	fuzz_slot(f->v, expect);
	snprintf(dir, sizeof dir, "%s", f->dir);
	snprintf(slotpath, sizeof slotpath, "%s/keys/slot-0000000000000000", dir);
	fuzz_fixture_close(); /* release the writer's lock */
	return 0;
}

static int problems;
static void on_problem(void *ctx, const char *file, const char *why)
{
	(void)ctx;
	(void)file;
	(void)why;
	problems++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (size >= 32) {
		uint64_t ops = util_get_le64(buf + 16), mem = util_get_le64(buf + 24);
		if (ops > 3 || mem > 65536) {
			util_le64(buf + 16, crypto_pwhash_OPSLIMIT_MIN);
			util_le64(buf + 24, crypto_pwhash_MEMLIMIT_MIN);
		}
	}
	fuzz_write_file(slotpath, buf, size);

	vault *v = vault_new();
	if (!v) {
		free(buf);
		return 0;
	}
	if (vault_open(v, dir, NULL) != VAULT_OK) {
		fprintf(stderr, "fuzz_keyslot: cannot open the fixture: %s\n",
			vault_errmsg(v));
		abort();
	}
	vault_err e = vault_unlock(v, FUZZ_PASS, strlen(FUZZ_PASS));
	fuzz_say("keyslot: %s", e == VAULT_OK ? "unlocked" : vault_errmsg(v));
	if (e == VAULT_OK) {
		FUZZ_CHECK(vault_log_problems(v) == 0, "log problem: %s",
			   vault_log_problem(v, 0));
		FUZZ_CHECK(vault_item_count(v) == items, "%zu items, not %zu",
			   vault_item_count(v), items);
		problems = 0;
		FUZZ_CHECK(keyslot_check_all(v, on_problem, NULL) == VAULT_OK,
			   "slot check: %s", vault_errmsg(v));
		FUZZ_CHECK(size == 152 && memcmp(buf, expect, 120) == 0,
			   "a slot other than the fixture's opens");
		FUZZ_CHECK((problems == 0) == (memcmp(buf + 120, expect + 120,
						      32) == 0),
			   "%d problems for a slot whose MAC is %s", problems,
			   memcmp(buf + 120, expect + 120, 32) ? "altered"
							       : "intact");
	}
	free(buf);
	vault_free(v);
	return 0;
}
