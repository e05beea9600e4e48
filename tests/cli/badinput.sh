#!/bin/bash
# badinput.sh: bad input gets a clear error naming the file and the reason,
# and nothing is lost.  Missing and unreadable paths (the other files still
# go in; exit 2 and a summary), FIFOs and devices (refused, without
# hanging), symbolic links (reported, not followed), wrong passphrase, no
# vault, a vault of a newer format, short, non-hex, unknown and ambiguous id
# prefixes, files that change while they are read, and a second writer
# (waits, or fails at once with --no-wait).
set -eu
. "$(dirname "$0")/lib.sh"

new_vault
S=$T/src
mkdir -p "$S"
printf 'good one\n' >"$S/good1.txt"
printf 'good two\n' >"$S/good2.txt"

# --- Missing path -------------------------------------------------------------
run ev ingest "$S/good1.txt" "$S/does-not-exist.mp4" "$S/good2.txt"
expect_rc 2 "ingest with a missing path did not exit 2"
expect_err "$S/does-not-exist.mp4" "the error does not name the missing path"
expect_err "No such file or directory" "the error does not give the reason"
expect_any "2 ingested, 0 already held, 0 skipped, 1 failed" "no summary of the ingest"
[ "$(count_items)" -eq 2 ] || fail "the files beside the missing one were not ingested"
pass "missing path: named with its reason, the others ingested, exit 2, summary"

# --- Unreadable file and folder --------------------------------------------------
# Root reads everything; as root the check runs as user nobody (setpriv),
# in a vault of its own, when that is possible.
unreadable_check() {
	local asu=$1 dir=$2 pf=$3
	mkdir -p "$dir/src/locked"
	printf 'readable\n' >"$dir/src/readable.txt"
	printf 'secret\n' >"$dir/src/unreadable.txt"
	printf 'inside a locked folder\n' >"$dir/src/locked/inside.txt"
	printf 'readable too\n' >"$dir/src/z-last.txt"
	# the custodian key must be readable by whoever runs evault here
	"$EVAULT" key new tester --kdf interactive -o "$dir/tester.key" >/dev/null 2>&1
	[ -z "$asu" ] || chown -R 65534:65534 "$dir"
	chmod 000 "$dir/src/unreadable.txt" "$dir/src/locked"
	run $asu "$EVAULT" --vault "$dir/vault" --passphrase-file "$pf" --key "$dir/tester.key" init --kdf interactive
	expect_rc 0 "init of the vault for the unreadable-file check failed"
	run $asu "$EVAULT" --vault "$dir/vault" --passphrase-file "$pf" --key "$dir/tester.key" ingest "$dir/src"
	expect_rc 2 "ingest with an unreadable file did not exit 2"
	expect_err "$dir/src/unreadable.txt" "the error does not name the unreadable file"
	expect_err "$dir/src/locked" "the error does not name the folder that cannot be read"
	expect_err "Permission denied" "the error does not give the reason"
	expect_any "2 ingested, 0 already held, 0 skipped, 2 failed" "wrong summary"
	run $asu "$EVAULT" --vault "$dir/vault" --passphrase-file "$pf" ls
	expect_rc 0
	expect_out "readable.txt"
	expect_out "z-last.txt"
	chmod 700 "$dir/src/locked"
	pass "unreadable file and folder: named with the reason, the others ingested, exit 2"
}
if [ "$(id -u)" -ne 0 ]; then
	unreadable_check "" "$T/unreadable" "$PF"
elif command -v setpriv >/dev/null 2>&1 &&
	setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$EVAULT" 2>/dev/null; then
	chmod 711 "$T"
	mkdir -p "$T/nobody"
	cp "$PF" "$T/nobody/pf"
	unreadable_check "setpriv --reuid=65534 --regid=65534 --clear-groups" \
		"$T/nobody" "$T/nobody/pf"
	chmod 700 "$T"
else
	skip_check "unreadable file: running as root, and cannot run evault as user nobody"
fi

# --- FIFO and device -----------------------------------------------------------------
mkdir -p "$S/withfifo"
mkfifo "$S/withfifo/pipe"
printf 'next to a fifo\n' >"$S/withfifo/plain.txt"
before=$(count_items)
run timeout 30 "$EVAULT" --vault "$V" --passphrase-file "$PF" ingest "$S/withfifo/pipe"
[ "$RC" -ne 124 ] || fail "ingest of a FIFO hangs (killed after 30 s)"
expect_rc 2 "ingest of a FIFO did not exit 2"
expect_err "$S/withfifo/pipe" "the error does not name the FIFO"
expect_err "FIFO" "the error does not say it is a FIFO"
run timeout 30 "$EVAULT" --vault "$V" --passphrase-file "$PF" ingest "$S/withfifo"
[ "$RC" -ne 124 ] || fail "ingest of a folder holding a FIFO hangs"
expect_rc 2
expect_err "FIFO"
[ "$(count_items)" -eq $((before + 1)) ] || fail "the file beside the FIFO was not ingested"
pass "FIFO refused (alone and inside a folder) without hanging; the file beside it ingested"

