#!/bin/bash
# tamper.sh: the tamper campaign.  A vault holding photos and videos (the
# corpus's, or generated ones without it), two passphrase slots and a log
# of some hundreds of records (ingests, notes, a transfer, a custodian)
# is damaged by one flipped bit at a time, in one random file of the vault
# directory: objects, log/records, log/leaves, log/state, log/checkpoints/*,
# keys/slot-*, VAULT, pub/log.vkey (the category first, then the file, then
# the bit, all at random).  Each mutation is made on a working copy, then
# `evault verify --no-record` runs, then the bit is flipped back and the
# file must be byte-identical to the pristine copy again (the whole tree is
# compared every 100 mutations and at the end).
#
# Every mutation must be detected and named:
#   objects/XX/NAME   exit 1; a line names the item's id and the file
#   log/records       exit 1; "record N", N the record holding the bit
#   log/leaves        exit 1; "leaf N" (or "record N"), N = offset / 32
#   log/state         exit 1; "log/state"
#   log/checkpoints/N exit 1; "log/checkpoints/N"
#   pub/log.vkey      exit 1; "pub/log.vkey"
#   keys/slot-X       exit 1 naming "keys/slot-X" when another slot opens
#                     the vault; when the bit breaks the very slot the
#                     passphrase opens, the vault cannot be unlocked with
#                     it (exit 2), and verify with the other passphrase
#                     must then exit 1 naming the slot
#   VAULT             exit 1 or 2 (a vault that cannot be opened), with a
#                     message naming "VAULT" (or its "format")
# A crash (exit >= 128 or a sanitizer report) or a hang (120 s) fails.
# Random mutations: EVAULT_TAMPER_MUTATIONS (quick 100, full 1000); then
# sweeps of the small plaintext files (below).  Notes in the log:
# EVAULT_TAMPER_NOTES (quick 30, full 300).  Prints "tamper campaign: N
# mutations, N detected and named, 0 missed"; exits 1 if any mutation was
# missed, not named, or crashed evault.
set -eu
. "$(dirname "$0")/common.sh"

MUTATIONS=${EVAULT_TAMPER_MUTATIONS:-$(by_scale 100 1000)}
NOTES=${EVAULT_TAMPER_NOTES:-$(by_scale 30 300)}

P=$T/pristine
S=$T/src
mkdir -p "$S/photos" "$S/videos"
if [ -d "${EVAULT_CORPUS:-/nonexistent}/photos" ] &&
	[ -d "$EVAULT_CORPUS/videos" ]; then
	media="the corpus's photos and videos"
	SRC_PHOTOS=$EVAULT_CORPUS/photos
	SRC_VIDEOS=$EVAULT_CORPUS/videos
else
	media="generated photos and videos (no corpus)"
	k=1
	while [ "$k" -le 12 ]; do
		{ printf '\377\330\377\341'; head -c $((20000 + k * 7919)) /dev/urandom; } \
			>"$S/photos/photo-$k.jpg"
		k=$((k + 1))
	done
	for k in 1 2 3; do
		{ printf '\0\0\0\030ftypmp42'; head -c $((300000 * k)) /dev/urandom; } \
			>"$S/videos/video-$k.mp4"
	done
	SRC_PHOTOS=$S/photos
	SRC_VIDEOS=$S/videos
fi

# --- The pristine vault -------------------------------------------------------------
V=$P
new_vault
run ev ingest --case tamper --source campaign "$SRC_PHOTOS" "$SRC_VIDEOS"
expect_rc 0 "cannot ingest $media"
nitems=$(count_items)
PF2=$T/pf2
printf 'the second passphrase\n' >"$PF2"
ls "$P/keys" >"$T/slots-before"
run ev passphrase add --kdf interactive --new-passphrase-file "$PF2"
expect_rc 0 "cannot add a second passphrase"
slot1=keys/$(cat "$T/slots-before")
slot2=keys/$(ls "$P/keys" | grep -vxF -f "$T/slots-before")
mkdir -p "$T/rconfig"
XDG_CONFIG_HOME=$T/rconfig "$EVAULT" key new receiver --kdf interactive \
	>"$T/receiver.vkey" 2>/dev/null || fail "cannot make the receiver's key"
run ev custodian add receiver "$(cat "$T/receiver.vkey")"
expect_rc 0 "cannot add a custodian"
first=$(ids | head -n 1)
run ev transfer "$first" --to receiver
expect_rc 0 "cannot transfer"
run ev --key "$T/rconfig/evault/keys/receiver.key" accept "$first"
expect_rc 0 "cannot accept"
i=1
for id in $(ids); do
	[ "$i" -le "$NOTES" ] || break
	run ev note "$id" "note $i of the tamper campaign about this item"
	expect_rc 0 "note $i failed"
	i=$((i + 1))
