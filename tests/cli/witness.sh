#!/bin/bash
# witness.sh: witnesses cosign a vault's checkpoints and refuse to cosign a
# history that was rewritten.  A witness key (key new --witness) cosigns
# the first checkpoint it sees without a proof, and each later one only
# with a valid consistency proof from the size it cosigned last (evault
# consistency OLD).  Refused with exit 1, leaving the witness's state
# unchanged: no proof, a wrong or altered proof, an older checkpoint
# (rollback), a fork made from an older copy of the vault (same size, other
# root; or longer, with no proof that can link it), a checkpoint whose
# signature is damaged or that another log signed.  Cosignatures are
# attached with `evault checkpoint add-cosignature FILE --witness VKEY`,
# only once checked against that witness key (another witness's line, a
# line that would replace the log's own signature: refused), to the
# checkpoint they sign (an older one too); the attached cosignature
# verifies independently (check-proof.py, C2SP tlog-cosignature) and the
# vault still verifies.
set -eu
. "$(dirname "$0")/lib.sh"

CHECK=$(cd "$(dirname "$0")" && pwd)/check-proof.py
if command -v python3 >/dev/null 2>&1; then
	HAVE_PY=1
else
	HAVE_PY=0
	note "python3 not found: the independent cosignature checks are skipped"
fi
checker() {
	python3 "$CHECK" "$@"
}

# Checks that fail because of a known defect are collected, so that every
# other check still runs; the test fails at the end if there is any.
LATER=""
fail_later() {
	echo "FAIL - $*" >&2
	if [ -n "$LAST_CMD" ]; then
		echo "  last command: $LAST_CMD (exit $RC)" >&2
		cat "$OUT" "$ERR" 2>/dev/null | head -n 20 | sed 's/^/    | /' >&2
	fi
	LATER="$LATER
$*"
}

# Replace the base64 character at OFF of FILE by another one.
replace_b64_char() {
	local c
	c=$(dd if="$1" bs=1 skip="$2" count=1 status=none)
	if [ "$c" = "A" ]; then
		write_at "$1" "$2" B
	else
		write_at "$1" "$2" A
	fi
}

WS=$T/wstate
# cosign WITNESS_KEY STATE CHECKPOINT [PROOF]
cosign() {
	run "$EVAULT" witness cosign --key "$1" --state "$2" --log-key "$LOGKEY" \
		"${@:3}"
}
# The witness's stored state for this vault's log (origin, size, root).
wstate() {
	cat "$WS/$(printf '%s' "evault/$VID" | sha256sum | cut -c1-64)"
}
# checkpoint_of DIR FILE: the latest checkpoint of the vault in DIR.
checkpoint_of() {
	evq "$1" "$PF" checkpoint >"$2" || fail "evault checkpoint failed in $1"
}
add_notes() {
	local dir=$1 text=$2 n=$3 i=1
	while [ "$i" -le "$n" ]; do
		run evq "$dir" "$PF" note "$ID" "$text $i"
		expect_rc 0 "note failed in $dir"
		i=$((i + 1))
	done
}
cp_size() {
	sed -n 2p "$1"
}

new_vault
S=$T/src
make_small_files "$S" 5
run ev ingest "$S"
expect_rc 0
ID=$(sha "$S/f1.txt")
VID=$(sed -n 's/^id //p' "$V/VAULT")
LOGKEY=$(ev checkpoint --vkey)

run "$EVAULT" key new w1 --witness -o "$T/w1.key" --kdf interactive
expect_rc 0 "key new --witness failed"
W1=$(cat "$OUT")
printf '%s\n' "$W1" | grep -Eqx 'w1\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}' ||
	fail "witness verifier key '$W1' is not name+hex8+base64"
if [ "$HAVE_PY" = 1 ]; then
	run checker vkey "$W1"
	expect_rc 0 "witness key id does not check"
	expect_out "w1 4 "
fi
pass "key new --witness: a cosignature (type 0x04) verifier key"

