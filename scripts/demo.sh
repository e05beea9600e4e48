#!/bin/sh
# demo.sh: evault's main job, start to finish, on sample media it makes
# itself.  Builds evault (build-demo/), makes photos and videos with ffmpeg
# and exiftool (build-demo/media/), creates a fresh vault in ./demo-vault
# and then: ingest with provenance, ingest a duplicate, list, show, verify,
# extract with a SHA-256 round-trip check, look for plaintext at rest, and
# tamper with a copy of the vault to show verify catching it.
#
# The passphrase is a demo one, passed through EVAULT_PASSPHRASE (evault
# removes it from its environment at start); a real vault is made with
# `evault init` at a terminal, where the passphrase is asked for twice.
set -eu

cd "$(dirname "$0")/.."
root=$(pwd)

step() {
	echo
	echo "==> $*"
}

# Show a command (quoted as a shell would need it), then run it.
show() {
	line=\$
	for a in "$@"; do
		case $a in
		*[!A-Za-z0-9_./:=@%+-]*) line="$line '$a'" ;;
		*) line="$line $a" ;;
		esac
	done
	echo "$line"
	"$@"
}

die() {
	echo "demo: FAILED: $*" >&2
	exit 1
}

step "Build evault (meson + ninja, in build-demo/)"
if [ ! -f build-demo/build.ninja ]; then
	meson setup build-demo -Dtests=false >/dev/null
fi
ninja -C build-demo >/dev/null
build-demo/evault --version

step "Make sample media with ffmpeg and exiftool (build-demo/media/)"
media=build-demo/media
rm -rf "$media"
scripts/make-demo-media.sh "$media" >/dev/null
(cd "$media" && find . -type f | sort | xargs ls -l)

# The commands below use these two variables; nothing else is needed.
export EVAULT_DIR="$root/demo-vault"
export EVAULT_PASSPHRASE="demo passphrase: never use one like it"
evault() {
	"$root/build-demo/evault" "$@"
}

step "Create a vault in ./demo-vault (EVAULT_DIR), Argon2id 'interactive' cost"
rm -rf demo-vault
show evault init --kdf interactive

step "Ingest the folder, recursively, with its provenance"
show evault ingest "$media" --case "demo-case-2011" \
	--source "USB stick from source A" --note "sample media made by demo.sh"

step "Ingest a copy of one photo again: the same bytes are held once"
cp "$media/photos/still-2.jpg" build-demo/copy-of-still-2.jpg
show evault ingest build-demo/copy-of-still-2.jpg --source "forwarded by e-mail"

step "List what the vault holds (decrypted on the fly)"
show evault ls

# Ids are SHA-256 hex; any unique prefix of 8+ digits names an item.
first=$(evault ls | awk 'NR == 2 { print $1 }')
video=$(evault ls | awk '$NF == "clip-640x360.mp4" { print $1 }')
[ -n "$first" ] && [ -n "$video" ] || die "ls did not list the demo media"

step "Show the first item"
show evault show "$first"

step "Show the photo received twice"
show evault show "$(evault ls | awk '$NF == "still-2.jpg" { print $1 }')"

step "Verify: decrypt and hash every object, check the log and key slots"
show evault verify

step "Extract the video and check the round trip with sha256sum"
rm -f build-demo/roundtrip.mp4
show evault extract "$video" -o build-demo/roundtrip.mp4
show sha256sum "$media/videos/clip-640x360.mp4" build-demo/roundtrip.mp4
orig=$(sha256sum <"$media/videos/clip-640x360.mp4" | cut -d' ' -f1)
copy=$(sha256sum <build-demo/roundtrip.mp4 | cut -d' ' -f1)
id=$(evault show "$video" | awk '$1 == "sha256" { print $2 }')
[ "$orig" = "$copy" ] || die "the extracted copy differs from the original"
[ "$orig" = "$id" ] || die "the item id is not the SHA-256 of the original"
echo "round trip ok: original, extracted copy and item id are all $orig"

step "At rest: what is in ./demo-vault, and no plaintext in it"
(cd demo-vault && find . -type f | sort)
echo "searching demo-vault for the case name, a file name, the video's"
echo "SHA-256 and the photo's camera make (EXIF)..."
if grep -r -a -l -F -e "demo-case-2011" -e "clip-640x360" -e "$id" \
	-e "DemoPhone" demo-vault; then
	die "plaintext found in the vault directory"
fi
echo "none found: names, provenance, hashes and media are all encrypted"

step "Tamper with a COPY of the vault: flip one byte of the largest object"
rm -rf build-demo/tampered-vault
cp -a demo-vault build-demo/tampered-vault
obj=$(cd build-demo/tampered-vault && ls -S objects/*/* | head -n 1)
f=build-demo/tampered-vault/$obj
byte=$(od -An -tu1 -j 1000 -N 1 "$f" | tr -d ' ')
# shellcheck disable=SC2059 # the format is the octal escape being built
printf "$(printf '\\%03o' $((byte ^ 1)))" |
	dd of="$f" bs=1 seek=1000 conv=notrunc status=none
echo "flipped the lowest bit of byte 1000 of $obj"
set +e
show evault --vault build-demo/tampered-vault verify
rc=$?
set -e
[ "$rc" -eq 1 ] || die "verify of the tampered copy exited $rc, not 1"
echo "verify exit status $rc: the damage is found and the item named"

echo
echo "demo: done.  The vault is in ./demo-vault; try for example:"
echo "  EVAULT_DIR=\$PWD/demo-vault build-demo/evault ls"
echo "(it will ask for the passphrase: $EVAULT_PASSPHRASE)"