run timeout 30 "$EVAULT" --vault "$V" --passphrase-file "$PF" ingest /dev/null
[ "$RC" -ne 124 ] || fail "ingest of /dev/null hangs"
expect_rc 2 "ingest of /dev/null did not exit 2"
expect_err "/dev/null" "the error does not name /dev/null"
expect_err "device" "the error does not say /dev/null is a device"
if [ -c /dev/zero ]; then
	run timeout 30 "$EVAULT" --vault "$V" --passphrase-file "$PF" ingest /dev/zero
	[ "$RC" -ne 124 ] || fail "ingest of /dev/zero hangs (or reads without end)"
	expect_rc 2
	expect_err "device"
fi
[ "$(count_items)" -eq $((before + 1)) ] || fail "a device became an item"
pass "devices (/dev/null, /dev/zero) refused"

# --- Symbolic links ----------------------------------------------------------------------
mkdir -p "$S/links" "$T/outside/dir"
printf 'the target of a link, outside the folder\n' >"$T/outside/target.txt"
printf 'inside a linked folder\n' >"$T/outside/dir/in-linked-dir.txt"
printf 'a real file\n' >"$S/links/real.txt"
ln -s "$T/outside/target.txt" "$S/links/link-to-file"
ln -s "$T/outside/dir" "$S/links/link-to-dir"
ln -s "$T/nowhere" "$S/links/dangling"
before=$(count_items)
run ev ingest "$S/links"
expect_rc 0 "ingest of a folder with symbolic links did not exit 0"
for l in link-to-file link-to-dir dangling; do
	grep -F "$S/links/$l" "$OUT" | grep -qF "not followed" ||
		fail "the symbolic link $l is not reported as not followed"
done
expect_out "1 ingested, 0 already held, 3 skipped, 0 failed"
run ev ingest "$S/links/link-to-file"
expect_out "not followed" "a symbolic link given by name is not reported"
ids >"$T/ids"
! grep -qx "$(sha "$T/outside/target.txt")" "$T/ids" || fail "a symbolic link was followed"
! grep -qx "$(sha "$T/outside/dir/in-linked-dir.txt")" "$T/ids" ||
	fail "a link to a folder was followed"
[ "$(count_items)" -eq $((before + 1)) ] || fail "wrong item count after the links"
pass "symbolic links (to a file, a folder, nowhere) reported and not followed"

# --- Wrong passphrase, no vault, newer format ---------------------------------------------
printf 'not the passphrase\n' >"$T/wrong"
run evq "$V" "$T/wrong" ls
expect_rc 2 "a wrong passphrase did not exit 2"
expect_err "wrong passphrase" "no 'wrong passphrase' message"
run env EVAULT_PASSPHRASE='also wrong' "$EVAULT" --vault "$V" ingest "$S/good1.txt"
expect_rc 2 "a wrong passphrase (environment) did not exit 2"
expect_err "wrong passphrase"
run env EVAULT_PASSPHRASE='correct horse battery staple' "$EVAULT" --vault "$V" ls
expect_rc 0 "the right passphrase from EVAULT_PASSPHRASE does not open the vault"
pass "wrong passphrase: exit 2 with a message (file and environment)"

run evq "$T/no-such-vault" "$PF" ls
expect_rc 2 "no vault: did not exit 2"
expect_err "no vault at '$T/no-such-vault'" "no clear 'no vault' message"
run evq "$T/no-such-vault" "$PF" ingest "$S/good1.txt"
expect_rc 2
expect_err "no vault at"
[ ! -e "$T/no-such-vault" ] || fail "ingest into a missing vault created something"
mkdir "$T/empty-dir"
run evq "$T/empty-dir" "$PF" ls
expect_rc 2
expect_err "is not an evault vault" "an empty folder is not reported as no vault"
pass "no vault at the path (missing or empty folder): exit 2, clear message"

cp -a "$V" "$T/vault99"
sed -i 's/^format [0-9]*$/format 99/' "$T/vault99/VAULT"
grep -qx 'format 99' "$T/vault99/VAULT" || fail "could not make a format 99 VAULT file"
run evq "$T/vault99" "$PF" ls
expect_rc 2 "a vault of format 99 did not exit 2"
expect_err "format 99" "the error does not name the format version"
run evq "$T/vault99" "$PF" ingest "$S/good1.txt"
expect_rc 2
expect_err "format 99"
pass "a vault of a newer format: exit 2, the version named"

# --- Id prefixes ------------------------------------------------------------------------------
id1=$(sha "$S/good1.txt")
for cmd in show cat verify; do
	run ev $cmd "$(printf '%s' "$id1" | cut -c1-7)"
	expect_rc 2 "$cmd with a 7-digit prefix did not exit 2"
	expect_err "8 to 64 hex digits" "$cmd: no clear message for a short prefix"
done
run ev show "zzzzzzzz"
expect_rc 2
expect_err "not a hex item id"
ids >"$T/ids"
for p in 00000000 ffffffff 12345678 deadbeef; do
	grep -q "^$p" "$T/ids" || { absent=$p; break; }
