#!/bin/bash
# certify.sh: verification certificates end to end, on a real vault.
#
# A video and a photo (made here with ffmpeg and exiftool, with a capture
# time, a place and a serial number) go through ingest, a note, a
# transfer and its acceptance; then:
# * `evault certify` writes a certificate (0600) only after committing a
#   `certify` record naming its SHA-256; refuses without a key or over an
#   existing file, recording nothing;
# * both verifiers (evault check-cert, and the stand-alone evault-verify)
#   call it VALID with the vault's key and the file; INVALID, with the
#   reason, for another file, another vault's key, a changed statement
#   line, a dropped record, a record swapped for another certificate's;
#   exit 2 for what is not a certificate;
# * --omit-location leaves the place out and says so; a serial number is
#   never in a certificate;
# * a certificate issued before more items were ingested still verifies,
#   and with a later checkpoint and a consistency proof; a witness's
#   cosignature is required with --witness, and found on the later
#   checkpoint;
# * the HTML page is self-contained (no URL, pictures as data: URIs, no
#   script) with nine frames for the video and one for the photo; rendered
#   in headless Chromium and printed to PDF, it is A4 and its text shows
#   the hashes, the facts and the custody timeline (skipped without
#   chromium and pdftotext).
# Tampering that needs a re-signed statement (a dropped registration,
# a swapped proof, a record of another item...) is tested against keys
# known to the test in check-cert.sh.
set -eu
. "$(dirname "$0")/lib.sh"

command -v ffmpeg >/dev/null || skip_all "ffmpeg not installed (scripts/setup.sh installs it)"
command -v exiftool >/dev/null || skip_all "exiftool not installed"
VERIFY=$(dirname "$EVAULT")/evault-verify
[ -x "$VERIFY" ] || fail "no evault-verify beside $EVAULT"

S=$T/src
mkdir -p "$S"
ffmpeg -loglevel error -f lavfi -i testsrc=size=640x360:rate=25 -f lavfi \
	-i sine=frequency=440:sample_rate=48000 -t 12 -c:v libx264 -preset ultrafast \
	-c:a aac -metadata creation_time=2011-06-04T16:02:11Z \
	-metadata location=+30.0444+031.2357/ "$S/clip.mp4"
ffmpeg -loglevel error -f lavfi -i testsrc=size=320x240:rate=1 -frames:v 1 \
	"$S/photo.jpg"
exiftool -q -overwrite_original -Make=EvidenceCam -Model="EC-1" \
	-SerialNumber=SN-4711-SECRET -DateTimeOriginal="2011:06:04 18:02:05" \
	-GPSLatitude=30.0444 -GPSLatitudeRef=N -GPSLongitude=31.2357 \
	-GPSLongitudeRef=E "$S/photo.jpg"
printf 'not media at all\n' >"$S/notes.txt"

new_vault
run ev ingest "$S/clip.mp4" "$S/photo.jpg" "$S/notes.txt"
expect_rc 0 "ingest failed"
CLIP=$(sha "$S/clip.mp4")
PHOTO=$(sha "$S/photo.jpg")
NOTES=$(sha "$S/notes.txt")
LOGKEY=$(ev checkpoint --vkey)

# bob, a second custodian, takes the clip over
BOBKEY=$T/bob.key
"$EVAULT" key new bob -o "$BOBKEY" --kdf interactive >"$T/bob.vkey" 2>/dev/null
run ev custodian add bob "$(cat "$T/bob.vkey")"
expect_rc 0 "custodian add bob"
run ev note "$CLIP" "filmed from the roof, west side"
run ev transfer "$CLIP" --to bob
expect_rc 0 "transfer"
run ev --key "$BOBKEY" accept "$CLIP"
expect_rc 0 "bob accepts"

