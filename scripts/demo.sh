#!/bin/sh
# demo.sh: evault's main job, start to finish, on sample media it makes
# itself.  Builds evault (build-demo/), makes photos and videos with ffmpeg
# and exiftool (build-demo/media/), makes a custodian key for "alice" in a
# demo key folder (build-demo/config/), creates a fresh vault in
# ./demo-vault and then: ingest with provenance, ingest a duplicate, list,
# show, the signed custody log and its checkpoint, a note, a second
# custodian ("bob") who accepts the transfer of an item, verify, extract
# with a SHA-256 round-trip check, an inclusion proof checked by a few
# lines of Python, a witness that cosigns the checkpoint (and refuses a
# rollback), a verification certificate for the video (with its HTML page)
# checked offline by both verifiers, verify --public without the
# passphrase, a search for
# plaintext at rest, a flipped byte in a copy of the vault caught by
# verify, and an older copy of the vault caught by a checkpoint kept
# outside it.
#
# Passphrases are demo ones: the vault's through EVAULT_PASSPHRASE and
# alice's key's through EVAULT_KEY_PASSPHRASE (evault removes both from
# its environment at start); bob's and the witness's from files given
# with --key-passphrase-file.  Real ones are typed at a terminal, where a
# new one is asked for twice.
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

# The same, with standard output going to a file (shown as "> FILE").
show_to() {
	out=$1
	shift
	line=\$
	for a in "$@"; do
		case $a in
		*[!A-Za-z0-9_./:=@%+-]*) line="$line '$a'" ;;
		*) line="$line $a" ;;
		esac
	done
	echo "$line > $out"
	"$@" >"$out"
}

die() {
	echo "demo: FAILED: $*" >&2
	exit 1
}

