#!/usr/bin/env python3
# check-proof.py: an independent checker of what evault publishes about its
# custody log, written from the specifications only (RFC 6962 / RFC 9162
# Merkle trees, C2SP signed-note, tlog-checkpoint, tlog-cosignature and
# tlog-proof) with the Python standard library: SHA-256 from hashlib and
# Ed25519 verification from RFC 8032 section 6 (pure Python, slow but
# short).  It shares no code with evault, so a test that passes here shows
# that a third party with "a page of code" can check the log.
#
#   check-proof.py vkey VKEY
#       parse a C2SP verifier key and check its key id; print "name type id"
#   check-proof.py note FILE VKEY
#       the signed note in FILE carries a valid signature by VKEY (an
#       Ed25519 signature, or a cosignature/v1 for a witness key)
#   check-proof.py checkpoint FILE VKEY
#       FILE is a checkpoint signed by VKEY; print "origin size root"
#   check-proof.py root LEAVES N
#       print the base64 Merkle tree hash of the first N leaf hashes of
#       LEAVES (a log/leaves file: 32 bytes each)
#   check-proof.py leaves LOGJSON LEAVES
#       every record of `evault log --json` hashes to its leaf
#   check-proof.py inclusion PROOF LOGVKEY [--sha256 ID] [--signer VKEY]
#       PROOF is a tlog-proof whose checkpoint LOGVKEY signed and whose
#       record (extra) is included at its index; the record is a signed
#       note (by VKEY if given) about item ID (if given); print
#       "index N size M"
#   check-proof.py consistency OLD NEW PROOF LOGVKEY
#       the checkpoints OLD and NEW (files, both signed by LOGVKEY, same
#       origin) are consistent according to PROOF (base64 hashes, one per
#       line, as `evault consistency` prints them)
#
# Exit status: 0 the check passed, 1 it failed (the reason on stderr),
# 2 bad usage.
import argparse
import base64
import binascii
import hashlib
import json
import struct
import sys


class CheckFailed(Exception):
    pass


def fail(msg):
    raise CheckFailed(msg)


def b64(data):
    return base64.b64encode(data).decode()


def unb64(text, what):
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        fail("%s is not base64: %r" % (what, text))
    if b64(raw) != text:
        fail("%s is not canonical base64: %r" % (what, text))
    return raw


# --- Ed25519 verification (RFC 8032 section 6) --------------------------------

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _inv(x):
    return pow(x, P - 2, P)


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * _inv(D * y * y + 1) % P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


_GY = 4 * _inv(5) % P
_GX = _recover_x(_GY, 0)
G = (_GX, _GY, 1, _GX * _GY % P)


def _add(a, b):
    A = (a[1] - a[0]) * (b[1] - b[0]) % P
    B = (a[1] + a[0]) * (b[1] + b[0]) % P
    C = 2 * a[3] * b[3] * D % P
    Dd = 2 * a[2] * b[2] % P
    E, F, Gg, H = B - A, Dd - C, Dd + C, B + A
    return (E * F % P, Gg * H % P, F * Gg % P, E * H % P)


def _mul(s, pt):
    q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _add(q, pt)
        pt = _add(pt, pt)
        s >>= 1
    return q


def _equal(a, b):
    return ((a[0] * b[2] - b[0] * a[2]) % P == 0 and
            (a[1] * b[2] - b[1] * a[2]) % P == 0)


def _decompress(s):
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % P)


