#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Follow the BGP sessions of every link as they change: each line of the
# journal (.interlinkfs/changes) about a bgp_v4_status or bgp_v6_status,
# with the link's name, as it comes, "OLD -> NEW" ("-" for an empty
# value). The journal's own lines, when interlinkfs loses sight of a
# listing or sees it again, and when lines were missed, are said on
# standard error as they come: while they say "not seen", no news is not
# good news. While it runs, interlinkfs keeps every listing fresh (about
# one request per region and kind per ttl).
#   usage: bgp-watch.sh [MOUNTPOINT]
# Stop it with Ctrl-C. Exit 3 when the mount is not there, or when the
# journal goes away (the mount gone, the daemon dead).
set -u
mnt=${1:-/mnt/interlink}
if [ ! -r "$mnt/.interlinkfs/version" ]; then
  echo "bgp-watch: $mnt is not an interlinkfs mount" >&2
  exit 3
fi
# The fields are split on the unit separator, not on tabs: read merges
# consecutive tabs (whitespace in IFS), which would shift an empty OLD
# into NEW's place. (In the shell: a filter such as tr between tail and
# the loop would hold lines back in its buffer.)
us=$'\037'
# tail -n 0: from now on.
tail -n 0 -f "$mnt/.interlinkfs/changes" |
  while IFS= read -r line; do
    IFS="$us" read -r time region kind id field old new <<<"${line//$'\t'/$us}"
    case $time in
      \#*) echo "bgp-watch: $time" >&2; continue ;;
      " "*|"") continue ;;    # the rest of a comment on missed lines
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
echo "bgp-watch: the journal went away (is $mnt still mounted?)" >&2
exit 3
