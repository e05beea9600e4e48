#!/bin/bash
# crash.sh: the crash campaign.  Operations that write to a vault are
# interrupted every way a process can be: killed with SIGKILL at a random
# moment, killed at an exact system call (the fault-injection shim's KILL
# mode), or told by the disk that a write, fsync, rename or truncate failed
# (EIO, ENOSPC).  After each one:
#
#  * the vault opens and `evault verify` (as a reader: --no-record) exits 0;
#    objects no item refers to are allowed (reported, never deleted);
#  * nothing committed before is lost: the log before is a prefix of the
#    log after ("lost commits");
#  * an operation that reported success (exit 0 and its line: "ingested
#    ID", "note recorded ... (log record N)", ...) is in the log and in
#    `ls`; one that reported failure left no trace: no record, no item, no
#    passphrase slot, no custodian; one that was killed is either absent or
#    wholly present (committed in the instant before the kill, before it
#    could say so: counted as "committed, unreported");
#  * nothing crashed (no signal but our own SIGKILL, no sanitizer report).
#
# Operations: `ingest` of one large file (100 MB quick, 200 MB full) into a
# fresh vault, `ingest` of a folder of many small files, `note`,
# `transfer`, `accept`, `custodian add`, `passphrase add` / `remove`.
# Random kills: operations are killed until EVAULT_CRASH_KILLS (quick 21,
# full 210) were killed before they finished, the moment drawn uniformly
# over 1.2 times the operation's measured duration (the key derivations
# alone take about half a second, so a fixed 0-300 ms would only ever hit
# them); those that finish first are checked too.  Faults: for each call the shim wraps, N = 1..K where K is how many
# times one ingest makes it (counted first with EVAULT_FAULT_AT=0); quick:
# one ingest of a small folder, the mode (EIO, ENOSPC, KILL) taking turns;
# full: every mode at every N, for ingest and for each other operation
# (EVAULT_CRASH_FAULT_OPS: a list of "fault" (the ingest), note, transfer,
# accept, custodian, passphrase, to choose).
# Prints one line of figures at the end; exits 1 if any check failed.
set -eu
. "$(dirname "$0")/common.sh"

need_shim
KILLS=${EVAULT_CRASH_KILLS:-$(by_scale 21 210)}
LARGE=$(by_scale 100M 200M)
NSMALL=$(by_scale 60 150)
NMEDIUM=$(by_scale 8 20)

S=$T/src
mkdir -p "$S/many" "$S/fault"
random_file "$S/large.bin" "$LARGE"
k=1
while [ "$k" -le "$NSMALL" ]; do
	printf 'small file %d, generation 0\n' "$k" >"$S/many/s$k.txt"
	k=$((k + 1))
done
k=1
while [ "$k" -le "$NMEDIUM" ]; do
	random_file "$S/many/m$k.bin" 512K
	k=$((k + 1))
done
note "sources: a $LARGE file; a folder of $NSMALL small and $NMEDIUM 512 KiB files"

PF2=$T/pf-second
printf 'the second passphrase of the crash campaign\n' >"$PF2"
mkdir -p "$T/rconfig"
XDG_CONFIG_HOME=$T/rconfig "$EVAULT" key new receiver --kdf interactive \
	>"$T/receiver.vkey" 2>/dev/null || fail "cannot make the receiver's key"
RKEY=$T/rconfig/evault/keys/receiver.key

# --- Figures ---------------------------------------------------------------
problems=0
CONTEXT=
n_runs=0 n_killed=0 n_finished=0 n_reported=0 n_failed=0 n_unreported=0
n_verified=0 n_lost=0 n_tmp=0 n_resets=0
f_runs=0 f_verified=0 f_failed=0 f_reported=0 f_killed=0 f_unreported=0
declare -A f_mode

# problem WHAT: a check failed; print it with the operation's output and
# go on (the vault it concerns is replaced by a fresh one).
problem() {
	problems=$((problems + 1))
	echo "FAIL - [$CONTEXT] $*" >&2
	for f in "$T/op.out" "$T/op.err" "$T/verify.out"; do
		[ -s "$f" ] || continue
		echo "  $(basename "$f"):" >&2
		grep -av '^unreferenced' "$f" | head -n 8 | sed 's/^/    | /' >&2
	done
	BAD=1
}

