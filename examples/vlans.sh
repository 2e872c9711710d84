#!/bin/sh
# connection.json with jq: the VLAN range of every connection that has
# one, as "region id start end".   usage: vlans.sh [MOUNTPOINT]
set -eu
mnt=${1:-/mnt/interlink}
cat "$mnt"/regions/*/connections/*/connection.json |
  jq -r 'select(.vlan_range != null)
         | [.region, .id, .vlan_range.start, .vlan_range.end] | @tsv'
