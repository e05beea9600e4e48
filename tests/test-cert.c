/*
 * test-cert.c: verification certificates (vault/cert.c,
 * docs/certificate.md).
 *
 * Golden: from fixed-seed keys, fixed records and a fixed metadata
 * document, evault must write tests/golden/certificate-v1.txt byte for
 * byte (the worked example of docs/certificate.md section 7).  Set
 * EVAULT_GOLDEN_WRITE=1 to write the file instead, after a deliberate
 * format change (and say so in the commit).
 *
 * Then the issuer end to end on a real vault: certify an item, check the
 * certificate's records and the `certify` record that issuing commits.
 * What a verifier makes of certificates, good and tampered, is tested in
 * tests/cli/check-cert.sh (both evault check-cert and evault-verify).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "fixture.h"
#include "vault/internal.h"
#include "vault/merkle.h"
#include "vault/note.h"

#define ORIGIN "evault/000102030405060708090a0b0c0d0e0f"
#define ITEM_BYTES "evault golden item: a stand-in for a video\n"

static note_signer *key(const char *name, unsigned char fill)
{
	unsigned char seed[32];
	memset(seed, fill, sizeof seed);
	note_signer *s = note_signer_new(name, NOTE_TYPE_ED25519, seed);
	ck_assert_ptr_nonnull(s);
	return s;
}

static char *vkey_of(const note_signer *s)
{
	static char out[4][NOTE_VKEY_BYTES];
	static int k;
	char *o = out[k++ % 4];
	ck_assert_int_eq(note_vkey_format(note_signer_verifier(s), o), 0);
	return o;
}

/* The metadata document's parts a certificate uses, with hostile text
 * (an escape sequence, a backslash, a C1 control) in the model name. */
static const char golden_doc[] =
	"{\"v\":1,\"facts\":{\"capture_time\":\"2011-06-04T18:02:11+02:00\","
	"\"make\":\"Example\",\"model\":\"Phone \\u001b[31mX\\\\2\\u009b\","
	"\"serial\":\"SECRET-SERIAL-123\",\"location\":{\"lat\":30.0444196,"
	"\"lon\":31.2357116,\"alt\":23.5},\"gps_time\":\"2011-06-04T16:02:10Z\","
	"\"width\":1280,\"height\":720,\"duration\":12.5,\"rotation\":90,"
	"\"container\":\"mov,mp4,m4a,3gp,3g2,mj2\",\"sources\":{\"capture_time\":"
	"\"exif\"},\"inconsistencies\":[{\"fact\":\"capture_time\",\"values\":"
	"{\"exif\":\"a\",\"xmp\":\"b\"},\"why\":\"3 h apart\"},{\"fact\":"
	"\"location\",\"values\":{\"gps\":\"a\",\"container\":\"b\"},\"why\":"
	"\"80 m apart\"}]},\"container\":{\"format\":\"mov,mp4,m4a,3gp,3g2,mj2\","
	"\"duration\":12.5,\"bit_rate\":1000000,\"streams\":[{\"index\":0,\"type\":"
	"\"video\",\"codec\":\"h264\",\"profile\":\"High\",\"width\":1280,"
	"\"height\":720,\"avg_frame_rate\":\"30000/1001\",\"duration\":12.5},"
	"{\"index\":1,\"type\":\"audio\",\"codec\":\"aac\",\"profile\":\"LC\","
	"\"sample_rate\":48000,\"channels\":2}]}}";

typedef struct {
	char *text[8];
	size_t len[8];
	unsigned char leaves[8][32];
	size_t n;
} glog;

static void append(glog *l, const note_signer *by, const char *body)
{
	char *note;
	size_t len;
	ck_assert_int_eq(note_sign(by, body, strlen(body), 0, &note, &len), 0);
	l->text[l->n] = note;
	l->len[l->n] = len;
	merkle_leaf_hash((unsigned char *)note, len, l->leaves[l->n]);
	l->n++;
}

