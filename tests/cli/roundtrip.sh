#!/bin/bash
# roundtrip.sh: what goes into a vault comes back byte for byte.  Every file
# of the media corpus ($EVAULT_CORPUS, when present) and a set of fixtures
# made here (an empty file, sizes on the 64 KiB chunk boundaries, a name
# with spaces and parentheses, a three-level folder tree) is ingested; then
# for each: `evault extract` gives identical bytes whose sha256sum is the
# item id, and `evault cat` gives the same bytes.
set -eu
. "$(dirname "$0")/lib.sh"

# check_file FILE: the vault holds FILE's bytes under its SHA-256, and
# gives them back through extract (full id or an 8-digit prefix) and cat.
n_checked=0
check_file() {
	local f=$1 id out prefix
	id=$(sha "$f")
	out=$T/extract/$n_checked
	# Alternate between the full id and the shortest accepted prefix, in
	# upper case now and then: every command takes either.
	case $((n_checked % 3)) in
	0) prefix=$id ;;
	1) prefix=$(printf '%s' "$id" | cut -c1-8) ;;
	2) prefix=$(printf '%s' "$id" | cut -c1-12 | tr a-f A-F) ;;
	esac
	run ev extract "$prefix" -o "$out"
	expect_rc 0 "extract of '$f' ($prefix) failed"
	cmp -s -- "$f" "$out" || fail "extract of '$f' differs from the original"
	[ "$(sha "$out")" = "$id" ] ||
		fail "sha256sum of the extract of '$f' is not the item id $id"
	ev cat "$prefix" >"$out.cat" 2>"$ERR" ||
		fail "cat of '$f' ($prefix) failed: $(cat "$ERR")"
	cmp -s -- "$f" "$out.cat" || fail "cat of '$f' differs from the original"
	rm -f -- "$out" "$out.cat"
	n_checked=$((n_checked + 1))
}

mkdir -p "$T/extract"
new_vault
pass "created a vault"

# --- Fixtures made here -----------------------------------------------------
S=$T/src
mkdir -p "$S/tree/level1/level2/level3"
: >"$S/empty"
random_file "$S/name with spaces (and parentheses).bin" 100000
random_file "$S/chunk-exact" 65536
random_file "$S/chunk-plus-one" 65537
random_file "$S/chunk-minus-one" 65535
random_file "$S/one-byte" 1
random_file "$S/multi-batch" 3000017
printf 'top of the tree\n' >"$S/tree/top.txt"
printf 'first level\n' >"$S/tree/level1/one.txt"
printf 'second level\n' >"$S/tree/level1/level2/two.txt"
random_file "$S/tree/level1/level2/level3/three.bin" 70000
printf 'third level, second file\n' >"$S/tree/level1/level2/level3/3b.txt"
nfix=$(find "$S" -type f | wc -l)

run ev ingest --quiet "$S"
expect_rc 0 "ingest of the fixtures failed"
expect_out "$nfix ingested, 0 already held, 0 skipped, 0 failed" \
	"ingest did not report $nfix files ingested"
pass "ingested $nfix fixture files (folders recursively)"

[ "$(count_items)" -eq "$nfix" ] || fail "ls lists $(count_items) items, not $nfix"
pass "ls lists the $nfix fixture items"

run ev ls --json
grep -qF '"name": "name with spaces (and parentheses).bin"' "$OUT" ||
	fail "ls --json lacks the name with spaces and parentheses"
grep -qF '"path": "'"$S"'/tree/level1/level2/level3/three.bin"' "$OUT" ||
	fail "ls --json lacks the path of the file three folders down"
grep -q '"size": 0,' "$OUT" || fail "ls --json lacks the empty item (size 0)"
pass "names and paths kept (spaces, parentheses, three levels down)"

while IFS= read -r f; do
	check_file "$f"
done <<EOF
$(find "$S" -type f | sort)
EOF
pass "extract and cat give back every fixture byte for byte (sha256sum = id)"

run ev extract "$(sha "$S/empty")" -o "$T/extract/empty-again"
expect_rc 0
[ -f "$T/extract/empty-again" ] && [ ! -s "$T/extract/empty-again" ] ||
	fail "extract of the empty item did not make an empty file"
pass "the empty file extracts to an empty file"

# extract keeps an existing file unless --force.
printf 'keep me\n' >"$T/extract/existing"
run ev extract "$(sha "$S/one-byte")" -o "$T/extract/existing"
expect_rc 2 "extract over an existing file without --force did not exit 2"
[ "$(cat "$T/extract/existing")" = "keep me" ] ||
	fail "extract without --force replaced an existing file"
run ev extract --force "$(sha "$S/one-byte")" -o "$T/extract/existing"
expect_rc 0
cmp -s "$S/one-byte" "$T/extract/existing" || fail "extract --force did not replace"
pass "extract refuses to replace a file without --force, replaces with it"

run ev verify
expect_rc 0 "verify of the fixture vault failed"
pass "verify passes"

# --- The shared media corpus ------------------------------------------------
if [ -z "${EVAULT_CORPUS:-}" ] || [ ! -d "${EVAULT_CORPUS:-}" ]; then
	skip_check "corpus round trip: no media corpus (EVAULT_CORPUS='${EVAULT_CORPUS:-}')"
	exit 0
fi
C=$T/corpus-vault
new_vault "$C"
ncorpus=$(find "$EVAULT_CORPUS" -type f | wc -l)
ndistinct=$(find "$EVAULT_CORPUS" -type f -exec sha256sum {} + | cut -c1-64 |
	sort -u | wc -l)
run evq "$C" "$PF" ingest --quiet "$EVAULT_CORPUS"
expect_rc 0 "ingest of the corpus failed"
expect_out "0 skipped, 0 failed" "ingest of the corpus reported failures"
[ "$(count_items "$C")" -eq "$ndistinct" ] ||
	fail "the corpus vault lists $(count_items "$C") items, not $ndistinct"
pass "ingested the corpus: $ncorpus files, $ndistinct distinct contents"

V=$C
n_checked=0
while IFS= read -r f; do
	check_file "$f"
done <<EOF
$(find "$EVAULT_CORPUS" -type f | sort)
EOF
[ "$n_checked" -eq "$ncorpus" ] || fail "checked $n_checked of $ncorpus corpus files"
pass "extract and cat give back all $ncorpus corpus files byte for byte (sha256sum = id)"

run ev verify
expect_rc 0 "verify of the corpus vault failed"
expect_out "ok: $ndistinct of $ndistinct items intact" "verify did not check every item"
pass "verify of the corpus vault passes"