# --- First checkpoint: no proof needed ------------------------------------------
checkpoint_of "$V" "$T/cp1"
S1=$(cp_size "$T/cp1")
cosign "$T/w1.key" "$WS" "$T/cp1"
expect_rc 0 "the first checkpoint was not cosigned"
cp "$OUT" "$T/line1"
[ "$(wc -l <"$T/line1")" -eq 1 ] || fail "cosign printed more than one line"
grep -q '^— w1 [A-Za-z0-9+/]*=*$' "$T/line1" || fail "cosign did not print a signature line by w1"
[ "$(wstate | sed -n 2p)" = "$S1" ] || fail "the witness state does not hold size $S1"
[ "$(wstate | sed -n 1p)" = "evault/$VID" ] || fail "the witness state does not name the origin"
[ "$(wstate | sed -n 3p)" = "$(sed -n 3p "$T/cp1")" ] || fail "the witness state does not hold the root"
if [ "$HAVE_PY" = 1 ]; then
	cat "$T/cp1" "$T/line1" >"$T/cosigned1"
	run checker note "$T/cosigned1" "$W1"
	expect_rc 0 "w1's cosignature does not verify (C2SP tlog-cosignature)"
	run checker note "$T/cosigned1" "$LOGKEY"
	expect_rc 0
	sed 's/^\(— w1 .\{30\}\)./\1A/' "$T/cosigned1" >"$T/bad"
	cmp -s "$T/bad" "$T/cosigned1" && sed -i 's/^\(— w1 .\{30\}\)./\1B/' "$T/bad"
	run checker note "$T/bad" "$W1"
	expect_rc 1 "the checker accepted an altered cosignature"
	pass "first checkpoint (size $S1) cosigned without a proof; the cosignature verifies independently"
else
	pass "first checkpoint (size $S1) cosigned without a proof"
fi

# An older copy of the vault, for the fork below.
cp -a "$V" "$T/older"

# --- A new checkpoint: only with the consistency proof ----------------------------
add_notes "$V" "after the first cosignature" 3
checkpoint_of "$V" "$T/cp2"
S2=$(cp_size "$T/cp2")
[ "$S2" -eq $((S1 + 3)) ] || fail "the vault did not grow by 3 records"
wstate >"$T/state1"

cosign "$T/w1.key" "$WS" "$T/cp2"
expect_rc 1 "a new checkpoint was cosigned without a proof"
expect_err "consistency"
wstate | cmp -s - "$T/state1" || fail "a refused cosign changed the witness state"
pass "without a proof: refused (exit 1), state unchanged"

ev consistency $((S1 - 1)) >"$T/proof-wrong"
cosign "$T/w1.key" "$WS" "$T/cp2" "$T/proof-wrong"
expect_rc 1 "a checkpoint was cosigned with the proof from another size"
ev consistency "$S1" >"$T/proof12"
[ -s "$T/proof12" ] || fail "consistency $S1 printed an empty proof"
cp "$T/proof12" "$T/proof-altered"
replace_b64_char "$T/proof-altered" 5
cosign "$T/w1.key" "$WS" "$T/cp2" "$T/proof-altered"
expect_rc 1 "a checkpoint was cosigned with an altered proof"
head -n 1 "$T/proof12" >"$T/proof-short"
if [ "$(wc -l <"$T/proof12")" -gt 1 ]; then
	cosign "$T/w1.key" "$WS" "$T/cp2" "$T/proof-short"
	expect_rc 1 "a checkpoint was cosigned with a truncated proof"
fi
printf 'not a hash\n' >"$T/proof-junk"
cosign "$T/w1.key" "$WS" "$T/cp2" "$T/proof-junk"
[ "$RC" -ne 0 ] || fail "a checkpoint was cosigned with a proof that is not base64 hashes"
wstate | cmp -s - "$T/state1" || fail "a refused cosign changed the witness state"
pass "with a wrong, altered, truncated or malformed proof: refused, state unchanged"

cosign "$T/w1.key" "$WS" "$T/cp2" "$T/proof12"
expect_rc 0 "the checkpoint was not cosigned with the right proof"
cp "$OUT" "$T/line2"
[ "$(wstate | sed -n 2p)" = "$S2" ] || fail "the witness state did not move to size $S2"
[ "$(find "$WS" -mindepth 1 | wc -l)" -eq 2 ] ||
	fail "the witness state directory holds more than its lock and one state: $(ls "$WS")"
cosign "$T/w1.key" "$WS" "$T/cp2"
expect_rc 0 "the same checkpoint could not be cosigned again"
pass "with the proof from 'evault consistency $S1': cosigned (size $S2); the same checkpoint again: cosigned"

# --- Rollback, fork, damaged or foreign checkpoints ----------------------------------
wstate >"$T/state2"
cosign "$T/w1.key" "$WS" "$T/cp1"
expect_rc 1 "an older checkpoint was cosigned"
expect_err "rollback"
cosign "$T/w1.key" "$WS" "$T/cp1" /dev/null
expect_rc 1 "an older checkpoint was cosigned (with an empty proof)"
wstate | cmp -s - "$T/state2" || fail "a refused rollback changed the witness state"
pass "an older checkpoint (rollback): refused (exit 1)"