static char *golden_certificate(size_t *len, int omit)
{
	note_signer *log = key(ORIGIN, 2), *alice = key("alice", 1),
		    *bob = key("bob", 3);
	unsigned char sha[32];
	char id[65], body[1024], other[65];
	glog l = {0};

	EVP_Digest(ITEM_BYTES, strlen(ITEM_BYTES), sha, NULL, EVP_sha256(), NULL);
	util_hex(id, sha, 32);
	EVP_Digest("other", 5, sha, NULL, EVP_sha256(), NULL);
	util_hex(other, sha, 32);
	snprintf(body, sizeof body,
		 "{\"v\":1,\"kind\":\"init\",\"time\":\"2026-11-29T10:00:00Z\","
		 "\"nonce\":\"00000000000000000000000000000000\",\"actor\":\"alice\","
		 "\"vault\":\"000102030405060708090a0b0c0d0e0f\",\"custodian\":"
		 "{\"name\":\"alice\",\"vkey\":\"%s\"}}\n", vkey_of(alice));
	append(&l, alice, body);
	snprintf(body, sizeof body,
		 "{\"v\":1,\"kind\":\"ingest\",\"time\":\"2026-11-29T10:01:00Z\","
		 "\"nonce\":\"01010101010101010101010101010101\",\"actor\":\"alice\","
		 "\"item\":{\"sha256\":\"%s\",\"size\":%zu,\"type\":\"video/mp4\","
		 "\"name\":\"clip.mp4\",\"path\":\"clip.mp4\",\"mtime\":1795940400,"
		 "\"case\":\"golden\",\"already_held\":false}}\n",
		 id, strlen(ITEM_BYTES));
	append(&l, alice, body);
	snprintf(body, sizeof body,
		 "{\"v\":1,\"kind\":\"ingest\",\"time\":\"2026-11-29T10:02:00Z\","
		 "\"nonce\":\"02020202020202020202020202020202\",\"actor\":\"alice\","
		 "\"item\":{\"sha256\":\"%s\",\"size\":5,\"type\":\"text/plain\","
		 "\"name\":\"other.txt\",\"path\":\"other.txt\",\"mtime\":1795940400,"
		 "\"already_held\":false}}\n", other);
	append(&l, alice, body);
	snprintf(body, sizeof body,
		 "{\"v\":1,\"kind\":\"custodian-add\",\"time\":\"2026-11-29T10:03:00Z\","
		 "\"nonce\":\"03030303030303030303030303030303\",\"actor\":\"alice\","
		 "\"custodian\":{\"name\":\"bob\",\"vkey\":\"%s\"}}\n", vkey_of(bob));
	append(&l, alice, body);
	snprintf(body, sizeof body,
		 "{\"v\":1,\"kind\":\"transfer\",\"time\":\"2026-11-29T10:04:00Z\","
		 "\"nonce\":\"04040404040404040404040404040404\",\"actor\":\"alice\","
		 "\"item\":\"%s\",\"to\":\"bob\"}\n", id);
	append(&l, alice, body);
	char leaf[65];
	util_hex(leaf, l.leaves[4], 32);
	snprintf(body, sizeof body,
		 "{\"v\":1,\"kind\":\"accept\",\"time\":\"2026-11-29T10:05:00Z\","
		 "\"nonce\":\"05050505050505050505050505050505\",\"actor\":\"bob\","
		 "\"item\":\"%s\",\"transfer\":4,\"transfer_leaf\":\"%s\"}\n", id, leaf);
	append(&l, bob, body);
	snprintf(body, sizeof body,
		 "{\"v\":1,\"kind\":\"note\",\"time\":\"2026-11-29T10:06:00Z\","
		 "\"nonce\":\"06060606060606060606060606060606\",\"actor\":\"bob\","
		 "\"item\":\"%s\",\"text\":\"seen by the editor\"}\n", id);
	append(&l, bob, body);

	/* the checkpoint of the 7 records */
	cert_input in = {
		.origin = ORIGIN, .log_vkey = vkey_of(log),
		.issued = "2026-11-29T11:00:00Z", .issuer = "bob", .item = id,
		.size = strlen(ITEM_BYTES), .type = "video/mp4", .tree = l.n,
		.leaves = (const unsigned char (*)[32])l.leaves,
	};
	merkle_root(in.leaves, l.n, in.root);
	textbuf cp = {0}, lines = {0};
	tb_printf(&cp, "%s\n%zu\n", ORIGIN, l.n);
	tb_hash(&cp, in.root);
	char *cpnote;
	size_t cplen;
	ck_assert_int_eq(note_sign(log, cp.p, cp.len, 0, &cpnote, &cplen), 0);
	in.checkpoint = cpnote;
	in.cplen = cplen;

	json_t *doc = json_loads(golden_doc, 0, NULL);
	ck_assert_ptr_nonnull(doc);
	cert_fact_lines(&lines, doc, omit);
	json_decref(doc);
	in.lines = lines.p;

	/* what the issuer would choose: init, the item's records, bob's
	 * registration (he signed the accept and the note), not record 2 */
	cert_record recs[6];
	size_t take[] = {0, 1, 3, 4, 5, 6};
	for (size_t i = 0; i < 6; i++)
		recs[i] = (cert_record){take[i], l.text[take[i]], l.len[take[i]]};
	in.records = recs;
	in.nrecords = 6;

	char *cert;
	ck_assert_int_eq(cert_build(&in, log, &cert, len), 0);
	for (size_t i = 0; i < l.n; i++)
		free(l.text[i]);
	free(cp.p);
	free(cpnote);
	free(lines.p);
	note_signer_free(log);
	note_signer_free(alice);
	note_signer_free(bob);
	return cert;
}

