#!/bin/bash
# The benchmark, from a fresh clone: install what is needed, build
# (optimised), run tests/bench/bench.py, print the tables. Results go to
# tests/bench/RESULTS.md and tests/bench/walk.png. Extra arguments go to
# bench.py (--sizes 100,1000 --runs 3 --latency 20 ...). Needs root and
# /dev/fuse (it mounts, and drops the kernel's caches between samples).
set -eu
cd "$(dirname "$0")/../.."
sh tests/deps.sh
if [ ! -f build-bench/build.ninja ]; then
  meson setup build-bench --buildtype=release >/dev/null
fi
ninja -C build-bench >/dev/null
exec python3 tests/bench/bench.py --build build-bench --out tests/bench "$@"
