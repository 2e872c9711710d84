# SPDX-License-Identifier: Apache-2.0
# Sourced by the examples (POSIX sh): whether the mount could vouch for
# what they read. Read the data first (that loads it), then ask:
#
#   sight_check MOUNT KIND...
#
# looks up each region's KIND (connections, links, pops, ...) in
# MOUNT/.interlinkfs/health. Status 0 when every one is fresh (or never
# read, or in a region the API does not serve: the read said so itself);
# else one line per listing that is stale or blind, on standard output,
#
#   UNKNOWN: fr-par connections are stale (data 95 s old): Connection refused
#
# and status 3, as a Nagios plugin's UNKNOWN. Reading health costs no
# request.
sight_check() {
  _mnt=$1
  shift
  if ! _health=$(cat "$_mnt/.interlinkfs/health" 2>&1); then
    echo "UNKNOWN: cannot read $_mnt/.interlinkfs/health: ${_health##*: }"
    return 3
  fi
  printf '%s\n' "$_health" | awk -F'\t' -v kinds=" $* " '
    NR > 1 && index(kinds, " " $2 " ") && ($3 == "stale" || $3 == "blind") {
      age = $4 == "-" ? "no data" : "data " $4 " s old"
      printf "UNKNOWN: %s %s are %s (%s): %s\n", $1, $2, $3, age, $6
      bad = 1
    }
    END { exit bad ? 3 : 0 }'
}