# The older copy goes on with other records: the same size, another root.
add_notes "$T/older" "another history" 3
checkpoint_of "$T/older" "$T/fork2"
[ "$(cp_size "$T/fork2")" -eq "$S2" ] || fail "the fork is not of size $S2"
[ "$(sed -n 3p "$T/fork2")" != "$(sed -n 3p "$T/cp2")" ] || fail "the fork has the same root"
[ "$(sed -n 1p "$T/fork2")" = "evault/$VID" ] || fail "the fork has another origin"
cosign "$T/w1.key" "$WS" "$T/fork2"
expect_rc 1 "a fork at a cosigned size was cosigned"
grep -qiE 'fork|consisten' "$ERR" || fail "the refusal of a fork does not say fork or consistency"
evq "$T/older" "$PF" consistency "$S1" >"$T/forkproof"
cosign "$T/w1.key" "$WS" "$T/fork2" "$T/forkproof"
expect_rc 1 "a fork at a cosigned size was cosigned with its own proof"
add_notes "$T/older" "another history, longer" 2
checkpoint_of "$T/older" "$T/fork3"
evq "$T/older" "$PF" consistency "$S2" >"$T/forkproof"
cosign "$T/w1.key" "$WS" "$T/fork3" "$T/forkproof"
expect_rc 1 "a longer fork was cosigned with its proof from size $S2"
grep -qiE 'fork|consisten' "$ERR" || fail "the refusal of a fork does not say fork or consistency"
wstate | cmp -s - "$T/state2" || fail "a refused fork changed the witness state"
pass "a fork made from an older copy (same size, or longer): refused (exit 1)"

cp "$T/cp2" "$T/cp2-badsig"
replace_b64_char "$T/cp2-badsig" $(($(filesize "$T/cp2-badsig") - 20))
cosign "$T/w1.key" "$WS" "$T/cp2-badsig"
expect_rc 1 "a checkpoint with a damaged signature was cosigned"
cp "$T/cp2" "$T/cp2-badroot"
replace_b64_char "$T/cp2-badroot" $(($(head -n 2 "$T/cp2" | wc -c) + 3))
cosign "$T/w1.key" "$WS" "$T/cp2-badroot"
expect_rc 1 "a checkpoint with an altered root was cosigned"
new_vault "$T/other"
checkpoint_of "$T/other" "$T/othercp"
cosign "$T/w1.key" "$WS" "$T/othercp"
expect_rc 1 "a checkpoint signed by another vault's log key was cosigned"
wstate | cmp -s - "$T/state2" || fail "a refused checkpoint changed the witness state"
pass "a damaged signature, an altered root, another log's checkpoint: refused (exit 1)"

run "$EVAULT" witness cosign --key "$T/w1.key" --state "$WS" "$T/cp2"
expect_rc 2 "witness cosign without --log-key did not exit 2"
run env EVAULT_KEY_PASSPHRASE='wrong' "$EVAULT" witness cosign --key "$T/w1.key" \
	--state "$WS" --log-key "$LOGKEY" "$T/cp2"
expect_rc 2 "witness cosign with a wrong key passphrase did not exit 2"
pass "witness cosign: missing --log-key or a wrong key passphrase: exit 2"

# --- Attaching cosignatures -------------------------------------------------------------
run "$EVAULT" key new w2 --witness -o "$T/w2.key" --kdf interactive
expect_rc 0
W2=$(cat "$OUT")
cosign "$T/w2.key" "$T/w2state" "$T/cp2"
expect_rc 0 "w2 did not cosign"
cp "$OUT" "$T/line2-w2"
run ev checkpoint add-cosignature "$T/line2-w2" --witness "$W1"
[ "$RC" -ne 0 ] || fail "w2's cosignature was attached as w1's"
run ev checkpoint add-cosignature "$T/line2"
[ "$RC" -ne 0 ] || fail "a cosignature was attached without --witness, unchecked"
run ev checkpoint
cmp -s "$OUT" "$T/cp2" || fail "a refused add-cosignature changed the checkpoint"
pass "add-cosignature of w2's line with --witness W1, or without --witness: refused"

# w1's line for the first checkpoint goes to that checkpoint.
run ev checkpoint add-cosignature "$T/line1" --witness "$W1"
expect_rc 0 "w1's cosignature of checkpoint $S1 was not attached"
expect_out "log/checkpoints/$S1"
grep -qxF "$(cat "$T/line1")" "$V/log/checkpoints/$S1" ||
	fail "w1's cosignature is not on log/checkpoints/$S1"
head -n 5 "$V/log/checkpoints/$S1" | cmp -s - "$T/cp1" ||
	fail "attaching changed checkpoint $S1 or its log signature"
run ev checkpoint
cmp -s "$OUT" "$T/cp2" || fail "a cosignature of checkpoint $S1 changed the latest"
if [ "$HAVE_PY" = 1 ]; then
	run checker note "$V/log/checkpoints/$S1" "$W1"
	expect_rc 0 "the cosignature on checkpoint $S1 does not verify independently"