# --- Vaults and their remembered state ------------------------------------
# M: the long-lived vault of small items, notes, transfers...; a fresh one
# for each large ingest; F: the vault of the fault runs.
M=$T/main
F=$T/faults
TOK1='' TOK2=''

# seed DIR: a new vault with two token items (for notes and transfers) and
# the receiver registered.
seed() {
	rm -rf "$1"
	new_vault "$1"
	mkdir -p "$T/seed"
	printf 'token one\n' >"$T/seed/token1.txt"
	printf 'token two\n' >"$T/seed/token2.txt"
	run evq "$1" "$PF" ingest "$T/seed"
	expect_rc 0 "cannot seed $1"
	run evq "$1" "$PF" custodian add receiver "$(cat "$T/receiver.vkey")"
	expect_rc 0 "cannot register the receiver in $1"
	TOK1=$(sha "$T/seed/token1.txt")
	TOK2=$(sha "$T/seed/token2.txt")
}

# slots_of DIR [TEXTS]: the passphrase slots of a vault (not the temporary
# files of an interrupted write, which the next writer removes): the
# keys/slot-* files, and the keys/pending-* ones whose addition the log's
# records (TEXTS, from log_json) name, which unlock already and which the
# next writer renames into place.
slots_of() {
	local p hex
	{
		ls "$1/keys" | grep '^slot-' || true
		if [ -n "${2:-}" ]; then
			for p in $(ls "$1/keys" | grep '^pending-' || true); do
				hex=${p#pending-}
				if grep -qF "$hex" "$2"; then
					echo "slot-$hex"
				fi
			done
		fi
	} | sort
}

# snap DIR NAME: keep the vault's log (texts and TSV), items, slots and
# custodians in $T/NAME.*
snap() {
	local dir=$1 name=$2
	log_json "$dir" "$PF" "$T/$name"
	item_table "$dir" "$PF" >"$T/$name.items"
	slots_of "$dir" "$T/$name.texts" >"$T/$name.slots"
	evq "$dir" "$PF" custodian list | awk '{ print $1 }' >"$T/$name.custs"
}

# --- Operations ----------------------------------------------------------------
# prepare KIND STRICT: choose the vault and the command for one operation
# of KIND; sets OP_DIR, OP_CMD, OP_REC (the record kind it writes), OP_ITEM,
# OP_LINE (the text its success line starts with).  With STRICT, the
# vault is first brought (without faults) to a state where exactly KIND is
# possible (a transfer needs a token without a pending transfer...).
custodian_seq=0
prepare() {
	local kind=$1 strict=$2
	OP_DIR=$M OP_ITEM=- OP_KIND=$kind
	case $kind in
	large)
		OP_DIR=$T/large
		rm -rf "$OP_DIR"
		new_vault "$OP_DIR"
		OP_CMD=("$EVAULT" --vault "$OP_DIR" --passphrase-file "$PF" --quiet
			ingest "$S/large.bin")
		OP_REC=ingest OP_LINE=ingested
		;;
	many)
		# Some files change each time: new items among the already held.
		local j
		for j in 1 2 3 4 5; do
			k=$(($(rand "$NSMALL") + 1))
			printf 'small file %d, generation %d\n' "$k" "$n_runs$j" \
				>"$S/many/s$k.txt"
		done
		OP_CMD=("$EVAULT" --vault "$OP_DIR" --passphrase-file "$PF" --quiet
			ingest "$S/many")
		OP_REC=ingest OP_LINE=ingested
		;;
	fault)
		OP_DIR=$F
		# New bytes each time, so that the objects are really written.
		printf 'fault run %d, one\n' "$f_runs" >"$S/fault/a.txt"
		printf 'fault run %d, two\n' "$f_runs" >"$S/fault/b.txt"
		random_file "$S/fault/c.bin" 1536K
		OP_CMD=("$EVAULT" --vault "$OP_DIR" --passphrase-file "$PF" --quiet
			ingest "$S/fault")
		OP_REC=ingest OP_LINE=ingested
		;;
	note)
		OP_ITEM=$TOK1
		OP_CMD=("$EVAULT" --vault "$OP_DIR" --passphrase-file "$PF"
			note "$TOK1" "crash campaign note $n_runs")
		OP_REC=note OP_LINE="note recorded for ${TOK1:0:16}"
		;;
	transfer | accept)
		prepare_custody "$kind" "$strict"
		;;
	custodian)
		custodian_seq=$((custodian_seq + 1))
		local name=c$custodian_seq$RANDOM
		mkdir -p "$T/cconfig"
		XDG_CONFIG_HOME=$T/cconfig "$EVAULT" key new "$name" --kdf interactive \
			>"$T/c.vkey" 2>/dev/null || fail "cannot make key $name"
		OP_NAME=$name
		OP_CMD=("$EVAULT" --vault "$OP_DIR" --passphrase-file "$PF"
			custodian add "$name" "$(cat "$T/c.vkey")")
		OP_REC=custodian-add OP_LINE="custodian $name registered"
		;;
	passphrase)
		local nslots
		nslots=$(slots_of "$OP_DIR" | wc -l)
		if [ "$strict" = 1 ] && [ "$nslots" -gt 1 ]; then
			evq "$OP_DIR" "$PF2" passphrase remove >/dev/null 2>&1 ||
				fail "cannot remove the second passphrase before a fault run"
			after_setup "$OP_DIR"
			nslots=1
		fi
		if [ "$nslots" -gt 1 ]; then
			OP_CMD=("$EVAULT" --vault "$OP_DIR" --passphrase-file "$PF2"
				passphrase remove)
			OP_REC=passphrase-remove OP_LINE="passphrase removed: done"
		else
			OP_CMD=("$EVAULT" --vault "$OP_DIR" --passphrase-file "$PF"
				passphrase add --kdf interactive --new-passphrase-file "$PF2")
			OP_REC=passphrase-add OP_LINE="passphrase added: done"
		fi
		;;
	*)
		fail "unknown operation $kind"
		;;
	esac
}

