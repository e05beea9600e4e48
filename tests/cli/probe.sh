#!/bin/bash
# probe.sh: the sandboxed metadata probe, from the outside.
#
# * Facts: photos and a video made here (ffmpeg, exiftool) with a known
#   device, time and place come back in `show --json` facts, and a place
#   that XMP gives differently is flagged as an inconsistency.
# * Whatever the probe does wrong costs only the metadata: fake probes
#   that crash, hang, break the protocol or describe other bytes; each
#   file is ingested, the reason recorded with it, the vault verifies.
# * The probe holds no secret: while it serves an ingest its environment
#   is empty, its memory holds neither passphrase, it has no open file
#   but its socket, and the kernel says it runs under seccomp with
#   no_new_privs.  A probe killed in the middle leaves a vault that
#   verifies with every file held.
# * The stored metadata document is checked by verify: a flipped byte in
#   it is named as damage of its item.
# * Thumbnails (for the certificate's page): a video's frames at evenly
#   spaced times and a photo turned upright, JPEGs made in the sandbox; a
#   broken or foreign file gets fewer or none and a reason.
set -eu
. "$(dirname "$0")/lib.sh"

PROBE=$(dirname "$EVAULT")/evault-probe
[ -x "$PROBE" ] || fail "no evault-probe beside $EVAULT"
command -v ffmpeg >/dev/null || skip_all "ffmpeg not installed (scripts/setup.sh installs it)"
command -v exiftool >/dev/null || skip_all "exiftool not installed"
command -v python3 >/dev/null || skip_all "python3 not installed"

new_vault
S=$T/src
mkdir -p "$S"

# --- fixtures ---------------------------------------------------------------
ffmpeg -loglevel error -f lavfi -i testsrc=size=320x240:rate=1 -frames:v 1 \
	"$S/photo.jpg"
exiftool -q -overwrite_original -Make=EvidenceCam -Model="EC-1 Mark II" \
	-SerialNumber=SN-4711 -DateTimeOriginal="2024:03:09 14:22:05" \
	-OffsetTimeOriginal=+02:00 -GPSLatitude=48.858222 -GPSLatitudeRef=N \
	-GPSLongitude=2.2945 -GPSLongitudeRef=E -GPSAltitude=35 -GPSAltitudeRef=0 \
	-Orientation#=6 "$S/photo.jpg"
cp "$S/photo.jpg" "$S/moved.jpg"
# The same photo claiming, in XMP, to be from elsewhere (Marseille).
exiftool -q -overwrite_original -XMP-exif:GPSLatitude=43.2965 \
	-XMP-exif:GPSLatitudeRef=N -XMP-exif:GPSLongitude=5.3698 \
	-XMP-exif:GPSLongitudeRef=E "$S/moved.jpg"
ffmpeg -loglevel error -f lavfi -i testsrc=size=640x360:rate=25 -f lavfi \
	-i sine=frequency=440:sample_rate=48000 -t 2 -c:v libx264 -preset ultrafast \
	-c:a aac -metadata creation_time=2024-03-09T12:22:05Z \
	-metadata location=+48.8582+002.2945/ "$S/clip.mp4" 2>/dev/null ||
	ffmpeg -loglevel error -f lavfi -i testsrc=size=640x360:rate=25 -f lavfi \
		-i sine=frequency=440:sample_rate=48000 -t 2 -c:v mpeg4 -c:a aac \
		-metadata creation_time=2024-03-09T12:22:05Z "$S/clip.mp4"
head -c 5000 /dev/urandom >"$S/noise.bin"

# fact ID EXPR: a value from `show --json` (python expression over d).
fact() {
	ev show --json "$1" | python3 -c "import json,sys; d=json.load(sys.stdin); print($2)"
}

# --- facts ------------------------------------------------------------------
run ev ingest "$S/photo.jpg" "$S/moved.jpg" "$S/clip.mp4" "$S/noise.bin"
expect_rc 0
photo=$(sha "$S/photo.jpg") moved=$(sha "$S/moved.jpg") clip=$(sha "$S/clip.mp4")
noise=$(sha "$S/noise.bin")

