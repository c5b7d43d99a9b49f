#!/usr/bin/env bash
# Run one test tier (or lint step), say how long it took, and pass its exit status on.
#
#   scripts/tier.sh "unit tests" .venv/bin/pytest tests/unit
#
# pytest exits 5 when it collected no tests: that is a failure here, never a silent pass.
set -uo pipefail

name="$1"
shift
printf '\n==> %s: %s\n' "$name" "$*"
start=$SECONDS
"$@"
status=$?
took=$((SECONDS - start))
if [ "$status" -eq 0 ]; then
    printf '==> %s: passed in %ss\n' "$name" "$took"
elif [ "$status" -eq 5 ]; then
    printf '==> %s: FAILED: no tests were collected (%ss)\n' "$name" "$took" >&2
else
    printf '==> %s: FAILED (exit status %s) after %ss\n' "$name" "$status" "$took" >&2
fi
exit "$status"
