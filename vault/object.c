/*
 * object.c: the encrypted object format, one object per held file.
 *
 *   "EVAULTO1" | secretstream header[24]
 *   data chunks: the original bytes followed by zero padding up to
 *     util_padme(size), cut into 64 KiB pieces (the last may be shorter),
 *     each sealed with crypto_secretstream_xchacha20poly1305, tag MESSAGE
 *   trailer chunk, tag FINAL: "EVTR" | u32 1 | u64 size | SHA-256[32]
 *
 * The chunk boundaries follow from the object's length, so a truncated or
 * extended object, a missing final tag, reordered or foreign chunks, and a
 * trailer that names other content are all caught.  The object's name is
 * a keyed hash of the SHA-256 (object_name), so names reveal nothing to
 * someone who holds a copy of the file but not the vault's key.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "vault/internal.h"

#define SS_ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
#define TAG_MESSAGE crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
#define TAG_FINAL crypto_secretstream_xchacha20poly1305_TAG_FINAL

void object_name(const vault *v, const unsigned char sha[32], char out[65])
{
	static const char label[] = "evault object v1";
	unsigned char h[32];
	crypto_generichash_state st;
	crypto_generichash_init(&st, v->keys->name, 32, sizeof h);
	crypto_generichash_update(&st, (const unsigned char *)label,
				  sizeof label - 1);
	crypto_generichash_update(&st, sha, 32);
	crypto_generichash_final(&st, h, sizeof h);
	util_hex(out, h, sizeof h);
}

uint64_t object_ct_size(uint64_t size)
{
	uint64_t padded = util_padme(size);
	uint64_t full = padded / OBJ_CHUNK, rest = padded % OBJ_CHUNK;
	return OBJ_HEADER_BYTES + full * OBJ_CHUNK_CT +
	       (rest ? rest + SS_ABYTES : 0) + OBJ_TRAILER_CT;
}

/* --- Writing ------------------------------------------------------------- */

int object_enc_begin(object_enc *e, const unsigned char key[32],
		     object_write_fn write, void *wctx)
{
	unsigned char head[OBJ_HEADER_BYTES];
	memset(e, 0, sizeof *e);
	e->out = util_page_alloc((size_t)OBJ_BATCH * OBJ_CHUNK_CT);
	if (!e->out)
		return -ENOMEM;
	e->write = write;
	e->wctx = wctx;
	memcpy(head, OBJ_MAGIC, 8);
	crypto_secretstream_xchacha20poly1305_init_push(&e->st, head + 8, key);
	return e->write(e->wctx, head, sizeof head);
}

/* Seal `n` whole or partial chunks laid out back to back in `in`. */
static int seal(object_enc *e, const unsigned char *in, size_t len)
{
	size_t outlen = 0;
	while (len > 0) {
		size_t take = len < OBJ_CHUNK ? len : OBJ_CHUNK;
		crypto_secretstream_xchacha20poly1305_push(
			&e->st, e->out + outlen, NULL, in, take, NULL, 0,
			TAG_MESSAGE);
		outlen += take + SS_ABYTES;
		e->padded_done += take;
		in += take;
		len -= take;
	}
	return e->write(e->wctx, e->out, outlen);
}

int object_enc_update(object_enc *e, const unsigned char *in, size_t len)
{
	int rc;
	while (len > 0) {
		if (e->plen == 0 && len >= OBJ_CHUNK) {
			size_t n = len / OBJ_CHUNK;
			if (n > OBJ_BATCH)
				n = OBJ_BATCH;
			if ((rc = seal(e, in, n * OBJ_CHUNK)) != 0)
				return rc;
			in += n * OBJ_CHUNK;
			len -= n * OBJ_CHUNK;
			continue;
		}
		size_t take = OBJ_CHUNK - e->plen;
		if (take > len)
			take = len;
		memcpy(e->part + e->plen, in, take);
		e->plen += take;
		in += take;
		len -= take;
		if (e->plen == OBJ_CHUNK) {
			e->plen = 0;
			if ((rc = seal(e, e->part, OBJ_CHUNK)) != 0)
				return rc;
		}
	}
	return 0;
}

