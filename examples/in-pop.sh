#!/bin/sh
# Which connections land in a PoP, given its name (TH2) or display name.
#   usage: in-pop.sh POP [MOUNTPOINT]
set -eu
pop=$1
mnt=${2:-/mnt/interlink}
found=0
for d in "$mnt"/regions/*/connections/*/; do
  [ -e "$d/pop" ] || continue
  if [ "$(cat "$d/pop/name")" = "$pop" ] ||
     [ "$(cat "$d/pop/display_name")" = "$pop" ]; then
    printf '%s\t%s\n' "$(cat "$d/id")" "$(tr '\n' ' ' < "$d/name")"
    found=1
  fi
done
[ "$found" = 1 ] || { echo "no connection in PoP $pop" >&2; exit 1; }
