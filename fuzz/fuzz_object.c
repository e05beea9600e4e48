/*
 * fuzz_object.c: reading an encrypted object (object_decrypt(),
 * vault/object.c), as cat, extract and verify do, when the file in the
 * object store is not what was written.
 *
 * Input: the bytes of an object file.  It is placed in the fixture vault
 * as the object of one of its items (0, 37, 1000 and 65537 bytes): the
 * item whose object has the input's length if there is one (so that
 * mutations that keep the length reach the header, chunk and trailer
 * checks), else the item chosen by the length modulo the number of items
 * (the length check).  Only the fixture's own objects (the seeds) can
 * authenticate.  When $EVAULT_CORPUS names the shared media corpus, up to
 * MEDIA_MAX of its small files (photos, audio, other, videos; sorted) are
 * ingested into the fixture first, and their objects written to
 * $FUZZ_EXTRA_SEEDS if set (scripts/fuzz.sh passes that directory to
 * libFuzzer as a corpus): real media, encrypted, as seeds.  Checks: a read that succeeds delivered exactly the
 * item's size in bytes, whose SHA-256 is the item id; one that fails says
 * why in the handle's message.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz/fuzz.h"

#define MEDIA_MAX 8
#define MEDIA_MAX_BYTES (128 * 1024)
static vault *v;

typedef struct {
	crypto_hash_sha256_state st;
	uint64_t n;
} sink_ctx;

static int sink(void *ctx, const void *buf, size_t len)
{
	sink_ctx *s = ctx;
	crypto_hash_sha256_update(&s->st, buf, len);
	s->n += len;
	return 0;
}

static void object_file(const vault_item *it, char *path, size_t n)
{
	unsigned char sha[32];
	char name[65];
	util_unhex(sha, 32, it->id);
	object_name(v, sha, name);
	snprintf(path, n, "%s/objects/%.2s/%s", fuzz_fixture_get()->dir, name,
		 name);
}

static void write_seeds(void)
{
	char path[1024], seed[64];
	for (size_t i = 0; i < vault_item_count(v); i++) {
		const vault_item *it = vault_item_at(v, i);
		size_t len;
		object_file(it, path, sizeof path);
		unsigned char *obj = fuzz_read_file(path, &len);
		snprintf(seed, sizeof seed, "object-%llu-bytes",
			 (unsigned long long)it->size);
		fuzz_seed(seed, obj, len);
		free(obj);
	}
	fuzz_seeds_done();
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static void add_media(const char *corpus)
{
	static const char *const kinds[] = {"photos", "audio", "other",
					    "videos"};
	const char *extra = getenv("FUZZ_EXTRA_SEEDS");
	int added = 0;
	for (size_t k = 0; k < 4 && added < MEDIA_MAX; k++) {
		char dir[1024];
		struct dirent **ents;
		snprintf(dir, sizeof dir, "%s/%s", corpus, kinds[k]);
		int n = scandir(dir, &ents, NULL, by_name);
		for (int i = 0; i < n; i++) {
			char path[2048], obj[1024], seed[64];
			struct stat st;
			vault_ingest_result res;
			const vault_item *it;
			snprintf(path, sizeof path, "%s/%s", dir, ents[i]->d_name);
			free(ents[i]);
			if (added >= MEDIA_MAX || stat(path, &st) != 0 ||
			    !S_ISREG(st.st_mode) || st.st_size > MEDIA_MAX_BYTES ||
			    vault_ingest_file(v, path, NULL, &res) != VAULT_OK ||
			    vault_commit(v) != VAULT_OK || res.already_held ||
			    vault_item_find(v, res.id, &it) != VAULT_OK)
				continue;
			added++;
			if (!extra || !*extra)
				continue;
			size_t len;
			object_file(it, obj, sizeof obj);
			unsigned char *bytes = fuzz_read_file(obj, &len);
			snprintf(seed, sizeof seed, "%s/media-%.16s", extra, res.id);
			fuzz_write_file(seed, bytes, len);
			free(bytes);
		}
		if (n >= 0)
			free(ents);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	v = fuzz_fixture_get()->v;
	if (fuzz_seed_dir())
		write_seeds();
	const char *corpus = getenv("EVAULT_CORPUS");
	if (corpus && *corpus)
		add_media(corpus);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = vault_item_count(v);
	const vault_item *it = vault_item_at(v, size % n);
	char path[1024], file[1024];
	unsigned char sha[32], want[32];
	sink_ctx s;

	for (size_t i = 0; i < n; i++)
		if (object_ct_size(vault_item_at(v, i)->size) == size)
			it = vault_item_at(v, i);
	object_file(it, path, sizeof path);
	fuzz_write_file(path, data, size);
	crypto_hash_sha256_init(&s.st);
	s.n = 0;
	v->err[0] = '\0';
	vault_err e = object_decrypt(v, it, sink, &s, NULL, NULL, file,
				     sizeof file);
	fuzz_say("object: item of %llu bytes: %s", (unsigned long long)it->size,
		 e == VAULT_OK ? "read" : vault_errmsg(v));
	if (e != VAULT_OK) {
		FUZZ_CHECK(v->err[0] != '\0', "error %s without a message",
			   vault_strerror(e));
		return 0;
	}
	crypto_hash_sha256_final(&s.st, sha);
	util_unhex(want, 32, it->id);
	FUZZ_CHECK(s.n == it->size, "delivered %llu bytes of %llu",
		   (unsigned long long)s.n, (unsigned long long)it->size);
	FUZZ_CHECK(memcmp(sha, want, 32) == 0, "delivered other bytes");
	return 0;
}
