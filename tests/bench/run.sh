#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The benchmark, from a fresh clone: install what is needed, build
# (optimised), run tests/bench/bench.py (which sets interlinkfs against
# the floor, tests/bench/floor.py, first), tests/bench/operators.py and
# tests/bench/walk-trace.py, print the tables. Results go to
# tests/bench/RESULTS.md, walk.png, OPERATORS.md and WALK-TRACE.md.
# Needs root and /dev/fuse (it mounts, and drops the kernel's caches
# between samples).
#
#   bash tests/bench/run.sh [--base COMMIT] [bench.py arguments]
#
# --base COMMIT builds that commit too (its sources from git archive, in
# build-bench-base/) and measures both side by side in the same run (the
# floor's rounds included). Other arguments go to bench.py (--sizes
# 100,1000 --runs 3 --latency 20 --floor-sizes 1000 --floor-runs 7
# --compare-sizes 1000,10000 --compare-only ...).
set -eu
cd "$(dirname "$0")/../.."
prog=bench
. tests/quiet.sh
sh tests/deps.sh
base=
if [ "${1:-}" = --base ]; then
  base=$2
  shift 2
fi
if [ ! -f build-bench/build.ninja ]; then
  quiet "configure build-bench" meson setup build-bench --buildtype=release
fi
quiet "build build-bench" ninja -C build-bench
args=()
if [ -n "$base" ]; then
  commit=$(git rev-parse --verify "$base^{commit}")
  dir=build-bench-base/$commit
  if [ ! -f "$dir/build/build.ninja" ]; then
    rm -rf "$dir"
    mkdir -p "$dir/src"
    git archive "$commit" | tar -x -C "$dir/src"
    quiet "configure $base" meson setup "$dir/build" "$dir/src" --buildtype=release
  fi
  quiet "build $base" ninja -C "$dir/build"
  args=(--base "$dir/build" --base-label "$(git log -1 --format='%h %s' "$commit" | cut -c1-60)")
fi
python3 tests/bench/bench.py --build build-bench --out tests/bench "${args[@]}" "$@"
# The operators' view: tables, grep and curl + jq side by side; the cost
# of watching. tests/bench/OPERATORS.md.
python3 tests/bench/operators.py --build build-bench | tee tests/bench/OPERATORS.md
# Where the time of a cold walk goes: tests/bench/WALK-TRACE.md. It needs
# perf and the kernel's fuse tracepoints; without them it says so, exits
# 77, and the last report is kept.
rc=0
python3 tests/bench/walk-trace.py --build build-bench \
  >tests/bench/WALK-TRACE.md.new || rc=$?
if [ $rc -eq 0 ]; then
  mv tests/bench/WALK-TRACE.md.new tests/bench/WALK-TRACE.md
  cat tests/bench/WALK-TRACE.md
else
  cat tests/bench/WALK-TRACE.md.new
  rm -f tests/bench/WALK-TRACE.md.new
  [ $rc -eq 77 ] || exit $rc
fi