[ "$(fact "$photo" "d['facts']['make']")" = EvidenceCam ] || fail "photo: make not EvidenceCam"
[ "$(fact "$photo" "d['facts']['model']")" = "EC-1 Mark II" ] || fail "photo: model"
[ "$(fact "$photo" "d['facts']['serial']")" = SN-4711 ] || fail "photo: serial"
[ "$(fact "$photo" "d['facts']['capture_time']")" = 2024-03-09T14:22:05+02:00 ] ||
	fail "photo: capture_time with its offset"
[ "$(fact "$photo" "'%.6f %.6f %.1f' % (d['facts']['location']['lat'], d['facts']['location']['lon'], d['facts']['location']['alt'])")" = "48.858222 2.294500 35.0" ] ||
	fail "photo: GPS location"
[ "$(fact "$photo" "d['facts']['orientation']")" = 6 ] || fail "photo: orientation"
[ "$(fact "$photo" "(d['facts']['width'], d['facts']['height'])")" = "(320, 240)" ] ||
	fail "photo: dimensions"
[ "$(fact "$photo" "len(d['facts']['inconsistencies'])")" = 0 ] ||
	fail "photo: inconsistencies where there are none"
pass "photo: make, model, serial, time with offset, GPS place, orientation, size"

[ "$(fact "$moved" "[i['fact'] for i in d['facts']['inconsistencies']]")" = "['location']" ] ||
	fail "a photo whose XMP place is 660 km from its EXIF place is not flagged"
run ev show "$moved"
expect_out "DISAGREE       location:" "show does not flag the disagreeing place"
pass "EXIF GPS against XMP 660 km away: flagged as an inconsistency"

[ "$(fact "$clip" "d['facts']['container']")" = "mov,mp4,m4a,3gp,3g2,mj2" ] ||
	fail "clip: container"
[ "$(fact "$clip" "abs(d['facts']['duration'] - 2.0) < 0.1")" = True ] || fail "clip: duration"
[ "$(fact "$clip" "len(d['facts']['streams'])")" = 2 ] || fail "clip: two streams"
[ "$(fact "$clip" "d['facts']['capture_time'][:19]")" = 2024-03-09T12:22:05 ] ||
	fail "clip: creation time"
pass "video: container, duration, streams, creation time"

[ "$(fact "$noise" "d['type']")" = "$(fact "$noise" "d['metadata_document']['type']")" ] ||
	fail "noise: type differs between item and document"
[ "$(fact "$noise" "d['probe_error']")" = None ] || fail "random bytes reported as a probe error"
pass "random bytes: held as opaque, not as broken media"

run ev show "$photo"
expect_out "captured       2024-03-09T14:22:05+02:00" "show: facts not first"
expect_out "IFD GPS" "show: no GPS IFD"
expect_out "Make" "show: no Make tag"
pass "show prints the facts, then the tags by IFD"

run "$EVAULT" probe --json "$S/photo.jpg" "$S/clip.mp4"
expect_rc 0
[ "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d[0]["facts"]["make"], d[1]["facts"]["container"], d[0]["path"] == sys.argv[2])' "$OUT" "$S/photo.jpg")" = "EvidenceCam mov,mp4,m4a,3gp,3g2,mj2 True" ] ||
	fail "evault probe --json: wrong facts or path"
run "$EVAULT" probe "$S/photo.jpg"
expect_rc 0
expect_out "make           EvidenceCam  (exif)" "evault probe: no make line"
pass "evault probe reads files without a vault (text and --json)"

