#!/bin/bash
# hostile.sh: the hostile-media campaign.  Every file of the corpus's
# broken/ folder, and mutated copies of corpus files, go through
# `evault ingest`, `evault show` and `evault extract`, each under
# `timeout 30`.  Mutations, in turn: truncation at a random length (0
# included); 1 to 16 random bit flips; 1 to 4 random 4-byte runs set to
# 0xffffffff (a huge length wherever a length field sits); and a huge
# value at the start, where containers keep their first length (ISO BMFF
# box size at 0, RIFF size at 4, JPEG segment length at 4).  Without the
# corpus, seed files are generated (JPEG, MP4, RIFF and PNG headers on
# random bytes).
#
# Checked: evault never crashes (no death by a signal, no sanitizer
# report) and never hangs (timeout); every file is ingested (or found
# already held) under the SHA-256 of its bytes; `show` of each works and
# gives either its metadata document or the recorded reason there is none
# (the probe's failures: a parser's error, a crash of the sandboxed probe,
# a timeout, a forbidden system call, all counted apart); and `extract`
# gives back identical bytes.  A hang or crash in a batch
# ingest is pinned down file by file.
# EVAULT_HOSTILE_MUTATIONS: quick 100, full 2000; EVAULT_HOSTILE_SEED
# repeats a run's mutations.  Prints one line of figures; exits 1 on any
# failure.
set -eu
. "$(dirname "$0")/common.sh"

MUTATIONS=${EVAULT_HOSTILE_MUTATIONS:-$(by_scale 100 2000)}
SEED=${EVAULT_HOSTILE_SEED:-$((RANDOM << 15 | RANDOM))}
BATCH=100
S=$T/seeds
M=$T/mutated
mkdir -p "$S" "$M"

nbroken=0
if [ -d "${EVAULT_CORPUS:-/nonexistent}/photos" ]; then
	find "$EVAULT_CORPUS" -type f ! -name '*.md' ! -name '*.tsv' | sort >"$T/seed-list"
	if [ -d "$EVAULT_CORPUS/broken" ]; then
		find "$EVAULT_CORPUS/broken" -type f | sort >"$T/broken-list"
		nbroken=$(wc -l <"$T/broken-list")
	fi
	from="the corpus ($(wc -l <"$T/seed-list") files)"
else
	: >"$T/broken-list"
	printf '\377\330\377\340\000\020JFIF' >"$S/a.jpg"
	printf '\000\000\000\030ftypmp42\000\000\000\000mp42isom' >"$S/b.mp4"
	printf 'RIFF\044\000\000\000WAVEfmt ' >"$S/c.wav"
	printf '\211PNG\r\n\032\n\000\000\000\rIHDR' >"$S/d.png"
	for f in "$S"/*; do
		head -c 40000 /dev/urandom >>"$f"
	done
	find "$S" -type f | sort >"$T/seed-list"
	from="generated seed files (no corpus)"
fi
note "seeds: $from; $nbroken broken files; $MUTATIONS mutations, EVAULT_HOSTILE_SEED=$SEED"

# All mutated copies at once, in folders of $BATCH.
perl -e '
	use strict;
	my ($n, $seed, $out, $batch, $list) = @ARGV;
	open(my $l, "<", $list) or die "$list: $!\n";
	chomp(my @seeds = <$l>);
	close($l);
	srand($seed);
	my @kinds = ("truncated", "flipped", "huge", "huge-head");
	for my $i (1 .. $n) {
		my $src = $seeds[int(rand(@seeds))];
		open(my $in, "<:raw", $src) or die "$src: $!\n";
		my $d;
		{ local $/; $d = <$in> // ""; }
		close($in);
		my $len = length($d);
		my $kind = $kinds[($i - 1) % 4];
		if ($kind eq "truncated") {
			$d = substr($d, 0, int(rand($len + 1)));
		} elsif ($kind eq "flipped" && $len) {
			for (1 .. 1 + int(rand(16))) {
				my $b = int(rand($len * 8));
				vec($d, $b, 1) ^= 1;
			}
		} elsif ($kind eq "huge" && $len >= 4) {
			for (1 .. 1 + int(rand(4))) {
				substr($d, int(rand($len - 3)), 4) = "\xff\xff\xff\xff";
			}
		} elsif ($kind eq "huge-head" && $len >= 8) {
			my @at = (0, 4, 4);
			my $o = $at[int(rand(@at))];
			substr($d, $o, 4) = "\xff\xff\xff\xff";
		}
		my $dir = sprintf("%s/batch-%03d", $out, int(($i - 1) / $batch));
		mkdir($dir);
		(my $base = $src) =~ s{.*/}{};
		$base =~ s/[^A-Za-z0-9._-]/_/g;
		my $name = sprintf("%s/m%05d-%s-%s", $dir, $i, $kind, $base);
		open(my $o, ">:raw", $name) or die "$name: $!\n";
		print $o $d;
		close($o) or die;
	}
' "$MUTATIONS" "$SEED" "$M" "$BATCH" "$T/seed-list" ||
	fail "cannot make the mutated copies"
if [ "$nbroken" -gt 0 ]; then
	mkdir -p "$M/broken"
	while IFS= read -r f; do
		cp "$f" "$M/broken/"
	done <"$T/broken-list"
fi
nfiles=$(find "$M" -type f | wc -l)
pass "made $((nfiles - nbroken)) mutated copies; with the broken files, $nfiles files"

