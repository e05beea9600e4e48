#!/bin/sh
# cli-seeds.sh: seeds for evault's fuzz targets made with the evault
# binary itself, as a custodian, a second custodian and a witness use it:
# real signed records, checkpoints (cosigned), verifier keys, key files,
# consistency proofs and a passphrase slot.  Run by `scripts/fuzz.sh
# --make-seeds`, which first writes each target's own seeds (those that
# depend on the targets' fixed keys).
#
# usage: fuzz/cli-seeds.sh WORKDIR [TARGET...]   (WORKDIR: scratch and the
# meson build of evault; writes into fuzz/seeds/<target>/)
set -eu

cd "$(dirname "$0")/.."
SRC=$(pwd)
WORK=$1
shift
want=" $* "
seeds=$SRC/fuzz/seeds

# evault, built without tests, in the work directory
if [ ! -f "$WORK/meson/build.ninja" ]; then
	meson setup "$WORK/meson" -Dtests=false >"$WORK/meson-setup.log" 2>&1 ||
		{ echo "cli-seeds.sh: meson setup failed (see $WORK/meson-setup.log)" >&2; exit 1; }
fi
# (ingest runs the metadata probe, found beside evault)
ninja -C "$WORK/meson" evault evault-probe >"$WORK/meson-build.log" 2>&1 ||
	{ echo "cli-seeds.sh: cannot build evault (see $WORK/meson-build.log)" >&2; exit 1; }
EV=$WORK/meson/evault

T=$WORK/cli-seeds
rm -rf "$T"
mkdir -p "$T/src" "$T/config"
V=$T/vault
export XDG_CONFIG_HOME="$T/config"
export EVAULT_PASSPHRASE='seed vault passphrase'
export EVAULT_KEY_PASSPHRASE='seed key passphrase'
unset EVAULT_DIR EVAULT_KEY 2>/dev/null || true

ev() {
	"$EV" --vault "$V" --quiet "$@"
}

# seed TARGET NAME < bytes
seed() {
	case $want in *" $1 "*) ;; *) cat >/dev/null; return 0 ;; esac
	mkdir -p "$seeds/$1"
	cat >"$seeds/$1/$2"
}

echo "cli-seeds.sh: a vault with two custodians, a transfer and a witness"
"$EV" key new alice --kdf interactive -o "$T/alice.key" >"$T/alice.vkey"
"$EV" key new bob --kdf interactive -o "$T/bob.key" >"$T/bob.vkey"
"$EV" key new witness.example/w1 --witness --kdf interactive \
	-o "$T/w1.key" >"$T/w1.vkey"
ev --key "$T/alice.key" init --kdf interactive >/dev/null
printf 'statement of the witness, page 1\n' >"$T/src/statement.txt"
printf '\211PNG\r\n\032\n0000IHDR' >"$T/src/photo.png"
(cd "$T" && ev --key "$T/alice.key" ingest --case "case 7" \
	--source "phone of A." --note "handed over on 3 May" src >/dev/null)