fi
pass "a cosignature of an older checkpoint is attached to that checkpoint"

run ev checkpoint add-cosignature "$T/line2" --witness "$W1"
expect_rc 0 "add-cosignature of w1's line failed"
expect_out "log/checkpoints/$S2"
run ev checkpoint
expect_rc 0
cp "$OUT" "$T/cp2-cosigned"
grep -qxF "$(cat "$T/line2")" "$T/cp2-cosigned" || fail "checkpoint does not show w1's cosignature"
head -n 5 "$T/cp2-cosigned" | cmp -s - "$T/cp2" || fail "attaching changed the checkpoint or its log signature"
if [ "$HAVE_PY" = 1 ]; then
	run checker note "$T/cp2-cosigned" "$W1"
	expect_rc 0 "the attached cosignature does not verify independently"
	run checker note "$T/cp2-cosigned" "$LOGKEY"
	expect_rc 0 "the cosigned checkpoint's log signature does not verify"
fi
pass "add-cosignature --witness W1: attached; evault checkpoint shows it"

# Once w1 has cosigned, --witness W1 must still check the line given, not
# only that the checkpoint carries a good w1 cosignature (on a copy).
cp -a "$V" "$T/attachcopy"
run evq "$T/attachcopy" "$PF" checkpoint add-cosignature "$T/line2-w2" --witness "$W1"
if [ "$RC" -eq 0 ]; then
	fail_later "checkpoint add-cosignature --witness W1 attached w2's line (to $(sed -n 's/^cosignature attached: //p' "$OUT")) once a checkpoint carried a valid w1 cosignature: the check looks at the whole note, not at the line given"
else
	pass "w2's line with --witness W1 is refused also once w1 has cosigned"
fi
rm -rf "$T/attachcopy"

run ev checkpoint add-cosignature "$T/line2-w2" --witness "$W2"
expect_rc 0 "w2's cosignature was not attached"
run ev checkpoint
grep -qxF "$(cat "$T/line2")" "$OUT" && grep -qxF "$(cat "$T/line2-w2")" "$OUT" ||
	fail "the checkpoint does not show both cosignatures"
head -n 5 "$OUT" | cmp -s - "$T/cp2" || fail "attaching w2 changed the checkpoint or its log signature"
cp "$OUT" "$T/cp2-cosigned"
pass "w2's cosignature attached beside w1's"

# A line under the log key's own name and key id (not its signature): it
# would replace the log's signature on the checkpoint.
logline=$(sed -n 5p "$T/cp2")
printf '%s\n' "$logline" >"$T/forged"
replace_b64_char "$T/forged" $(($(filesize "$T/forged") - 20))
cmp -s "$T/forged" <(printf '%s\n' "$logline") && fail "could not forge a line"
cp -a "$V" "$T/forgecopy"
run evq "$T/forgecopy" "$PF" checkpoint add-cosignature "$T/forged" --witness "$W1"
forged_rc=$RC
run evq "$T/forgecopy" "$PF" verify --no-record
if [ "$forged_rc" -eq 0 ] || [ "$RC" -ne 0 ]; then
	fail_later "checkpoint add-cosignature --witness W1 accepted a line under the log key's name and id whose signature does not verify (add-cosignature exit $forged_rc, verify exit $RC)"
else
	pass "a line that would replace the log's own signature is refused"
fi
rm -rf "$T/forgecopy"

# --- The vault verifies with cosignatures; the next round ----------------------------
run ev verify
expect_rc 0 "verify fails with cosignatures attached"
run env -u EVAULT_PASSPHRASE "$EVAULT" --vault "$V" verify --public </dev/null
expect_rc 0 "verify --public fails with cosignatures attached"
run ev verify --no-record --checkpoint "$T/cp2-cosigned"
expect_rc 0 "verify --checkpoint of the cosigned checkpoint failed"
pass "verify, verify --public and verify --checkpoint pass with cosignatures attached"

checkpoint_of "$V" "$T/cp3"
S3=$(cp_size "$T/cp3")
ev consistency "$S2" >"$T/proof23"
cosign "$T/w1.key" "$WS" "$T/cp3" "$T/proof23"
expect_rc 0 "the next checkpoint ($S2 -> $S3) was not cosigned"
cp "$OUT" "$T/line3"
run ev checkpoint add-cosignature "$T/line3" --witness "$W1"
expect_rc 0
cosign "$T/w1.key" "$WS" "$T/cp2" "$T/proof23"
expect_rc 1 "after cosigning $S3, the checkpoint of $S2 was cosigned again"
expect_err "rollback"
pass "the next round: $S2 -> $S3 cosigned with its proof; $S2 is now a rollback"

if [ -n "$LATER" ]; then
	echo "FAIL - known defects:$LATER" >&2
	exit 1
fi