int object_enc_final(object_enc *e, uint64_t size, const unsigned char sha[32])
{
	static const unsigned char zeros[OBJ_CHUNK];
	unsigned char trailer[OBJ_TRAILER_BYTES];
	uint64_t pad = util_padme(size) - size;
	int rc;

	while (pad > 0) {
		size_t take = pad < OBJ_CHUNK ? (size_t)pad : OBJ_CHUNK;
		if ((rc = object_enc_update(e, zeros, take)) != 0)
			return rc;
		pad -= take;
	}
	if (e->plen > 0) {
		size_t n = e->plen;
		e->plen = 0;
		if ((rc = seal(e, e->part, n)) != 0)
			return rc;
	}
	memcpy(trailer, "EVTR", 4);
	util_le32(trailer + 4, 1);
	util_le64(trailer + 8, size);
	memcpy(trailer + 16, sha, 32);
	crypto_secretstream_xchacha20poly1305_push(&e->st, e->out, NULL, trailer,
						   sizeof trailer, NULL, 0,
						   TAG_FINAL);
	return e->write(e->wctx, e->out, OBJ_TRAILER_CT);
}

void object_enc_release(object_enc *e)
{
	free(e->out);
	e->out = NULL;
	sodium_memzero(&e->st, sizeof e->st);
	sodium_memzero(e->part, sizeof e->part);
}

/* --- Reading -------------------------------------------------------------- */

typedef struct {
	EVP_MD_CTX *md;
	vault_sink_fn sink;
	void *sink_ctx;
} dec_consumer;

static int dec_consume(void *ctx, vpipe_buf *b)
{
	dec_consumer *c = ctx;
	if (b->len == 0)
		return 0;
	if (EVP_DigestUpdate(c->md, b->data, b->len) != 1)
		return -EIO;
	if (c->sink && c->sink(c->sink_ctx, b->data, b->len) != 0)
		return -EPIPE;
	return 0;
}

