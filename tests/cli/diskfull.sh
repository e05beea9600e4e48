#!/bin/bash
# diskfull.sh: a full disk is an error, never a damaged vault.  The vault
# lives on a 20 MiB tmpfs (needs root and the right to mount: skipped
# otherwise).  Files are ingested until the disk is full: the failing
# ingest names the file and says there is no space, exits 2, and the vault
# still verifies with every earlier item intact and nothing left in tmp/.
# The disk is then filled to different levels (so that the object, the log
# or the commit is what runs out), with the same checks; once space is
# freed, ingest works again.
set -eu
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root to mount a small tmpfs"
MNT=$T/mnt
mkdir -p "$MNT"
mount -t tmpfs -o size=20m,mode=0700 evault-test "$MNT" 2>"$ERR" ||
	skip_all "cannot mount a tmpfs here: $(cat "$ERR")"
on_exit "umount '$MNT'"
pass "mounted a 20 MiB tmpfs"

V=$MNT/vault
new_vault
S=$T/src
mkdir -p "$S"

# check_intact N WHAT: verify exits 0 with N items, tmp/ is empty.
check_intact() {
	run ev verify
	expect_rc 0 "$2: the vault does not verify"
	expect_out "ok: $1 of $1 items intact" "$2: verify does not find the $1 items"
	[ "$(count_tmp)" -eq 0 ] || fail "$2: tmp/ keeps $(ls -A "$V/tmp")"
}

# --- Ingest until the disk is full -------------------------------------------------
# A reserve file takes 5 MiB beside the vault, to be freed later.
dd if=/dev/zero of="$MNT/reserve" bs=1M count=5 2>/dev/null
n=0
while :; do
	n=$((n + 1))
	[ "$n" -le 40 ] || fail "40 files of 1 MiB went into a 20 MiB file system"
	random_file "$S/part-$n.bin" 1M
	run ev ingest "$S/part-$n.bin"
	[ "$RC" -eq 0 ] || break
done
held=$((n - 1))
[ "$held" -ge 3 ] || fail "only $held files of 1 MiB fitted: the test needs more room"
expect_rc 2 "ingest on a full disk did not exit 2"
expect_err "$S/part-$n.bin" "the no-space error does not name the file"
expect_err "No space left on device" "the error does not say the disk is full"
pass "ingest until full: $held files held, file $n refused with 'No space left on device', exit 2"
check_intact "$held" "after the disk filled up"
if ids | grep -qx "$(sha "$S/part-$n.bin")"; then
	fail "the refused file is listed"
fi
pass "after the disk filled up: the vault verifies, all $held items there, tmp/ empty"

run ev ingest "$S/part-$n.bin"
expect_rc 2 "the disk is still full, yet the ingest worked"
rm "$MNT/reserve"
run ev ingest "$S/part-$n.bin"
expect_rc 0 "ingest after space was freed failed"
held=$((held + 1))
check_intact "$held" "after space was freed"
ids | grep -qx "$(sha "$S/part-$n.bin")" || fail "the file ingested after freeing space is not held"
pass "once space is freed (another file removed), the refused file ingests"

# --- Running out at different moments ----------------------------------------------------
# Leave K KiB free and ingest a small file: the object, the log append or
# the commit of the state runs out, or everything fits.  Either way the
# vault stays intact and holds the file exactly when the ingest said so.
items=$held
for k in 0 4 8 12 16 24 32; do
	for size in 100 10000; do
		f=$S/small-$k-$size.bin
		random_file "$f" "$size"
		rm -f "$MNT/filler"
		dd if=/dev/zero of="$MNT/filler" bs=4k 2>/dev/null || true
		if [ "$k" -gt 0 ]; then
			fsize=$(filesize "$MNT/filler")
			truncate -s $((fsize - k * 1024)) "$MNT/filler"
		fi
		run ev ingest "$f"
		if [ "$RC" -eq 0 ]; then
			items=$((items + 1))
			result="ingested"
		else
			expect_rc 2 "$k KiB free: ingest failed without exit 2"
			expect_err "No space left on device" "$k KiB free: the error is not 'no space'"
			result="refused: $(grep -o "cannot [a-z ]*" "$ERR" | sed -n '2s/ *$//p')"
		fi
		check_intact "$items" "$k KiB free, $size bytes"
		held=$(ids | grep -cx "$(sha "$f")" || true)
		if [ "$result" = "ingested" ]; then
			[ "$held" -eq 1 ] || fail "$k KiB free, $size bytes: ingested but not held"
		else
			[ "$held" -eq 0 ] || fail "$k KiB free, $size bytes: refused but held"
		fi
		pass "$k KiB free, $size bytes: $result; the vault verifies with $items items"
	done
done
rm -f "$MNT/filler"
printf 'after all that\n' >"$S/last.txt"
run ev ingest "$S/last.txt"
expect_rc 0 "ingest with free space after the full-disk runs failed"
check_intact $((items + 1)) "at the end"
pass "with space again, ingest works and the vault verifies"
