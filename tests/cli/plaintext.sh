#!/bin/bash
# plaintext.sh: nothing readable is left in the vault directory.  Files
# whose contents, names and folder names carry distinctive markers are
# ingested with markers in --case, --source and --note; then the whole
# vault directory is searched (grep -r -a, case-insensitive) for every
# marker, and for each file's SHA-256, as hex (both cases) and as raw bytes;
# file names in the vault are searched too.  None may be found.  A control run plants a marker and a raw SHA-256 in a
# copy of the vault, to show that the search would see them.
set -eu
. "$(dirname "$0")/lib.sh"

tok=$(head -c 9 /dev/urandom | od -An -tx1 | tr -d ' \n')
M_CONTENT=EVCONTENT$tok
M_NAME=EVNAME$tok
M_DIR=EVFOLDER$tok
M_CASE=EVCASE$tok
M_SOURCE=EVSOURCE$tok
M_NOTE=EVNOTE$tok
M_EXIF=EVEXIFMAKE$tok
markers="$M_CONTENT $M_NAME $M_DIR $M_CASE $M_SOURCE $M_NOTE $M_EXIF $tok"
note "markers end in $tok"

new_vault
S=$T/src/$M_DIR
mkdir -p "$S/inner"
# Contents: a short text, a long repetitive text (many chunks), a marker
# straddling a 64 KiB chunk boundary, a JPEG-like file with the marker
# where a camera writes its make, and a file named after a marker.
printf 'statement of a witness: %s\n' "$M_CONTENT" >"$S/short.txt"
for i in $(seq 1 4000); do
	printf 'line %d %s\n' "$i" "$M_CONTENT"
done >"$S/inner/long.txt"
{ head -c $((65536 - 10)) /dev/zero; printf '%s' "$M_CONTENT"; } >"$S/straddle.bin"
{ printf '\377\330\377\341\000\100Exif\000\000'; printf '%s' "$M_EXIF";
  head -c 20000 /dev/urandom; printf '\377\331'; } >"$S/photo.jpg"
printf 'named after a marker\n' >"$S/$M_NAME.mp4"

run ev ingest --case "case $M_CASE" --source "source $M_SOURCE" \
	--note "note $M_NOTE" "$T/src"
expect_rc 0 "ingest of the marked files failed"
expect_out "5 ingested"
pass "ingested 5 marked files with marked case, source and note"

# The markers went in: the vault shows them once unlocked.
run ev ls --json
for m in "$M_NAME" "$M_DIR" "$M_CASE" "$M_SOURCE" "$M_NOTE"; do
	expect_out "$m" "ls --json does not show the marker $m: the test would prove nothing"
done
ev cat "$(sha "$S/short.txt")" | grep -qF "$M_CONTENT" ||
	fail "cat does not give back the marked content"
pass "the unlocked vault shows every marker (names, folder, case, source, note, content)"

# search DIR: print what is found of any marker or SHA-256 (none: empty).
search() {
	local dir=$1 m f h up
	for m in $markers; do
		grep -r -a -i -l -F -- "$m" "$dir" | sed "s|^|marker $m in |" || true
		find "$dir" | grep -i -F -- "$m" | sed "s|^|marker $m in the name |" || true
	done
	# Raw bytes: a hex dump of each file on one line, searched for the
	# SHA-256 hex (a match at an odd digit is possible but improbable).
	find "$dir" -type f | while IFS= read -r f; do
		printf '%s ' "$f"
		od -An -v -tx1 -- "$f" | tr -d ' \n'
		echo
	done >"$T/dump"
	find "$S" -type f | while IFS= read -r f; do
		h=$(sha "$f")
		up=$(printf '%s' "$h" | tr a-f A-F)
		grep -r -a -l -F -e "$h" -e "$up" -e "$(printf '%s' "$h" | cut -c1-16)" "$dir" |
			sed "s|^|sha256 of $f (hex) in |" || true
		awk -v h="$h" 'index($2, h) { print $1 }' "$T/dump" |
			sed "s|^|sha256 of $f (raw bytes) in |"
		find "$dir" | grep -i -F -e "$h" -e "$(printf '%s' "$h" | cut -c1-16)" |
			sed "s|^|sha256 of $f in the name |" || true
	done
}

found=$(search "$V")
[ -z "$found" ] || fail "plaintext in the vault directory:
$found"
pass "no marker, no SHA-256 (hex or raw) anywhere in the vault directory"

# The same after a verify, an extract and a passphrase change (which
# write to the log and the keys).
printf 'another passphrase\n' >"$T/pf2"
run ev passphrase add --kdf interactive --new-passphrase-file "$T/pf2"
expect_rc 0
run ev verify
expect_rc 0
run ev extract "$(sha "$S/short.txt")" -o "$T/short.out"
expect_rc 0
found=$(search "$V")
[ -z "$found" ] || fail "plaintext in the vault directory after verify/extract/passphrase:
$found"
pass "still none after verify, extract and a passphrase change"

# Control: the search finds a planted marker and a planted raw SHA-256.
cp -a "$V" "$T/control"
printf 'x%sx' "$M_NOTE" >>"$T/control/log/records"
h=$(sha "$S/photo.jpg")
printf '%s' "$h" | sed 's/../\\x&/g' | xargs -0 printf >"$T/control/pub/raw"
found=$(search "$T/control")
printf '%s\n' "$found" | grep -qF "marker $M_NOTE in $T/control/log/records" ||
	fail "control: the search misses a planted marker"
printf '%s\n' "$found" | grep -qF "(raw bytes) in $T/control/pub/raw" ||
	fail "control: the search misses a planted raw SHA-256"
pass "control: the search does find a planted marker and a planted raw SHA-256"
