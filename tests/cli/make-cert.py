#!/usr/bin/env python3
"""make-cert.py OUTDIR: evault certificates made from the specification.

Builds, byte for byte as docs/certificate.md and docs/formats.md (sections
7, 10, 12-14) describe them, a small custody log from fixed Ed25519 seeds,
a certificate about one of its items, and deliberately broken variants,
each re-signed by the log key where that lets the verifier reach the check
that must catch it.  tests/cli/check-cert.sh runs `evault check-cert` and
`evault-verify` on each.  Nothing here shares code with evault: it is a
second reading of the same text.

OUTDIR receives the keys (*.vkey), the item (item.bin) and an unrelated
file (other.bin), the certificates (*.cert), later checkpoints and
consistency proofs, and cases.tsv: one case a line,

    name <TAB> exit status <TAB> failing check <TAB> phrase <TAB> arguments

(arguments separated by spaces, relative to OUTDIR; check and phrase "-"
for the valid cases).  Exits 77 when the `cryptography` package is absent.
"""
import base64
import hashlib
import json
import os
import struct
import sys

try:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives import serialization
except ImportError:
    print("SKIP - python3-cryptography is not installed")
    sys.exit(77)

VAULT_ID = "000102030405060708090a0b0c0d0e0f"
ORIGIN = "evault/" + VAULT_ID
EM = "\u2014 "  # every signature line begins with an em dash and a space


def b64(b):
    return base64.b64encode(b).decode()


def sha(b):
    return hashlib.sha256(b).digest()


class Key:
    """An Ed25519 key of formats section 7 (type 0x01 notes, 0x04 cosignatures)."""

    def __init__(self, name, seed_byte, ktype=1):
        self.sk = Ed25519PrivateKey.from_private_bytes(bytes([seed_byte]) * 32)
        self.pk = self.sk.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.name = name
        self.type = ktype
        self.id = sha(name.encode() + b"\n" + bytes([ktype]) + self.pk)[:4]

    def vkey(self):
        return "%s+%s+%s" % (self.name, self.id.hex(), b64(bytes([self.type]) + self.pk))

    def sig_line(self, text):
        assert self.type == 1
        return (EM + self.name + " " + b64(self.id + self.sk.sign(text)) + "\n").encode()

    def cosig_line(self, cp_text, t):
        assert self.type == 4
        msg = b"cosignature/v1\ntime %d\n" % t + cp_text
        blob = self.id + struct.pack(">Q", t) + self.sk.sign(msg)
        return (EM + self.name + " " + b64(blob) + "\n").encode()


LOG = Key(ORIGIN, 0x02)
ALICE = Key("alice", 0x01)
BOB = Key("bob", 0x03)
WITNESS = Key("witness.example", 0x04, 4)
WITNESS2 = Key("witness2.example", 0x06, 4)
OTHER_LOG = Key("evault/ffeeddccbbaa99887766554433221100", 0x07)
MALLORY = Key("mallory", 0x05)
FAKE_BOB = Key("bob", 0x05)  # a key named bob that was never registered


def note(text, *signers):
    return text + b"\n" + b"".join(k.sig_line(text) for k in signers)


# --- the Merkle tree of RFC 9162 section 2.1 ---------------------------------

def leaf_hash(rec):
    return sha(b"\x00" + rec)


def node(l, r):
    return sha(b"\x01" + l + r)


def split(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves):
    if not leaves:
        return sha(b"")
    if len(leaves) == 1:
        return leaves[0]
    k = split(len(leaves))
    return node(mth(leaves[:k]), mth(leaves[k:]))


def path(m, leaves):
    """RFC 9162 2.1.3.1 PATH(m, D[n]): leaf's sibling first."""
    if len(leaves) <= 1:
        return []
    k = split(len(leaves))
    if m < k:
        return path(m, leaves[:k]) + [mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth(leaves[:k])]


