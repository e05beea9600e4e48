# shellcheck shell=bash
# bench/lib.sh: helpers shared by evault's benchmarks (sourced, not run).
#
# Timing runs a command with bash's `time` (TIMEFORMAT, millisecond
# resolution), its output going to the benchmark's log; every contender
# is prepared the same way before each timed run (prep: flush dirty pages,
# drop the page cache when the kernel lets us, then read the inputs back
# into the cache), so one contender's writeback never lands in another's
# time.  Results are collected as rows of the final table.

BENCH_LOG=${BENCH_LOG:-/dev/null}
CAN_DROP=0

say() {
	printf '%s\n' "$*"
}

die() {
	printf 'bench: %s\n' "$*" >&2
	exit 2
}

# Can this process drop the page cache?  Sets CAN_DROP (BENCH_DROP=0 forbids).
probe_drop_caches() {
	CAN_DROP=0
	[ "${BENCH_DROP:-1}" = 0 ] && return 0
	sync
	if (echo 3 >/proc/sys/vm/drop_caches) 2>/dev/null; then
		CAN_DROP=1
	fi
}

# warm PATH...: read every regular file under PATH into the page cache.
warm() {
	local p
	for p in "$@"; do
		find "$p" -type f -print0 | xargs -0r cat >/dev/null
	done
}

# prep [PATH...]: flush, drop caches if allowed, then warm PATH....
prep() {
	sync
	if [ "$CAN_DROP" = 1 ]; then
		echo 3 >/proc/sys/vm/drop_caches
	fi
	warm "$@"
}

# cpu_busy_s: CPU seconds the whole machine has spent busy since boot
# (user, nice, system, irq, softirq, steal; not idle or iowait).
cpu_busy_s() {
	awk -v hz="$(getconf CLK_TCK)" '/^cpu / {
		printf "%.2f\n", ($2 + $3 + $4 + $7 + $8 + $9) / hz; exit }' /proc/stat
}

# wait_idle: wait up to $BENCH_WAIT_IDLE seconds (default 0) for the other
# processes on the machine to leave the CPUs alone (under 10% busy over one
# second), so that they do not land in a contender's time.
wait_idle() {
	local waited=0 a b
	while [ "$waited" -lt "${BENCH_WAIT_IDLE:-0}" ]; do
		a=$(cpu_busy_s)
		sleep 1
		b=$(cpu_busy_s)
		awk -v a="$a" -v b="$b" -v n="$(nproc)" 'BEGIN { exit !((b - a) / n < 0.10) }' &&
			return 0
		waited=$((waited + 1))
	done
}

# timed CMD...: run CMD once, output appended to $BENCH_LOG.  Sets T_REAL,
# T_USER, T_SYS (seconds) and T_OTHER: CPU seconds the rest of the machine
# (other processes, kernel write-back threads) used meanwhile, a measure
# of how disturbed the run was.  A failing command stops the benchmark: a
# time for a run that did not do its job means nothing.
# shellcheck disable=SC2034
timed() {
	local tf rc=0 line b0 b1
	wait_idle
	tf=$(mktemp "${TMPDIR:-/tmp}/bench-time.XXXXXX")
	printf '\n$ %s\n' "$*" >>"$BENCH_LOG"
	b0=$(cpu_busy_s)
	{
		TIMEFORMAT='%3R %3U %3S'
		time "$@" >>"$BENCH_LOG" 2>&1
	} 2>"$tf" || rc=$?
	b1=$(cpu_busy_s)
	line=$(tail -n 1 "$tf")
	rm -f "$tf"
	if [ "$rc" != 0 ]; then
		tail -n 20 "$BENCH_LOG" >&2
		die "'$*' failed (exit $rc); see the log above"
	fi
	read -r T_REAL T_USER T_SYS <<<"$line"
	T_OTHER=$(awk -v a="$b0" -v b="$b1" -v u="$T_USER" -v s="$T_SYS" \
		'BEGIN { o = b - a - u - s; printf "%.2f\n", o < 0 ? 0 : o }')
	printf '# real %s user %s sys %s, others %s cpu-s\n' "$T_REAL" "$T_USER" \
		"$T_SYS" "$T_OTHER" >>"$BENCH_LOG"
	SUM_REAL=$(calc "$SUM_REAL + $T_REAL")
	SUM_OTHER=$(calc "$SUM_OTHER + $T_OTHER")
}
SUM_REAL=0
SUM_OTHER=0

# contention_note: how much of the machine others took during the timed
# runs, on average (in cores), with a warning when it spoils the figures.
contention_note() {
	local cores
	[ "$SUM_REAL" != 0 ] || return 0
	cores=$(calc "$SUM_OTHER / $SUM_REAL")
	say "Contention: other processes used $cores of $(nproc) cores on average during the timed runs."
	if awk -v c="$cores" 'BEGIN { exit !(c > 0.25) }'; then
		say "WARNING: the machine was busy; times of CPU-bound contenders (evault, sha256sum, restic)"
		say "are inflated far more than cp's. Re-run on an idle machine (or with BENCH_WAIT_IDLE)."
	fi
}

# median X...: the median of the numbers given (the middle one, or the
# mean of the two middle ones).
median() {
	printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
		END { if (NR % 2) print a[(NR + 1) / 2];
		      else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# calc EXPR: floating-point arithmetic through awk, 3 decimals.
calc() {
	awk "BEGIN { printf \"%.3f\n\", $* }"
}

# verdict VALUE OP LIMIT: PASS or MISS (OP is <= , < or >=).
verdict() {
	if awk -v a="$1" -v b="$3" -v op="$2" 'BEGIN {
		ok = (op == "<=") ? a <= b : (op == "<") ? a < b : a >= b
		exit !ok }'; then
		echo PASS
	else
		echo MISS
	fi
}

# Rows of the final table.
ROWS=()

# row CASE EVAULT PEER RATIO TARGET VERDICT CPU
row() {
	local IFS=$'\x1f' # not white space: empty fields stay fields
	ROWS+=("$*")
}

print_table() {
	local r
	local f='%-46s %11s %10s %6s %9s  %-11s %s\n'
	# shellcheck disable=SC2059
	printf "$f" case evault peer ratio target result cpu-s
	# shellcheck disable=SC2059
	printf "$f" ---- ------ ---- ----- ------ ------ -----
	for r in "${ROWS[@]}"; do
		IFS=$'\x1f' read -r c e p ra t v cpu <<<"$r"
		# shellcheck disable=SC2059
		printf "$f" "$c" "$e" "$p" "$ra" "$t" "$v" "$cpu"
	done
}

# bytes_of PATH...: total size in bytes of the regular files under PATH.
bytes_of() {
	find "$@" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d\n", s }'
}