# Flip the lowest bit of byte $2 of file $1.
flip_byte() {
	b=$(od -An -tu1 -j "$2" -N 1 "$1" | tr -d ' ')
	[ -n "$b" ] || die "$1 has no byte $2"
	# shellcheck disable=SC2059 # the format is the octal escape being built
	printf "$(printf '\\%03o' $((b ^ 1)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
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

# The commands below use these variables; nothing else is needed.  Keys
# live in a demo key folder, never in the vault: XDG_CONFIG_HOME points
# evault at build-demo/config/evault/keys/, where alice's key will be the
# only one (so evault acts with it without being told).
unset EVAULT_KEY EVAULT_NEW_PASSPHRASE
export EVAULT_DIR="$root/demo-vault"
export EVAULT_PASSPHRASE="demo passphrase: never use one like it"
export XDG_CONFIG_HOME="$root/build-demo/config"
export EVAULT_KEY_PASSPHRASE="alice's demo key passphrase"
evault() {
	"$root/build-demo/evault" "$@"
}
rm -rf build-demo/config build-demo/bob build-demo/witness \
	build-demo/kept build-demo/old-vault build-demo/tampered-vault
mkdir -p build-demo/bob build-demo/witness build-demo/kept

step "Make alice's custodian key: Ed25519, sealed by its own passphrase"
show evault key new alice --kdf interactive
keyfile=build-demo/config/evault/keys/alice.key
[ -f "$keyfile" ] || die "the key is not in the key folder"
echo "the key file ($keyfile, mode $(stat -c %a "$keyfile")):"
sed 's/^/    /' "$keyfile"
echo "everything but the 'secret' line is public; 'secret' is sealed"
echo "(XChaCha20-Poly1305 under an Argon2id key of the passphrase)"
show evault key show

step "Create a vault in ./demo-vault (EVAULT_DIR), Argon2id 'interactive' cost"
rm -rf demo-vault
show evault init --kdf interactive

step "Ingest the folder, recursively, with its provenance (signed by alice)"
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
if [ -z "$first" ] || [ -z "$video" ]; then
	die "ls did not list the demo media"
fi

step "Show a photo: what it says about itself (EXIF, GPS), read at ingest by the sandboxed probe"
show evault show "$(evault ls | awk '$NF == "still-1.jpg" { print $1 }')"

step "Show a video, and a photo whose XMP date disagrees with its EXIF date"
show evault show "$video"
show evault show "$(evault ls | awk '$NF == "still-3.jpg" { print $1 }')"

step "Show the photo received twice"
show evault show "$(evault ls | awk '$NF == "still-2.jpg" { print $1 }')"

step "The custody log: every action a record signed by the custodian who took it"
show evault log

step "The log's latest checkpoint: size and Merkle root, signed by the vault's log key"
show evault checkpoint
show evault checkpoint --vkey

# An untouched copy of the vault as it is now, to play the "older copy"
# someone could put back in place of the vault at the end.
cp -a demo-vault build-demo/old-vault

step "Alice records a note about the video"
show evault note "$video" "5 s clip; the tone starts at 0:00"

step "A second custodian: bob makes his own key (outside alice's key folder)"
printf '%s\n' "bob's demo key passphrase" >build-demo/bob/passphrase
show evault key new bob --kdf interactive -o build-demo/bob/bob.key \
	--key-passphrase-file build-demo/bob/passphrase
bob_vkey=$(evault key show build-demo/bob/bob.key)

step "Alice registers bob as a custodian of this vault (a signed record)"
show evault custodian add bob "$bob_vkey"
show evault custodian list

step "Alice offers custody of the video to bob: pending until bob accepts"
show evault transfer "$video" --to bob
show evault show "$video"
evault show "$video" | grep -q "^custodian alice, transfer pending to bob$" ||
	die "show does not report the pending transfer"

step "Bob accepts with his own key: his record countersigns the transfer"
show evault --key build-demo/bob/bob.key \
	--key-passphrase-file build-demo/bob/passphrase accept "$video"
evault show "$video" | grep -q "^custodian bob$" ||
	die "bob does not hold the video after accepting"
show evault log "$video"

step "Verify: decrypt and hash every object, check every signature and checkpoint"
show evault verify
echo "(the result is itself a signed 'verify' record in the log:)"
evault log | tail -n 1

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

step "Prove the video's ingest record is in the log (C2SP tlog-proof)"
show_to build-demo/kept/video.tlog-proof evault prove "$video"
cat build-demo/kept/video.tlog-proof
echo "the 'extra' line is the signed ingest record, in base64:"
sed -n 's/^extra //p' build-demo/kept/video.tlog-proof | base64 -d |
	sed 's/^/    /'
echo "checking the inclusion proof with nothing but Python's hashlib:"
python3 - build-demo/kept/video.tlog-proof <<'EOF'
import base64, hashlib, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
assert lines[0] == "c2sp.org/tlog-proof@v1"
record = base64.b64decode(lines[1].split(" ", 1)[1])
index = int(lines[2].split(" ", 1)[1])
blank = lines.index("", 3)
path = [base64.b64decode(h) for h in lines[3:blank]]
origin, size, root = lines[blank + 1], int(lines[blank + 2]), lines[blank + 3]
H = lambda b: hashlib.sha256(b).digest()
# RFC 9162 section 2.1.3.2: fold the path from the leaf up to the root
fn, sn, r = index, size - 1, H(b"\x00" + record)
for p in path:
    if sn == 0:
        sys.exit("proof too long")
    if fn % 2 == 1 or fn == sn:
        r = H(b"\x01" + p + r)
        while fn % 2 == 0 and fn != 0:
            fn, sn = fn >> 1, sn >> 1
    else:
        r = H(b"\x01" + r + p)
    fn, sn = fn >> 1, sn >> 1
if sn != 0 or base64.b64encode(r).decode() != root:
    sys.exit("inclusion proof does NOT match the checkpoint")
print(f"    record {index} is in the tree of {size} records of {origin}:"
      f" root {root}")
EOF

step "A witness (a partner organisation) cosigns the checkpoint"
printf '%s\n' "the witness's demo key passphrase" >build-demo/witness/passphrase
show evault key new witness.example.org --witness --kdf interactive \
	-o build-demo/witness/witness.key \
	--key-passphrase-file build-demo/witness/passphrase
witness_vkey=$(evault key show build-demo/witness/witness.key)
log_vkey=$(evault checkpoint --vkey)
show_to build-demo/kept/checkpoint-1.txt evault checkpoint
size1=$(sed -n 2p build-demo/kept/checkpoint-1.txt)
echo "the witness is given the checkpoint of size $size1 and the log's key:"
show_to build-demo/witness/cosignature \
	evault witness cosign --key build-demo/witness/witness.key \
	--key-passphrase-file build-demo/witness/passphrase \
	--state build-demo/witness/state --log-key "$log_vkey" \
	build-demo/kept/checkpoint-1.txt
cat build-demo/witness/cosignature
echo "what the witness remembers of this log (build-demo/witness/state/):"
for f in build-demo/witness/state/*; do
	[ "$(basename "$f")" = lock ] && continue
	echo "  $(basename "$f"):"
	sed 's/^/    /' "$f"
done
show evault checkpoint add-cosignature build-demo/witness/cosignature \
	--witness "$witness_vkey"
show evault checkpoint

step "Later: alice adds a note; the witness cosigns the new checkpoint"
show evault note "$first" "checked against the source's own copy"
show_to build-demo/kept/checkpoint-2.txt evault checkpoint
echo "given only the new checkpoint, the witness refuses: it wants proof"
echo "that the new tree extends the one it cosigned (size $size1)"
set +e
show evault witness cosign --key build-demo/witness/witness.key \
	--key-passphrase-file build-demo/witness/passphrase \
	--state build-demo/witness/state --log-key "$log_vkey" \
	build-demo/kept/checkpoint-2.txt
rc=$?
set -e
[ "$rc" -eq 1 ] || die "the witness cosigned without a consistency proof ($rc)"
show_to build-demo/kept/consistency.txt evault consistency "$size1"
cat build-demo/kept/consistency.txt
show_to build-demo/witness/cosignature \
	evault witness cosign --key build-demo/witness/witness.key \
	--key-passphrase-file build-demo/witness/passphrase \
	--state build-demo/witness/state --log-key "$log_vkey" \
	build-demo/kept/checkpoint-2.txt build-demo/kept/consistency.txt
cat build-demo/witness/cosignature
show evault checkpoint add-cosignature build-demo/witness/cosignature \
	--witness "$witness_vkey"
echo "the witness now refuses the older checkpoint for ever (a rollback):"
set +e
show evault witness cosign --key build-demo/witness/witness.key \
	--key-passphrase-file build-demo/witness/passphrase \
	--state build-demo/witness/state --log-key "$log_vkey" \
	build-demo/kept/checkpoint-1.txt
rc=$?
set -e
[ "$rc" -eq 1 ] || die "the witness cosigned an older checkpoint ($rc)"
# The cosigned checkpoint, kept outside the vault (as the witness does).
evault checkpoint >build-demo/kept/checkpoint.txt

step "Certify the video for a newsroom: one file anyone can check offline"
show evault certify "$video" -o build-demo/kept/video.cert \
	--html build-demo/kept/video.html
echo "(build-demo/kept/video.html: the page for readers, with frames of the video)"
echo "The newsroom has the clip and the vault's log key, nothing else:"
show evault check-cert build-demo/kept/video.cert build-demo/roundtrip.mp4 \
	--key "$log_vkey" --witness "$witness_vkey"
echo "The stand-alone verifier (one C file, libsodium only) agrees:"
show_to build-demo/kept/video.verify build-demo/evault-verify --key "$log_vkey" \
	build-demo/kept/video.cert build-demo/roundtrip.mp4
tail -n 1 build-demo/kept/video.verify
echo "A copy with one byte added is refused, with the reasons:"
cp build-demo/roundtrip.mp4 build-demo/edited.mp4
printf 'x' >>build-demo/edited.mp4
set +e
show_to build-demo/kept/edited.check evault check-cert build-demo/kept/video.cert \
	build-demo/edited.mp4 --key "$log_vkey"
rc=$?
set -e
grep -E "^FAIL|^INVALID" build-demo/kept/edited.check
[ "$rc" -eq 1 ] || die "check-cert exited $rc on an edited copy, not 1"

step "Verify what is public, without the passphrase: leaves, checkpoints, one history"
(
	unset EVAULT_PASSPHRASE
	show evault verify --public --checkpoint build-demo/kept/checkpoint.txt
)

step "At rest: what is in ./demo-vault, and no plaintext in it"
(cd demo-vault && find . -type f | sort)
echo "searching demo-vault for the case name, a file name, the video's"
echo "SHA-256, a custodian's note and the photo's camera make (EXIF)..."
if grep -r -a -l -F -e "demo-case-2011" -e "clip-640x360" -e "$id" \
	-e "the tone starts" -e "DemoPhone" demo-vault; then
	die "plaintext found in the vault directory"
fi
echo "none found: names, provenance, notes, hashes and media are all encrypted"
echo "(pub/log.vkey, log/leaves and log/checkpoints/ are public on purpose)"

step "Tamper with a COPY of the vault: flip one byte of the largest object"
cp -a demo-vault build-demo/tampered-vault
# shellcheck disable=SC2012 # object names are 64 hex digits; -S sorts by size
obj=$(cd build-demo/tampered-vault && ls -S objects/*/* | head -n 1)
flip_byte "build-demo/tampered-vault/$obj" 1000
echo "flipped the lowest bit of byte 1000 of $obj"
set +e
show evault --vault build-demo/tampered-vault verify --no-record
rc=$?
set -e
[ "$rc" -eq 1 ] || die "verify of the tampered copy exited $rc, not 1"
echo "verify exit status $rc: the damage is found and the item named"

step "Put an OLDER copy of the vault in its place: the kept checkpoint catches it"
echo "build-demo/old-vault was copied before the note, the transfer and the"
echo "witness; on its own it is a consistent vault:"
show evault --vault build-demo/old-vault verify --no-record
set +e
show evault --vault build-demo/old-vault verify --no-record \
	--checkpoint build-demo/kept/checkpoint.txt
rc=$?
set -e
[ "$rc" -eq 1 ] || die "verify of the older copy exited $rc, not 1"
echo "verify exit status $rc: the rollback is found"

echo
echo "demo: done.  The vault is in ./demo-vault; try for example:"
echo "  export EVAULT_DIR=\$PWD/demo-vault XDG_CONFIG_HOME=\$PWD/build-demo/config"
echo "  build-demo/evault log"
echo "(it asks for the vault's passphrase: $EVAULT_PASSPHRASE;"
echo "commands that act, such as note, also for alice's key's: $EVAULT_KEY_PASSPHRASE)"
