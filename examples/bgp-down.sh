#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Which BGP sessions are down, and on which port? Every link with a session
# (IPv4 or IPv6) that is down, one tab-separated line each: region, link
# name, link status, session (v4 or v6), VLAN, the name of the dedicated
# connection it runs on, and that connection's PoP. A hosted link shows
# "-" for the connection and its own PoP; a self-hosted link whose
# connection is not in the mount (a filter such as -o status= hides it)
# shows the connection's id, and its own PoP.
#   usage: bgp-down.sh [MOUNTPOINT]
# Exit 1 when a session is down, 0 when none is, 3 when something could
# not be read (the API down with nothing cached, a revoked key, a region
# refused or not served, a file that reads as an error, no interlinkfs
# mount there) or came from data the mount cannot vouch for (older than
# its ttl): said on standard error ("UNKNOWN: ...", with how old), after
# the lines it could write, where "?" stands for what it could not read.
# Never 0 when blind.
set -u
mnt=${1:-/mnt/interlink}
. "$(dirname "$0")/sight.sh"
start=$(date +%s)
if [ ! -r "$mnt/.interlinkfs/version" ]; then
  echo "bgp-down: $mnt is not an interlinkfs mount" >&2
  exit 3
fi
unknown=0 down=0

# value FILE: the file's value on one line (newlines and tabs become
# spaces, empty is "-") into $val; "?", a line on standard error with the
# reason, and a non-zero status when it cannot be read.
value() {
  # 2>&1 first: a file that cannot even be opened is said too.
  if ! val=$(tr '\n\t' '  ' 2>&1 < "$1"); then
    echo "bgp-down: cannot read ${1#"$mnt"/}: ${val##*: }" >&2
    unknown=1
    val="?"
    return 1
  fi
  val=${val% }
  val=${val:--}
}

printf 'REGION\tLINK\tSTATUS\tSESSION\tVLAN\tCONNECTION\tPOP\n'
for rdir in "$mnt"/regions/*/; do
  rdir=${rdir%/}
  region=$(basename "$rdir")
  # ls, not a glob: a glob hides a directory that cannot be read.
  if ! ids=$(ls "$rdir/links" 2>&1); then
    echo "bgp-down: cannot read the links of $region: ${ids##*: }" >&2
    unknown=1
    continue
  fi
  for id in $ids; do
    [ "$id" = by-name ] && continue
    d=$rdir/links/$id
    value "$d/bgp_v4_status" || continue
    v4=$val
    value "$d/bgp_v6_status" || continue
    v6=$val
    for session in v4 v6; do
      eval "status=\$$session"
      [ "$status" = down ] || continue
      down=$((down + 1))
      # The connection it runs on (its symbolic link names it) and that
      # connection's PoP; for a hosted link, or a connection the mount
      # does not show, the link's own PoP.
      if [ -L "$d/connection" ] && [ -e "$d/connection" ]; then
        value "$d/connection/name"
        conn=$val
        if [ -L "$d/connection/pop" ]; then
          value "$d/connection/pop/display_name"
          pop=$val
        elif value "$d/connection/pop_id"; then
          pop=-                        # the connection has no PoP
        else
          pop="?"
        fi
      else
        if [ -L "$d/connection" ]; then
          # Not there: hidden by a filter, or gone? Only a listing of
          # the connections that reads tells.
          if ! err=$(ls "$rdir/connections" 2>&1 >/dev/null); then
            echo "bgp-down: cannot read the connections of $region: ${err##*: }" >&2
            unknown=1
            conn="?"
          else
            value "$d/connection_id"
            conn=$val
          fi
        else
          conn=-
        fi
        if [ -L "$d/pop" ]; then
          value "$d/pop/display_name"
          pop=$val
        elif value "$d/pop_id"; then
          pop=-
        else
          pop="?"
        fi
      fi
      value "$d/name"
      name=$val
      value "$d/status"
      lstatus=$val
      value "$d/vlan"
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$region" "$name" "$lstatus" \
        "$session" "$val" "$conn" "$pop"
    done
  done
done
sight_check "$start" "$mnt" links connections pops >&2 || unknown=1
[ "$unknown" = 0 ] || exit 3
[ "$down" = 0 ] || exit 1
exit 0
