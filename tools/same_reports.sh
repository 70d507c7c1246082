#!/bin/bash
# Regenerate the reports of the named studies from stored runs into a fresh folder and compare them
# byte for byte with reports made earlier from the same runs (a structure change must move no number).
#   tools/same_reports.sh RUNS_DIR BASELINE_REPORTS_DIR name [name ...]
# Exit 0 when every report is identical, 1 otherwise (the differing files are listed).
set -u
runs=$1; base=$2; shift 2
here=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-$here/.venv/bin/python}
out=$(mktemp -d)
status=0
for name in "$@"; do
  if ! "$py" -m cinit_tf.report "$runs/$name" --reports "$out" > /dev/null 2> "$out/$name.err"; then
    echo "$name: the report failed: $(tail -1 "$out/$name.err")"; status=1; continue
  fi
  # links to docs/method.md depend on where the code that wrote a report sits: compared without them
  norm() { sed -E 's#\]\([./a-zA-Z_-]*docs/method\.md#](METHOD#g' "$1"; }
  diff -rq -x README.md "$base/$name" "$out/$name" > "$out/$name.diff"
  diff <(norm "$base/$name/README.md") <(norm "$out/$name/README.md") >> "$out/$name.diff"
  if [ ! -s "$out/$name.diff" ]; then
    echo "$name: identical"
  else
    echo "$name: DIFFERS"; head -20 "$out/$name.diff" | sed 's/^/  /'; status=1
  fi
done
rm -rf "$out"
exit $status
