#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark: listing one region with api/ (examples/interlinkctl) against
# interlink-sim with added latency, pages fetched concurrently versus one at
# a time, in the same run. Prints a Markdown table.
#
#   bash tests/bench/api-list.sh [BUILD_DIR] [RUNS]
set -eu
build=${1:-build}
runs=${2:-7}
latency=50 n=2500 cap=100
sim="$build/tests/sim/interlink-sim"
ctl="$build/examples/interlinkctl"
[ -x "$sim" ] && [ -x "$ctl" ] || { echo "build first: meson setup $build && ninja -C $build" >&2; exit 1; }

out=$(mktemp)
"$sim" --listen 127.0.0.1:0 --connections $n --max-page-size $cap \
  --latency $latency --token be9c4000-0000-4000-8000-00000000be9c --regions fr-par >"$out" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 100); do [ -s "$out" ] && break; sleep 0.05; done
url=$(awk '{print $4; exit}' "$out")

measure() { # PARALLEL -> "ms requests" per run, one per line
  for _ in $(seq "$runs"); do
    SCW_SECRET_KEY=be9c4000-0000-4000-8000-00000000be9c SCW_API_URL=$url SCW_CONFIG_PATH=/nonexistent \
      "$ctl" --time --parallel "$1" ls fr-par 2>&1 >/dev/null |
      awk '/^elapsed_ms/ {print $2, $4}'
  done
}
stats() { # median min max of column 1
  sort -n | awk '{v[NR]=$1; r=$2} END {printf "%.0f %.0f %.0f %d\n", v[int((NR+1)/2)], v[1], v[NR], r}'
}
read -r pm pmin pmax preq < <(measure 8 | stats)
read -r sm smin smax sreq < <(measure 1 | stats)

echo "## api/ list: $n connections, page cap $cap, +${latency} ms per request ($runs runs)"
echo
echo "| pages fetched | requests | median ms | min ms | max ms | vs 6 x latency ($((6 * latency)) ms) |"
echo "|---|---|---|---|---|---|"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
printf '| 8 at a time | %d | %d | %d | %d | %sx |\n' "$preq" "$pm" "$pmin" "$pmax" "$(ratio "$pm" $((6 * latency)))"
printf '| one at a time | %d | %d | %d | %d | %sx |\n' "$sreq" "$sm" "$smin" "$smax" "$(ratio "$sm" $((6 * latency)))"
echo
echo "concurrent / sequential: $(ratio "$pm" "$sm")"