# The token's holder and pending transfer, from the remembered items.
token_state() {
	awk -F '\t' -v id="$1" '$1 == id { print $3, $4 }' "$T/main.items"
}

prepare_custody() {
	local kind=$1 strict=$2 tok holder pending free='' due=''
	# Transfers and accepts are both tried, whatever the kills left.
	strict=1
	for tok in $TOK1 $TOK2; do
		read -r holder pending <<<"$(token_state "$tok")"
		if [ "$pending" = - ]; then
			free=${free:-$tok}
		else
			due=${due:-$tok}
		fi
	done
	if [ "$kind" = transfer ] && [ -z "$free" ]; then
		if [ "$strict" = 1 ]; then
			custody_step accept "$due" >/dev/null 2>&1 ||
				fail "cannot accept a transfer before a fault run"
			after_setup "$M"
			free=$due
		else
			kind=accept
		fi
	elif [ "$kind" = accept ] && [ -z "$due" ]; then
		if [ "$strict" = 1 ]; then
			custody_step transfer "$free" >/dev/null 2>&1 ||
				fail "cannot make a transfer before a fault run"
			after_setup "$M"
			due=$free
		else
			kind=transfer
		fi
	fi
	OP_KIND=$kind
	if [ "$kind" = transfer ]; then
		OP_ITEM=$free
	else
		OP_ITEM=$due
	fi
	custody_cmd "$kind" "$OP_ITEM"
	OP_REC=$kind OP_LINE="$kind recorded for ${OP_ITEM:0:16}"
}

# custody_cmd KIND ITEM: OP_CMD for a transfer (by the holder, to the
# other custodian) or an accept (by the one it is pending to).
custody_cmd() {
	local holder pending actor to
	read -r holder pending <<<"$(token_state "$2")"
	if [ "$1" = transfer ]; then
		actor=$holder
		to=tester
		[ "$holder" = receiver ] || to=receiver
	else
		actor=$pending
	fi
	OP_CMD=("$EVAULT" --vault "$M" --passphrase-file "$PF")
	[ "$actor" = receiver ] && OP_CMD+=(--key "$RKEY")
	if [ "$1" = transfer ]; then
		OP_CMD+=(transfer "$2" --to "$to")
	else
		OP_CMD+=(accept "$2")
	fi
}

custody_step() {
	custody_cmd "$1" "$2"
	"${OP_CMD[@]}"
}

# After an unchecked set-up step: remember the vault's new state.
after_setup() {
	[ "$1" = "$M" ] && snap "$M" main
	[ "$1" = "$F" ] && snap "$F" faults
	return 0
}

