#!/bin/sh
# fuzz.sh: build evault's libFuzzer targets (fuzz/fuzz_<target>.c) with
# clang -fsanitize=fuzzer,address,undefined, straight from the sources
# (vault/*.c, no meson), and run each for FUZZ_SECONDS, seeded from
# fuzz/seeds/<target>/.  It prints, per target, what it tried (inputs run,
# coverage reached, corpus size) and what survived; any crash, leak,
# timeout or out-of-memory input is copied to fuzz/regress-pending/<target>/
# and the script fails.  fuzz/README.md says what to do with those.
#
#   scripts/fuzz.sh                       every target, 30 s each (CI)
#   FUZZ_SECONDS=3600 scripts/fuzz.sh note   the long run of one target
#   scripts/fuzz.sh --list                the targets
#   scripts/fuzz.sh --make-seeds [TARGET...]
#                                         rewrite fuzz/seeds/<target>/ (the
#                                         targets' own seeds, and seeds made
#                                         with the evault binary)
#
# Environment:
#   FUZZ_SECONDS   seconds per target (default 30)
#   FUZZ_WORK      build and working directory (default build-libfuzzer):
#                  the corpus each run grows is kept in FUZZ_WORK/corpus/
#                  and reused by the next run, so long runs add up
#   EVAULT_CORPUS  the shared media corpus (default ../shared/corpus): when
#                  present, the first 4 KiB of each file seed `sniff`, each
#                  file (its first 1 MiB) seeds `media`, and `object` adds
#                  small media files to its fixture vault
#   FUZZ_KEEP_GOING  set to 1 to go on after a crash (libFuzzer's fork
#                  mode, ignoring crashes, timeouts and out-of-memory
#                  inputs): a long run then collects every distinct failure
#                  it meets instead of stopping at the first
#   FUZZ_TMP       where the targets make their scratch directories
#                  (default: a directory in /dev/shm made for the run)
#   CC             the compiler (default clang)
set -eu