# --- issuing --------------------------------------------------------------------
size_before=$(ev log --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
run ev certify "$CLIP" -o "$T/clip.cert" --html "$T/clip.html" --json
expect_rc 0 "certify failed"
[ "$(stat -c %a "$T/clip.cert")" = 600 ] || fail "certificate not mode 0600"
cert_sha=$(sha256sum "$T/clip.cert" | cut -c1-64)
python3 - "$OUT" "$cert_sha" "$size_before" <<'EOF' || fail "certify --json is not what was issued"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["sha256"] == sys.argv[2], j
assert j["tree"] == int(sys.argv[3]), j
assert j["pictures"] == 9, j
EOF
run ev log --json
python3 - "$OUT" "$CLIP" "$cert_sha" <<'EOF' || fail "no certify record naming the certificate's SHA-256"
import json, sys
recs = json.load(open(sys.argv[1]))
last = json.loads(recs[-1]["record"].split("\n")[0])
assert last["kind"] == "certify" and last["item"] == sys.argv[2], last
assert last["certificate"] == sys.argv[3] and last["actor"] == "tester", last
EOF
pass "certify: certificate 0600, certify record with its SHA-256 and tree size"

grep -q "^record 0 " "$T/clip.cert" || fail "record 0 (init) not in the certificate"
n=$(grep -c "^record " "$T/clip.cert")
# init, ingest, custodian-add bob, note, transfer, accept
[ "$n" = 6 ] || fail "expected 6 records in the clip's certificate, found $n"
grep -q "^fact capture_time 2011-06-04T16:02:11" "$T/clip.cert" || fail "no capture time"
grep -q "^fact location 30.04" "$T/clip.cert" || fail "no location"
grep -q "^stream 0 video h264" "$T/clip.cert" || fail "no stream line"
pass "certificate: init, the item's records, bob's registration; facts and streams"

run ev certify "$CLIP" -o "$T/clip.cert"
expect_rc 2 "certify over an existing file"
expect_err "already exists"
size_now=$(ev log --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$size_now" = $((size_before + 1)) ] || fail "a refused certify wrote a record"
run env XDG_CONFIG_HOME="$T/nokeys" "$EVAULT" --vault "$V" --passphrase-file "$PF" \
	certify "$CLIP" -o "$T/nokey.cert"
[ "$RC" != 0 ] || fail "certify without a custodian key succeeded"
[ ! -e "$T/nokey.cert" ] || fail "certify without a key wrote a certificate"
pass "certify refuses an existing output and a missing key, recording nothing"

# --- checking: both verifiers --------------------------------------------------
# both EXPECTED_RC PHRASE ARGS...: evault check-cert and evault-verify agree
both() {
	local want=$1 phrase=$2
	shift 2
	run "$EVAULT" check-cert "$@"
	expect_rc "$want" "check-cert $* exited $RC, not $want"
	[ -z "$phrase" ] || expect_any "$phrase"
	run "$VERIFY" "$@"
	expect_rc "$want" "evault-verify $* exited $RC, not $want"
	[ -z "$phrase" ] || expect_any "$phrase"
}
both 0 VALID "$T/clip.cert" "$S/clip.mp4" --key "$LOGKEY"
both 0 VALID "$T/clip.cert" --key "$LOGKEY"
both 0 "" "$T/clip.cert" "$S/clip.mp4"
expect_any "taken from the certificate"
pass "valid with the vault's key and the file; without --key a note says the key is the certificate's own"

both 1 INVALID "$T/clip.cert" "$S/photo.jpg" --key "$LOGKEY"
expect_any "SHA-256"
OTHER=$T/other
new_vault "$OTHER"
OTHERKEY=$("$EVAULT" --vault "$OTHER" --passphrase-file "$PF" checkpoint --vkey)
both 1 INVALID "$T/clip.cert" "$S/clip.mp4" --key "$OTHERKEY"
pass "another file, another vault's key: invalid, with the reason"

sed 's/^fact width 640$/fact width 1920/' "$T/clip.cert" >"$T/t1.cert"
cmp -s "$T/clip.cert" "$T/t1.cert" && fail "the width line was not found to change"
both 1 "statement" "$T/t1.cert" "$S/clip.mp4" --key "$LOGKEY"
grep -v "^record 4 " "$T/clip.cert" >"$T/t2.cert"
both 1 "statement" "$T/t2.cert" "$S/clip.mp4" --key "$LOGKEY"
run ev certify "$PHOTO" -o "$T/photo.cert"
expect_rc 0 "certify the photo"
# record 1 of the clip's certificate replaced by the photo's ingest line
photo_rec=$(grep "^record 2 " "$T/photo.cert")
awk -v r="$photo_rec" '/^record 1 /{print r; next} {print}' "$T/clip.cert" >"$T/t3.cert"
both 1 INVALID "$T/t3.cert" "$S/clip.mp4" --key "$LOGKEY"
printf 'hello\n' >"$T/garbage.cert"
both 2 "" "$T/garbage.cert"
head -c 700 "$T/clip.cert" >"$T/cut.cert"
run "$EVAULT" check-cert "$T/cut.cert"
[ "$RC" != 0 ] || fail "a truncated certificate passed"
pass "a changed line, a dropped or swapped record: invalid; not a certificate: exit 2"

# --- what a certificate may say ----------------------------------------------------
grep -q "^fact location" "$T/photo.cert" || fail "the photo's certificate has no location"
grep -q "SN-4711" "$T/photo.cert" && fail "a serial number is in a certificate"
run ev certify "$PHOTO" -o "$T/photo-noloc.cert" --omit-location
expect_rc 0 "certify --omit-location"
grep -q "^fact location\|^fact gps_time" "$T/photo-noloc.cert" &&
	fail "--omit-location kept the location"
grep -qx "omitted location" "$T/photo-noloc.cert" || fail "no 'omitted location' line"
both 0 VALID "$T/photo-noloc.cert" "$S/photo.jpg" --key "$LOGKEY"
run ev log --json
python3 - "$OUT" <<'EOF' || fail "the certify record does not say the location was omitted"
import json, sys
last = json.loads(json.load(open(sys.argv[1]))[-1]["record"].split("\n")[0])
assert last["kind"] == "certify" and last["omitted"] == ["location"], last
EOF
pass "--omit-location leaves the place out and says so (and the record too); no serial numbers"

run ev certify "$NOTES" -o "$T/notes.cert" --html "$T/notes.html"
expect_rc 0 "certify a non-media item"
grep -q "No picture could be made" "$T/notes.html" || fail "the page does not say why there is no picture"
both 0 VALID "$T/notes.cert" "$S/notes.txt" --key "$LOGKEY"
pass "a non-media item: certificate valid, the page says there is no picture"

run ev certify "$NOTES" -o "$T/same" --html "$T/same"
expect_rc 2 "-o and --html naming the same file"
[ ! -e "$T/same" ] || fail "a refused certify wrote a file"
# A statement beyond the 1 MiB a note in the log may have: 12 notes of
# 100,000 characters about the text item (1.6 MB of records in base64).
long=$(head -c 100000 /dev/zero | tr '\0' 'n')
for i in $(seq 1 12); do
	run ev note "$NOTES" "$long"
	expect_rc 0 "a long note"
done
run ev certify "$NOTES" -o "$T/big.cert"
expect_rc 0 "certify an item with 1.2 MB of notes"
[ "$(stat -c %s "$T/big.cert")" -gt 1600000 ] || fail "the big certificate is not that big"
both 0 VALID "$T/big.cert" "$S/notes.txt" --key "$LOGKEY"
pass "the same file for -o and --html refused; a 1.6 MB certificate issued and valid"

# --- later: the log grows, witnesses cosign ------------------------------------------
tree_old=$(awk '$1 == "tree" { print $2 }' "$T/clip.cert")
for i in 1 2 3; do printf 'later %s\n' "$i" >"$S/later-$i.txt"; done
run ev ingest "$S"/later-*.txt
expect_rc 0 "ingest later files"
both 0 VALID "$T/clip.cert" "$S/clip.mp4" --key "$LOGKEY"
ev checkpoint >"$T/later.cp"
tree_new=$(sed -n 2p "$T/later.cp")
ev consistency "$tree_old" "$tree_new" >"$T/later.proof"
both 0 VALID "$T/clip.cert" --key "$LOGKEY" --checkpoint "$T/later.cp" \
	--consistency "$T/later.proof"
expect_any "consistency"
ev consistency $((tree_old - 1)) "$tree_new" >"$T/wrong.proof"
both 1 INVALID "$T/clip.cert" --key "$LOGKEY" --checkpoint "$T/later.cp" \
	--consistency "$T/wrong.proof"
pass "an old certificate still verifies, and is proven consistent with a later checkpoint"

WKEY=$T/witness.key
"$EVAULT" key new witness.example --witness -o "$WKEY" --kdf interactive \
	>"$T/witness.vkey" 2>/dev/null
WVK=$(cat "$T/witness.vkey")
"$EVAULT" witness cosign --key "$WKEY" --state "$T/wstate" --log-key "$LOGKEY" \
	"$T/later.cp" >"$T/cosig" 2>/dev/null || fail "witness cosign"
run ev checkpoint add-cosignature "$T/cosig" --witness "$WVK"
expect_rc 0 "add-cosignature"
both 1 INVALID "$T/clip.cert" --key "$LOGKEY" --witness "$WVK"
ev checkpoint >"$T/later.cp"
both 0 VALID "$T/clip.cert" --key "$LOGKEY" --witness "$WVK" \
	--checkpoint "$T/later.cp" --consistency "$T/later.proof"
run ev certify "$CLIP" -o "$T/clip-witnessed.cert"
expect_rc 0 "certify after the cosignature"
both 0 VALID "$T/clip-witnessed.cert" "$S/clip.mp4" --key "$LOGKEY" --witness "$WVK"
pass "witness required: missing on the old checkpoint, found on the later one and in a new certificate"

# --- the HTML page ---------------------------------------------------------------------
H=$T/clip.html
grep -qi "https\?://" "$H" && fail "the page names a URL"
grep -qi "<script\|<link\|@import\|url(" "$H" && fail "the page loads or runs something"
imgs=$(grep -o '<img [^>]*src="data:image/jpeg;base64,' "$H" | wc -l)
[ "$imgs" = 9 ] || fail "expected 9 frames on the video's page, found $imgs"
grep -q "$cert_sha" "$H" || fail "the page does not name the certificate's SHA-256"
run ev certify "$PHOTO" -o "$T/photo2.cert" --html "$T/photo.html"
imgs=$(grep -o '<img [^>]*src="data:image/jpeg;base64,' "$T/photo.html" | wc -l)
[ "$imgs" = 1 ] || fail "expected 1 picture on the photo's page, found $imgs"
pass "HTML: self-contained, 9 frames for the video, 1 picture for the photo"

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ] || ! command -v pdftotext >/dev/null; then
	skip_check "headless Chromium rendering (chromium or pdftotext not installed)"
	exit 0
fi
# Chromium wants a writable home and no sandbox as root in a container.
mkdir -p "$T/chrome-home"
HOME=$T/chrome-home timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
	--disable-dev-shm-usage \
	--no-pdf-header-footer --print-to-pdf="$T/clip.pdf" "file://$H" \
	>"$T/chrome.log" 2>&1 || { cat "$T/chrome.log" >&2; fail "chromium could not render the page"; }
pdfinfo "$T/clip.pdf" | grep -q "(A4)" || fail "the printed page is not A4"
pdftotext -layout "$T/clip.pdf" "$T/clip.txt"
tr -d ' \n' <"$T/clip.txt" >"$T/clip.flat"
for want in "Verification certificate" "This page is not the proof" \
	"Custody" "filmed from the roof" "custody accepted" "capture time" \
	"30.0444" "h264"; do
	grep -q "$want" "$T/clip.txt" || fail "the rendered page lacks '$want'"
done
# hashes may be broken across lines: compare without spaces and newlines
grep -q "$CLIP" "$T/clip.flat" || fail "the rendered page lacks the item's SHA-256"
grep -q "$cert_sha" "$T/clip.flat" || fail "the rendered page lacks the certificate's SHA-256"
grep -q "bob" "$T/clip.txt" || fail "the rendered timeline lacks bob"
pass "rendered in headless Chromium: A4, hashes, facts and custody timeline in the printed text"