static int all_zero(const unsigned char *p, size_t n)
{
	unsigned char acc = 0;
	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

vault_err object_decrypt(vault *v, const vault_item *item, vault_sink_fn sink,
			 void *sink_ctx, vault_progress_fn progress,
			 void *progress_ctx, char *file, size_t filesize)
{
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned char head[OBJ_HEADER_BYTES], sha[32], want[32];
	unsigned char trailer_ct[OBJ_TRAILER_CT], trailer[OBJ_TRAILER_BYTES];
	unsigned char *ct = NULL, tag;
	char name[65];
	vault_stream *s = NULL;
	vpipe *p = NULL;
	dec_consumer cons = {NULL, sink, sink_ctx};
	uint64_t ctsize = 0, padded = util_padme(item->size), pos = 0, chunk = 0;
	vault_err e = VAULT_OK;
	int rc;

	util_unhex(want, 32, item->id);
	object_name(v, want, name);
	v->store->ops->locate(v->store, name, file, filesize);
	rc = v->store->ops->get(v->store, name, &s, &ctsize);
	if (rc == -ENOENT)
		return vault_fail(v, VAULT_E_NOTFOUND, "%s: object is missing",
				  file);
	if (rc < 0)
		return vault_fail_errno(v, rc, "%s: cannot open", file);
	if (ctsize != object_ct_size(item->size)) {
		e = vault_fail(v, VAULT_E_CORRUPT,
			       "%s: object is %llu bytes, %llu expected (truncated "
			       "or extended)",
			       file, (unsigned long long)ctsize,
			       (unsigned long long)object_ct_size(item->size));
		goto out;
	}
	if (s->read(s, head, sizeof head) != (ssize_t)sizeof head ||
	    memcmp(head, OBJ_MAGIC, 8) != 0 ||
	    crypto_secretstream_xchacha20poly1305_init_pull(&st, head + 8,
							    v->keys->object) != 0) {
		e = vault_fail(v, VAULT_E_CORRUPT, "%s: bad object header", file);
		goto out;
	}
	cons.md = EVP_MD_CTX_new();
	ct = util_page_alloc((size_t)OBJ_BATCH * OBJ_CHUNK_CT);
	p = vpipe_new(4, (size_t)OBJ_BATCH * OBJ_CHUNK, dec_consume, &cons);
	if (!cons.md || !ct || !p ||
	    EVP_DigestInit_ex(cons.md, EVP_sha256(), NULL) != 1) {
		e = vault_fail(v, VAULT_E_NOMEM, "out of memory");
		goto out;
	}
	while (pos < padded) {
		vpipe_buf *b = vpipe_get(p);
		if (!b)
			break; /* the consumer failed; reported below */
		size_t n = 0, ctlen = 0;
		uint64_t start = pos;
		while (n < OBJ_BATCH && pos + (uint64_t)n * OBJ_CHUNK < padded) {
			uint64_t left = padded - pos - (uint64_t)n * OBJ_CHUNK;
			ctlen += (left < OBJ_CHUNK ? (size_t)left : OBJ_CHUNK) +
				 SS_ABYTES;
			n++;
		}
		ssize_t r = s->read(s, ct, ctlen);
		if (r != (ssize_t)ctlen) {
			e = r < 0 ? vault_fail_errno(v, (int)r, "%s: read failed",
						     file)
				  : vault_fail(v, VAULT_E_CORRUPT,
					       "%s: object ends early", file);
			vpipe_put(p, b);
			break;
		}
		size_t off = 0;
		for (size_t i = 0; i < n; i++, chunk++) {
			size_t clen = (i + 1 < n ? OBJ_CHUNK_CT : ctlen - off);
			unsigned long long mlen;
			if (crypto_secretstream_xchacha20poly1305_pull(
				    &st, b->data + b->len, &mlen, &tag, ct + off,
				    clen, NULL, 0) != 0 ||
			    tag != TAG_MESSAGE) {
				e = vault_fail(v, VAULT_E_CORRUPT,
					       "%s: chunk %llu does not "
					       "authenticate",
					       file, (unsigned long long)chunk);
				break;
			}
			off += clen;
			b->len += (size_t)mlen;
		}
		pos += b->len;
		if (e == VAULT_OK && pos > item->size) {
			/* Past the original bytes: padding, which must be zero. */
			uint64_t data = start >= item->size ? 0 : item->size - start;
			if (!all_zero(b->data + data, b->len - (size_t)data))
				e = vault_fail(v, VAULT_E_CORRUPT,
					       "%s: padding is not zero", file);
			b->len = (size_t)data;
		}
		if (e != VAULT_OK)
			b->len = 0;
		vpipe_put(p, b);
		if (e != VAULT_OK)
			break;
		if (progress)
			progress(progress_ctx, pos < item->size ? pos : item->size,
				 item->size);
	}
	rc = vpipe_finish(p);
	if (e != VAULT_OK)
		goto out;
	if (rc == -EPIPE) {
		e = vault_fail(v, VAULT_E_WRITE, "output failed");
		goto out;
	}
	if (rc != 0 || pos != padded) {
		e = vault_fail(v, VAULT_E_IO, "%s: hashing failed", file);
		goto out;
	}
	unsigned long long tlen;
	if (s->read(s, trailer_ct, sizeof trailer_ct) != (ssize_t)sizeof trailer_ct ||
	    crypto_secretstream_xchacha20poly1305_pull(&st, trailer, &tlen, &tag,
						       trailer_ct,
						       sizeof trailer_ct, NULL,
						       0) != 0 ||
	    tag != TAG_FINAL || tlen != OBJ_TRAILER_BYTES) {
		e = vault_fail(v, VAULT_E_CORRUPT,
			       "%s: final chunk missing or does not authenticate",
			       file);
		goto out;
	}
	if (memcmp(trailer, "EVTR", 4) != 0 || util_get_le32(trailer + 4) != 1 ||
	    util_get_le64(trailer + 8) != item->size ||
	    memcmp(trailer + 16, want, 32) != 0) {
		e = vault_fail(v, VAULT_E_CORRUPT,
			       "%s: trailer names other content than item %s",
			       file, item->id);
		goto out;
	}
	EVP_DigestFinal_ex(cons.md, sha, NULL);
	if (memcmp(sha, want, 32) != 0) {
		char got[65];
		util_hex(got, sha, 32);
		e = vault_fail(v, VAULT_E_CORRUPT,
			       "%s: SHA-256 of the content is %s, not %s", file,
			       got, item->id);
	}
out:
	vpipe_free(p);
	free(ct);
	EVP_MD_CTX_free(cons.md);
	if (s)
		s->close(s);
	sodium_memzero(&st, sizeof st);
	return e;
}
