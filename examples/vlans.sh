#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The VLAN range of every connection that has one, as "region id start
# end", tab-separated, from each connection's vlan_range file (which the
# mount checks: a range the API sent in the wrong shape reads as an I/O
# error, never as half a range).   usage: vlans.sh [MOUNTPOINT]
# Exit 3 when a region or a connection could not be read, or came from
# data the mount cannot vouch for (older than its ttl), said on standard
# error, after printing what could.
set -u
mnt=${1:-/mnt/interlink}
. "$(dirname "$0")/sight.sh"
start=$(date +%s)
if [ ! -r "$mnt/.interlinkfs/version" ]; then
  echo "vlans: $mnt is not an interlinkfs mount" >&2
  exit 3
fi
status=0
for rdir in "$mnt"/regions/*/; do
  rdir=${rdir%/}
  region=$(basename "$rdir")
  if ! ids=$(ls "$rdir/connections" 2>&1); then
    echo "vlans: cannot read the connections of $region: ${ids##*: }" >&2
    status=3
    continue
  fi
  for id in $ids; do
    if ! range=$(cat "$rdir/connections/$id/vlan_range" 2>&1); then
      echo "vlans: cannot read the VLAN range of $region/$id: ${range##*: }" >&2
      status=3
      continue
    fi
    [ -n "$range" ] || continue      # no range
    printf '%s\t%s\t%s\t%s\n' "$region" "$id" "${range%-*}" "${range#*-}"
  done
done
sight_check "$start" "$mnt" connections >&2 || status=3
exit $status