# launch DELAY_MS [ENV...]: run OP_CMD (killed after DELAY_MS unless it is
# -1); OP_RC is its exit status, output in $T/op.out and $T/op.err.
launch() {
	local delay=$1 pid
	shift
	env "$@" "${OP_CMD[@]}" >"$T/op.out" 2>"$T/op.err" &
	pid=$!
	bg_started "$pid"
	if [ "$delay" -ge 0 ]; then
		sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
		kill -9 "$pid" 2>/dev/null || true
	fi
	set +e
	wait "$pid" 2>/dev/null
	OP_RC=$?
	set -e
	bg_done "$pid"
}

# --- The checks after one operation ------------------------------------------
# check NAME: compare the vault's state now with $T/NAME.* (before), by
# what the operation reported; then remember the new state.  Sets OUTCOME
# (reported, failed, killed, unreported) and BAD.
check() {
	local name=$1 dir=$OP_DIR
	BAD=0
	if [ "$OP_RC" -eq 137 ]; then
		OUTCOME=killed
	elif crashed "$OP_RC" "$T/op.err"; then
		problem "$OP_KIND: evault crashed (exit $OP_RC)"
		OUTCOME=crashed
	elif [ "$OP_RC" -eq 0 ]; then
		OUTCOME=reported
		if [ "$OP_REC" != ingest ] && ! grep -qF -- "$OP_LINE" "$T/op.out"; then
			problem "$OP_KIND: exit 0 without its line '$OP_LINE'"
		fi
	else
		OUTCOME=failed
		grep -aq '^evault: ' "$T/op.err" ||
			problem "$OP_KIND: exit $OP_RC without an error message"
	fi
	# What a killed writer left in tmp/ is removed by the next writer.
	tmp_left=$(count_tmp "$dir")
	[ "$tmp_left" -eq 0 ] || n_tmp=$((n_tmp + 1))
	if [ "$OUTCOME" = reported ] && [ "$tmp_left" -gt 0 ]; then
		problem "$OP_KIND succeeded but left tmp/ with: $(ls -A "$dir/tmp" | head -n 3 | tr '\n' ' ')"
	fi

	# The vault opens and verifies, as a reader.
	set +e
	evq "$dir" "$PF" verify --no-record >"$T/verify.out" 2>&1
	local vrc=$?
	set -e
	if [ "$vrc" -ne 0 ]; then
		problem "$OP_KIND ($OUTCOME): verify exits $vrc"
		after_problem "$dir"
		return 0
	fi
	VERIFIED=1

	log_json "$dir" "$PF" "$T/after"
	item_table "$dir" "$PF" >"$T/after.items"
	slots_of "$dir" "$T/after.texts" >"$T/after.slots"
	local nb na lost
	nb=$(wc -l <"$T/$name.texts")
	na=$(wc -l <"$T/after.texts")
	if ! head -n "$nb" "$T/after.texts" | cmp -s - "$T/$name.texts"; then
		lost=$(head -n "$nb" "$T/after.texts" | diff "$T/$name.texts" - | grep -c '^<' || true)
		n_lost=$((n_lost + lost))
		problem "$OP_KIND ($OUTCOME): $lost committed records lost or changed"
	fi
	tail -n +$((nb + 1)) "$T/after.recs" >"$T/new.recs"
	local nnew
	nnew=$(wc -l <"$T/new.recs")
	# Items held before are still held.
	cut -f1 "$T/$name.items" | sort >"$T/items.before"
	cut -f1 "$T/after.items" | sort >"$T/items.after"
	if [ -n "$(comm -23 "$T/items.before" "$T/items.after")" ]; then
		problem "$OP_KIND ($OUTCOME): items held before are gone"
	fi
	# New items are exactly those of new ingest records (first receipt).
	awk -F '\t' '$2 == "ingest" { print $3 }' "$T/new.recs" | sort -u |
		comm -23 - "$T/items.before" >"$T/items.expected"
	comm -13 "$T/items.before" "$T/items.after" >"$T/items.new"
	cmp -s "$T/items.expected" "$T/items.new" ||
		problem "$OP_KIND ($OUTCOME): new items in ls differ from the new ingest records"
	# Every new record is of the operation's kind (and item).
	if [ "$nnew" -gt 0 ] &&
		awk -F '\t' -v k="$OP_REC" -v it="$OP_ITEM" \
			'$2 != k || (it != "-" && $3 != it) { bad = 1 } END { exit !bad }' \
			"$T/new.recs"; then
		problem "$OP_KIND ($OUTCOME): a new record is not a '$OP_REC' record: $(head -n 3 "$T/new.recs")"
	fi

	if [ "$OP_REC" = ingest ]; then
		check_ingest "$nnew"
	else
		check_single "$nnew"
	fi
	check_side_effects "$name"
	if [ "$BAD" = 1 ]; then
		after_problem "$dir"
	else
		mv "$T/after.texts" "$T/$name.texts"
		mv "$T/after.recs" "$T/$name.recs"
		mv "$T/after.items" "$T/$name.items"
		mv "$T/after.slots" "$T/$name.slots"
	fi
}