START_TEST(golden_bytes)
{
	size_t len, glen;
	char *cert = golden_certificate(&len, 0);
	char path[4096];
	const char *src = getenv("EVAULT_SRC");
	snprintf(path, sizeof path, "%s/tests/golden/certificate-v1.txt",
		 src ? src : ".");
	if (getenv("EVAULT_GOLDEN_WRITE")) {
		FILE *f = fopen(path, "w");
		ck_assert_ptr_nonnull(f);
		fwrite(cert, 1, len, f);
		fclose(f);
	}
	unsigned char *golden = NULL;
	ck_assert_msg(fx_read_file(path, &golden, &glen) == 0, "cannot read %s", path);
	ck_assert_msg(glen == len && memcmp(golden, cert, len) == 0,
		      "the certificate differs from %s", path);
	/* never a serial number; hostile text escaped; statement and
	 * checkpoint separated by exactly one empty line after the signature */
	ck_assert_ptr_null(strstr(cert, "SECRET-SERIAL"));
	ck_assert_ptr_nonnull(strstr(cert, "fact model Phone \\u001b[31mX\\\\2\\u009b\n"));
	ck_assert_ptr_nonnull(strstr(cert, "fact location 30.0444196 31.2357116 23.5\n"));
	ck_assert_ptr_nonnull(strstr(cert, "\n\n\xe2\x80\x94 " ORIGIN " "));
	for (size_t i = 0; i < len; i++)
		ck_assert_msg((unsigned char)cert[i] >= 0x20 || cert[i] == '\n',
			      "control character at byte %zu", i);
	/* docs/certificate.md section 7 shows it verbatim */
	unsigned char *doc = NULL;
	size_t dlen;
	snprintf(path, sizeof path, "%s/docs/certificate.md", src ? src : ".");
	ck_assert_msg(fx_read_file(path, &doc, &dlen) == 0, "cannot read %s", path);
	doc = realloc(doc, dlen + 1);
	doc[dlen] = '\0';
	ck_assert_msg(strstr((char *)doc, cert) != NULL,
		      "docs/certificate.md does not show the golden certificate");
	free(doc);
	free(golden);
	free(cert);
}
END_TEST

START_TEST(omit_location)
{
	size_t len;
	char *cert = golden_certificate(&len, 1);
	ck_assert_ptr_null(strstr(cert, "fact location"));
	ck_assert_ptr_null(strstr(cert, "fact gps_time"));
	ck_assert_ptr_null(strstr(cert, "80 m apart"));
	ck_assert_ptr_nonnull(strstr(cert, "\nomitted location\n"));
	ck_assert_ptr_nonnull(strstr(cert, "fact inconsistency capture_time: 3 h apart\n"));
	free(cert);
}
END_TEST

