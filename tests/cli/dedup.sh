#!/bin/bash
# dedup.sh: the same bytes are stored once, whatever their names.  A file
# and a copy under another name (in another folder, in a later ingest and
# in the same ingest) give one item and one object, and the copy is
# reported as already held, in the text and the --json output.
set -eu
. "$(dirname "$0")/lib.sh"

new_vault
S=$T/src
mkdir -p "$S/a" "$S/b" "$S/c"
random_file "$S/a/original.mp4" 300000
cp "$S/a/original.mp4" "$S/b/copy with another name.mov"
id=$(sha "$S/a/original.mp4")

run ev ingest --json "$S/a/original.mp4"
expect_rc 0
[ "$(json_status "$S/a/original.mp4")" = ingested ] ||
	fail "the first ingest did not report 'ingested'"
[ "$(json_id "$S/a/original.mp4")" = "$id" ] || fail "ingest --json gave the wrong id"
pass "first copy ingested under its SHA-256"

run ev ingest --json "$S/b/copy with another name.mov"
expect_rc 0
[ "$(json_status "$S/b/copy with another name.mov")" = already-held ] ||
	fail "a copy under another name was not reported 'already-held' in --json"
[ "$(json_id "$S/b/copy with another name.mov")" = "$id" ] ||
	fail "the copy was reported under another id"
expect_out '"already_held": 1,' "ingest --json does not count the copy as already held"
expect_out '"ingested": 0,' "ingest --json counts the copy as ingested"
pass "second copy, other name and folder: reported already-held"

run ev ingest "$S/a/original.mp4"
expect_rc 0
expect_out "already-held" "text output of a re-ingest does not say already-held"
expect_out "0 ingested, 1 already held" "text summary of a re-ingest is wrong"
pass "the same file again: already-held in the text output too"

[ "$(count_items)" -eq 1 ] || fail "ls --json lists $(count_items) items, not 1"
# Each item is one object for its bytes and one for its metadata document.
[ "$(count_objects)" -eq 2 ] || fail "objects/ holds $(count_objects) files, not 2"
pass "one item in ls --json, two object files (bytes, metadata) under objects/"

# Two copies within one ingest (before its commit), plus other content.
random_file "$S/c/new.jpg" 5000
cp "$S/c/new.jpg" "$S/c/new-copy.jpg"
printf 'different bytes\n' >"$S/c/other.txt"
run ev ingest --json "$S/c"
expect_rc 0
statuses=$(json_status "$S/c/new-copy.jpg")$(json_status "$S/c/new.jpg")
case $statuses in
ingestedalready-held | already-heldingested) ;;
*) fail "two copies in one ingest: statuses '$statuses', want one ingested and one already-held" ;;
esac
[ "$(json_status "$S/c/other.txt")" = ingested ] || fail "other content not ingested"
expect_out '"ingested": 2,' "the ingest of c/ does not count 2 ingested"
expect_out '"already_held": 1,' "the ingest of c/ does not count 1 already held"
pass "two copies in one ingest: one ingested, one already-held"

[ "$(count_items)" -eq 3 ] || fail "ls --json lists $(count_items) items, not 3"
[ "$(count_objects)" -eq 6 ] || fail "objects/ holds $(count_objects) files, not 6"
pass "three distinct contents: three items, six objects (bytes and metadata)"

run ev ls --json
expect_out '"receipts": 3,' "the first item does not count its 3 receipts"
pass "the item records how many ingests delivered its bytes"

run ev verify
expect_rc 0
expect_out "ok: 3 of 3 items intact"
pass "verify passes"
