# SPDX-License-Identifier: Apache-2.0
# Sourced by the examples (POSIX sh): whether the mount could vouch for
# what they read. Note the time first, read the data (that loads it),
# then ask:
#
#   start=$(date +%s)
#   ... read the data ...
#   sight_check "$start" MOUNT KIND...
#
# It looks up each region's KIND (connections, links, pops, ...) in
# MOUNT/.interlinkfs/health. Status 0 when every one is fresh, and no data
# of it past its ttl was handed to a reader since START (a read that
# waited its grace for a slow API got the old data, though the listing
# may be fresh again by the time health is read); else one line per such
# listing on standard output, and status 3, as a Nagios plugin's UNKNOWN:
#
#   UNKNOWN: fr-par connections are stale (data 95 s old): Connection refused
#   UNKNOWN: fr-par connections: old data was read while this ran
#
# A region the API does not serve is UNKNOWN too (a 404 for a whole API
# looks like an empty account). A listing never read is not looked at.
# Reading health waits on nothing and sends no request itself; it counts
# as watching the mount (the keeper then keeps its listings fresh).
sight_check() {
  _start=$1 _mnt=$2
  shift 2
  if ! _health=$(cat "$_mnt/.interlinkfs/health" 2>&1); then
    echo "UNKNOWN: cannot read $_mnt/.interlinkfs/health: ${_health##*: }"
    return 3
  fi
  printf '%s\n' "$_health" |
    awk -F'\t' -v kinds=" $* " -v ran="$(( $(date +%s) - _start + 1 ))" '
    NR == 1 || !index(kinds, " " $2 " ") { next }
    $3 == "stale" || $3 == "blind" || $3 == "unserved" {
      age = $4 == "-" ? "no data" : "data " $4 " s old"
      printf "UNKNOWN: %s %s are %s (%s): %s\n", $1, $2, $3, age, $6
      bad = 1
      next
    }
    match($6, /old data served [0-9.]+ s ago/) {
      split(substr($6, RSTART + 16), w, " ")
      if (w[1] + 0 <= ran + 0) {
        printf "UNKNOWN: %s %s: old data was read while this ran " \
               "(served %s s ago)\n", $1, $2, w[1]
        bad = 1
      }
    }
    END { exit bad ? 3 : 0 }'
}
