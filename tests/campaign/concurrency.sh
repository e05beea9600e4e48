#!/bin/bash
# concurrency.sh: the concurrency campaign.  Four `evault ingest`
# processes and a `evault verify` are started at once on one vault; they
# wait on the vault's lock (a writer at a time, readers together).  Each
# ingest takes its own folder: files of its own, files whose bytes are also
# in another folder or in all four (under other names), and a duplicate
# inside the folder.  After they all exit:
#
#  * every process exited 0 (the verify too: it saw a consistent vault);
#  * `ls` lists exactly the union of the distinct contents, each once;
#  * the log holds one ingest record per file given, no more, no fewer;
#  * each item's receipts count equals the number of files with its bytes;
#  * the ingests' own counts add up: "ingested" over the four is the number
#    of distinct contents, "already held" the rest; each file's id is the
#    SHA-256 of its bytes;
#  * the vault verifies, with no unreferenced object.
#
# Rounds: EVAULT_CONCURRENCY_ROUNDS (quick 2, full 10), each on a new vault
# with new files.  Prints one line of figures; exits 1 on any failure.
set -eu
. "$(dirname "$0")/common.sh"

ROUNDS=${EVAULT_CONCURRENCY_ROUNDS:-$(by_scale 2 10)}
NOWN=$(by_scale 25 60)
NBIG=$(by_scale 2 4)