# One record, or none: by what the operation said.
check_single() {
	local nnew=$1 idx
	case $OUTCOME in
	reported)
		if [ "$nnew" -ne 1 ]; then
			problem "$OP_KIND reported success but $nnew records were added"
			return 0
		fi
		idx=$(sed -n 's/.*(log record \([0-9]*\)).*/\1/p' "$T/op.out")
		if [ -n "$idx" ] && [ "$idx" != "$(cut -f1 "$T/new.recs")" ]; then
			problem "$OP_KIND reported log record $idx, the log has it as $(cut -f1 "$T/new.recs")"
		fi
		;;
	failed)
		[ "$nnew" -eq 0 ] ||
			problem "$OP_KIND reported failure (exit $OP_RC), yet $nnew records were added"
		;;
	killed)
		if [ "$nnew" -gt 1 ]; then
			problem "killed $OP_KIND added $nnew records"
		elif [ "$nnew" -eq 1 ]; then
			OUTCOME=unreported
		fi
		;;
	esac
}

# Ingest: each file reported is held and recorded; each file reported as
# failed, or not reported at all when the ingest failed, is absent.
check_ingest() {
	local nnew=$1 nrep nsrc
	awk '$1 == "ingested" || $1 == "already-held" { print $2 }' "$T/op.out" |
		sort >"$T/reported16"
	nrep=$(wc -l <"$T/reported16")
	awk -F '\t' '$2 == "ingest" { print substr($3, 1, 16) }' "$T/new.recs" |
		sort >"$T/recorded16"
	if [ -n "$(comm -23 "$T/reported16" "$T/recorded16")" ]; then
		problem "$OP_KIND: files reported ingested have no new record: $(comm -23 "$T/reported16" "$T/recorded16" | head -n 3 | tr '\n' ' ')"
	fi
	# Nothing recorded that is not among the sources.
	sort -u "$T/recorded16" >"$T/rec16u"
	if [ -n "$(comm -13 "$T/src16" "$T/rec16u")" ]; then
		problem "$OP_KIND: a new ingest record is none of the sources"
	fi
	nsrc=$(wc -l <"$T/src16")
	case $OUTCOME in
	reported)
		[ "$nrep" -eq "$nsrc" ] && [ "$nnew" -eq "$nsrc" ] ||
			problem "$OP_KIND exit 0: $nrep of $nsrc files reported, $nnew records"
		;;
	failed)
		[ "$nnew" -eq "$nrep" ] ||
			problem "$OP_KIND reported failure: $nrep files reported ingested, but $nnew records were added"
		;;
	killed)
		[ "$nnew" -le "$nsrc" ] ||
			problem "killed $OP_KIND: $nnew records for $nsrc files"
		[ "$nnew" -gt "$nrep" ] && OUTCOME=unreported
		;;
	esac
	return 0
}