START_TEST(escape_bounds)
{
	textbuf t = {0};
	char big[3000];
	/* 1500 two-byte characters: cut at 1024 bytes, on a boundary */
	for (int i = 0; i < 1500; i++)
		memcpy(big + 2 * i, "\xc3\xa9", 2);
	big[2999] = '\0';
	cert_escape(&t, big);
	ck_assert_uint_eq(t.len, 1024);
	ck_assert_int_eq((unsigned char)t.p[1022], 0xc3);
	t.len = 0;
	cert_escape(&t, "a\tb\x7f\xc2\x85\\");
	ck_assert_str_eq(t.p, "a\\u0009b\\u007f\\u0085\\\\");
	/* right-to-left override, zero-width space, BOM; é kept */
	t.len = 0;
	cert_escape(&t, "\xe2\x80\xaeX\xe2\x80\x8b\xef\xbb\xbf\xc3\xa9");
	ck_assert_str_eq(t.p, "\\u202eX\\u200b\\ufeff\xc3\xa9");
	free(t.p);
}
END_TEST

/* The issuer on a real vault: records chosen, proofs to the latest
 * checkpoint, and the certify record committed. */
START_TEST(issue_on_vault)
{
	const char *path = fx_write_file("a.txt", "item a\n", 7);
	const char *other = fx_write_file("b.txt", "item b\n", 7);
	vault_ingest_result res;
	ck_assert_int_eq(vault_ingest_file(fx_v, path, NULL, &res), VAULT_OK);
	ck_assert_int_eq(vault_ingest_file(fx_v, other, NULL, &res), VAULT_OK);
	const vault_item *it = vault_item_at(fx_v, 0);
	ck_assert_int_eq(vault_item_note(fx_v, it, "first note"), VAULT_OK);
	uint64_t before = vault_log_size(fx_v);
	char *cert;
	size_t len;
	ck_assert_int_eq(vault_certify(fx_v, it, NULL, &cert, &len), VAULT_OK);
	ck_assert_uint_eq(vault_log_size(fx_v), before + 1);
	/* record 0, the ingest of a and the note; not b's ingest */
	int records = 0;
	for (char *p = cert; (p = strstr(p, "\nrecord ")); p++)
		records++;
	ck_assert_int_eq(records, 3);
	char tree[64];
	snprintf(tree, sizeof tree, "\ntree %llu ", (unsigned long long)before);
	ck_assert_ptr_nonnull(strstr(cert, tree));
	vault_record r;
	ck_assert_int_eq(vault_record_at(fx_v, before, &r), VAULT_OK);
	ck_assert_str_eq(r.kind, "certify");
	ck_assert_str_eq(r.item, it->id);
	unsigned char sha[32];
	char hex[65];
	EVP_Digest(cert, len, sha, NULL, EVP_sha256(), NULL);
	util_hex(hex, sha, 32);
	ck_assert_ptr_nonnull(strstr(r.text, hex));
	free(cert);
	/* the replay accepts the certify record */
	vault *v2 = fx_reopen(0);
	ck_assert_uint_eq(vault_log_problems(v2), 0);
}
END_TEST

/* A statement larger than a note in the log may be (1 MiB): two notes of
 * 600 KB each make it about 1.6 MiB in base64. */
START_TEST(large_statement)
{
	const char *path = fx_write_file("a.txt", "item a\n", 7);
	vault_ingest_result res;
	ck_assert_int_eq(vault_ingest_file(fx_v, path, NULL, &res), VAULT_OK);
	const vault_item *it = vault_item_at(fx_v, 0);
	char *text = malloc(600001);
	ck_assert_ptr_nonnull(text);
	memset(text, 'n', 600000);
	text[600000] = '\0';
	ck_assert_int_eq(vault_item_note(fx_v, it, text), VAULT_OK);
	ck_assert_int_eq(vault_item_note(fx_v, it, text), VAULT_OK);
	free(text);
	char *cert;
	size_t len;
	ck_assert_msg(vault_certify(fx_v, it, NULL, &cert, &len) == VAULT_OK,
		      "certify: %s", vault_errmsg(fx_v));
	ck_assert_uint_gt(len, 1600000);
	ck_assert_ptr_nonnull(strstr(cert, "\nrecord 3 "));
	free(cert);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cert");
	TCase *tc = tcase_create("golden");
	fx_tcase_tmp(tc);
	tcase_add_test(tc, golden_bytes);
	tcase_add_test(tc, omit_location);
	tcase_add_test(tc, escape_bounds);
	suite_add_tcase(s, tc);
	tc = tcase_create("vault");
	fx_tcase_vault(tc);
	tcase_add_test(tc, issue_on_vault);
	tcase_add_test(tc, large_statement);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
