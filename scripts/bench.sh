#!/usr/bin/env bash
# Run every bench/*.py script, each with a time limit, and print its figures. Benchmarks
# measure speed and capacity on this machine; they pass or fail nothing by timing.
#
#   SAFECLASS_BENCH_TIMEOUT=300 scripts/bench.sh     (seconds per script; default 600)
set -uo pipefail

cd "$(dirname "$0")/.."
limit="${SAFECLASS_BENCH_TIMEOUT:-600}"
shopt -s nullglob
scripts=(bench/*.py)
if [ ${#scripts[@]} -eq 0 ]; then
    echo "==> No benchmarks yet (bench/*.py): nothing to run."
    exit 0
fi
failed=0
for script in "${scripts[@]}"; do
    printf '\n==> %s (time limit %ss)\n' "$script" "$limit"
    start=$SECONDS
    timeout --kill-after=10 "$limit" .venv/bin/python "$script"
    status=$?
    if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
        echo "==> $script: stopped after the ${limit}s limit." >&2
        failed=1
    elif [ "$status" -ne 0 ]; then
        echo "==> $script: failed (exit status $status)." >&2
        failed=1
    else
        echo "==> $script: done in $((SECONDS - start))s."
    fi
done
exit "$failed"
