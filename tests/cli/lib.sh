# lib.sh: what evault's CLI tests share.  Sourced (not run) by each
# tests/cli/<name>.sh, after `set -eu`.
#
# It makes a private temporary directory ($T, removed on exit, with any
# clean-up registered through on_exit run first, and background processes
# registered with bg_started killed), a passphrase file ($PF),
# and offers:
#   new_vault [DIR]       create a vault (--kdf interactive) at DIR or $V
#   ev ARGS...            run $EVAULT on $V with $PF
#   run CMD...            run a command, keep stdout in $OUT, stderr in $ERR
#                         and the exit status in $RC (never stops the test)
#   expect_rc N           the last `run` exited with N
#   expect_out / expect_err / expect_any TEXT
#                         the last `run` printed TEXT (fixed string)
#   pass MSG / fail MSG   print "ok - MSG", or print the failure with the
#                         last command's output and exit 1
#   skip_all MSG          exit 77 (the whole test skipped)
#   skip_check MSG        print "SKIP - MSG" for one check and go on
# and small helpers for ids, objects and byte-level damage.
#
# Environment (set by tests/meson.build): EVAULT (the binary under test),
# EVAULT_CORPUS (the shared media corpus, may be absent), EVAULT_SRC.

: "${EVAULT:?EVAULT must name the evault binary to test}"
if [ ! -x "$EVAULT" ]; then
	echo "FAIL: EVAULT='$EVAULT' is not an executable" >&2
	exit 1
fi
# The tests give passphrases and vaults explicitly; nothing from the
# caller's environment may change what they see.
unset EVAULT_PASSPHRASE EVAULT_NEW_PASSPHRASE EVAULT_DIR EVAULT_KEY \
	EVAULT_KEY_PASSPHRASE

TEST_NAME=$(basename "$0" .sh)
T=$(mktemp -d "${TMPDIR:-/tmp}/evault-$TEST_NAME.XXXXXX")
V=$T/vault
PF=$T/passphrase
OUT=$T/.out
ERR=$T/.err
RC=0
LAST_CMD=
printf 'correct horse battery staple\n' >"$PF"

# Every action is signed by a custodian: each test acts as "tester", whose
# key is the only one in its private key folder (so evault finds it), its
# passphrase given through the environment.
export XDG_CONFIG_HOME="$T/config"
export EVAULT_KEY_PASSPHRASE='key passphrase of the tester'
"$EVAULT" key new tester --kdf interactive >"$T/tester.vkey" 2>/dev/null || {
	echo "FAIL: cannot make the test custodian key" >&2
	exit 1
}

_on_exit=""
# Register a shell command to run when the test exits (last first).
on_exit() {
	_on_exit="$1
$_on_exit"
}

# Background processes the test started and has not yet waited for: killed
# on exit.  bg_started PID after `cmd &`; bg_done PID once it was waited for.
_bg_pids=""
bg_started() {
	_bg_pids="$_bg_pids $1"
}
bg_done() {
	_bg_pids=$(printf '%s\n' $_bg_pids | grep -vx "$1" | tr '\n' ' ' || true)
}
# bg_stop PID: kill it, wait for it, forget it.
bg_stop() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	bg_done "$1"
}

_cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	for pid in $_bg_pids; do
		kill "$pid" 2>/dev/null
	done
	while IFS= read -r cmd; do
		[ -n "$cmd" ] && eval "$cmd" >/dev/null 2>&1
	done <<EOF
$_on_exit
EOF
	chmod -R u+rwX "$T" 2>/dev/null
	rm -rf "$T"
	exit $rc
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

pass() {
	echo "ok - $*"
}

note() {
	echo "# $*"
}

# Print what failed, with the last command and its output, and stop.
fail() {
	echo "FAIL - $*" >&2
	if [ -n "$LAST_CMD" ]; then
		echo "  last command: $LAST_CMD" >&2
		echo "  exit status:  $RC" >&2
		if [ -s "$OUT" ]; then
			echo "  stdout:" >&2
			head -n 40 "$OUT" | sed 's/^/    | /' >&2
		fi
		if [ -s "$ERR" ]; then
			echo "  stderr:" >&2
			head -n 40 "$ERR" | sed 's/^/    | /' >&2
		fi
	fi
	exit 1
}

skip_all() {
	echo "SKIP - $*"
	exit 77
}