# --- fake probes --------------------------------------------------------------
# fake NAME BODY: a probe program that misbehaves.
fake() {
	printf '#!/bin/sh\n%s\n' "$2" >"$T/$1"
	chmod +x "$T/$1"
}
fake crash 'kill -SEGV $$'
fake hang 'exec sleep 60'
fake garbage 'printf "HELLO, EVAULT!"; sleep 5'
fake liar "exec python3 -c 'import sys,struct,json; sys.stdin.buffer.read(8); d=json.dumps({\"v\":1,\"sha256\":\"00\"*32,\"size\":1}).encode(); sys.stdout.buffer.write(b\"EVPR\"+struct.pack(\"<II\",len(d),0)+d); sys.stdout.flush(); sys.stdin.buffer.read()'"
n=0
for f in crash hang garbage liar; do
	n=$((n + 1))
	head -c $((1000 + n)) /dev/urandom >"$S/fake-$f.bin"
	case $f in
	crash) want="probe killed by signal 11" ;;
	hang) want="probe timed out after 1 s" ;;
	garbage) want="the probe broke its protocol" ;;
	liar) want="the probe read other bytes than were stored" ;;
	esac
	run env EVAULT_PROBE="$T/$f" "$EVAULT" --vault "$V" --passphrase-file "$PF" \
		ingest --probe-timeout 1 "$S/fake-$f.bin"
	expect_rc 0 "ingest with a $f probe failed"
	expect_out "probe: $want" "ingest with a $f probe does not say '$want'"
	id=$(sha "$S/fake-$f.bin")
	got=$(fact "$id" "d['probe_error']")
	case $got in
	"$want"*) ;;
	*) fail "the $f probe's failure is not recorded with the item (got '$got')" ;;
	esac
	[ "$(fact "$id" "d['metadata_document']")" = None ] ||
		fail "a $f probe's answer was stored"
done
run ev verify
expect_rc 0
pass "crashing, hanging, garbling and lying probes: files held, reasons recorded, vault verifies"

# --- the probe holds no secret ------------------------------------------------
if [ "$(id -u)" = 0 ]; then
	mkdir -p "$S/many"
	for i in $(seq 1 400); do cp "$S/photo.jpg" "$S/many/p$i.jpg"; printf '%d' "$i" >>"$S/many/p$i.jpg"; done
	secret_pass=$(cat "$PF")
	"$EVAULT" --vault "$V" --passphrase-file "$PF" ingest --quiet "$S/many" \
		>"$T/many.out" 2>&1 &
	ing=$!
	pid=
	for _ in $(seq 1 200); do
		pid=$(pgrep -P "$ing" -x evault-probe || true)
		[ -n "$pid" ] && break
		sleep 0.05
	done
	[ -n "$pid" ] || fail "no evault-probe process appeared under the ingest"
	sleep 0.2
	kill -0 "$pid" 2>/dev/null || fail "the probe ended before it could be examined"
	python3 - "$pid" "$secret_pass" "$EVAULT_KEY_PASSPHRASE" >"$T/spy.out" <<-'EOF' || { cat "$T/spy.out"; fail "the probe's state is not what it should be"; }
	import os, re, sys
	pid, secrets = sys.argv[1], [s.encode() for s in sys.argv[2:]]
	env = open(f"/proc/{pid}/environ", "rb").read()
	assert env == b"", f"environment not empty: {env[:80]!r}"
	status = open(f"/proc/{pid}/status").read()
	assert re.search(r"^Seccomp:\s+2$", status, re.M), "not under a seccomp filter"
	assert re.search(r"^NoNewPrivs:\s+1$", status, re.M), "no_new_privs not set"
	fds = sorted(int(f) for f in os.listdir(f"/proc/{pid}/fd"))
	assert fds[:3] == [0, 1, 2] and len(fds) <= 4, f"open files: {fds}"
	# Every readable mapping, in 16 MiB pieces overlapping by the longest
	# secret; mappings of terabytes (AddressSanitizer's shadow, reserved
	# and never touched) are skipped.
	scanned, step, over = 0, 16 << 20, max(len(s) for s in secrets)
	with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
	    for line in maps:
	        addr, perms = line.split()[:2]
	        lo, hi = (int(x, 16) for x in addr.split("-"))
	        if "r" not in perms or hi - lo > (64 << 30):
	            continue
	        for at in range(lo, hi, step):
	            try:
	                mem.seek(at)
	                chunk = mem.read(min(step + over, hi - at))
	            except (OSError, ValueError, OverflowError):
	                continue
	            scanned += min(step, len(chunk))
	            for s in secrets:
	                assert s not in chunk, f"a passphrase is in the probe's memory ({line.strip()})"
	print(f"scanned {scanned} bytes of the probe's memory")
	EOF
	wait "$ing" || { cat "$T/many.out"; fail "ingest of 400 photos failed"; }
	pass "the probe: empty environment, seccomp, no_new_privs, fds 0-2 only, no passphrase in $(sed 's/scanned //; s/ bytes.*//' "$T/spy.out") bytes of memory"
else
	skip_check "reading the probe's memory needs root"
fi

