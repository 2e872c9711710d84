#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Is every connection active? For cron or a monitoring check (Nagios's
# exit codes).   usage: check-active.sh [MOUNTPOINT]
# Exit 0 and "OK: ..." when every connection is active (a region with none
# is fine, and said); 1 with one line per culprit (region, id, status,
# name) when one is not; 3 with "UNKNOWN: ..." when the connections could
# not be read (API down with nothing cached, a revoked key, a region refused
# or not served, no interlinkfs mount there), or were read from data the
# mount cannot vouch for (older than its ttl: the API failing, hanging or
# answering old data), saying how old. Never OK when blind.
set -u
mnt=${1:-/mnt/interlink}
. "$(dirname "$0")/sight.sh"
start=$(date +%s)
if [ ! -r "$mnt/.interlinkfs/version" ]; then
  echo "UNKNOWN: $mnt is not an interlinkfs mount"
  exit 3
fi
unknown=0 bad=0 total=0 empty=
for rdir in "$mnt"/regions/*/; do
  rdir=${rdir%/}
  region=$(basename "$rdir")
  # ls, not a glob: a glob hides a directory that cannot be read.
  if ! ids=$(ls "$rdir/connections" 2>&1); then
    echo "UNKNOWN: cannot read the connections of $region: ${ids##*: }"
    unknown=1
    continue
  fi
  [ -n "$ids" ] || empty="$empty $region"
  for id in $ids; do
    d=$rdir/connections/$id
    if ! status=$(cat "$d/status" 2>&1); then
      echo "UNKNOWN: cannot read $region/connections/$id: ${status##*: }"
      unknown=1
      continue
    fi
    total=$((total + 1))
    [ "$status" = active ] && continue
    if ! name=$(tr '\n' ' ' 2>&1 < "$d/name"); then
      echo "UNKNOWN: cannot read $region/connections/$id/name: ${name##*: }"
      unknown=1
      continue
    fi
    bad=$((bad + 1))
    name=${name% }               # the value's final newline
    printf '%s %s %s "%s"\n' "$region" "$id" "$status" "$name"
  done
done
sight_check "$start" "$mnt" connections || unknown=1
[ "$unknown" = 0 ] || exit 3
[ "$bad" = 0 ] || exit 1
echo "OK: every connection is active ($total connections${empty:+; none in$empty})"
exit 0
