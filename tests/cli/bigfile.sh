#!/bin/bash
# bigfile.sh: a file larger than 4 GiB (sizes and offsets past 32 bits).
# A sparse source of 4 GiB + 12345 bytes with markers written around the
# 4 GiB boundary and at the end is ingested, verified and extracted; the
# extract's sha256sum must equal the source's, and the item's size must be
# exact.  Needs about 8.5 GiB free in $TMPDIR (the object and the extract
# are not sparse); skipped otherwise.  Takes tens of seconds.
set -eu
. "$(dirname "$0")/lib.sh"

size=$((4 * 1024 * 1024 * 1024 + 12345))
need_kib=$((8 * 1024 * 1024 + 600 * 1024))
avail_kib=$(df -Pk "$T" | awk 'NR == 2 { print $4 }')
if [ "$avail_kib" -lt "$need_kib" ]; then
	skip_all "needs $need_kib KiB free in $T, only $avail_kib KiB"
fi

new_vault
big=$T/big.bin
truncate -s "$size" "$big"
write_at "$big" 0 "MARKER-AT-START"
write_at "$big" $((1024 * 1024 * 1024 * 2 - 7)) "MARKER-ACROSS-2GiB"
write_at "$big" $((4 * 1024 * 1024 * 1024 - 9)) "MARKER-ACROSS-4GiB"
write_at "$big" $((4 * 1024 * 1024 * 1024 + 4096)) "MARKER-PAST-4GiB"
write_at "$big" $((size - 13)) "MARKER-AT-END"
[ "$(filesize "$big")" -eq "$size" ] || fail "the sparse source is not $size bytes"
id=$(sha "$big")
note "source: $size bytes, sha256 $id"

start=$(date +%s)
run ev ingest --json "$big"
expect_rc 0 "ingest of the 4 GiB + 12345 byte file failed"
[ "$(json_status "$big")" = ingested ] || fail "ingest did not report 'ingested'"
[ "$(json_id "$big")" = "$id" ] || fail "ingest gave id $(json_id "$big"), sha256sum says $id"
expect_out "\"size\": $size," "ingest --json does not give the exact size"
pass "ingested a file of $size bytes in $(($(date +%s) - start)) s; id = sha256sum"

run ev show "$id" --json
expect_rc 0
expect_out "\"size\": $size," "show --json does not give the exact size"
pass "show gives the size past 4 GiB exactly"

run ev verify
expect_rc 0 "verify of the vault holding the large file failed"
expect_out "ok: 1 of 1 items intact" "verify did not check the large item"
pass "verify passes"

out=$T/big.extract
run ev extract "$id" -o "$out"
expect_rc 0 "extract of the large file failed"
[ "$(filesize "$out")" -eq "$size" ] || fail "the extract is $(filesize "$out") bytes, not $size"
[ "$(sha "$out")" = "$id" ] || fail "sha256sum of the extract differs from the source's"
pass "extract has the same size and sha256sum"
