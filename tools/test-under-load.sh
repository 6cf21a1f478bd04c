#!/usr/bin/env bash
# npm run test:stress [-- ROUNDS]: the whole suite with CPU hogs beside it (these machines are shared and loaded;
# a test that fails here is a bug, not a flake). HOGS (default 2) busy loops run for the whole time and are killed
# by pid at the end, whatever happens. Ends with the counts of every round and exits non-zero if any round failed.
set -uo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-1}
hogs=${HOGS:-2}
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT
for _ in $(seq "$hogs"); do
  node -e 'for (;;) {}' &
  pids+=($!)
done
echo "test:stress: $hogs CPU hog(s) (pids ${pids[*]}), $rounds round(s), load $(cut -d' ' -f1-3 /proc/loadavg)"
failed_rounds=0
for r in $(seq "$rounds"); do
  log=$(mktemp)
  npm test -- --tap >"$log" 2>&1
  status=$?
  pass=$(grep -E '^# pass [0-9]+' "$log" | tail -1 | awk '{print $3}')
  fail=$(grep -E '^# fail [0-9]+' "$log" | tail -1 | awk '{print $3}')
  echo "round $r: ${pass:-0} passed, ${fail:-0} failed (exit $status, load $(cut -d' ' -f1-3 /proc/loadavg))"
  if [ "$status" -ne 0 ]; then
    failed_rounds=$((failed_rounds + 1))
    grep -E '^not ok' "$log" | head -20
    keep="${TMPDIR:-/tmp}/test-stress-round-$r-$(date +%s).log"
    cp "$log" "$keep" && echo "  full output of round $r: $keep"
  fi
  rm -f "$log"
done
echo "test:stress: $((rounds - failed_rounds)) of $rounds round(s) passed"
[ "$failed_rounds" -eq 0 ]
