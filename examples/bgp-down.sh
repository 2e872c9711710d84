#!/bin/sh
# Which BGP sessions are down, and on which port? Every link with a session
# (IPv4 or IPv6) that is down, one tab-separated line each: region, link
# name, link status, session (v4 or v6), VLAN, and the name and PoP of the
# dedicated connection it runs on ("-" for a hosted link, whose PoP is the
# link's own).
#   usage: bgp-down.sh [MOUNTPOINT]
# Exit 1 when a session is down, 0 when none is, 2 when the links could not
# be read (API down with nothing cached, a revoked key, a region refused or
# not served, no interlinkfs mount there). Never 0 when blind.
set -u
mnt=${1:-/mnt/interlink}
if [ ! -r "$mnt/.interlinkfs/version" ]; then
  echo "bgp-down: $mnt is not an interlinkfs mount" >&2
  exit 2
fi
unknown=0 down=0

# A file's value on one line: newlines and tabs become spaces, empty "-".
value() {
  v=$(tr '\n\t' '  ' < "$1" 2>/dev/null) || return 1
  v=${v% }
  printf '%s' "${v:--}"
}

printf 'REGION\tLINK\tSTATUS\tSESSION\tVLAN\tCONNECTION\tPOP\n'
for rdir in "$mnt"/regions/*/; do
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
    if ! v4=$(cat "$d/bgp_v4_status" 2>&1) ||
       ! v6=$(cat "$d/bgp_v6_status" 2>&1); then
      echo "bgp-down: cannot read $region/links/$id" >&2
      unknown=1
      continue
    fi
    for session in v4 v6; do
      eval "status=\$$session"
      [ "$status" = down ] || continue
      down=$((down + 1))
      # The connection it runs on, through the link's symbolic link;
      # its PoP, or the link's own for a hosted link.
      if [ -L "$d/connection" ]; then
        conn=$(value "$d/connection/name") || conn=-
        pop=$(value "$d/connection/pop/display_name") || pop=-
      else
        conn=-
        pop=$(value "$d/pop/display_name") || pop=-
      fi
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$region" \
        "$(value "$d/name")" "$(value "$d/status")" "$session" \
        "$(value "$d/vlan")" "$conn" "$pop"
    done
  done
done
[ "$unknown" = 0 ] || exit 2
[ "$down" = 0 ] || exit 1
exit 0
