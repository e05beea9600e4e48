#!/bin/bash
# check-cert.sh: verification certificates are checked by `evault
# check-cert` and by the stand-alone `evault-verify` alike.  The
# certificates come from make-cert.py, which builds them from the
# specification (docs/certificate.md) with fixed keys: a valid one, and
# broken ones each re-signed by the log key so that the deeper check is
# reached (a field changed after signing, a dropped registration, swapped
# proofs, a record of another item, a wrong file, another vault's key, a
# record signed by an unregistered key or actor, a record whose bytes
# changed, no record 0, a checkpoint of another tree, a missing or bad
# witness cosignature, an ingest of another size), a later checkpoint with
# its consistency proof (valid, forked, rolled back), and files that are
# not certificates.  For each: both tools exit as expected (0 valid, 1
# invalid, 2 could not run), say the expected reason, print the same
# checks, and `--json` parses with the failing check listed.  Then a few
# hundred random mutations of the valid certificate, checked with the
# witness required: never valid, never a crash.  Also the golden
# certificate of the issuer's unit test (tests/golden), when present.
set -eu
. "$(dirname "$0")/lib.sh"

: "${EVAULT_VERIFY:?EVAULT_VERIFY must name the evault-verify program}"
HERE=$(cd "$(dirname "$0")" && pwd)
command -v python3 >/dev/null 2>&1 || skip_all "python3 not found"
python3 -c 'import cryptography' 2>/dev/null ||
	skip_all "python3-cryptography is not installed (apt-get install python3-cryptography)"

C=$T/certs
run python3 "$HERE/make-cert.py" "$C"
expect_rc 0 "make-cert.py failed"
[ -s "$C/cases.tsv" ] || fail "make-cert.py wrote no cases"
cd "$C"

# The check lines of a report ("ok    x: ...", "FAIL  x: ...", "note  x: ...").
checks_of() {
	grep -E '^(ok   |FAIL |note ) ' "$1" || true
}

# check_json FILE EXIT CHECK: --json output parses, says valid/exit, and
# lists CHECK as failed (exit 1, 2) or nothing failed (exit 0).
check_json() {
	python3 - "$@" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
want, check = int(sys.argv[2]), sys.argv[3]
assert doc["valid"] is (want == 0), "valid is %r" % doc["valid"]
assert doc["exit"] == want, "exit is %r" % doc["exit"]
failed = {c["check"] for c in doc["checks"] if c["status"] == "fail"}
for c in doc["checks"]:
    assert c["status"] in ("ok", "fail", "note") and c["detail"], c
if want == 0:
    assert not failed, failed
else:
    assert check in failed, "%s not among the failed checks %s" % (check, failed)
if want != 2:
    cert = doc["certificate"]
    assert len(cert["item"]) == 64 and cert["size"] > 0, cert
    assert cert["records"] and cert["records"][0]["kind"], cert["records"]
    assert cert["tree"]["size"] == 7, cert["tree"]
EOF
}

ncases=0
while IFS=$'\t' read -r name want check phrase args; do
	ncases=$((ncases + 1))
	# shellcheck disable=SC2086 # args are words without spaces
	run "$EVAULT" check-cert $args
	expect_rc "$want" "$name: evault check-cert exited $RC, not $want"
	[ "$phrase" = - ] || expect_any "$phrase" "$name: evault check-cert does not say '$phrase'"
	case $want in
	0) expect_out VALID; expect_no_any "FAIL " ;;
	1) expect_out "FAIL  $check: "; expect_out INVALID ;;
	2) expect_err "evault: "; expect_no_any VALID ;;
	esac
	cp "$OUT" "$T/evault.out"

	# shellcheck disable=SC2086
	run "$EVAULT_VERIFY" $args
	expect_rc "$want" "$name: evault-verify exited $RC, not $want"
	[ "$phrase" = - ] || expect_any "$phrase" "$name: evault-verify does not say '$phrase'"
	case $want in
	0) expect_out VALID ;;
	1) expect_out "FAIL  $check: "; expect_out INVALID ;;
	2) expect_err "evault-verify: " ;;
	esac
	checks_of "$T/evault.out" >"$T/a"
	checks_of "$OUT" >"$T/b"
	cmp -s "$T/a" "$T/b" || {
		diff "$T/a" "$T/b" >&2 || true
		fail "$name: evault check-cert and evault-verify report different checks"
	}

	# shellcheck disable=SC2086
	run "$EVAULT" check-cert --json $args
	expect_rc "$want" "$name: evault check-cert --json exited $RC, not $want"
	cp "$OUT" "$T/json"
	run check_json "$T/json" "$want" "$check"
	expect_rc 0 "$name: the --json output is not as expected: $(tail -n 1 "$ERR")"
	pass "$name (exit $want)"