cd "$(dirname "$0")/.."
SRC=$(pwd)
TARGETS="note vkey checkpoint proof witness identity catalog record keyslot sniff object media probedoc cert"
: "${FUZZ_SECONDS:=30}"
: "${FUZZ_WORK:=build-libfuzzer}"
: "${CC:=clang}"
: "${EVAULT_CORPUS:=$SRC/../shared/corpus}"
case $FUZZ_WORK in /*) ;; *) FUZZ_WORK=$SRC/$FUZZ_WORK ;; esac
KEEP_GOING=
if [ "${FUZZ_KEEP_GOING:-0}" != 0 ]; then
	KEEP_GOING="-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1"
fi
export EVAULT_CORPUS

die() {
	echo "fuzz.sh: $*" >&2
	exit 2
}

mode=run
case ${1:-} in
--list)
	for t in $TARGETS; do echo "$t"; done
	exit 0
	;;
--make-seeds)
	mode=seeds
	shift
	;;
-h | --help)
	sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
	exit 0
	;;
-*)
	die "unknown option '$1' (try --help)"
	;;
esac
want=${*:-$TARGETS}
for t in $want; do
	case " $TARGETS " in
	*" $t "*) ;;
	*) die "no fuzz target '$t' (targets: $TARGETS)" ;;
	esac
done

# --- Toolchain -------------------------------------------------------------
command -v "$CC" >/dev/null 2>&1 ||
	die "'$CC' not found: install clang and libFuzzer (Debian: apt-get install clang libclang-rt-14-dev)"
command -v pkg-config >/dev/null 2>&1 || die "pkg-config not found"
DEPS=$(pkg-config --cflags libsodium libcrypto jansson) ||
	die "libsodium, libcrypto or jansson development files missing"
LIBS="$(pkg-config --libs libsodium libcrypto jansson) -lpthread"
mkdir -p "$FUZZ_WORK/obj" "$FUZZ_WORK/bin" "$FUZZ_WORK/logs"
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' \
	>"$FUZZ_WORK/probe.c"
"$CC" -fsanitize=fuzzer,address,undefined "$FUZZ_WORK/probe.c" \
	-o "$FUZZ_WORK/probe" >"$FUZZ_WORK/logs/probe.log" 2>&1 ||
	die "'$CC -fsanitize=fuzzer,address,undefined' does not link (see $FUZZ_WORK/logs/probe.log): install libFuzzer (Debian: apt-get install libclang-rt-14-dev)"

SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
CFLAGS="-std=c11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -DEVAULT_VERSION=\"fuzz\" -I$SRC -Wall -Wextra -Wno-unused-parameter $DEPS"

# The media parsers (vault/media/*.c but the probe's main) and their
# libraries, for the media target only.
MEDIA_PKGS="libexif libavformat libavcodec libavutil libswscale libheif libseccomp"
case " $want " in
*" media "*)
	# shellcheck disable=SC2086
	MEDIA_DEPS=$(pkg-config --cflags $MEDIA_PKGS) ||
		die "the media target needs the development files of $MEDIA_PKGS"
	# shellcheck disable=SC2086
	MEDIA_LIBS="$(pkg-config --libs $MEDIA_PKGS) -lmagic -lm"
	;;
esac

# --- Build: the library and the shared helpers once, then each target -----
echo "fuzz.sh: building in $FUZZ_WORK"

# compile FLAGS HEADERS SOURCE...: (re)compile each source whose object is
# older than it or than one of the headers; print the objects' names.
compile() {
	flags=$1 hdrs=$2
	shift 2
	for src in "$@"; do
		o=$FUZZ_WORK/obj/$(basename "$(dirname "$src")")-$(basename "$src" .c).o
		stale=no
		[ -f "$o" ] || stale=yes
		for dep in "$src" $hdrs; do
			[ "$stale" = yes ] || [ ! "$dep" -nt "$o" ] || stale=yes
		done
		if [ "$stale" = yes ]; then
			# shellcheck disable=SC2086
			"$CC" $CFLAGS $flags $SAN -fsanitize=fuzzer-no-link -c "$src" -o "$o" >&2 ||
				die "cannot compile $src"
		fi
		echo "$o"
	done
}
headers=$(ls "$SRC"/vault/*.h "$SRC"/fuzz/fuzz.h)
objs=$(compile "" "$headers" "$SRC"/vault/*.c "$SRC"/fuzz/common.c)
media_objs=
case " $want " in
*" media "*)
	media_objs=$(compile "$MEDIA_DEPS" "$headers $SRC/vault/media/media.h" \
		"$SRC"/vault/media/*.c)
	;;
esac
for t in $want; do
	extra_objs='' extra_flags='' extra_libs=''
	if [ "$t" = media ]; then
		extra_objs=$media_objs extra_flags=$MEDIA_DEPS extra_libs=$MEDIA_LIBS
	fi
	# shellcheck disable=SC2086
	"$CC" $CFLAGS $extra_flags $SAN -fsanitize=fuzzer "$SRC/fuzz/fuzz_$t.c" \
		$objs $extra_objs $LIBS $extra_libs \
		-o "$FUZZ_WORK/bin/fuzz_$t" || die "cannot build fuzz_$t"
done

# --- Seeds ------------------------------------------------------------------
if [ "$mode" = seeds ]; then
	for t in $want; do
		rm -rf "$SRC/fuzz/seeds/$t"
		mkdir -p "$SRC/fuzz/seeds/$t"
		FUZZ_WRITE_SEEDS=$SRC/fuzz/seeds/$t EVAULT_CORPUS= \
			"$FUZZ_WORK/bin/fuzz_$t" >/dev/null 2>"$FUZZ_WORK/logs/seeds-$t.log" ||
			die "fuzz_$t could not write its seeds (see $FUZZ_WORK/logs/seeds-$t.log)"
	done
	"$SRC/fuzz/cli-seeds.sh" "$FUZZ_WORK" $want ||
		die "the seeds made with the evault binary failed"
	for t in $want; do
		echo "fuzz.sh: fuzz/seeds/$t: $(ls "$SRC/fuzz/seeds/$t" | wc -l) seeds"
	done
	exit 0
fi

# --- Runs -------------------------------------------------------------------
# Media seeds (never kept in the repository): the first 4 KiB of every corpus
# file for sniff, and the files themselves, cut at 1 MiB, for media.
if [ -d "$EVAULT_CORPUS" ]; then
	rm -rf "$FUZZ_WORK/media"
	mkdir -p "$FUZZ_WORK/media/sniff" "$FUZZ_WORK/media/object" \
		"$FUZZ_WORK/media/media"
	find "$EVAULT_CORPUS" -type f ! -name MANIFEST.tsv ! -name README.md |
		sort | while IFS= read -r f; do
		name=$(printf '%s' "$f" | sha256sum | cut -c1-16)
		head -c 4096 "$f" >"$FUZZ_WORK/media/sniff/$name"
		head -c 1048576 "$f" >"$FUZZ_WORK/media/media/$name"
	done
	echo "fuzz.sh: media corpus $EVAULT_CORPUS: $(ls "$FUZZ_WORK/media/sniff" | wc -l) files"
else
	echo "fuzz.sh: no media corpus at $EVAULT_CORPUS: sniff, media and object use their own seeds only"
fi

# The targets' scratch directories (fixture vaults, key files) go to one
# directory per run, removed at the end even if a target crashed.
if [ -z "${FUZZ_TMP:-}" ]; then
	shm=/dev/shm
	[ -d "$shm" ] && [ -w "$shm" ] || shm=${TMPDIR:-/tmp}
	FUZZ_TMP=$(mktemp -d "$shm/evault-fuzz-run.XXXXXX")
	export FUZZ_TMP
	trap 'rm -rf "$FUZZ_TMP"' EXIT
	trap 'exit 130' INT TERM
fi

failed=
summary=$FUZZ_WORK/logs/summary.txt
: >"$summary"
for t in $want; do
	corpus=$FUZZ_WORK/corpus/$t
	art=$FUZZ_WORK/artifacts/$t
	log=$FUZZ_WORK/logs/$t.log
	mkdir -p "$corpus" "$art"
	rm -f "$art"/*
	extra=
	dict=
	[ -f "$SRC/fuzz/dict/$t.dict" ] && dict=-dict=$SRC/fuzz/dict/$t.dict
	# media takes whole files (the corpus seeds are up to 1 MiB); the
	# other targets let libFuzzer size inputs from their seeds.
	maxlen=
	[ "$t" = media ] && maxlen=-max_len=1048576
	if [ -d "$FUZZ_WORK/media/$t" ]; then
		extra=$FUZZ_WORK/media/$t
		# fuzz_object writes the objects of the media it adds here
		[ "$t" = object ] && export FUZZ_EXTRA_SEEDS="$extra"
	fi
	echo "fuzz.sh: $t: fuzzing for ${FUZZ_SECONDS} s (log: $log)"
	rc=0
	start=$(date +%s)
	# shellcheck disable=SC2086
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"$FUZZ_WORK/bin/fuzz_$t" -max_total_time="$FUZZ_SECONDS" \
		-timeout=60 -rss_limit_mb=4096 -print_final_stats=1 \
		-artifact_prefix="$art/" $dict $maxlen $KEEP_GOING "$corpus" "$SRC/fuzz/seeds/$t" \
		$extra >"$log" 2>&1 || rc=$?
	secs=$(($(date +%s) - start))
	unset FUZZ_EXTRA_SEEDS
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1 || true)
	[ -n "$runs" ] || runs=$(printf '%s\n' "$last" | sed -n 's/^#\([0-9]*\).*/\1/p')
	cov=$(printf '%s\n' "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	ft=$(printf '%s\n' "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
	corp=$(printf '%s\n' "$last" | sed -n 's/.*corp: \([0-9]*\).*/\1/p')
	found=$(ls "$art" 2>/dev/null | grep -E '^(crash|leak|timeout|oom)-' || true)
	if [ "$rc" -eq 0 ] && [ -z "$found" ]; then
		result="ok, no crash"
	else
		result="FAILED (exit $rc)"
		failed="$failed $t"
		# Keep the first few (a run that goes on after crashes may meet
		# the same bug hundreds of times); the rest stay in $art.
		mkdir -p "$SRC/fuzz/regress-pending/$t"
		n=0
		for f in $found; do
			n=$((n + 1))
			[ "$n" -le 3 ] || continue
			cp "$art/$f" "$SRC/fuzz/regress-pending/$t/$f"
			result="$result; kept fuzz/regress-pending/$t/$f"
		done
		[ "$n" -le 3 ] || result="$result; $((n - 3)) more in $art"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*invariant broken|.*runtime error)' \
			"$log" | head -n 5 | sed 's/^/    /'
	fi
	line=$(printf '%-11s %9s inputs in %4ss, coverage %s edges / %s features, corpus %s: %s' \
		"$t" "${runs:-?}" "$secs" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result")
	echo "$line" | tee -a "$summary"
done

echo
echo "fuzz.sh: summary (also in $summary)"
cat "$summary"
if [ -n "$failed" ]; then
	echo "fuzz.sh: FAILED:$failed (inputs kept in fuzz/regress-pending/; see fuzz/README.md)"
	exit 1
fi
echo "fuzz.sh: every target ran ${FUZZ_SECONDS} s without a crash"
