#!/bin/sh
# connection.json with jq: the VLAN range of every connection that has
# one, as "region id start end".   usage: vlans.sh [MOUNTPOINT]
# Exit 2 when a region or a connection could not be read (said on
# standard error), after printing what could.
set -u
mnt=${1:-/mnt/interlink}
if [ ! -r "$mnt/.interlinkfs/version" ]; then
  echo "vlans: $mnt is not an interlinkfs mount" >&2
  exit 2
fi
status=0
for rdir in "$mnt"/regions/*/; do
  if ! ids=$(ls "$rdir/connections" 2>&1); then
    echo "vlans: cannot read the connections of $(basename "$rdir"): ${ids##*: }" >&2
    status=2
    continue
  fi
  for id in $ids; do
    jq -r 'select(.vlan_range != null)
           | [.region, .id, .vlan_range.start, .vlan_range.end] | @tsv' \
      "$rdir/connections/$id/connection.json" || status=2
  done
done
exit $status