done
while [ "$i" -le "$NOTES" ]; do
	run ev note "$first" "note $i of the tamper campaign"
	expect_rc 0 "note $i failed"
	i=$((i + 1))
done
run ev verify --no-record
expect_rc 0 "the pristine vault does not verify"
nrecords=$(ev log | wc -l)
ncp=$(ls "$P/log/checkpoints" | wc -l)
pass "pristine vault: $nitems items ($media), $nrecords log records, $ncp checkpoints, 2 passphrase slots; verifies"

# Which object holds which item: verify names each missing object's item.
cp -a "$P" "$T/scratch"
find "$T/scratch/objects" -type f -delete
run evq "$T/scratch" "$PF" verify --no-record
expect_rc 1 "verify of a vault without objects did not exit 1"
declare -A item_of
while read -r kind id rest; do
	[ "$kind" = missing ] || continue
	f=$(printf '%s\n' "$rest" | grep -o 'objects/[0-9a-f]\{2\}/[0-9a-f]\{64\}' | head -n 1)
	[ -n "$f" ] && [ -f "$P/$f" ] || fail "verify does not name the object of $id"
	item_of[$f]=$id
done <"$OUT"
rm -rf "$T/scratch"
# Each item is its bytes' object and its metadata document's.
nobjects=$(find "$P/objects" -type f | wc -l)
[ "${#item_of[@]}" -eq "$nobjects" ] ||
	fail "verify named the item of ${#item_of[@]} objects, not of all $nobjects"

# Where each record starts in log/records: u32 length | nonce[24] | ct.
perl -e '
	open(my $h, "<:raw", $ARGV[0]) or die;
	my $off = 0;
	while (read($h, my $len, 4) == 4) {
		print "$off\n";
		$off += 4 + 24 + unpack("V", $len);
		seek($h, $off, 0);
	}' "$P/log/records" >"$T/record-offsets"
[ "$(wc -l <"$T/record-offsets")" -eq "$nrecords" ] ||
	fail "log/records holds $(wc -l <"$T/record-offsets") entries, the log $nrecords"

# Files of each category, relative to the vault.
(cd "$P" && find objects -type f | sort) >"$T/cat-objects"
(cd "$P" && find log/checkpoints -type f | sort) >"$T/cat-checkpoints"
(cd "$P" && find keys -type f | sort) >"$T/cat-slots"
echo log/records >"$T/cat-records"
echo log/leaves >"$T/cat-leaves"
echo log/state >"$T/cat-state"
echo VAULT >"$T/cat-vault"
echo pub/log.vkey >"$T/cat-vkey"
# Weights: objects hold most bytes, records and checkpoints many entries.
categories=(objects objects objects objects records records leaves state
	checkpoints checkpoints slots slots vault vkey)

W=$T/work
cp -a "$P" "$W"

# --- Mutations ---------------------------------------------------------------------
declare -A tried named
missed=0 unnamed=0 crashes=0 total=0 ok=0
problem() {
	echo "FAIL - mutation $total: bit $bit (byte $((bit / 8)), bit $((bit % 8))) of $file: $*" >&2
	echo "  verify exit $RC; output:" >&2
	cat "$OUT" "$ERR" | grep -v '^unreferenced' | head -n 8 | sed 's/^/    | /' >&2
}

# record_at OFFSET: index of the record holding that byte of log/records.
record_at() {
	awk -v o="$1" '$1 <= o { n = NR - 1 } END { print n }' "$T/record-offsets"
}

# verify_as PASSFILE: verify the working copy; RC, $OUT, $ERR.
verify_as() {
	run timeout 120 "$EVAULT" --vault "$W" --passphrase-file "$1" verify --no-record
}

named_in_output() {
	cat "$OUT" "$ERR" | grep -qE -- "$1"
}

