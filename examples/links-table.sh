#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Every link of the account in one table, from one file (tables/links.tsv):
# region, name, status, the two BGP sessions, VLAN and bandwidth, aligned
# by column(1). The columns are picked by their names in the header, so
# the script does not depend on their order.
#   usage: links-table.sh [MOUNTPOINT]
# Exit 0, or 2 when the table cannot be read (the API down with nothing
# cached, a revoked key, no interlinkfs mount there): said on standard
# error, never an empty table.
set -u
mnt=${1:-/mnt/interlink}
if [ ! -r "$mnt/.interlinkfs/version" ]; then
  echo "links-table: $mnt is not an interlinkfs mount" >&2
  exit 2
fi
# Read whole first: a read that fails is an error, not a short table.
if ! table=$(cat "$mnt/tables/links.tsv" 2>&1); then
  echo "links-table: cannot read tables/links.tsv: ${table##*: }" >&2
  exit 2
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
