#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Every link of the account in one table, from one file (tables/links.tsv):
# region, name, status, the two BGP sessions, VLAN and bandwidth, aligned
# by column(1). The columns are picked by their names in the header, so
# the script does not depend on their order.
#   usage: links-table.sh [MOUNTPOINT]
# Exit 0, or 3 when the table cannot be read (the API down with nothing
# cached, a revoked key, no interlinkfs mount there), or comes from data
# the mount cannot vouch for (older than its ttl): said on standard error
# (with how old), after the table; never an empty table.
set -u
mnt=${1:-/mnt/interlink}
. "$(dirname "$0")/sight.sh"
start=$(date +%s)
if [ ! -r "$mnt/.interlinkfs/version" ]; then
  echo "links-table: $mnt is not an interlinkfs mount" >&2
  exit 3
fi
# Read whole first: a read that fails is an error, not a short table.
if ! table=$(cat "$mnt/tables/links.tsv" 2>&1); then
  echo "links-table: cannot read tables/links.tsv: ${table##*: }" >&2
  exit 3
fi
printf '%s\n' "$table" |
  awk -F'\t' -v OFS='\t' '
    NR == 1 {
      n = split("region name status bgp_v4_status bgp_v6_status vlan bandwidth_mbps", want, " ")
      for (i = 1; i <= NF; i++) if (!($i in col)) col[$i] = i
    }
    {
      line = ""
      for (j = 1; j <= n; j++) {
        v = $(col[want[j]])
        line = line (j > 1 ? OFS : "") (v == "" ? "-" : v)
      }
      print line
    }' |
  column -t -s$'\t'
sight_check "$start" "$mnt" links >&2 || exit 3
