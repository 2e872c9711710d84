#!/bin/sh
# Every connection with its status and bandwidth, per region, as an
# aligned table.   usage: report.sh [MOUNTPOINT]
set -eu
mnt=${1:-/mnt/interlink}
{
  printf 'REGION\tNAME\tSTATUS\tMBPS\tID\n'
  for d in "$mnt"/regions/*/connections/*/; do
    [ -d "$d" ] || continue
    region=$(cat "$d/region")
    # names may hold tabs or newlines: keep the table one line per row
    name=$(tr '\t\n' '  ' < "$d/name")
    printf '%s\t%s\t%s\t%s\t%s\n' "${region:-?}" "${name:--}" \
      "$(cat "$d/status")" "$(cat "$d/bandwidth_mbps")" "$(cat "$d/id")"
  done | sort -t "$(printf '\t')" -k1,1 -k2,2
} | column -t -s "$(printf '\t')"