# Slots and custodians change only with their record.
check_side_effects() {
	local name=$1 rec
	rec=$(cut -f2 "$T/new.recs" | head -n 1)
	case $OP_REC in
	passphrase-add)
		if [ "$rec" = passphrase-add ]; then
			[ "$(wc -l <"$T/after.slots")" -eq $(($(wc -l <"$T/$name.slots") + 1)) ] ||
				problem "passphrase-add recorded but the slots went from $(wc -l <"$T/$name.slots") to $(wc -l <"$T/after.slots")"
			evq "$OP_DIR" "$PF2" ls >/dev/null 2>&1 ||
				problem "passphrase-add recorded but the new passphrase does not open the vault"
		elif ! cmp -s "$T/$name.slots" "$T/after.slots"; then
			problem "passphrase add ($OUTCOME) left no record but a new passphrase slot: $(comm -13 "$T/$name.slots" "$T/after.slots" | tr '\n' ' ')"
		fi
		;;
	passphrase-remove)
		if [ -z "$rec" ] && ! cmp -s "$T/$name.slots" "$T/after.slots"; then
			problem "passphrase remove ($OUTCOME) left no record but removed a slot"
		fi
		if [ "$OUTCOME" = reported ] && evq "$OP_DIR" "$PF2" ls >/dev/null 2>&1; then
			problem "passphrase remove reported success, the passphrase still opens the vault"
		fi
		;;
	custodian-add)
		if evq "$OP_DIR" "$PF" custodian list | awk '{ print $1 }' | grep -qx "$OP_NAME"; then
			[ "$rec" = custodian-add ] ||
				problem "custodian $OP_NAME is registered without a record"
		else
			[ -z "$rec" ] || problem "custodian-add recorded, $OP_NAME not registered"
		fi
		;;
	transfer | accept)
		local holder pending
		read -r holder pending <<<"$(awk -F '\t' -v id="$OP_ITEM" '$1 == id { print $3, $4 }' "$T/after.items")"
		if [ "$rec" = transfer ] && [ "$pending" = - ]; then
			problem "transfer recorded, none pending in ls"
		elif [ "$rec" = accept ] && [ "$pending" != - ]; then
			problem "accept recorded, the transfer still pending in ls"
		elif [ -z "$rec" ] && [ "$(token_state "$OP_ITEM")" != "$holder $pending" ]; then
			problem "$OP_REC left no record but custody changed in ls"
		fi
		;;
	esac
	return 0
}

# A vault found damaged is replaced, so one fault is counted once.
after_problem() {
	n_resets=$((n_resets + 1))
	case $1 in
	"$M")
		cp -a "$M" "$T/damaged-main-$n_resets" 2>/dev/null || true
		seed "$M"
		snap "$M" main
		;;
	"$F")
		cp -a "$F" "$T/damaged-faults-$n_resets" 2>/dev/null || true
		seed "$F"
		snap "$F" faults
		;;
	esac
	return 0
}

# Short ids of the sources an ingest may record.
sources16() {
	case $1 in
	large) sha "$S/large.bin" | cut -c1-16 ;;
	many) find "$S/many" -type f -exec sha256sum {} + | cut -c1-16 ;;
	fault) find "$S/fault" -type f -exec sha256sum {} + | cut -c1-16 ;;
	esac | sort -u >"$T/src16"
}

snapname() {
	case $OP_DIR in
	"$M") echo main ;;
	"$F") echo faults ;;
	*) echo large ;;
	esac
}