def ed25519_verify(public, msg, sig):
    if len(public) != 32 or len(sig) != 64:
        return False
    a = _decompress(public)
    r = _decompress(sig[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(sig[32:], "little")
    if s >= L:
        return False
    h = int.from_bytes(hashlib.sha512(sig[:32] + public + msg).digest(),
                       "little") % L
    return _equal(_mul(s, G), _add(r, _mul(h, a)))


# --- C2SP signed notes ---------------------------------------------------------

class Vkey:
    def __init__(self, text):
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            fail("verifier key %r is not name+id+key" % text)
        self.name, hexid, key = parts
        if len(hexid) != 8 or hexid != hexid.lower():
            fail("verifier key id %r is not 8 lower-case hex digits" % hexid)
        raw = unb64(key, "verifier key")
        if len(raw) != 33 or raw[0] not in (0x01, 0x04):
            fail("verifier key is not type 0x01 or 0x04 with 32 bytes")
        self.type = raw[0]
        self.key = raw[1:]
        self.id = struct.unpack(">I", bytes.fromhex(hexid))[0]
        want = hashlib.sha256(self.name.encode() + b"\n" + raw).digest()[:4]
        if struct.unpack(">I", want)[0] != self.id:
            fail("verifier key id %s is not SHA-256(name || 0x0A || key)[:4]"
                 " = %s" % (hexid, want.hex()))


def split_note(data):
    """The text (ending in a newline) and the signature lines of a note."""
    if not isinstance(data, bytes):
        data = data.encode()
    cut = data.rfind(b"\n\n")
    if cut < 0:
        fail("not a signed note: no blank line before the signatures")
    text = data[:cut + 1]
    sigs = []
    for line in data[cut + 2:].decode().split("\n"):
        if line == "":
            continue
        if not line.startswith("\u2014 "):
            fail("not a signature line: %r" % line)
        name, _, sig = line[2:].rpartition(" ")
        sigs.append((name, unb64(sig, "signature of " + name)))
    if not sigs:
        fail("not a signed note: no signature line")
    return text, sigs


def verify_note(data, vkey):
    """The note's text, once a valid signature by vkey was found in it."""
    text, sigs = split_note(data)
    found = False
    for name, raw in sigs:
        if name != vkey.name or len(raw) < 4 or \
                struct.unpack(">I", raw[:4])[0] != vkey.id:
            continue
        found = True
        if vkey.type == 0x01:
            ok = len(raw) == 68 and ed25519_verify(vkey.key, text, raw[4:])
        else:
            # tlog-cosignature: key id || u64 time || Ed25519 signature
            # over "cosignature/v1\ntime <t>\n" || checkpoint text.
            if len(raw) != 76:
                fail("cosignature by %s has %d bytes, not 76" %
                     (name, len(raw)))
            t = struct.unpack(">Q", raw[4:12])[0]
            msg = b"cosignature/v1\ntime %d\n" % t + text
            ok = ed25519_verify(vkey.key, msg, raw[12:])
        if not ok:
            fail("the signature by %s does not verify" % name)
    if not found:
        fail("no signature by %s+%08x" % (vkey.name, vkey.id))
    return text


def parse_checkpoint(text):
    lines = text.decode().split("\n")
    if len(lines) < 4 or lines[-1] != "":
        fail("not a checkpoint: %r" % text)
    origin, size, root = lines[0], lines[1], lines[2]
    if not origin or not size.isdigit() or (size != "0" and size[0] == "0"):
        fail("bad checkpoint origin or size: %r %r" % (origin, size))
    raw = unb64(root, "checkpoint root")
    if len(raw) != 32:
        fail("checkpoint root is not 32 bytes")
    return origin, int(size), raw


def read_checkpoint(path, vkey):
    with open(path, "rb") as f:
        return parse_checkpoint(verify_note(f.read(), vkey))


# --- RFC 6962 / RFC 9162 Merkle trees -----------------------------------------

def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def mth(leaves):
    """RFC 6962 2.1: MTH of a list of leaf hashes, by its definition."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def inclusion_root(leaf, index, size, path):
    """RFC 9162 2.1.3.2: the root the audit path leads to."""
    if index >= size:
        fail("index %d is not below size %d" % (index, size))
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            fail("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        fail("the inclusion proof is too short")
    return r


def consistency_check(first, second, first_hash, second_hash, path):
    """RFC 9162 2.1.4.2."""
    if first > second:
        fail("old size %d is above new size %d" % (first, second))
    if first == second:
        if path:
            fail("a proof between equal sizes must be empty")
        if first_hash != second_hash:
            fail("same size, different roots")
        return
    if first == 0:
        if path or first_hash != mth([]):
            fail("from the empty tree the proof is empty")
        return
    if not path:
        fail("empty consistency proof")
    if first & (first - 1) == 0:
        path = [first_hash] + path
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            fail("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        fail("the consistency proof is too short")
    if fr != first_hash:
        fail("the proof does not lead to the old root")
    if sr != second_hash:
        fail("the proof does not lead to the new root")


def hash_lines(lines, what):
    out = []
    for line in lines:
        raw = unb64(line, what)
        if len(raw) != 32:
            fail("%s: a hash of %d bytes" % (what, len(raw)))
        out.append(raw)
    return out


def read_leaves(path):
    with open(path, "rb") as f:
        data = f.read()
    return [data[i:i + 32] for i in range(0, len(data) - len(data) % 32, 32)]


# --- Commands --------------------------------------------------------------------

def cmd_vkey(a):
    v = Vkey(a.vkey)
    print("%s %d %08x" % (v.name, v.type, v.id))


def cmd_note(a):
    with open(a.file, "rb") as f:
        verify_note(f.read(), Vkey(a.vkey))
    print("ok")


def cmd_checkpoint(a):
    origin, size, root = read_checkpoint(a.file, Vkey(a.vkey))
    print("%s %d %s" % (origin, size, b64(root)))


def cmd_root(a):
    leaves = read_leaves(a.leaves)
    if a.n > len(leaves):
        fail("%s holds %d leaves, not %d" % (a.leaves, len(leaves), a.n))
    print(b64(mth(leaves[:a.n])))


def cmd_leaves(a):
    with open(a.logjson, encoding="utf-8") as f:
        records = json.load(f)
    leaves = read_leaves(a.leaves)
    for r in records:
        i = r["index"]
        if i >= len(leaves):
            fail("record %d has no leaf" % i)
        if leaf_hash(r["record"].encode()) != leaves[i]:
            fail("record %d does not hash to leaf %d" % (i, i))
    print("%d records match their leaves" % len(records))


def cmd_inclusion(a):
    logkey = Vkey(a.logvkey)
    with open(a.proof, "rb") as f:
        data = f.read()
    head, sep, cp = data.partition(b"\n\n")
    if not sep:
        fail("not a tlog-proof: no blank line before the checkpoint")
    lines = head.decode().split("\n")
    if lines[0] != "c2sp.org/tlog-proof@v1":
        fail("first line is not c2sp.org/tlog-proof@v1: %r" % lines[0])
    rest = lines[1:]
    extra = None
    if rest and rest[0].startswith("extra "):
        extra = unb64(rest[0][6:], "extra")
        rest = rest[1:]
    if not rest or not rest[0].startswith("index ") or \
            not rest[0][6:].isdigit():
        fail("no index line")
    index = int(rest[0][6:])
    path = hash_lines(rest[1:], "inclusion proof")
    origin, size, root = parse_checkpoint(verify_note(cp, logkey))
    if origin != logkey.name:
        fail("checkpoint origin %s is not the log key's name %s" %
             (origin, logkey.name))
    if extra is None:
        fail("the proof carries no record (extra)")
    # The record is itself a signed note: a JSON body and its signer.
    text, sigs = split_note(extra)
    body = json.loads(text.decode())
    if a.signer:
        verify_note(extra, Vkey(a.signer))
    if a.sha256:
        item = body.get("item")
        got = item.get("sha256") if isinstance(item, dict) else item
        if got != a.sha256:
            fail("the record is about item %s, not %s" % (got, a.sha256))
    if inclusion_root(leaf_hash(extra), index, size, path) != root:
        fail("the inclusion proof does not lead to the checkpoint's root")
    print("index %d size %d kind %s" % (index, size, body.get("kind")))


def cmd_consistency(a):
    logkey = Vkey(a.logvkey)
    o_origin, o_size, o_root = read_checkpoint(a.old, logkey)
    n_origin, n_size, n_root = read_checkpoint(a.new, logkey)
    if o_origin != n_origin:
        fail("the checkpoints are of different logs")
    with open(a.proof, encoding="ascii") as f:
        path = hash_lines([l for l in f.read().split("\n") if l],
                          "consistency proof")
    consistency_check(o_size, n_size, o_root, n_root, path)
    print("consistent %d %d" % (o_size, n_size))


def main():
    ap = argparse.ArgumentParser(description="check evault's public log")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("vkey")
    p.add_argument("vkey")
    p.set_defaults(fn=cmd_vkey)
    p = sub.add_parser("note")
    p.add_argument("file")
    p.add_argument("vkey")
    p.set_defaults(fn=cmd_note)
    p = sub.add_parser("checkpoint")
    p.add_argument("file")
    p.add_argument("vkey")
    p.set_defaults(fn=cmd_checkpoint)
    p = sub.add_parser("root")
    p.add_argument("leaves")
    p.add_argument("n", type=int)
    p.set_defaults(fn=cmd_root)
    p = sub.add_parser("leaves")
    p.add_argument("logjson")
    p.add_argument("leaves")
    p.set_defaults(fn=cmd_leaves)
    p = sub.add_parser("inclusion")
    p.add_argument("proof")
    p.add_argument("logvkey")
    p.add_argument("--sha256")
    p.add_argument("--signer")
    p.set_defaults(fn=cmd_inclusion)
    p = sub.add_parser("consistency")
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("proof")
    p.add_argument("logvkey")
    p.set_defaults(fn=cmd_consistency)
    a = ap.parse_args()
    try:
        a.fn(a)
    except CheckFailed as e:
        print("check-proof: %s" % e, file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError, UnicodeDecodeError) as e:
        print("check-proof: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
