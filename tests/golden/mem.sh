#!/bin/sh
# Memory stays flat when the input grows but the active sources do not:
# `scanlab detect` with every rule family on (tests/bench/all-rules.json)
# over a generated blob of N tuples and one of 2N at the same flow rate;
# the larger run's peak RSS must be within 10% of the smaller's. The inputs
# span 100 and 200 minutes (about 4,000 tuples a minute), long enough for
# every table to reach its steady size in the smaller one. The scanlab
# preset's 1-hour slowscan rule is off here: its steady size would take
# inputs of several hours, too slow for `make test`.
# Skipped (with a line saying so) when SCANLAB_MEM_SKIP=1: a sanitizer's
# quarantine grows with allocations, which is not ours to measure.
set -u
cd "$(dirname "$0")/../.." || exit 2
: "${SCANLAB:=build/release/scanlab}"
: "${SCANLAB_TOOLS:=build/release}"
if [ "${SCANLAB_MEM_SKIP:-}" = 1 ]; then
    echo "mem: skipped (SCANLAB_MEM_SKIP=1)"
    exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/scanlab-mem.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
kib() {
    "$SCANLAB_TOOLS/genflows" bench "$tmp/in.json" "$1" 3 2>/dev/null || return 1
    "$SCANLAB_TOOLS/peakrss" "$SCANLAB" detect -q --config tests/bench/all-rules.json --set slowscan.enabled=false \
        "$tmp/in.json" >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; return 1; }
    sed -n 's/^peakrss: \([0-9]*\) KiB maxrss.*/\1/p' "$tmp/err"
}
a=$(kib 400000) && b=$(kib 800000) || { echo "FAIL mem: a run failed"; exit 1; }
if [ "$b" -le $((a + a / 10)) ]; then
    echo "mem: 1 passed, 0 failed (peak RSS $a KiB at 400000 tuples, $b KiB at 800000)"
else
    echo "FAIL mem: peak RSS $a KiB at 400000 tuples grew to $b KiB at 800000 (> 10%)"
    exit 1
fi