# --- a probe killed mid-way -----------------------------------------------------
mkdir -p "$S/kill"
for i in $(seq 1 300); do cp "$S/photo.jpg" "$S/kill/k$i.jpg"; printf 'k%d' "$i" >>"$S/kill/k$i.jpg"; done
cat >"$T/doomed" <<EOF
#!/bin/sh
( sleep 0.4; kill -9 \$\$ ) &
exec "$PROBE"
EOF
chmod +x "$T/doomed"
before=$(count_items)
run env EVAULT_PROBE="$T/doomed" "$EVAULT" --vault "$V" --passphrase-file "$PF" \
	ingest "$S/kill"
expect_rc 0
[ "$(count_items)" -eq $((before + 300)) ] || fail "files were lost when the probe was killed"
killed=$(grep -c "probe killed by signal 9" "$OUT" || true)
run ev verify
expect_rc 0
pass "probe killed mid-batch: 300 files held ($killed with the kill recorded), vault verifies"

# --- the stored document is verified -------------------------------------------
W=$T/w
new_vault "$W"
head -c 300000 /dev/urandom >"$S/big.bin"
evq "$W" "$PF" ingest --no-probe "$S/big.bin" >/dev/null
find "$W/objects" -type f | sort >"$T/objs.before"
evq "$W" "$PF" ingest "$S/photo.jpg" >/dev/null
find "$W/objects" -type f | sort >"$T/objs.after"
new=$(comm -13 "$T/objs.before" "$T/objs.after")
[ "$(echo "$new" | wc -l)" -eq 2 ] || fail "a probed ingest should add 2 objects: $new"
doc=$(for f in $new; do echo "$(filesize "$f") $f"; done | sort -n | head -n 1 | cut -d' ' -f2)
img=$(for f in $new; do echo "$(filesize "$f") $f"; done | sort -n | tail -n 1 | cut -d' ' -f2)
# The larger of the two is the photo (about 10 kB); the document holds its
# EXIF in base64 and JSON and is larger still: tell them by content size.
[ "$(filesize "$doc")" -ne "$(filesize "$img")" ] || fail "cannot tell the document from the photo"
for f in "$doc" "$img"; do
	cp "$f" "$T/keep"
	flip_byte "$f" 100
	run evq "$W" "$PF" verify --no-record
	expect_rc 1 "a flipped byte in $(basename "$f") was not detected"
	expect_out "$photo" "the damage was not named by its item"
	cp "$T/keep" "$f"
done
run evq "$W" "$PF" verify --no-record
expect_rc 0
pass "a flipped byte in the photo or in its metadata document: detected and named by item"

# --- thumbnails -------------------------------------------------------------------
# For the certificate's page the probe decodes pictures in its sandbox: a
# video's frames at evenly spaced times, a photo turned upright, each a
# JPEG no wider than asked.  A broken or foreign file gets fewer or none
# and a reason, never a crashed probe; an answer that is not JPEG is
# refused.
command -v ffprobe >/dev/null || fail "ffprobe missing (it comes with ffmpeg)"
ffmpeg -loglevel error -f lavfi -i testsrc=size=640x360:rate=25 -t 10 -c:v libx264 \
	-preset ultrafast -pix_fmt yuv420p "$S/ten.mp4" 2>/dev/null ||
	ffmpeg -loglevel error -f lavfi -i testsrc=size=640x360:rate=25 -t 10 -c:v mpeg4 \
		"$S/ten.mp4"
TD=$T/thumbs
run "$EVAULT" probe --thumbnails 6 --thumb-width 320 --thumb-dir "$TD" "$S/ten.mp4" \
	"$S/photo.jpg"
expect_rc 0 "thumbnails of a good video and photo: exit status $RC: $(cat "$ERR")"
[ "$(ls "$TD" | grep -c '^ten\.mp4-[1-6]\.jpg$')" -eq 6 ] ||
	fail "not 6 thumbnails of the video: $(ls "$TD" | tr '\n' ' ')"
for i in 1 2 3 4 5 6; do
	f=$TD/ten.mp4-$i.jpg
	[ "$(ffprobe -v error -select_streams v -show_entries stream=codec_name,width,height \
		-of csv=p=0 "$f")" = "mjpeg,320,180" ] || fail "$f is not a 320x180 JPEG"
	[ "$(stat -c %a "$f")" = 600 ] || fail "$f is not mode 0600"
	expect_out "$f  320x180  at " "thumbnail $i not listed with its size and time"
