#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run.sh FUZZER SEEDS SECONDS WORKDIR: run a libFuzzer target for a bounded
# time on a copy of its seed corpus (the seeds in the repository are never
# written to). Fails on any crash, leak, timeout or sanitizer report: those
# exit 1, not libFuzzer's default 77, which meson would count as skipped.
set -eu
fuzzer=$1 seeds=$2 seconds=$3 work=$4
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
exec "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -error_exitcode=1 -timeout_exitcode=1 \
  -max_len=65536 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$work/corpus" "$seeds"
