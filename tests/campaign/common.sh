# shellcheck shell=bash
# common.sh: what evault's reliability campaigns share.  Sourced (not
# run) by each tests/campaign/<name>.sh after `set -eu`; it sources the CLI
# tests' lib.sh (temporary directory $T, test vault $V, passphrase file
# $PF, the "tester" custodian key, run/expect/pass/fail...) and adds:
#
#   SCALE                 quick (the default: the normal test run) or full
#                         (EVAULT_CAMPAIGN_SCALE=full: bench/campaign)
#   by_scale QUICK FULL   the number for this scale
#   rand N                a random integer in [0, N)
#   crashed RC ERRFILE    true when an exit status or a sanitizer report on
#                         stderr says the process crashed
#   flip_bit FILE BIT     invert one bit (BIT counted from the file's start)
#   log_json DIR PF OUT   the committed log: OUT.texts (one record a line)
#                         and OUT.recs (TSV: index, kind, item, actor)
#   item_table DIR PF     the items as TSV: id, receipts, custodian,
#                         pending transfer (from `evault ls --json`)
#   need_shim             skip (77) unless EVAULT_FAULTINJECT names the shim
#   now_ms                milliseconds since the epoch
#
# Environment: EVAULT_FAULTINJECT (set by tests/meson.build) names the
# shim tests/faultinject.c; campaigns that need it skip without it.

. "$(dirname "$0")/../cli/lib.sh"

SCALE=${EVAULT_CAMPAIGN_SCALE:-quick}
case $SCALE in
quick | full) ;;
*)
	echo "FAIL: EVAULT_CAMPAIGN_SCALE must be quick or full, not '$SCALE'" >&2
	exit 1
	;;
esac

by_scale() {
	if [ "$SCALE" = full ]; then echo "$2"; else echo "$1"; fi
}

# rand N: uniform enough for test choices (30 bits from $RANDOM).
rand() {
	echo $(((RANDOM << 15 | RANDOM) % $1))
}

# A crash is death by a signal (status 128+n from the shell, 124 from
# timeout is a hang and is checked apart), or a sanitizer's report.
crashed() {
	[ "$1" -ge 128 ] && return 0
	grep -aqE 'ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:|SUMMARY: .*Sanitizer' \
		"$2" 2>/dev/null
}

flip_bit() {
	perl -e '
		my ($f, $bit) = @ARGV;
		open(my $h, "+<:raw", $f) or die "$f: $!\n";
		my $off = int($bit / 8);
		seek($h, $off, 0) or die; read($h, my $b, 1) == 1 or die "$f: no byte $off\n";
		seek($h, $off, 0) or die;
		print $h chr(ord($b) ^ (1 << ($bit % 8)));
		close($h) or die;
	' "$1" "$2"
}

# evault's JSON (jansson, indented: one member a line) read with awk.
# log_json DIR PF OUT: `evault log --json` into OUT.texts (each record's
# signed text, one a line: to compare logs) and OUT.recs (index, kind,
# item or "-", actor: TSV).
log_json() {
	evq "$1" "$2" log --json >"$3.json"
	sed -n 's/^    "record": //p' "$3.json" >"$3.texts"
	awk '
		function val(s) { sub(/^[^:]*: "?/, "", s); sub(/"?,?$/, "", s); return s }
		/^    "index": / { idx = val($0) }
		/^    "actor": / { actor = val($0) }
		/^    "kind": / { kind = val($0) }
		/^    "item": / { item = $0 ~ /null/ ? "-" : val($0)
				  printf "%s\t%s\t%s\t%s\n", idx, kind, item, actor }
	' "$3.json" >"$3.recs"
}

# item_table DIR PF: the items as TSV: id, receipts, custodian, pending
# transfer or "-" (from `evault ls --json`).
item_table() {
	evq "$1" "$2" ls --json | awk '
		function val(s) { sub(/^[^:]*: "?/, "", s); sub(/"?,?$/, "", s); return s }
		/^    "id": / { id = val($0) }
		/^    "receipts": / { rc = val($0) }
		/^    "custodian": / { cu = $0 ~ /null/ ? "-" : val($0) }
		/^    "pending_transfer_to": / { pe = $0 ~ /null/ ? "-" : val($0)
					       printf "%s\t%s\t%s\t%s\n", id, rc, cu, pe }'
}

need_shim() {
	if [ -z "${EVAULT_FAULTINJECT:-}" ] || [ ! -f "$EVAULT_FAULTINJECT" ]; then
		skip_all "EVAULT_FAULTINJECT does not name the fault-injection shim"
	fi
}

# Milliseconds since the epoch.
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}
