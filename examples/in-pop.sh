#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Which connections land in a PoP, given its name (TH2) or display name.
#   usage: in-pop.sh POP [MOUNTPOINT]
# Exit 0 when some do, 1 when none does, 3 when the connections or the
# PoPs could not all be read, or came from data the mount cannot vouch
# for (older than its ttl; said on standard error, with how old): "none"
# is never said when blind.
set -u
pop=$1
mnt=${2:-/mnt/interlink}
. "$(dirname "$0")/sight.sh"
start=$(date +%s)
if [ ! -r "$mnt/.interlinkfs/version" ]; then
  echo "in-pop: $mnt is not an interlinkfs mount" >&2
  exit 3
fi
found=0 unknown=0

# read_file FILE: its content into $val, or a line on standard error (with
# the reason) and a non-zero status.
read_file() {
  if ! val=$(cat "$1" 2>&1); then
    echo "in-pop: cannot read ${1#"$mnt"/}: ${val##*: }" >&2
    unknown=1
    return 1
  fi
}

for rdir in "$mnt"/regions/*/; do
  rdir=${rdir%/}
  region=$(basename "$rdir")
  # ls, not a glob: a glob hides a directory that cannot be read.
  if ! ids=$(ls "$rdir/connections" 2>&1); then
    echo "in-pop: cannot read the connections of $region: ${ids##*: }" >&2
    unknown=1
    continue
  fi
  # The ids of the region's PoPs of that name, from the PoPs themselves: a
  # PoP that cannot be read is not taken for another one.
  if ! pops=$(ls "$rdir/pops" 2>&1); then
    echo "in-pop: cannot read the PoPs of $region: ${pops##*: }" >&2
    unknown=1
    continue
  fi
  want=
  for p in $pops; do
    read_file "$rdir/pops/$p/name" || continue
    name=$val
    read_file "$rdir/pops/$p/display_name" || continue
    if [ "$name" = "$pop" ] || [ "$val" = "$pop" ]; then
      want="$want $p"
    fi
  done
  [ -n "$want" ] || continue         # no PoP of that name here
  for id in $ids; do
    d=$rdir/connections/$id
    read_file "$d/pop_id" || continue
    case " $want " in
      *" $val "*) ;;
      *) continue ;;     # in another PoP, or none
    esac
    if ! name=$(tr '\n' ' ' 2>&1 < "$d/name"); then
      echo "in-pop: cannot read ${d#"$mnt"/}/name: ${name##*: }" >&2
      unknown=1
      continue
    fi
    name=${name% }               # the value's final newline
    printf '%s\t%s\n' "$id" "${name:--}"
    found=1
  done
done
sight_check "$start" "$mnt" connections pops >&2 || unknown=1
[ "$unknown" = 0 ] || exit 3
[ "$found" = 1 ] || { echo "no connection in PoP $pop" >&2; exit 1; }
