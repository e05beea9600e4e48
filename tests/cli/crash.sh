#!/bin/bash
# crash.sh: kill -9 during an ingest leaves the vault in its last committed
# state.  Twenty times, `evault ingest` of a large file (200 MB, random) or
# of a folder of many small files is killed at a random moment; after each
# kill: `evault verify` exits 0, `ls` lists only items whose bytes are
# among the sources (and verify has checked them whole), what the killed
# ingest reported as ingested is held, tmp/ is emptied when the next writer
# opens the vault, and ingesting the same input again works and gives
# everything back.
set -eu
. "$(dirname "$0")/lib.sh"

ITERATIONS=${EVAULT_CRASH_ITERATIONS:-20}
S=$T/src
mkdir -p "$S"
random_file "$S/large.bin" 200M
make_small_files "$S/many" 150
random_file "$S/many/some-bigger.bin" 2M
sha "$S/large.bin" >"$T/known"
find "$S/many" -type f -exec sha256sum {} + | cut -c1-64 >>"$T/known"
note "sources: a 200 MB file and a folder of $(find "$S/many" -type f | wc -l) files"

leftovers=0
completed=0
i=1
while [ "$i" -le "$ITERATIONS" ]; do
	V=$T/vault-$i
	new_vault "$V"
	if [ $((i % 2)) -eq 1 ]; then
		what="the 200 MB file"
		src=$S/large.bin
	else
		what="the folder of small files"
		src=$S/many
	fi
	# A moment between 0 and 2 s: from before the vault is even open to
	# (now and then) past the end of the ingest.
	delay=$(printf '%d.%03d' $((RANDOM % 2)) $((RANDOM % 1000)))
	"$EVAULT" --vault "$V" --passphrase-file "$PF" ingest "$src" \
		>"$T/killed.out" 2>"$T/killed.err" &
	pid=$!
	bg_started "$pid"
	sleep "$delay"
	if kill -9 "$pid" 2>/dev/null; then
		state="killed after $delay s"
	else
		state="finished before the kill at $delay s"
		completed=$((completed + 1))
	fi
	wait "$pid" 2>/dev/null || true
	bg_done "$pid"

	tmp_after_kill=$(count_tmp "$V")
	[ "$tmp_after_kill" -eq 0 ] || leftovers=$((leftovers + 1))

	# Readers first (they must not need the tmp/ clean-up).
	run ev verify
	expect_rc 0 "iteration $i ($what, $state): verify after kill -9 did not exit 0"
	ids >"$T/held"
	stranger=$(grep -vxF -f "$T/known" "$T/held" || true)
	[ -z "$stranger" ] ||
		fail "iteration $i: ls lists $stranger, which is none of the sources"
	# Every file the killed ingest reported as ingested is held (the text
	# output gives the first 16 hex digits of the id).
	awk '$1 == "ingested" || $1 == "already-held" { print $2 }' "$T/killed.out" >"$T/reported"
	cut -c1-16 "$T/held" >"$T/held16"
	lost=$(grep -vxF -f "$T/held16" "$T/reported" || true)
	[ -z "$lost" ] ||
		fail "iteration $i: ingest reported $lost ingested, but it is not held"
	nheld=$(wc -l <"$T/held")

	# The next writer empties tmp/; the same ingest now works.
	run ev ingest --json "$src"
	expect_rc 0 "iteration $i: ingest after the crash failed"
	[ "$(count_tmp "$V")" -eq 0 ] ||
		fail "iteration $i: tmp/ not emptied by the next writer ($(ls -A "$V/tmp"))"
	run ev verify
	expect_rc 0 "iteration $i: verify after the second ingest failed"
	if [ "$src" = "$S/large.bin" ]; then
		want=1
	else
		want=$(find "$S/many" -type f | wc -l)
	fi
	[ "$(count_items "$V")" -eq "$want" ] ||
		fail "iteration $i: $(count_items "$V") items after the second ingest, not $want"
	pass "iteration $i: $what, $state: verify ok, $nheld items held, tmp/ had $tmp_after_kill leftovers, re-ingest ok"
	[ "$i" -eq "$ITERATIONS" ] || rm -rf "$V"
	i=$((i + 1))
done

# The last vault gives its contents back.
if [ $((ITERATIONS % 2)) -eq 1 ]; then
	ev cat "$(sha "$S/large.bin")" | cmp -s - "$S/large.bin" ||
		fail "the large file does not come back identical after the crashes"
else
	ev cat "$(sha "$S/many/some-bigger.bin")" | cmp -s - "$S/many/some-bigger.bin" ||
		fail "a file of the folder does not come back identical after the crashes"
fi
pass "after $ITERATIONS kills ($completed finished first, $leftovers left files in tmp/): contents come back identical"
