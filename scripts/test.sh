#!/bin/sh
# test.sh: build evault and run its whole test suite three ways, as CI does:
#
#   1. build-ci    warnings are errors; every test (unit + CLI)
#   2. build-asan  AddressSanitizer + UndefinedBehaviorSanitizer; every test
#   3. build-ci    the unit tests again under valgrind memcheck (if valgrind
#                  is installed), Check's fork mode off so valgrind sees
#                  the tests themselves
#   4. fuzz        every libFuzzer target for FUZZ_SECONDS (default 30) each
#                  (scripts/fuzz.sh; needs clang's fuzzer runtime)
#
# Each build directory is made afresh.  Every run goes ahead even if an
# earlier one failed, so one report shows everything; the exit status is 0
# only if every build and every test passed (a test that exits 77, such as
# a corpus test without the corpus, counts as skipped, not failed).
set -eu

cd "$(dirname "$0")/.."

for tool in meson ninja python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "test.sh: '$tool' is missing: run scripts/setup.sh first" >&2
		exit 2
	fi
done

failed_runs=
passed=0
failed=0
skipped=0

# Add the results of a `meson test` run to the totals, from its JSON log
# (meson-logs/testlog.json, or testlog-valgrind.json for a wrapped run).
count() {
	set -- $(python3 - "$1" <<'EOF'
import json, sys
ok = bad = skip = 0
try:
    with open(sys.argv[1]) as f:
        for line in f:
            r = json.loads(line).get("result")
            if r in ("OK", "EXPECTEDFAIL"):
                ok += 1
            elif r == "SKIP":
                skip += 1
            else:
                bad += 1
except FileNotFoundError:
    pass
print(ok, bad, skip)
EOF
)
	passed=$((passed + $1))
	failed=$((failed + $2))
	skipped=$((skipped + $3))
}

# setup_and_build BUILDDIR [meson setup options...]: a fresh build.
setup_and_build() {
	dir=$1
	shift
	rm -rf "$dir"
	meson setup "$dir" --werror -Dtests=true "$@" || return 1
	ninja -C "$dir"
}

banner() {
	echo
	echo "=== test.sh: $* ==="
}

# --- 1. Plain build, warnings as errors ------------------------------------
banner "build-ci: build with warnings as errors, run every test"
if setup_and_build build-ci; then
	if ! meson test -C build-ci --print-errorlogs; then
		failed_runs="$failed_runs plain"
	fi
	count build-ci/meson-logs/testlog.json
	if [ $((passed + failed)) -eq 0 ]; then
		echo "test.sh: no test ran in build-ci" >&2
		failed_runs="$failed_runs no-tests"
	fi
else
	failed_runs="$failed_runs plain-build"
fi

# --- 2. AddressSanitizer + UndefinedBehaviorSanitizer ----------------------
banner "build-asan: ASan + UBSan build, run every test"
if setup_and_build build-asan -Db_sanitize=address,undefined \
	-Db_lundef=false; then
	if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C build-asan --print-errorlogs; then
		failed_runs="$failed_runs asan"
	fi
	count build-asan/meson-logs/testlog.json
else
	failed_runs="$failed_runs asan-build"
fi

# --- 3. Valgrind memcheck of the unit tests --------------------------------
if command -v valgrind >/dev/null 2>&1 && [ -f build-ci/build.ninja ]; then
	banner "build-ci: unit tests under valgrind memcheck"
	# Valgrind makes the key derivation and the crypto tens of times
	# slower: give the tests that much more time.
	if ! CK_FORK=no meson test -C build-ci --suite unit --print-errorlogs \
		--timeout-multiplier 10 \
		--wrap='valgrind --leak-check=full --error-exitcode=1 --errors-for-leak-kinds=definite'; then
		failed_runs="$failed_runs valgrind"
	fi
	count build-ci/meson-logs/testlog-valgrind.json
else
	banner "valgrind not installed (or no build): memcheck run skipped"
fi

# --- 4. A short run of every fuzz target -----------------------------------------
if command -v clang >/dev/null 2>&1; then
	banner "fuzz: every target for ${FUZZ_SECONDS:-30} s"
	if ! FUZZ_SECONDS=${FUZZ_SECONDS:-30} ./scripts/fuzz.sh; then
		failed_runs="$failed_runs fuzz"
	fi
else
	banner "clang not installed: fuzz run skipped"
fi

echo
if [ -n "$failed_runs" ]; then
	echo "test.sh: FAILED:$failed_runs"
else
	echo "test.sh: every build and test run passed"
fi
echo "total: $passed passed, $failed failed, $skipped skipped"
[ -z "$failed_runs" ] && [ "$failed" -eq 0 ]