done
[ "$(for i in 1 2 3 4 5 6; do sha "$TD/ten.mp4-$i.jpg"; done | sort -u | wc -l)" -eq 6 ] ||
	fail "frames at different times of a moving picture are the same JPEG"
# photo.jpg is 320x240 with EXIF orientation 6 (turn 90 degrees clockwise):
# shown 240x320, and not enlarged to the width asked.
[ "$(ffprobe -v error -show_entries stream=width,height -of csv=p=0 "$TD/photo.jpg-1.jpg")" = "240,320" ] ||
	fail "the photo's thumbnail is not 240x320 (turned upright, not enlarged)"
[ ! -e "$TD/photo.jpg-2.jpg" ] || fail "more than one thumbnail of a photo"
expect_out "$TD/photo.jpg-1.jpg  240x320" "the photo's thumbnail is not listed"
pass "thumbnails: 6 distinct 320x180 JPEGs of a 10 s video, a photo turned upright"

run "$EVAULT" probe --thumbnails 6 --thumb-width 160 --thumb-dir "$TD/j" --json "$S/ten.mp4"
expect_rc 0
python3 - "$OUT" <<'PYEOF' || fail "thumbnail times or sizes in --json are wrong"
import json, sys
d = json.load(open(sys.argv[1]))
t = d[0]["thumbnails"]
assert d[0]["error"] is None and len(t) == 6, d
for i, x in enumerate(t):
    # (i + 0.5) * 10 s / 6, to the next frame (25 fps)
    assert 0 <= x["time"] - (i + 0.5) * 10 / 6 <= 0.041, (i, x)
    assert (x["width"], x["height"]) == (160, 90), x
PYEOF
pass "thumbnails at (i + 0.5) * duration / count, with their times and sizes in --json"

# A video cut short: its header is at the end (gone), or at the start
# (frames missing after the middle).
size=$(filesize "$S/ten.mp4")
head -c $((size / 2)) "$S/ten.mp4" >"$S/cut.mp4"
ffmpeg -loglevel error -i "$S/ten.mp4" -c copy -movflags +faststart "$S/fast.mp4"
head -c $(($(filesize "$S/fast.mp4") / 2)) "$S/fast.mp4" >"$S/fastcut.mp4"
printf 'not a picture at all\n' >"$S/text.txt"
for f in cut.mp4 fastcut.mp4 noise.bin text.txt; do
	run "$EVAULT" probe --thumbnails 6 --thumb-dir "$TD/bad" "$S/$f"
	expect_rc 1 "thumbnails of $f: exit status $RC, not 1"
	expect_err "thumbnails of '$S/$f': " "no reason given for $f"
	if grep -qE "probe killed|sandbox|timed out|broke its protocol" "$ERR"; then
		fail "the probe failed on $f: $(cat "$ERR")"
	fi
	cp "$ERR" "$T/thumbs-$f.err"
done
n=$(ls "$TD/bad" | grep -c '^fastcut\.mp4-' || true)
[ "$n" -ge 1 ] && [ "$n" -lt 6 ] || fail "half a video gave $n thumbnails"
grep -q "fastcut.mp4': libavformat: the video stops at" "$T/thumbs-fastcut.mp4.err" ||
	fail "half a video: its end not reported: $(cat "$T/thumbs-fastcut.mp4.err")"
[ -z "$(ls "$TD/bad" | grep -v '^fastcut\.mp4-' || true)" ] ||
	fail "thumbnails of files that have no picture: $(ls "$TD/bad" | tr '\n' ' ')"
pass "a truncated video, random bytes, text: fewer or no thumbnails, a reason, exit 1, no probe failure"

if [ -f "${EVAULT_CORPUS:-}/photos/IMG_5195.HEIC" ]; then
	run "$EVAULT" probe --thumbnails 6 --thumb-dir "$TD/heic" "$EVAULT_CORPUS/photos/IMG_5195.HEIC"
	expect_rc 0 "an iPhone HEIC: exit status $RC: $(cat "$ERR")"
	[ "$(ffprobe -v error -show_entries stream=codec_name,width -of csv=p=0 \
		"$TD/heic/IMG_5195.HEIC-1.jpg")" = "mjpeg,320" ] || fail "no 320-wide JPEG of a HEIC"
	pass "a HEIC photo (grid of HEVC tiles) decoded in the sandbox"