# mutate CATEGORY FILE BIT: flip the bit in the working copy, verify,
# judge, flip it back and check the file is as it was.
mutate() {
	local cat=$1 n want verdict=missed
	file=$2 bit=$3
	local byte=$((bit / 8))
	total=$((total + 1))
	tried[$cat]=$((${tried[$cat]:-0} + 1))
	flip_bit "$W/$file" "$bit"
	verify_as "$PF"
	if [ "$RC" -eq 124 ]; then
		verdict=crash
		problem "verify hung (killed after 120 s)"
	elif crashed "$RC" "$ERR"; then
		verdict=crash
		problem "evault crashed"
	elif [ "$RC" -eq 0 ]; then
		problem "NOT DETECTED: verify exits 0"
	else
		verdict=unnamed
		case $cat in
		objects)
			want="${item_of[$file]}.*$file|$file.*${item_of[$file]}"
			[ "$RC" -eq 1 ] && grep -qE -- "$want" "$OUT" && verdict=named
			;;
		records)
			n=$(record_at "$byte")
			[ "$RC" -eq 1 ] && named_in_output "log/records: record $n " && verdict=named
			;;
		leaves)
			n=$((byte / 32))
			[ "$RC" -eq 1 ] && named_in_output "leaf $n |record $n " && verdict=named
			;;
		state | checkpoints | vkey)
			[ "$RC" -eq 1 ] && named_in_output "$file([^0-9]|\$)" && verdict=named
			;;
		slots)
			if [ "$RC" -eq 1 ]; then
				named_in_output "$file" && verdict=named
			elif [ "$RC" -eq 2 ] && [ "$file" = "$slot1" ]; then
				# The slot this passphrase opens: the other one must
				# open the vault and name the damaged slot.
				verify_as "$PF2"
				if crashed "$RC" "$ERR"; then
					verdict=crash
					problem "evault crashed (second passphrase)"
				elif [ "$RC" -eq 1 ] && named_in_output "$file"; then
					verdict=named
				fi
			fi
			;;
		vault)
			named_in_output "VAULT|has format" && verdict=named
			;;
		esac
		[ "$verdict" != unnamed ] ||
			problem "detected (exit $RC) but not named as expected"
	fi
	case $verdict in
	named) ok=$((ok + 1)) named[$cat]=$((${named[$cat]:-0} + 1)) ;;
	unnamed) unnamed=$((unnamed + 1)) ;;
	missed) missed=$((missed + 1)) ;;
	crash) crashes=$((crashes + 1)) ;;
	esac
	flip_bit "$W/$file" "$bit"
	cmp -s "$P/$file" "$W/$file" ||
		fail "$file differs from the pristine copy after flipping bit $bit back"
	if [ $((total % 100)) -eq 0 ] && ! diff -r "$P" "$W" >"$T/drift" 2>&1; then
		fail "after $total mutations the working copy differs from the pristine vault: $(head -n 3 "$T/drift")"
	fi
	return 0
}

# Random mutations: a category, a file of it, a bit of it.
while [ "$total" -lt "$MUTATIONS" ]; do
	cat=${categories[$(rand ${#categories[@]})]}
	nfiles=$(wc -l <"$T/cat-$cat")
	f=$(sed -n "$(($(rand "$nfiles") + 1))p" "$T/cat-$cat")
	mutate "$cat" "$f" "$(rand $(($(filesize "$P/$f") * 8)))"
done
random_total=$total

# Sweeps of the small plaintext files, where a lenient parser could let a
# bit through unseen: every bit of their last byte and the low bit of every
# other line end and space of VAULT, log/state, pub/log.vkey and the latest
# checkpoint; full: every bit of VAULT, log/state and pub/log.vkey.
latest=log/checkpoints/$(ls "$P/log/checkpoints" | sort -n | tail -n 1)
for pair in vault:VAULT state:log/state vkey:pub/log.vkey checkpoints:$latest; do
	cat=${pair%%:*} f=${pair#*:}
	size=$(filesize "$P/$f")
	if [ "$SCALE" = full ] && [ "$cat" != checkpoints ]; then
		b=0
		while [ "$b" -lt $((size * 8)) ]; do
			mutate "$cat" "$f" "$b"
			b=$((b + 1))
		done
	else
		for b in 0 1 2 3 4 5 6 7; do
			mutate "$cat" "$f" $(((size - 1) * 8 + b))
		done
		for off in $(perl -ne 'BEGIN { $o = 0 } for (split //) { print "$o\n" if /[\n ]/; $o++ }' "$P/$f"); do
			[ "$off" -lt $((size - 1)) ] && mutate "$cat" "$f" $((off * 8))
		done
	fi
done
swept=$((total - random_total))
diff -r "$P" "$W" >"$T/drift" 2>&1 ||
	fail "at the end the working copy differs from the pristine vault: $(head -n 3 "$T/drift")"

by_cat=
for c in objects records leaves state checkpoints slots vault vkey; do
	by_cat="$by_cat $c ${named[$c]:-0}/${tried[$c]:-0},"
done
pass "by file (named/tried):${by_cat%,}"
pass "the working copy is byte-identical to the pristine vault after every mutation"
echo "tamper campaign: $total mutations ($random_total random, $swept swept), $ok detected and named, $missed missed ($unnamed detected but not named, $crashes crashes)"
[ "$missed" -eq 0 ] && [ "$unnamed" -eq 0 ] && [ "$crashes" -eq 0 ] ||
	fail "$missed mutations missed, $unnamed not named, $crashes crashes (see FAIL lines above)"
