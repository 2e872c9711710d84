#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Every connection with its status and bandwidth, per region, as an
# aligned table.   usage: report.sh [MOUNTPOINT]
# Exit 0; 3 (after the table of what could be read) when a region or a
# connection could not be read, or came from data the mount cannot vouch
# for (older than its ttl), said on standard error.
set -u
mnt=${1:-/mnt/interlink}
. "$(dirname "$0")/sight.sh"
start=$(date +%s)
if [ ! -r "$mnt/.interlinkfs/version" ]; then
  echo "report: $mnt is not an interlinkfs mount" >&2
  exit 3
fi
errs=$(mktemp)
trap 'rm -f "$errs"' EXIT
{
  printf 'REGION\tNAME\tSTATUS\tMBPS\tID\n'
  for rdir in "$mnt"/regions/*/; do
    rdir=${rdir%/}
    region=$(basename "$rdir")
    if ! ids=$(ls "$rdir/connections" 2>&1); then
      echo "report: cannot read the connections of $region: ${ids##*: }" >>"$errs"
      continue
    fi
    for id in $ids; do
      d=$rdir/connections/$id
      # A file that cannot be read is said (the redirection of stderr
      # comes first, so that a failed open is said too), and its row
      # left out; names may hold tabs or newlines: one line per row.
      if ! name=$(tr '\t\n' '  ' 2>>"$errs" < "$d/name") ||
         ! status=$(cat "$d/status" 2>>"$errs") ||
         ! mbps=$(cat "$d/bandwidth_mbps" 2>>"$errs"); then
        echo "report: $region/connections/$id left out" >>"$errs"
        continue
      fi
      name=${name% }             # the value's final newline
      printf '%s\t%s\t%s\t%s\t%s\n' "$region" "${name:--}" "$status" \
        "$mbps" "$id"
    done | sort -t "$(printf '\t')" -k1,1 -k2,2
  done
} | column -t -s "$(printf '\t')"
sight_check "$start" "$mnt" connections >>"$errs"
if [ -s "$errs" ]; then
  cat "$errs" >&2
  exit 3
fi
