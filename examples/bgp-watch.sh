#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Follow the BGP sessions of every link as they change: each line of the
# journal (.interlinkfs/changes) about a bgp_v4_status or bgp_v6_status,
# with the link's name, as it comes. While it runs, interlinkfs keeps
# every listing fresh (about one request per region and kind per ttl).
#   usage: bgp-watch.sh [MOUNTPOINT]
# Stop it with Ctrl-C. Exit 2 when the mount is not there.
set -u
mnt=${1:-/mnt/interlink}
if [ ! -r "$mnt/.interlinkfs/version" ]; then
  echo "bgp-watch: $mnt is not an interlinkfs mount" >&2
  exit 2
fi
# tail -n 0: from now on. Lines starting with "#" are the journal's
# comments (lines it dropped), said on standard error.
tail -n 0 -f "$mnt/.interlinkfs/changes" |
  while IFS=$'\t' read -r time region kind id field old new; do
    case $time in
      \#*) echo "bgp-watch: $time" >&2; continue ;;
    esac
    [ "$kind" = links ] || continue
    case $field in
      bgp_v4_status|bgp_v6_status) ;;
      *) continue ;;
    esac
    name=$(cat "$mnt/regions/$region/links/$id/name" 2>/dev/null) || name="?"
    printf '%s\t%s\t%s\t%s\t%s\t%s -> %s\n' "$time" "$region" "${name:--}" \
      "$id" "${field%_status}" "${old:--}" "${new:--}"
  done