done <cases.tsv
[ "$ncases" -ge 25 ] || fail "only $ncases cases were run"

# Could not run: no such certificate, FILE unreadable.
run "$EVAULT" check-cert "$C/no-such.cert"
expect_rc 2
expect_err "no-such.cert"
run "$EVAULT_VERIFY" "$C/no-such.cert"
expect_rc 2
expect_err "no-such.cert"
run "$EVAULT" check-cert good.cert "$C"
expect_rc 2
expect_err "cannot read '$C'"
run "$EVAULT_VERIFY" good.cert "$C"
expect_rc 2
expect_err "cannot read '$C'"
run "$EVAULT" check-cert good.cert --checkpoint later.cp
expect_rc 2
expect_err "go together"
pass "a missing certificate, an unreadable file, half of a later proof: exit 2"

# --key before the command is the global custodian key, not the log key.
run "$EVAULT" --key "$T/no-such-key" check-cert good.cert
expect_rc 0 "a global --key was taken for the log key"
run "$EVAULT" check-cert --help
expect_rc 0
expect_out "--consistency FILE"
run "$EVAULT_VERIFY" --help
expect_rc 0
expect_out "--consistency FILE"
pass "global --key ignored; --help"

# Random mutations of the valid certificate, the witness required: every
# byte counts, so none may be valid, and none may crash the verifier.
run python3 - good.cert "$T/mut" <<'EOF'
import os, random, sys
data = open(sys.argv[1], "rb").read()
os.makedirs(sys.argv[2])
rng = random.Random(20261129)
for n in range(300):
    b = bytearray(data)
    op = n % 4
    i = rng.randrange(len(b))
    if op == 0:
        b[i] ^= 1 << rng.randrange(8)
    elif op == 1:
        b[i] = rng.choice(b"AZaz09+/= \n\x00\xff-")
    elif op == 2:
        del b[i]
    else:
        b = b[:i]
    if bytes(b) == data:
        continue
    open(os.path.join(sys.argv[2], "%03d" % n), "wb").write(bytes(b))
EOF
expect_rc 0 "cannot make the mutations"
nmut=0
for m in "$T"/mut/*; do
	nmut=$((nmut + 1))
	run "$EVAULT_VERIFY" --key log.vkey --witness witness.vkey "$m" item.bin
	[ "$RC" -eq 1 ] || [ "$RC" -eq 2 ] ||
		fail "mutation $(basename "$m") of the valid certificate: exit $RC"
done
[ "$nmut" -ge 250 ] || fail "only $nmut mutations"
pass "$nmut mutations of the valid certificate: none valid, none crashed"

# The issuer's golden certificate (tests/golden, made by test-cert).
GOLDEN=${EVAULT_SRC:-$HERE/../..}/tests/golden/certificate-v1.txt
if [ -f "$GOLDEN" ]; then
	run "$EVAULT" check-cert "$GOLDEN"
	expect_rc 0 "evault check-cert refuses the golden certificate"
	run "$EVAULT_VERIFY" "$GOLDEN"
	expect_rc 0 "evault-verify refuses the golden certificate"
	pass "the golden certificate of evault certify verifies"
else
	skip_check "no golden certificate at $GOLDEN"
fi