def subproof(m, leaves, b):
    n = len(leaves)
    if m == n:
        return [] if b else [mth(leaves)]
    k = split(n)
    if m <= k:
        return subproof(m, leaves[:k], b) + [mth(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


def consistency(m, leaves):
    """RFC 9162 2.1.4.1 PROOF(m, D[n])."""
    if m == 0 or m == len(leaves):
        return []
    return subproof(m, leaves, True)


# --- records (formats section 10) ---------------------------------------------

def record(signer, kind, t, actor, nonce, **more):
    body = {"v": 1, "kind": kind, "time": t, "nonce": "%032x" % nonce, "actor": actor}
    body.update(more)
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=True).encode() + b"\n"
    return note(text, signer)


def checkpoint(leaves, cosigners=(), t=1795956452):
    text = ("%s\n%d\n%s\n" % (ORIGIN, len(leaves), b64(mth(leaves)))).encode()
    return text + b"\n" + LOG.sig_line(text) + b"".join(w.cosig_line(text, t) for w in cosigners)


ITEM = b"a small file that stands in for the evidence\n" * 3
OTHER = b"an unrelated file\n"
ITEM_ID = sha(ITEM).hex()
OTHER_ID = sha(OTHER).hex()


def time(i):
    return "2026-11-29T10:%02d:00Z" % i


def make_log(fork=False, bob_signer=BOB, note_actor="bob", accept_leaf=None):
    """The log: init, ingest, custodian-add bob, transfer, accept, note,
    an unrelated ingest (the certificate's tree: 7), then a certify and a
    note of the other file (the later tree: 9)."""
    recs = []
    recs.append(record(ALICE, "init", time(0), "alice", 0, vault=VAULT_ID,
                       custodian={"name": "alice", "vkey": ALICE.vkey()}))
    recs.append(record(ALICE, "ingest", time(1), "alice", 1, item={
        "sha256": ITEM_ID, "size": len(ITEM), "type": "text/plain",
        "name": "clip.txt", "path": "evidence/clip.txt", "mtime": 1795940400,
        "case": "test-case", "already_held": False}))
    recs.append(record(ALICE, "custodian-add", time(2), "alice", 2,
                       custodian={"name": "bob", "vkey": BOB.vkey()}))
    recs.append(record(ALICE, "transfer", time(3), "alice", 3, item=ITEM_ID, to="bob"))
    recs.append(record(BOB, "accept", time(4), "bob", 4, item=ITEM_ID, transfer=3,
                       transfer_leaf=accept_leaf or leaf_hash(recs[3]).hex()))
    recs.append(record(bob_signer, "note", time(5), note_actor, 5, item=ITEM_ID,
                       text="seen by the editor \u00e9 \\ \"quoted\""))
    other = OTHER if not fork else OTHER + b"forked\n"
    recs.append(record(ALICE, "ingest", time(6), "alice", 6, item={
        "sha256": sha(other).hex(), "size": len(other), "type": "text/plain",
        "name": "other.txt", "path": "other.txt", "mtime": 1795940401,
        "already_held": False}))
    recs.append(record(BOB, "certify", time(7), "bob", 7, item=ITEM_ID))
    recs.append(record(ALICE, "note", time(8), "alice", 8, item=OTHER_ID, text="x"))
    return recs


def statement(tree_leaves, entries, fields=None):
    """The statement text (section 3) with record lines for `entries`, a
    list of (index, record bytes, path hashes)."""
    f = fields or {}
    lines = ["evault-certificate/v1",
             "origin " + f.get("origin", ORIGIN),
             "log-key " + f.get("log-key", LOG.vkey()),
             "issued 2026-11-29T11:00:00Z",
             "issuer bob",
             "item " + f.get("item", ITEM_ID),
             "size %s" % f.get("size", len(ITEM)),
             "type " + f.get("type", "text/plain"),
             "tree %d %s" % (len(tree_leaves), b64(mth(tree_leaves))),
             "fact capture_time 2011-06-04T18:02:11+02:00 (exif)",
             "fact make Example \\u001b[31m",
             "omitted location",
             "media container mov,mp4,m4a,3gp,3g2,mj2",
             "stream 0 video h264 (High), 1280x720, 30000/1001 fps",
             "future-field ignored by version 1 verifiers"]
    for i, rec, hashes in entries:
        lines.append("record %d %s" % (i, " ".join([b64(rec)] + [b64(h) for h in hashes])))
    return ("\n".join(lines) + "\n").encode()


def certificate(stmt, cp, signer=LOG):
    return stmt + b"\n" + signer.sig_line(stmt) + b"\n" + cp


def entries_for(recs, leaves, indexes):
    return [(i, recs[i], path(i, leaves)) for i in indexes]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make-cert.py OUTDIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)

    def write(name, data):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())

    for name, k in [("log", LOG), ("alice", ALICE), ("bob", BOB), ("witness", WITNESS),
                    ("witness2", WITNESS2), ("other-log", OTHER_LOG)]:
        write(name + ".vkey", k.vkey() + "\n")
    write("item.bin", ITEM)
    write("other.bin", OTHER)

    recs = make_log()
    leaves = [leaf_hash(r) for r in recs]
    tree = leaves[:7]
    cp = checkpoint(tree, [WITNESS])
    about = [0, 1, 2, 3, 4, 5]
    cases = []

    def case(name, rc, check, phrase, args):
        cases.append("\t".join([name, str(rc), check, phrase, args]))

    def cert(name, entries, cpoint=cp, fields=None, tree_leaves=tree):
        write(name, certificate(statement(tree_leaves, entries, fields), cpoint))

    good = entries_for(recs, tree, about)
    cert("good.cert", good)
    std = "--key log.vkey --witness witness.vkey"
    case("good", 0, "-", "-", "good.cert item.bin " + std)
    case("good-no-key", 0, "log-key", "no log key was given", "good.cert")
    case("good-key-file-or-string", 0, "-", "-", "good.cert --key " + LOG.vkey())

    # A field changed after signing, not re-signed.
    st = statement(tree, good)
    bad = st.replace(b"type text/plain", b"type video/mp4")
    write("changed-field.cert", bad + b"\n" + LOG.sig_line(st) + b"\n" + cp)
    case("changed-field", 1, "statement-signature",
         "the statement's signature by the log key does not verify",
         "changed-field.cert item.bin " + std)

    # The registration of bob left out: bob's records have no key.
    cert("dropped-registration.cert", entries_for(recs, tree, [0, 1, 3, 4, 5]))
    case("dropped-registration", 1, "record-signature",
         "record 4: signed by bob, who is not a registered custodian at index 4",
         "dropped-registration.cert " + std)

    # Two records' proofs swapped.
    e = list(good)
    e[3], e[5] = (3, recs[3], path(5, tree)), (5, recs[5], path(3, tree))
    cert("swapped-proof.cert", e)
    case("swapped-proof", 1, "record-inclusion",
         "record 3: inclusion proof does not lead to the checkpoint's root",
         "swapped-proof.cert " + std)

    # A record about another item (proven, signed: only the item check fails).
    cert("other-item.cert", entries_for(recs, tree, about + [6]))
    case("other-item", 1, "item", "record 6: about item %s, not this item" % sha(OTHER).hex(),
         "other-item.cert " + std)

    case("wrong-file", 1, "file", "the file's SHA-256 is %s" % sha(OTHER).hex(),
         "good.cert other.bin " + std)
    case("other-vault-key", 1, "log-key", "not the key given",
         "good.cert --key other-log.vkey")

    # A record signed by a key named bob that was never registered, and a
    # record of an actor never registered: both in the log (a log whose
    # record 5 is so), so only the signature check fails.
    for name, signer, actor, phrase in [
            ("unregistered-key", FAKE_BOB, "bob",
             "record 5: it carries no signature line of the registered key of bob"),
            ("unregistered-actor", MALLORY, "mallory",
             "record 5: signed by mallory, who is not a registered custodian at index 5")]:
        r2 = make_log(bob_signer=signer, note_actor=actor)
        l2 = [leaf_hash(r) for r in r2]
        cert(name + ".cert", entries_for(r2, l2[:7], about), checkpoint(l2[:7], [WITNESS]),
             tree_leaves=l2[:7])
        case(name, 1, "record-signature", phrase, name + ".cert " + std)

    # A record whose bytes changed (its proof and signature no longer fit).
    changed = recs[5].replace(b"seen by", b"SEEN by")
    e = list(good)
    e[5] = (5, changed, path(5, tree))
    cert("changed-record.cert", e)
    case("changed-record", 1, "record-inclusion",
         "record 5: inclusion proof does not lead to the checkpoint's root",
         "changed-record.cert " + std)

    # The acceptance countersigns another transfer leaf than record 3's
    # (in a log that says so), or its transfer is left out of the
    # certificate: the hand-over is not proven.
    r3 = make_log(accept_leaf="00" * 32)
    l3 = [leaf_hash(r) for r in r3]
    cert("accept-wrong-leaf.cert", entries_for(r3, l3[:7], about),
         checkpoint(l3[:7], [WITNESS]), tree_leaves=l3[:7])
    case("accept-wrong-leaf", 1, "item",
         "record 4: accepts transfer record 3 by a leaf hash that is not that record's",
         "accept-wrong-leaf.cert " + std)
    cert("accept-no-transfer.cert", entries_for(recs, tree, [0, 1, 2, 4, 5]))
    case("accept-no-transfer", 1, "item",
         "record 4: accepts transfer record 3, which is not a transfer before it",
         "accept-no-transfer.cert " + std)

    cert("no-init.cert", entries_for(recs, tree, [1, 2, 3, 4, 5]))
    case("no-init", 1, "init", "the certificate has no record 0", "no-init.cert " + std)

    # The checkpoint of another size (its root differs from the statement's tree).
    cert("root-differs.cert", good, checkpoint(leaves[:8], [WITNESS]))
    case("root-differs", 1, "checkpoint", "is not the statement's tree",
         "root-differs.cert " + std)

    case("missing-witness", 1, "witness", "no cosignature by witness witness2.example",
         "good.cert --key log.vkey --witness witness2.vkey")

    # A witness line altered (still canonical base64 of 76 bytes).
    line = WITNESS.cosig_line(cp.split(b"\n\n")[0] + b"\n", 1795956452)
    blob = bytearray(base64.b64decode(line.split(b" ")[-1]))
    blob[20] ^= 1
    badline = line.rsplit(b" ", 1)[0] + b" " + base64.b64encode(bytes(blob)) + b"\n"
    cert("bad-cosignature.cert", good, cp.replace(line, badline))
    case("bad-cosignature", 1, "witness",
         "the cosignature by witness witness.example on the checkpoint does not verify",
         "bad-cosignature.cert " + std)
    case("bad-cosignature-not-required", 0, "-", "-", "bad-cosignature.cert --key log.vkey")

    # An ingest of another size than the statement says.
    cert("wrong-size.cert", good, fields={"size": len(ITEM) + 1})
    case("wrong-size", 1, "item", "record 1: an ingest of %d bytes, but the certificate's size is %d"
         % (len(ITEM), len(ITEM) + 1), "wrong-size.cert " + std)

    # Section 6: a later checkpoint (9) and the consistency proof from 7.
    write("later.cp", checkpoint(leaves[:9], [WITNESS2], t=1795956999))
    write("later.cons", "".join(b64(h) + "\n" for h in consistency(7, leaves[:9])))
    case("later", 0, "-", "-", "good.cert item.bin " + std +
         " --checkpoint later.cp --consistency later.cons")
    case("later-witness", 0, "-", "-", "good.cert --key log.vkey --witness witness2.vkey"
         " --checkpoint later.cp --consistency later.cons")
    # A fork: same first six records, another seventh; its checkpoint is
    # signed by the log key all the same.
    fr = make_log(fork=True)
    fl = [leaf_hash(r) for r in fr]
    write("fork.cp", checkpoint(fl[:9], [WITNESS2]))
    write("fork.cons", "".join(b64(h) + "\n" for h in consistency(7, fl[:9])))
    case("fork", 1, "consistency", "does not prove that the certificate's tree (size 7)",
         "good.cert " + std + " --checkpoint fork.cp --consistency fork.cons")
    case("fork-witness", 1, "witness", "the later checkpoint was not accepted",
         "good.cert --key log.vkey --witness witness2.vkey"
         " --checkpoint fork.cp --consistency fork.cons")
    write("old.cp", checkpoint(leaves[:5]))
    write("empty.cons", "")
    case("rollback", 1, "later-checkpoint", "is smaller than the certificate's tree size 7",
         "good.cert --key log.vkey --checkpoint old.cp --consistency empty.cons")

    # Could not run (exit 2).
    good_bytes = certificate(statement(tree, good), cp)
    write("truncated.cert", good_bytes[:len(good_bytes) // 2])
    write("garbage.cert", bytes((i * 151 + 7) % 256 for i in range(3000)))
    write("v2.cert", good_bytes.replace(b"evault-certificate/v1", b"evault-certificate/v2", 1))
    case("truncated", 2, "read", "cut short", "truncated.cert")
    case("garbage", 2, "read", "so it is not a certificate", "garbage.cert")
    case("version-2", 2, "read", "another version", "v2.cert")
    case("not-a-key", 2, "key", "is not a verifier key", "good.cert --key not+a+key")
    case("witness-is-log-key", 2, "key", "is not a witness", "good.cert --witness log.vkey")

    write("cases.tsv", "\n".join(cases) + "\n")


if __name__ == "__main__":
    main()
