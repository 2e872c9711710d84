#!/bin/sh
# Exit 1 and print the culprits when any connection is not active (for
# cron or a monitoring check).   usage: check-active.sh [MOUNTPOINT]
set -eu
mnt=${1:-/mnt/interlink}
bad=$(grep -rLx active "$mnt"/regions/*/connections/*/status || true)
if [ -z "$bad" ]; then
  echo "OK: every connection is active"
  exit 0
fi
echo "$bad" | while read -r f; do
  d=$(dirname "$f")
  printf '%s %s %s "%s"\n' "$(cat "$d/region")" "$(cat "$d/id")" \
    "$(cat "$f")" "$(tr '\n' ' ' < "$d/name")"
done
exit 1