ID=$(ev --key "$T/alice.key" ls --json |
	python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
ev --key "$T/alice.key" note "$ID" "seen by two investigators" >/dev/null
ev --key "$T/alice.key" custodian add bob "$(cat "$T/bob.vkey")" >/dev/null
ev --key "$T/alice.key" checkpoint >"$T/cp-old"
OLD=$(sed -n 2p "$T/cp-old")
ev --key "$T/alice.key" checkpoint --vkey >"$T/log.vkey"
"$EV" --quiet witness cosign --key "$T/w1.key" --state "$T/wstate" \
	--log-key "$(cat "$T/log.vkey")" "$T/cp-old" >"$T/cosig-old"
ev --key "$T/alice.key" transfer "$ID" --to bob >/dev/null
ev --key "$T/bob.key" accept "$ID" >/dev/null
ev --key "$T/alice.key" checkpoint >"$T/cp-new"
NEW=$(sed -n 2p "$T/cp-new")
ev --key "$T/alice.key" consistency "$OLD" "$NEW" >"$T/proof"
"$EV" --quiet witness cosign --key "$T/w1.key" --state "$T/wstate" \
	--log-key "$(cat "$T/log.vkey")" "$T/cp-new" "$T/proof" >"$T/cosig-new"
ev --key "$T/alice.key" checkpoint add-cosignature "$T/cosig-new" \
	--witness "$(cat "$T/w1.vkey")" >/dev/null
ev --key "$T/alice.key" checkpoint >"$T/cp-cosigned"
ev --key "$T/alice.key" log --json >"$T/log.json"

# note: records, the cosigned checkpoint, a cosignature to attach
python3 - "$T/log.json" "$T/records" <<'EOF'
import json, os, sys
recs = [r["record"] for r in json.load(open(sys.argv[1]))]
os.makedirs(sys.argv[2], exist_ok=True)
for i, r in enumerate(recs):
    open(os.path.join(sys.argv[2], "%02d" % i), "w").write(r)
open(os.path.join(sys.argv[2], "all"), "w").write("\0".join(recs))
# the catalog target's leaf of record i is the leaf hash of body line i
import hashlib
lines = []
for r in recs:
    body = json.loads(r[:r.index("\n\n")])
    if "transfer_leaf" in body:
        t = lines[body["transfer"]].encode()
        body["transfer_leaf"] = hashlib.sha256(b"\0" + t).hexdigest()
    lines.append(json.dumps(body, separators=(",", ":")))
open(os.path.join(sys.argv[2], "bodies"), "w").write("\n".join(lines) + "\n")
EOF
for f in "$T/records"/[0-9]*; do
	seed note "cli-record-$(basename "$f")" <"$f"
done
seed note cli-checkpoint-cosigned <"$T/cp-cosigned"
{ cat "$T/cp-new"; printf '\0'; cat "$T/cosig-new"; } | seed note cli-add-cosignature
# checkpoint: the texts
sed '/^$/q' "$T/cp-cosigned" | sed '$d' | seed checkpoint cli-checkpoint
sed '/^$/q' "$T/cp-old" | sed '$d' | seed checkpoint cli-checkpoint-old
# vkey: custodians', the witness's and the log's keys
tr -d '\n' <"$T/alice.vkey" | seed vkey cli-alice
tr -d '\n' <"$T/w1.vkey" | seed vkey cli-witness
tr -d '\n' <"$T/log.vkey" | seed vkey cli-log
# identity: key files as `evault key new` writes them (interactive costs:
# the target reads their verifier key only)
seed identity cli-alice.key <"$T/alice.key"
seed identity cli-witness.key <"$T/w1.key"
# proof: the consistency proof between the two checkpoints
{ echo "$OLD $NEW"; cat "$T/proof"; } | seed proof cli-consistency
# witness: the log's real checkpoints (signed by another log key than the
# target's, so refused early), with the proof and the witness state
{ cat "$T/cp-new"; printf '\0'; cat "$T/proof"; printf '\0'; cat "$T/wstate"/[0-9a-f]*; } |
	seed witness cli-foreign-checkpoint
# record and catalog: the whole log
seed record cli-log <"$T/records/all"
seed catalog cli-bodies <"$T/records/bodies"
# keyslot: a slot as `evault init` writes it
seed keyslot cli-slot <"$(ls "$V"/keys/slot-* | head -n 1)"
# probedoc: the probe's own documents for a few files of the shared media
# corpus (when it is present), without their raw bytes ("data" members)
case $want in
*" probedoc "*)
	CORPUS=${EVAULT_CORPUS:-$SRC/../shared/corpus}
	if [ -d "$CORPUS" ]; then
		for f in photos/Canon_40D.jpg videos/sample.mp4 \
			photos/IMG_5195.HEIC audio/bear-id3.mp3; do
			[ -f "$CORPUS/$f" ] || continue
			"$WORK/meson/evault-probe" --file "$CORPUS/$f" | python3 -c '
import json, sys
def strip(j):
    if isinstance(j, dict):
        j.pop("data", None)
        for v in j.values():
            strip(v)
    elif isinstance(j, list):
        for v in j:
            strip(v)
doc = json.load(sys.stdin)
strip(doc)
sys.stdout.write(json.dumps(doc, separators=(",", ":"), ensure_ascii=False))
' | seed probedoc "probe-$(basename "$f")"
		done
	else
		echo "cli-seeds.sh: no media corpus at $CORPUS: probedoc has no real documents"
	fi
	;;
esac
echo "cli-seeds.sh: done"