else
	skip_check "HEIC thumbnails need the shared corpus"
fi

O=$TD/opts
for args in "--thumbnails 0 --thumb-dir $O" "--thumbnails 65 --thumb-dir $O" \
	"--thumbnails 6 --thumb-width 15 --thumb-dir $O" \
	"--thumbnails 6 --thumb-width 1025 --thumb-dir $O" "--thumbnails 6" \
	"--thumb-dir $O" "--thumbnails 1 --raw --thumb-dir $O"; do
	# shellcheck disable=SC2086
	run "$EVAULT" probe $args "$S/ten.mp4"
	expect_rc 2 "evault probe $args: exit status $RC, not 2"
done
[ ! -e "$TD/opts" ] || fail "thumbnails written despite bad options"
pass "thumbnail counts and widths out of range, a missing --thumb-dir: refused"

# A probe whose "thumbnail" is not a JPEG (a GIF): refused whole, nothing
# written, the probe replaced.
fake notjpeg "exec python3 -c 'import sys,struct,json,base64; sys.stdin.buffer.read(12); d=json.dumps({\"v\":1,\"thumbnails\":[{\"width\":320,\"height\":180,\"jpeg\":base64.b64encode(b\"GIF89a\"+bytes(64)).decode()}],\"errors\":[]}).encode(); sys.stdout.buffer.write(b\"EVPR\"+struct.pack(\"<II\",len(d),0)+d); sys.stdout.flush(); sys.stdin.buffer.read()'"
run env EVAULT_PROBE="$T/notjpeg" "$EVAULT" probe --thumbnails 1 --thumb-dir "$TD/fake" "$S/photo.jpg"
expect_rc 1 "a probe answering a GIF: exit status $RC, not 1"
expect_err "the probe broke its protocol (bad thumbnail answer)" "a GIF taken as a thumbnail"
[ -z "$(ls "$TD/fake" 2>/dev/null)" ] || fail "a probe's non-JPEG answer was written"
pass "a probe answering something other than a JPEG: refused, nothing written"

# A real thumbnail (320x180) passed off as another size, or with its frame
# marked progressive (SOF2), or with bytes after its end: the parent walks
# the JPEG's structure and refuses each, so no such picture reaches a
# reader's browser through a certificate's page.
real=$(ls "$TD"/ten.mp4-1.jpg)
cat >"$T/jpegfake.py" <<'PY'
import base64, json, struct, sys
data, width, mode = open(sys.argv[1], "rb").read(), int(sys.argv[2]), sys.argv[3]
if mode == "progressive":
    data = data.replace(b"\xff\xc0", b"\xff\xc2", 1)
elif mode == "trailer":
    data = data + b"\xff\xd9"
sys.stdin.buffer.read(12)
d = json.dumps({"v": 1, "thumbnails": [{"width": width, "height": 180,
    "jpeg": base64.b64encode(data).decode()}], "errors": []}).encode()
sys.stdout.buffer.write(b"EVPR" + struct.pack("<II", len(d), 0) + d)
sys.stdout.flush()
sys.stdin.buffer.read()
PY
for how in "300 plain" "320 progressive" "320 trailer" "320 plain"; do
	set -- $how
	fake "jpeg-$2-$1" "exec python3 '$T/jpegfake.py' '$real' $1 $2"
	rm -rf "$TD/fake2"
	run env EVAULT_PROBE="$T/jpeg-$2-$1" "$EVAULT" probe --thumbnails 1 \
		--thumb-dir "$TD/fake2" "$S/photo.jpg"
	if [ "$how" = "320 plain" ]; then
		expect_rc 0 "the real thumbnail handed back as it is: exit $RC"
		cmp -s "$real" "$TD/fake2/photo.jpg-1.jpg" || fail "the real thumbnail was not kept"
	else
		expect_rc 1 "a thumbnail $how: exit status $RC, not 1"
		expect_err "bad thumbnail answer" "a thumbnail $how"
	fi
done
pass "thumbnails: a JPEG of another size than claimed, progressive, or with bytes after its end: refused"
