#!/bin/bash
# passphrase.sh: passphrase slots.  A second passphrase is added and each
# opens the vault (from a file and from EVAULT_PASSPHRASE); one is changed
# (the old one stops working, the new one works, the other is untouched);
# one is removed (it stops working); removing the last slot is refused; a
# wrong passphrase changes nothing.  The contents stay readable throughout
# and the vault verifies at the end.  Then what a crash between a change's
# commit and its file operation leaves: a recorded addition whose slot is
# still pending works and is put in place by the next writer; a pending
# slot the log does not record opens nothing and is removed; a slot whose
# removal is recorded opens nothing and is deleted.
set -eu
. "$(dirname "$0")/lib.sh"

printf 'first passphrase\n' >"$T/pf1"
printf 'second passphrase\n' >"$T/pf2"
printf 'third passphrase\n' >"$T/pf3"
printf 'never set\n' >"$T/wrong"
PF=$T/pf1
new_vault
S=$T/src
mkdir -p "$S"
random_file "$S/evidence.mp4" 100000
run ev ingest "$S/evidence.mp4"
expect_rc 0
id=$(sha "$S/evidence.mp4")

nslots() {
	find "$V/keys" -name 'slot-*' -type f | wc -l
}

# opens PASSFILE: the vault opens with it and gives the evidence back.
opens() {
	run evq "$V" "$1" cat "$id"
	expect_rc 0 "the vault does not open with $(basename "$1")"
	cmp -s "$OUT" "$S/evidence.mp4" || fail "$(basename "$1"): cat gives other bytes"
}

# refused PASSFILE: the vault says wrong passphrase.
refused() {
	run evq "$V" "$1" ls
	expect_rc 2 "the vault still opens with $(basename "$1")"
	expect_err "wrong passphrase" "no 'wrong passphrase' message for $(basename "$1")"
}

[ "$(nslots)" -eq 1 ] || fail "a new vault has $(nslots) slots, not 1"
opens "$T/pf1"
refused "$T/pf2"
pass "new vault: one slot; opens with its passphrase only"

run evq "$V" "$T/pf1" passphrase add --kdf interactive --new-passphrase-file "$T/pf2"
expect_rc 0 "passphrase add failed"
expect_out "2 passphrase slots"
[ "$(nslots)" -eq 2 ] || fail "after add: $(nslots) slots, not 2"
opens "$T/pf1"
opens "$T/pf2"
run env EVAULT_PASSPHRASE='second passphrase' "$EVAULT" --vault "$V" cat "$id"
expect_rc 0 "the second passphrase from EVAULT_PASSPHRASE does not open the vault"
cmp -s "$OUT" "$S/evidence.mp4" || fail "EVAULT_PASSPHRASE: cat gives other bytes"
pass "passphrase add: both open the vault (file and environment)"

run evq "$V" "$T/wrong" passphrase add --kdf interactive --new-passphrase-file "$T/pf3"
expect_rc 2 "passphrase add with a wrong current passphrase did not exit 2"
expect_err "wrong passphrase"
[ "$(nslots)" -eq 2 ] || fail "a refused add changed the slots"
refused "$T/pf3"
pass "passphrase add with a wrong current passphrase: refused, nothing added"

run evq "$V" "$T/pf2" passphrase change --kdf interactive --new-passphrase-file "$T/pf3"
expect_rc 0 "passphrase change failed"
[ "$(nslots)" -eq 2 ] || fail "after change: $(nslots) slots, not 2"
refused "$T/pf2"
opens "$T/pf3"
opens "$T/pf1"
pass "passphrase change: the old one refused, the new one opens, the other untouched"

run evq "$V" "$T/pf1" passphrase remove
expect_rc 0 "passphrase remove failed"
expect_out "1 passphrase slot"
[ "$(nslots)" -eq 1 ] || fail "after remove: $(nslots) slots, not 1"
refused "$T/pf1"
opens "$T/pf3"
pass "passphrase remove: the removed one refused, the other opens"

run evq "$V" "$T/pf3" passphrase remove
expect_rc 2 "removing the last passphrase did not exit 2"
expect_err "only passphrase" "no clear message when removing the last passphrase"
[ "$(nslots)" -eq 1 ] || fail "the last slot was removed"
opens "$T/pf3"
pass "removing the last passphrase: refused, the vault still opens"

run evq "$V" "$T/pf1" passphrase remove
expect_rc 2 "remove with a removed passphrase did not exit 2"
expect_err "wrong passphrase"
[ "$(nslots)" -eq 1 ] || fail "a refused remove changed the slots"
pass "remove with a passphrase that no longer exists: wrong passphrase, nothing changed"

run evq "$V" "$T/pf3" verify
expect_rc 0 "verify after the passphrase changes failed"
expect_out "ok: 1 of 1 items intact"
pass "verify passes after the passphrase changes"

# --- Interrupted passphrase changes ------------------------------------------
# A recorded addition whose slot was not yet renamed (as a crash right
# after the commit leaves it).
printf 'fourth passphrase\n' >"$T/pf4"
run env EVAULT_NEW_PASSPHRASE="fourth passphrase" "$EVAULT" --vault "$V" \
	--passphrase-file "$T/pf3" passphrase add
expect_rc 0 "passphrase add (fourth) failed"
newest=$(ls -t "$V/keys" | grep '^slot-' | head -n 1)
mv "$V/keys/$newest" "$V/keys/pending-${newest#slot-}"
run evq "$V" "$T/pf4" ls
expect_rc 0 "a recorded addition still pending does not open the vault"
[ -f "$V/keys/pending-${newest#slot-}" ] || fail "a reader moved the pending slot"
run evq "$V" "$T/pf3" note "$id" "after an interrupted addition"
expect_rc 0
[ -f "$V/keys/$newest" ] && [ ! -e "$V/keys/pending-${newest#slot-}" ] ||
	fail "the next writer did not put the recorded slot in place"
opens "$T/pf4"
pass "addition recorded, slot still pending: it opens, and the next writer finishes it"

# A pending slot the log does not record (a crash before the commit).
cp "$V/keys/$newest" "$V/keys/pending-0123456789abcdef"
mv "$V/keys/$newest" "$T/saved-slot"
run evq "$V" "$T/pf4" ls
expect_rc 2 "an unrecorded pending slot opens the vault"
expect_err "interrupted before the log recorded it"
mv "$T/saved-slot" "$V/keys/$newest"
run evq "$V" "$T/pf3" note "$id" "after an unrecorded addition"
expect_rc 0
[ ! -e "$V/keys/pending-0123456789abcdef" ] || fail "the unrecorded pending slot was kept"
pass "pending slot the log does not record: opens nothing, removed by the next writer"

# A recorded removal whose slot file is still there.
cp "$V/keys/$newest" "$T/removed-slot"
run evq "$V" "$T/pf4" passphrase remove
expect_rc 0 "passphrase remove (fourth) failed"
cp "$T/removed-slot" "$V/keys/$newest"
run evq "$V" "$T/pf4" ls
expect_rc 2 "a passphrase whose removal is recorded still opens the vault"
expect_err "the log records its removal"
run evq "$V" "$T/pf3" note "$id" "after an interrupted removal"
expect_rc 0
[ ! -e "$V/keys/$newest" ] || fail "the next writer kept a slot whose removal is recorded"
run evq "$V" "$T/pf3" verify
expect_rc 0 "verify after the interrupted changes failed"
pass "removal recorded, slot file still there: refused, deleted by the next writer"