# one KIND DELAY [ENV...]: prepare, run and check one operation.
one() {
	local kind=$1 delay=$2 strict=0
	shift 2
	[ $# -gt 0 ] && strict=1
	prepare "$kind" "$strict"
	local name
	name=$(snapname)
	[ "$name" = large ] && snap "$OP_DIR" large
	sources16 "$kind"
	VERIFIED=0
	local t0
	t0=$(now_ms)
	launch "$delay" "$@"
	OP_MS=$(($(now_ms) - t0))
	check "$name"
}

# --- Random kills -------------------------------------------------------------
seed "$M"
snap "$M" main
kinds=(large many note transfer accept custodian passphrase)
declare -A dur
for kind in "${kinds[@]}"; do
	CONTEXT="$kind, uninterrupted"
	one "$kind" -1
	[ "$OUTCOME" = reported ] || problem "$kind without a kill did not succeed"
	dur[$kind]=$OP_MS
done
pass "each operation once, uninterrupted: $(for k in "${kinds[@]}"; do printf '%s %d ms, ' "$k" "${dur[$k]}"; done)"

# Until KILLS operations were killed before they finished (those that
# finish first are checked and counted apart).
i=0
while [ "$n_killed" -lt "$KILLS" ]; do
	[ "$i" -lt $((KILLS * 4)) ] ||
		fail "after $i operations only $n_killed were killed before they finished"
	kind=${kinds[$((i % ${#kinds[@]}))]}
	span=$((dur[$kind] * 6 / 5 + 1))
	delay=$(rand "$span")
	CONTEXT="kill $((i + 1)), $kind at $delay ms"
	one "$kind" "$delay"
	n_runs=$((n_runs + 1))
	n_verified=$((n_verified + VERIFIED))
	case $OUTCOME in
	killed) n_killed=$((n_killed + 1)) ;;
	unreported) n_killed=$((n_killed + 1)) n_unreported=$((n_unreported + 1)) ;;
	reported) n_finished=$((n_finished + 1)) n_reported=$((n_reported + 1)) ;;
	failed) n_finished=$((n_finished + 1)) n_failed=$((n_failed + 1)) ;;
	esac
	[ "$SCALE" = full ] ||
		note "kill $((i + 1)): $OP_KIND at $delay ms: $OUTCOME"
	i=$((i + 1))
done
pass "$n_runs operations under random kills: $n_killed killed mid-operation ($n_unreported of them committed before they could report), $n_finished finished first ($n_reported reported success); $n_verified vaults verified; $n_tmp left files in tmp/"

# --- Faults at every system call ------------------------------------------------
seed "$F"
snap "$F" faults
calls=(write pwrite fsync fdatasync rename renameat link linkat ftruncate)
modes=(EIO ENOSPC KILL)
if [ -n "${EVAULT_CRASH_FAULT_OPS:-}" ]; then
	read -r -a fkinds <<<"$EVAULT_CRASH_FAULT_OPS"
elif [ "$SCALE" = full ]; then
	fkinds=(fault note transfer accept custodian passphrase)
else
	fkinds=(fault)
fi
summary=
for fk in "${fkinds[@]}"; do
	# Count the calls one operation of this kind makes.
	rm -f "$T/count"
	CONTEXT="$fk, counting calls"
	one "$fk" -1 EVAULT_FAULT_CALL=write EVAULT_FAULT_AT=0 \
		EVAULT_FAULT_REPORT="$T/count" LD_PRELOAD="$EVAULT_FAULTINJECT" \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	[ "$OUTCOME" = reported ] || problem "$fk under the shim, no fault: did not succeed"
	[ -s "$T/count" ] || fail "the shim wrote no call counts (is it preloaded?)"
	counts=$(tr '\n' ' ' <"$T/count")
	summary="$summary $fk: $counts;"
	note "calls in one $fk: $counts"
	[ "$fk" = fault ] && fk_label=ingest || fk_label=$fk
	for call in "${calls[@]}"; do
		K=$(awk -v c="$call" '$1 == c { print $2 }' "$T/count")
		N=1
		while [ "$N" -le "${K:-0}" ]; do
			for mode in "${modes[@]}"; do
				if [ "$SCALE" != full ] &&
					[ "$mode" != "${modes[$(((N + ${#call}) % 3))]}" ]; then
					continue
				fi
				rm -f "$T/fault.rep"
				CONTEXT="$fk_label, $call #$N $mode"
				one "$fk" -1 EVAULT_FAULT_CALL="$call" EVAULT_FAULT_AT="$N" \
					EVAULT_FAULT_ERRNO="$mode" EVAULT_FAULT_REPORT="$T/fault.rep" \
					LD_PRELOAD="$EVAULT_FAULTINJECT" \
					ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
				grep -q "^injected $call $N " "$T/fault.rep" 2>/dev/null ||
					note "$fk_label: $call #$N was not reached this time"
				f_runs=$((f_runs + 1))
				f_verified=$((f_verified + VERIFIED))
				f_mode[$mode]=$((${f_mode[$mode]:-0} + 1))
				case $OUTCOME in
				reported) f_reported=$((f_reported + 1)) ;;
				failed) f_failed=$((f_failed + 1)) ;;
				killed) f_killed=$((f_killed + 1)) ;;
				unreported) f_killed=$((f_killed + 1)) f_unreported=$((f_unreported + 1)) ;;
				esac
				if [ "$OUTCOME" = reported ] && [ "$mode" != KILL ]; then
					note "$fk_label: $call #$N failed with $mode, yet the operation reported success"
				fi
			done
			N=$((N + 1))
		done
	done
done
pass "$f_runs injected faults (EIO ${f_mode[EIO]:-0}, ENOSPC ${f_mode[ENOSPC]:-0}, KILL ${f_mode[KILL]:-0}): $f_failed reported failure, $f_reported reported success, $f_killed killed ($f_unreported committed first); $f_verified vaults verified"

echo "crash campaign: $n_killed kills, $n_verified vaults verified, $n_lost lost commits, $n_unreported committed before the kill ($n_finished more finished first); $f_runs injected faults, $f_verified vaults verified; $problems failed checks"
[ "$problems" -eq 0 ] || fail "$problems checks failed (see FAIL lines above)"