done
run ev show "$absent"
expect_rc 2 "show of an unknown id did not exit 2"
expect_err "no item with id '$absent'"
run ev extract "$absent" -o "$T/absent.out"
expect_rc 2
expect_err "no item with id"
[ ! -e "$T/absent.out" ] || fail "extract of an unknown id made a file"
pass "id prefixes: under 8 digits, non-hex and unknown refused with clear messages"

# Two contents whose SHA-256 share their first 8 hex digits (63175d90),
# found once by a birthday search.
printf 'evault ambiguous id prefix test %d\n' 57260 >"$S/amb-a"
printf 'evault ambiguous id prefix test %d\n' 95136 >"$S/amb-b"
ida=$(sha "$S/amb-a")
idb=$(sha "$S/amb-b")
p8=$(printf '%s' "$ida" | cut -c1-8)
[ "$p8" = "$(printf '%s' "$idb" | cut -c1-8)" ] && [ "$ida" != "$idb" ] ||
	fail "test fixture: the two ambiguous contents do not share 8 hex digits"
run ev ingest "$S/amb-a" "$S/amb-b"
expect_rc 0
for cmd in show cat; do
	run ev $cmd "$p8"
	expect_rc 2 "$cmd of an ambiguous prefix did not exit 2"
	expect_err "matches more than one item" "$cmd: no clear message for an ambiguous prefix"
done
run ev extract "$p8" -o "$T/amb.out"
expect_rc 2
[ ! -e "$T/amb.out" ] || fail "extract of an ambiguous prefix made a file"
run ev cat "$(printf '%s' "$idb" | cut -c1-9)"
expect_rc 0 "one more digit does not resolve the ambiguity"
cmp -s "$OUT" "$S/amb-b" || fail "the 9-digit prefix gave the wrong item"
pass "ambiguous 8-digit prefix refused with a clear message; 9 digits resolve it"

# --- Files that change while being read --------------------------------------------------
# A writer in the background keeps changing the file during the ingest:
# once by appending, once by overwriting bytes in place (same size).
changing_check() {
	local how=$1 f=$T/changing-${1%% *}.bin items objs
	truncate -s 256M "$f"
	items=$(count_items)
	objs=$(count_objects)
	if [ "$how" = "grows" ]; then
		(while :; do printf 'more\n' >>"$f"; sleep 0.02; done) &
	else
		(while :; do write_at "$f" 4096 "$RANDOM"; sleep 0.02; done) &
	fi
	local writer=$!
	bg_started "$writer"
	sleep 0.1
	run ev ingest "$f" "$S/good2.txt"
	bg_stop "$writer"
	expect_rc 2 "ingest of a file that $how while read did not exit 2"
	expect_err "$f" "the error does not name the changing file"
	expect_err "changed while it was being read" "no 'changed while it was being read' error"
	[ "$(count_items)" -eq "$items" ] || fail "an item was added for a file that changed"
	[ "$(count_objects)" -eq "$objs" ] || fail "an object was left for a file that changed"
	[ "$(count_tmp)" -eq 0 ] || fail "tmp/ keeps a leftover of the refused file"
	rm -f "$f"
	pass "a file that $how while read: refused, no item, no object, no leftover"
}
changing_check grows
changing_check "is overwritten"

# --- A second writer -------------------------------------------------------------------------
printf 'waits for the lock\n' >"$S/waiter.txt"
flock "$V/lock" sleep 4 &
holder=$!
bg_started "$holder"
i=0
while flock -n "$V/lock" true; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || fail "the lock holder did not take the lock"
	sleep 0.05
done
run timeout 10 "$EVAULT" --vault "$V" --passphrase-file "$PF" ingest --no-wait "$S/waiter.txt"
[ "$RC" -ne 124 ] || fail "ingest --no-wait waited for the lock"
expect_rc 2 "ingest --no-wait while another process holds the lock did not exit 2"
expect_err "in use by another evault process" "no clear message for a busy vault"
"$EVAULT" --vault "$V" --passphrase-file "$PF" ingest "$S/waiter.txt" \
	>"$T/waiter.out" 2>"$T/waiter.err" &
waiter=$!
bg_started "$waiter"
sleep 1
kill -0 "$waiter" 2>/dev/null || fail "a second writer did not wait for the lock: $(cat "$T/waiter.err")"
grep -qF "waiting for another evault process" "$T/waiter.err" ||
	fail "a waiting writer does not say why it waits"
wait "$holder" || true
bg_done "$holder"
set +e
wait "$waiter"
rc=$?
set -e
bg_done "$waiter"
[ "$rc" -eq 0 ] || fail "the waiting writer failed once the lock was free: $(cat "$T/waiter.err")"
ids | grep -qx "$(sha "$S/waiter.txt")" || fail "the waiting writer's file is not held"
pass "second writer: --no-wait fails at once with a clear message; without it, waits, then ingests"

run ev verify
expect_rc 0 "verify fails after the bad input"
pass "the vault verifies after all the bad input"
