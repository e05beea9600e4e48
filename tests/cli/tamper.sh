#!/bin/bash
# tamper.sh: every alteration of a vault is detected and named.  A vault of
# several items (one of several 64 KiB chunks) with two passphrase slots is
# kept pristine; each case starts from a fresh copy of it, damages one thing
# and expects `evault verify` to exit 1 naming the damaged item's id (for an
# object) or the damaged file (log, slot), and `evault extract` of a damaged
# item to exit 1 and leave no file behind.  Objects swapped between items,
# and objects no item refers to, are covered too.
set -eu
. "$(dirname "$0")/lib.sh"

P=$T/pristine
S=$T/src
mkdir -p "$S"
random_file "$S/multi-chunk.mp4" 300000
random_file "$S/one-chunk.jpg" 5000
random_file "$S/boundary.bin" 65536
printf 'a short note\n' >"$S/short.txt"

V=$P new_vault
V=$P
run ev ingest "$S"
expect_rc 0
ls "$P/keys" >"$T/slots-before"
printf 'the second passphrase\n' >"$T/pf2"
run ev passphrase add --kdf interactive --new-passphrase-file "$T/pf2"
expect_rc 0 "could not add a second passphrase"
slot2=keys/$(ls "$P/keys" | grep -vxF -f "$T/slots-before")
[ -f "$P/$slot2" ] || fail "cannot tell which slot is the second one"
run ev verify
expect_rc 0 "the pristine vault does not verify"
nitems=$(count_items "$P")
[ "$nitems" -eq 4 ] || fail "the pristine vault holds $nitems items, not 4"
pass "pristine vault: 4 items, 2 passphrase slots, verifies"

# Which object holds which item: delete them all in a scratch copy and read
# the names verify gives for the missing objects.
cp -a "$P" "$T/scratch"
find "$T/scratch/objects" -type f -delete
V=$T/scratch
run ev verify
expect_rc 1 "verify of a vault without objects did not exit 1"
declare -A file_of
for id in $(ids_of "$P"); do
	line=$(grep -F "$id" "$OUT" | head -n 1)
	f=$(printf '%s\n' "$line" | grep -o 'objects/[0-9a-f]\{2\}/[0-9a-f]\{64\}' | head -n 1)
	[ -n "$f" ] && [ -f "$P/$f" ] ||
		fail "verify of a missing object does not name the item $id and its file"
	file_of[$id]=$f
done
id_big=$(sha "$S/multi-chunk.mp4")
id_small=$(sha "$S/one-chunk.jpg")
obj_big=${file_of[$id_big]}
obj_small=${file_of[$id_small]}
rm -rf "$T/scratch"
pass "verify names each missing item with its id and object file"

# fresh: start a case from a copy of the pristine vault.
fresh() {
	rm -rf "$T/v"
	cp -a "$P" "$T/v"
	V=$T/v
}

# expect_damage ID FILE WHAT: verify exits 1 and names ID (if given) and
# FILE; the other items still verify.
expect_damage() {
	local id=$1 file=$2 what=$3
	run ev verify
	expect_rc 1 "$what: verify did not exit 1"
	expect_out "DAMAGE FOUND" "$what: verify does not say damage was found"
	if [ -n "$id" ]; then
		grep -F "$id" "$OUT" | grep -qF "$file" ||
			fail "$what: verify does not name item $id with its file $file"
		expect_out ": $((nitems - 1)) of $nitems items intact" \
			"$what: verify does not count the other items as intact"
	else
		expect_out "$file" "$what: verify does not name $file"
	fi
	run ev verify --json
	expect_rc 1 "$what: verify --json did not exit 1"
	expect_out '"ok": false,' "$what: verify --json does not say ok: false"
	expect_out "$file" "$what: verify --json does not name $file"
}

# expect_no_extract ID WHAT: extract and cat of a damaged item exit 1;
# extract leaves no file (not even a temporary one).
expect_no_extract() {
	local id=$1 what=$2
	rm -rf "$T/out"
	mkdir "$T/out"
	run ev extract "$id" -o "$T/out/item"
	expect_rc 1 "$what: extract of the damaged item did not exit 1"
	[ -z "$(ls -A "$T/out")" ] || fail "$what: extract left a file: $(ls -A "$T/out")"
	run ev cat "$id"
	expect_rc 1 "$what: cat of the damaged item did not exit 1"
}

# --- Objects ------------------------------------------------------------------------
fresh
size=$(filesize "$V/$obj_big")
flip_byte "$V/$obj_big" $((size / 2))
expect_damage "$id_big" "$obj_big" "one byte flipped in the middle of an object"
expect_no_extract "$id_big" "one byte flipped"
pass "one byte flipped in the middle of an object: detected, item and file named, no extract"

