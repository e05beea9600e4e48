#!/bin/bash
# fidelity.sh: the probe reads real media as ffprobe and exiftool do, and
# broken media costs nothing but its metadata.
#
# * Every file of the shared corpus ($EVAULT_CORPUS) goes through `evault
#   probe --json`; check-fidelity.py compares each document with what
#   ffprobe and exiftool said about the file (../shared/expected/):
#   container, duration, streams and codecs, width and height, make and
#   model, capture time, GPS place, orientation, rotation.  A difference
#   fails the test unless the checker's table of exceptions explains it.
#   On no file may the probe crash, hang or be stopped by its sandbox.
# * Every file of broken/ is ingested into a fresh vault: each is held and
#   can be shown, the vault verifies, and the probe errors recorded with
#   them are listed.
set -eu
. "$(dirname "$0")/lib.sh"

if [ -z "${EVAULT_CORPUS:-}" ] || [ ! -d "$EVAULT_CORPUS" ]; then
	skip_all "no media corpus (EVAULT_CORPUS='${EVAULT_CORPUS:-}')"
fi
EXPECTED=${EVAULT_EXPECTED:-$EVAULT_CORPUS/../expected}
[ -d "$EXPECTED" ] || skip_all "no ffprobe/exiftool output beside the corpus ($EXPECTED)"
[ -d "$EVAULT_CORPUS/broken" ] || skip_all "the corpus has no broken/ folder"
command -v python3 >/dev/null || skip_all "python3 not installed"
CHECK=$(dirname "$0")/check-fidelity.py

# probe_failures JSON: "path: error" for each error that says the probe
# itself died (formats.md 19), in `probe --json` or `ls --json` output.
probe_failures() {
	python3 - "$1" <<-'EOF'
	import json, sys
	bad = ("probe killed", "timed out", "forbidden system call", "broke its protocol")
	for d in json.load(open(sys.argv[1], encoding="utf-8")):
	    errs = d.get("errors") or []
	    if d.get("probe_error"):
	        errs = errs + [d["probe_error"]]
	    for e in errs:
	        if any(b in e for b in bad):
	            print("%s: %s" % (d.get("path"), e))
	EOF
}

# --- every corpus file, against ffprobe and exiftool ---------------------------
files=()
while IFS= read -r -d '' f; do
	files+=("$f")
done < <(find "$EVAULT_CORPUS" -type f ! -name MANIFEST.tsv ! -name README.md -print0 | sort -z)
[ "${#files[@]}" -gt 0 ] || fail "no files in $EVAULT_CORPUS"

# Exit 1 only says that some file has a probe error: broken/ has several.
run "$EVAULT" probe --json "${files[@]}"
[ "$RC" -le 1 ] || fail "evault probe exited $RC on the corpus"
cp "$OUT" "$T/probe.json"
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$T/probe.json")
[ "$n" -eq "${#files[@]}" ] || fail "evault probe gave $n documents for ${#files[@]} files"
probe_failures "$T/probe.json" >"$T/died"
if [ -s "$T/died" ]; then
	sed 's/^/  /' "$T/died" >&2
	LAST_CMD=
	fail "the probe crashed, hung or was stopped by its sandbox on $(wc -l <"$T/died") corpus files"
fi
pass "evault probe read all ${#files[@]} corpus files: no crash, no hang, no sandbox kill"

set +e
python3 "$CHECK" "$EVAULT_CORPUS" "$EXPECTED" "$T/probe.json" >"$T/fidelity"
rc=$?
set -e
cat "$T/fidelity"
summary=$(sed -n 's/^# fidelity: //p' "$T/fidelity")
# A mismatch fails the test at the end: the broken files are worth seeing.
fidelity_rc=$rc
[ "$rc" -ne 0 ] || pass "facts as ffprobe and exiftool give them: $summary"

# --- broken files: ingested, held, shown, verified -----------------------------
new_vault
B=$EVAULT_CORPUS/broken
nb=$(find "$B" -type f | wc -l)
run ev ingest "$B"
expect_rc 0 "ingest of the broken files failed"
[ "$(count_items)" -eq "$nb" ] || fail "$nb broken files, $(count_items) held"
for id in $(ids); do
	run ev show "$id"
	expect_rc 0 "show $id failed"
	run ev show --json "$id"
	expect_rc 0 "show --json $id failed"
done
run ev verify
expect_rc 0 "the vault holding the broken files does not verify"
ev ls --json >"$T/ls.json"
probe_failures "$T/ls.json" >"$T/died"
if [ -s "$T/died" ]; then
	sed 's/^/  /' "$T/died" >&2
	LAST_CMD=
	fail "the probe crashed, hung or was stopped by its sandbox on broken files"
fi
# What the probe found wrong with each broken file, beside what ffprobe
# and exiftool said of it (expected/SUMMARY.tsv): for reading, not judged.
python3 - "$T/ls.json" "$EVAULT_CORPUS" "$EXPECTED/SUMMARY.tsv" <<-'EOF'
import csv, json, os, sys
ref = {}
try:
    with open(sys.argv[3], encoding="utf-8", newline="") as fp:
        for r in csv.DictReader(fp, delimiter="\t"):
            ref[r["relpath"]] = r
except (OSError, KeyError):
    pass
for d in json.load(open(sys.argv[1], encoding="utf-8")):
    rel = os.path.relpath(d.get("path") or "?", sys.argv[2])
    e = d.get("probe_error")
    r = ref.get(rel, {})
    ff = r.get("ffprobe_status", "?")
    if r.get("ffprobe_stderr"):
        ff += " (%s)" % r["ffprobe_stderr"].split(" | ")[0][:60]
    ex = r.get("exiftool_status", "?")
    if r.get("exiftool_Error") or r.get("exiftool_Warning"):
        ex += " (%s)" % (r.get("exiftool_Error") or r.get("exiftool_Warning"))[:60]
    print("# %s\n#     probe: %s\n#     ffprobe: %s; exiftool: %s"
          % (rel, "error: " + e if e else "no error", ff, ex))
EOF
with=$(python3 -c 'import json,sys; print(sum(1 for d in json.load(open(sys.argv[1])) if d.get("probe_error")))' "$T/ls.json")
pass "$nb broken files ingested, each held and shown, vault verifies ($with with a probe error recorded)"

if [ "$fidelity_rc" -ne 0 ]; then
	grep '^MISMATCH' "$T/fidelity" >&2 || true
	LAST_CMD=
	fail "the probe does not read the corpus as ffprobe and exiftool do (${summary:-checker exit $fidelity_rc})"
fi
