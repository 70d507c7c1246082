#!/usr/bin/env bash
# Interleaved A/B of tools/bench.py between an earlier commit and the working tree, same machine state:
#   bash tools/bench_compare.sh REV [runs] [bench options...]      e.g. bash tools/bench_compare.sh 94b392c 3 --quick
# Prints one JSON line per run, tagged "old" (REV, from a temporary worktree) or "new".
set -euo pipefail
rev=$1; runs=${2:-3}; shift $(( $# >= 2 ? 2 : 1 ))
root=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-$root/.venv/bin/python}
wt=$(mktemp -d)/old
git -C "$root" worktree add -q --detach "$wt" "$rev"
trap 'git -C "$root" worktree remove --force "$wt"' EXIT
for i in $(seq "$runs"); do
  echo "old $(cd "$wt" && PYTHONPATH="$wt" "$py" tools/bench.py "$@" 2>/dev/null | tail -1)"
  echo "new $(cd "$root" && "$py" tools/bench.py "$@" 2>/dev/null | tail -1)"
done