fresh
flip_byte "$V/$obj_big" 10
expect_damage "$id_big" "$obj_big" "one byte flipped in an object's header"
pass "one byte flipped in an object's header: detected and named"

fresh
size=$(filesize "$V/$obj_big")
flip_byte "$V/$obj_big" $((size - 5))
expect_damage "$id_big" "$obj_big" "one byte flipped in an object's final chunk"
expect_no_extract "$id_big" "final chunk flipped"
pass "one byte flipped in an object's final chunk: detected, named, no extract"

fresh
truncate -s -100 "$V/$obj_big"
expect_damage "$id_big" "$obj_big" "an object truncated by 100 bytes"
expect_no_extract "$id_big" "truncated"
pass "truncated object: detected, item and file named, no extract"

fresh
size=$(filesize "$V/$obj_big")
truncate -s $((size - 48 - 17)) "$V/$obj_big"
expect_damage "$id_big" "$obj_big" "an object cut just before its final chunk"
expect_no_extract "$id_big" "final chunk cut off"
pass "object cut at the final chunk: detected, named, no extract"

fresh
rm "$V/$obj_big"
expect_damage "$id_big" "$obj_big" "a deleted object"
expect_out "missing" "a deleted object is not reported as missing"
expect_no_extract "$id_big" "deleted object"
pass "deleted object: reported missing, item and file named, no extract"

fresh
printf 'trailing bytes' >>"$V/$obj_small"
expect_damage "$id_small" "$obj_small" "trailing bytes appended to an object"
expect_no_extract "$id_small" "trailing bytes"
pass "trailing bytes after an object: detected, item and file named, no extract"

fresh
mv "$V/$obj_big" "$T/swap"
mv "$V/$obj_small" "$V/$obj_big"
mv "$T/swap" "$V/$obj_small"
run ev verify
expect_rc 1 "objects swapped between two items: verify did not exit 1"
grep -F "$id_big" "$OUT" | grep -qF "$obj_big" || fail "swapped objects: $id_big not named"
grep -F "$id_small" "$OUT" | grep -qF "$obj_small" || fail "swapped objects: $id_small not named"
expect_no_extract "$id_small" "swapped objects"
pass "two objects swapped: both items named as damaged, no extract"

fresh
stray=objects/00/00$(printf '%s' "${obj_small#objects/??/}" | cut -c3-)
mkdir -p "$V/objects/00"
cp "$V/$obj_small" "$V/$stray"
run ev verify
expect_rc 0 "an object no item refers to made verify fail"
expect_out "$stray" "verify does not list the unreferenced object"
expect_out "1 unreferenced" "verify does not count the unreferenced object"
[ -f "$V/$stray" ] || fail "verify deleted the unreferenced object"
pass "an object no item refers to: listed, kept, not counted as damage"

# --- The log ------------------------------------------------------------------------
for f in log/records log/leaves log/state; do
	fresh
	size=$(filesize "$V/$f")
	flip_byte "$V/$f" $((size / 2))
	expect_damage "" "$f" "one byte flipped in $f"
	pass "one byte flipped in the middle of $f: detected, $f named"
done

fresh
size=$(filesize "$V/log/records")
truncate -s $((size - 10)) "$V/log/records"
expect_damage "" "log/records" "log/records cut short"
pass "log/records cut short: detected and named"

fresh
size=$(filesize "$V/log/leaves")
truncate -s $((size - 32)) "$V/log/leaves"
expect_damage "" "log/leaves" "log/leaves cut short"
pass "log/leaves cut short: detected and named"

# A damaged log refuses new records.
fresh
flip_byte "$V/log/records" 40
printf 'after the damage\n' >"$T/after.txt"
run ev ingest "$T/after.txt"
[ "$RC" -ne 0 ] || fail "ingest into a vault with a damaged log succeeded"
[ "$(cmp -s "$P/log/state" "$V/log/state"; echo $?)" -eq 0 ] ||
	fail "ingest into a vault with a damaged log changed log/state"
pass "a vault with a damaged log refuses new records"

# --- Passphrase slots -----------------------------------------------------------------
for off in 100 130; do
	fresh
	flip_byte "$V/$slot2" "$off"
	expect_damage "" "$slot2" "one byte flipped at $off in the second slot"
	run evq "$V" "$T/pf2" ls
	[ "$RC" -ne 0 ] || [ "$off" -ge 120 ] ||
		fail "the damaged second slot still opens the vault"
	pass "one byte flipped at offset $off of $slot2: detected, the slot named"
done

fresh
truncate -s 100 "$V/$slot2"
expect_damage "" "$slot2" "a slot file cut short"
pass "slot file cut short: detected and named"