skip_check() {
	echo "SKIP - $*"
}

# run CMD...: run it (functions too), keep its output and status.
run() {
	LAST_CMD="$*"
	set +e
	"$@" >"$OUT" 2>"$ERR"
	RC=$?
	set -e
}

# ev ARGS...: evault on the test vault with the test passphrase.
ev() {
	"$EVAULT" --vault "$V" --passphrase-file "$PF" "$@"
}

# evq ARGS...: the same, on another vault: evq DIR PASSFILE ARGS...
evq() {
	local dir=$1 pf=$2
	shift 2
	"$EVAULT" --vault "$dir" --passphrase-file "$pf" "$@"
}

expect_rc() {
	[ "$RC" -eq "$1" ] || fail "${2:-expected exit status $1, got $RC}"
}

expect_out() {
	grep -qF -- "$1" "$OUT" || fail "${2:-stdout lacks '$1'}"
}

expect_err() {
	grep -qF -- "$1" "$ERR" || fail "${2:-stderr lacks '$1'}"
}

# TEXT in stdout or stderr.
expect_any() {
	cat "$OUT" "$ERR" | grep -qF -- "$1" || fail "${2:-output lacks '$1'}"
}

expect_no_any() {
	if cat "$OUT" "$ERR" | grep -qF -- "$1"; then
		fail "${2:-output unexpectedly contains '$1'}"
	fi
}

# new_vault [DIR [PASSFILE]]
new_vault() {
	local dir=${1:-$V} pf=${2:-$PF}
	run "$EVAULT" --vault "$dir" --passphrase-file "$pf" init --kdf interactive
	expect_rc 0 "evault init failed in $dir"
}

sha() {
	sha256sum -- "$1" | cut -c1-64
}

# Item ids held by the vault (full 64 hex digits), one a line, in ingest
# order, read from `ls --json` (jansson prints one member a line).
ids_of() {
	evq "$1" "${2:-$PF}" ls --json | sed -n 's/^ *"id": "\([0-9a-f]\{64\}\)",\{0,1\}$/\1/p'
}

ids() {
	ids_of "$V" "$PF"
}

count_items() {
	ids_of "${1:-$V}" "${2:-$PF}" | wc -l
}

count_objects() {
	find "${1:-$V}/objects" -type f | wc -l
}

count_tmp() {
	find "${1:-$V}/tmp" -mindepth 1 | wc -l
}

# In `ingest --json` output ($OUT): the status given for PATH.
json_status() {
	awk -v p="\"path\": \"$1\"," '
		index($0, p) && !got { want = 1; next }
		want && /"status":/ { sub(/.*"status": "/, ""); sub(/".*/, "");
				     print; want = 0; got = 1 }' "$OUT"
}

# ... and the id it gave for PATH.
json_id() {
	awk -v p="\"path\": \"$1\"," '
		index($0, p) && !got { want = 1; next }
		want && /"id":/ { sub(/.*"id": "/, ""); sub(/".*/, "");
				 print; want = 0; got = 1 }
		want && /^ *}/ { want = 0 }' "$OUT"
}

filesize() {
	stat -c %s -- "$1"
}

# flip_byte FILE OFFSET: invert every bit of one byte, in place.
flip_byte() {
	local f=$1 off=$2 b
	b=$(od -An -tu1 -j "$off" -N1 -- "$f" | tr -d ' \n')
	[ -n "$b" ] || fail "flip_byte: $f has no byte at offset $off"
	# shellcheck disable=SC2059
	printf "\\$(printf %03o $((b ^ 255)))" |
		dd of="$f" bs=1 seek="$off" conv=notrunc status=none
}

# write_at FILE OFFSET TEXT: overwrite bytes without changing the size
# (or extending a sparse file).
write_at() {
	printf '%s' "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# Make COUNT files of distinct content in DIR: DIR/f<n>.txt.
make_small_files() {
	local dir=$1 count=$2 i=1
	mkdir -p "$dir"
	while [ "$i" -le "$count" ]; do
		printf 'small file %d of %s\n' "$i" "$dir" >"$dir/f$i.txt"
		i=$((i + 1))
	done
}

# Random bytes (not compressible, not guessable) of SIZE (head -c syntax).
random_file() {
	head -c "$2" /dev/urandom >"$1"
}