total_files=0 total_items=0 waited=0
r=1
while [ "$r" -le "$ROUNDS" ]; do
	V=$T/vault-$r
	new_vault
	S=$T/src-$r
	for k in 1 2 3 4; do
		mkdir -p "$S/set$k"
		j=1
		while [ "$j" -le "$NOWN" ]; do
			printf 'round %d, set %d, own file %d\n' "$r" "$k" "$j" >"$S/set$k/own-$j.txt"
			j=$((j + 1))
		done
		j=1
		while [ "$j" -le "$NBIG" ]; do
			random_file "$S/set$k/big-$j.bin" 1M
			j=$((j + 1))
		done
		# The same bytes in all four sets, and in this and the next set.
		for j in 1 2 3 4 5; do
			printf 'round %d, in every set, file %d\n' "$r" "$j" >"$S/set$k/all-$j-of-set$k.txt"
			next=$((k % 4 + 1))
			printf 'round %d, sets %d and %d, file %d\n' "$r" "$k" "$next" "$j" \
				>"$S/set$k/pair-$k-$j.txt"
			prev=$(((k + 2) % 4 + 1))
			printf 'round %d, sets %d and %d, file %d\n' "$r" "$prev" "$k" "$j" \
				>"$S/set$k/pair-$prev-$j-b.txt"
		done
		# A duplicate inside the set.
		cp "$S/set$k/own-1.txt" "$S/set$k/own-1-copy.txt"
	done
	find "$S" -type f -exec sha256sum {} + | cut -c1-64 | sort >"$T/all-shas"
	sort -u "$T/all-shas" >"$T/distinct"
	nfiles=$(wc -l <"$T/all-shas")
	ndistinct=$(wc -l <"$T/distinct")

	# Start them together; each waits for the lock in its turn.
	pids=
	for k in 1 2 3 4; do
		"$EVAULT" --vault "$V" --passphrase-file "$PF" --quiet ingest --json "$S/set$k" \
			>"$T/ingest-$k.out" 2>"$T/ingest-$k.err" &
		pids="$pids $!"
		bg_started "$!"
	done
	"$EVAULT" --vault "$V" --passphrase-file "$PF" --quiet verify --no-record \
		>"$T/verify.out" 2>"$T/verify.err" &
	vpid=$!
	bg_started "$vpid"
	k=1
	for pid in $pids; do
		set +e
		wait "$pid"
		rc=$?
		set -e
		bg_done "$pid"
		if [ "$rc" -ne 0 ]; then
			cp "$T/ingest-$k.out" "$OUT"
			cp "$T/ingest-$k.err" "$ERR"
			RC=$rc LAST_CMD="ingest of set $k"
			fail "round $r: ingest $k exited $rc"
		fi
		grep -q 'waiting for another evault' "$T/ingest-$k.err" && waited=$((waited + 1))
		k=$((k + 1))
	done
	set +e
	wait "$vpid"
	rc=$?
	set -e
	bg_done "$vpid"
	[ "$rc" -eq 0 ] || {
		cp "$T/verify.out" "$OUT"
		cp "$T/verify.err" "$ERR"
		RC=$rc LAST_CMD="verify beside the ingests"
		fail "round $r: the verify run beside the ingests exited $rc"
	}

	# Exactly the union, each once.
	ids | sort >"$T/held"
	dups=$(uniq -d "$T/held")
	[ -z "$dups" ] || fail "round $r: items listed twice: $dups"
	cmp -s "$T/held" "$T/distinct" ||
		fail "round $r: ls does not hold the union: $(diff "$T/distinct" "$T/held" | grep -c '^[<>]') differences"
	# One ingest record per file.
	log_json "$V" "$PF" "$T/log"
	nrec=$(awk -F '\t' '$2 == "ingest"' "$T/log.recs" | wc -l)
	[ "$nrec" -eq "$nfiles" ] ||
		fail "round $r: $nrec ingest records for $nfiles files"
	awk -F '\t' '$2 == "ingest" { print $3 }' "$T/log.recs" | sort | cmp -s - "$T/all-shas" ||
		fail "round $r: the ingest records do not name one file each"
	# Receipts: how many files had those bytes.
	uniq -c "$T/all-shas" | awk '{ print $2 "\t" $1 }' >"$T/want-receipts"
	item_table "$V" "$PF" | cut -f1,2 | sort >"$T/receipts"
	cmp -s "$T/want-receipts" "$T/receipts" ||
		fail "round $r: receipts differ: $(diff "$T/want-receipts" "$T/receipts" | head -n 4 | tr '\n' ' ')"
	# The ingests' own counts, and the id of every file they report.
	ing=0 held=0
	for k in 1 2 3 4; do
		cp "$T/ingest-$k.out" "$OUT"
		a=$(sed -n 's/^  "ingested": \([0-9]*\),*$/\1/p' "$OUT")
		b=$(sed -n 's/^  "already_held": \([0-9]*\),*$/\1/p' "$OUT")
		f=$(sed -n 's/^  "failed": \([0-9]*\),*$/\1/p' "$OUT")
		[ -n "$a" ] && [ -n "$b" ] && [ "$f" = 0 ] ||
			fail "round $r: ingest $k does not give its counts, or failed some"
		ing=$((ing + a)) held=$((held + b))
		for p in "$S/set$k"/*; do
			[ "$(json_id "$p")" = "$(sha "$p")" ] ||
				fail "round $r: ingest $k reports $p with id '$(json_id "$p")'"
		done
	done
	[ "$ing" -eq "$ndistinct" ] && [ "$held" -eq $((nfiles - ndistinct)) ] ||
		fail "round $r: the ingests say $ing ingested and $held already held; $nfiles files, $ndistinct distinct"
	run ev verify --no-record
	expect_rc 0 "round $r: verify after the ingests failed"
	expect_out "ok: $ndistinct of $ndistinct items intact" "round $r: verify does not find the $ndistinct items"
	expect_out ", 0 unreferenced objects" "round $r: unreferenced objects after concurrent ingests"
	pass "round $r: 4 ingests ($nfiles files, $ndistinct distinct) and a verify at once: all exit 0; $ndistinct items, each once; $nfiles records; receipts and counts add up; verifies"
	total_files=$((total_files + nfiles))
	total_items=$((total_items + ndistinct))
	rm -rf "$V" "$S"
	r=$((r + 1))
done
echo "concurrency campaign: $ROUNDS rounds of 4 ingests and a verify at once, $total_files files, $total_items items, 0 lost, 0 duplicated ($waited ingests waited for the lock)"
