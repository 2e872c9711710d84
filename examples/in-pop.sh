#!/bin/sh
# Which connections land in a PoP, given its name (TH2) or display name.
#   usage: in-pop.sh POP [MOUNTPOINT]
# Exit 0 when some do, 1 when none does, 2 when the connections could not
# all be read (said on standard error): "none" is never said when blind.
set -u
pop=$1
mnt=${2:-/mnt/interlink}
if [ ! -r "$mnt/.interlinkfs/version" ]; then
  echo "in-pop: $mnt is not an interlinkfs mount" >&2
  exit 2
fi
found=0 unknown=0
for rdir in "$mnt"/regions/*/; do
  if ! ids=$(ls "$rdir/connections" 2>&1); then
    echo "in-pop: cannot read the connections of $(basename "$rdir"): ${ids##*: }" >&2
    unknown=1
    continue
  fi
  for id in $ids; do
    d=$rdir/connections/$id
    [ -e "$d/pop" ] || continue   # a connection without a PoP
    if ! name=$(cat "$d/pop/name" 2>&1) ||
       ! display=$(cat "$d/pop/display_name" 2>&1); then
      echo "in-pop: cannot read the PoP of $id: ${name##*: }" >&2
      unknown=1
      continue
    fi
    if [ "$name" = "$pop" ] || [ "$display" = "$pop" ]; then
      printf '%s\t%s\n' "$id" "$(tr '\n' ' ' < "$d/name")"
      found=1
    fi
  done
done
[ "$unknown" = 0 ] || exit 2
[ "$found" = 1 ] || { echo "no connection in PoP $pop" >&2; exit 1; }