new_vault
crashes=0 hangs=0 notingested=0 badshow=0 badextract=0 ingested=0 shown=0 extracted=0
p_doc=0 p_err=0 p_crash=0 p_timeout=0 p_sandbox=0 p_none=0
declare -A types
problem() {
	echo "FAIL - $*" >&2
	cat "$OUT" "$ERR" 2>/dev/null | head -n 6 | sed 's/^/    | /' >&2
}

# judge_run WHAT: classify the last `run` (under timeout) as hang, crash
# or fine; returns 1 for a hang or crash.
judge_run() {
	if [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ]; then
		hangs=$((hangs + 1))
		problem "$1: hangs (timeout 30 s)"
		return 1
	fi
	if crashed "$RC" "$ERR"; then
		crashes=$((crashes + 1))
		problem "$1: evault crashed (exit $RC)"
		return 1
	fi
	return 0
}

for dir in "$M"/*/; do
	dir=${dir%/}
	# The probe's own limit is 10 s a file; evault's, for the batch, 300 s.
	run timeout 300 "$EVAULT" --vault "$V" --passphrase-file "$PF" --quiet ingest \
		--probe-timeout 10 --json "$dir"
	if [ "$RC" -eq 124 ] || crashed "$RC" "$ERR"; then
		# Pin it down: each file alone.
		for f in "$dir"/*; do
			run timeout 30 "$EVAULT" --vault "$V" --passphrase-file "$PF" --quiet ingest \
				--probe-timeout 10 --json "$f"
			judge_run "ingest of $f" || true
		done
		run timeout 300 "$EVAULT" --vault "$V" --passphrase-file "$PF" --quiet ingest \
			--probe-timeout 10 --json "$dir"
		judge_run "ingest of $(basename "$dir") again" || continue
	fi
	for f in "$dir"/*; do
		st=$(json_status "$f")
		id=$(json_id "$f")
		want=$(sha "$f")
		if [ "$st" != ingested ] && [ "$st" != already-held ]; then
			notingested=$((notingested + 1))
			problem "$f: status '$st', not ingested"
			continue
		fi
		if [ "$id" != "$want" ]; then
			notingested=$((notingested + 1))
			problem "$f: ingested as $id, its SHA-256 is $want"
			continue
		fi
		ingested=$((ingested + 1))
		t=$(awk -v p="\"path\": \"$f\"," '
			index($0, p) { want = 1; next }
			want && /"type":/ { sub(/.*"type": "/, ""); sub(/".*/, ""); print; exit }' "$OUT")
		types[$t]=$((${types[$t]:-0} + 1))
	done
	cp "$OUT" "$T/batch.json"
	for f in "$dir"/*; do
		id=$(sha "$f")
		run timeout 30 "$EVAULT" --vault "$V" --passphrase-file "$PF" show --json "$id"
		if judge_run "show of $f"; then
			# What the probe made of it: a document, or the reason.
			perr=$(sed -n 's/^  "probe_error": "\(.*\)",$/\1/p' "$OUT")
			if grep -q '^  "metadata_document": {' "$OUT"; then
				p_doc=$((p_doc + 1))
				[ -z "$perr" ] || p_err=$((p_err + 1))
			else
				case $perr in
				"probe killed by signal"*) p_crash=$((p_crash + 1)) ;;
				"probe timed out"*) p_timeout=$((p_timeout + 1)) ;;
				*"forbidden system call"*) p_sandbox=$((p_sandbox + 1)) ;;
				"") p_none=$((p_none + 1)) ;;
				*) p_err=$((p_err + 1)) ;;
				esac
				[ -z "$perr" ] || note "probe on $f: $perr"
			fi
			if [ "$RC" -eq 0 ] && grep -qF "\"id\": \"$id\"" "$OUT" &&
				[ "$(grep -c '^  "metadata_document": {' "$OUT")$perr" != 0 ]; then
				shown=$((shown + 1))
			else
				badshow=$((badshow + 1))
				problem "show of $f ($id) exits $RC"
			fi
		fi
		rm -f "$T/back"
		run timeout 30 "$EVAULT" --vault "$V" --passphrase-file "$PF" extract "$id" -o "$T/back"
		if judge_run "extract of $f"; then
			if [ "$RC" -eq 0 ] && cmp -s "$T/back" "$f"; then
				extracted=$((extracted + 1))
			else
				badextract=$((badextract + 1))
				problem "extract of $f ($id) exits $RC or differs"
			fi
		fi
	done
done
run ev verify --no-record
expect_rc 0 "the vault of hostile files does not verify"
nitems=$(count_items)
typeline=$(for t in "${!types[@]}"; do printf '%s %d\n' "$t" "${types[$t]}"; done |
	sort | paste -sd, - | sed 's/,/, /g')
pass "types found by magic: $typeline"
pass "$ingested of $nfiles files ingested under their SHA-256 ($nitems distinct items), $shown shown, $extracted extracted identical; the vault verifies"
pass "the probe: $p_doc documents stored ($p_err with a parser's error recorded), $p_crash probe crashes, $p_timeout probe timeouts, $p_sandbox forbidden system calls, all recorded with their item; $p_none items with neither a document nor a reason"
echo "hostile media campaign: $nfiles files ($nbroken broken, $((nfiles - nbroken)) mutated), $ingested ingested, $shown shown, $extracted extracted identical; $crashes crashes, $hangs hangs; probe: $p_doc documents, $p_err parser errors, $p_crash probe crashes, $p_timeout timeouts, $p_sandbox sandbox kills, all recorded"
failures=$((crashes + hangs + notingested + badshow + badextract + p_none))
[ "$failures" -eq 0 ] ||
	fail "$crashes crashes, $hangs hangs, $notingested not ingested, $badshow shows and $badextract extracts failed (EVAULT_HOSTILE_SEED=$SEED repeats the mutations)"
