#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The README's demo: install what is needed, build, start interlink-sim (a
# local stand-in for the InterLink API) with sample data on 127.0.0.1, mount
# interlinkfs over it and take a short tour. From a terminal the mount stays
# up until you press Enter; otherwise it is unmounted at once.
#
# Quiet while things work; a step that fails shows its own output, then one
# line naming the step, and the demo exits non-zero.
set -eu
cd "$(dirname "$0")/.."
prog=demo
. tests/quiet.sh

sh tests/deps.sh --build
if [ ! -f build/build.ninja ]; then
  quiet "meson setup build" meson setup build
fi
quiet "ninja -C build" ninja -C build

# The key the simulator accepts: made up, shaped like a Scaleway secret
# key (a UUID).
key=de305d54-75b4-431b-adb2-eb6b9e546014
work=$(mktemp -d /tmp/interlinkfs-demo.XXXXXX)
mnt=$work/mnt
mkdir "$mnt"
sim=
cleanup() {
  if grep -qs " $mnt fuse.interlinkfs " /proc/mounts; then
    fusermount3 -u "$mnt"
  fi
  if [ -n "$sim" ]; then
    kill "$sim" 2>/dev/null || true
    wait "$sim" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
build/tests/sim/interlink-sim --listen 127.0.0.1:0 --connections 12 \
  --regions fr-par,nl-ams --token "$key" >"$work/sim.out" \
  2>"$work/sim.err" &
sim=$!
for _ in $(seq 100); do
  [ -s "$work/sim.out" ] && break
  kill -0 "$sim" 2>/dev/null || break
  sleep 0.05
done
url=$(awk '{print $4; exit}' "$work/sim.out")
if [ -z "$url" ]; then
  cat "$work/sim.err" >&2
  echo "demo: step failed: start interlink-sim" >&2
  exit 1
fi

# Credentials the Scaleway way; the simulator accepts this demo key. What
# the mount saves between runs goes with the demo's other files.
quiet "mount interlinkfs on $mnt" \
  env SCW_SECRET_KEY="$key" SCW_API_URL="$url" \
  SCW_CONFIG_PATH=/nonexistent build/fs/driver/interlinkfs "$mnt" \
  -o regions=fr-par:nl-ams,state_dir="$work/state"

# The examples run as commands, from inside the mount.
PATH=$PWD/examples:$PATH
run() { printf '\n$ %s\n' "$*"; (cd "$mnt" && eval "$@"); }
run ls regions regions/fr-par
run 'ls regions/fr-par/connections | head -3'
id=$(ls "$mnt/regions/fr-par/connections" | head -1)
run cat "regions/fr-par/connections/$id/status"
run cat "regions/fr-par/connections/$id/demarcation_info"
run 'ls -l regions/fr-par/by-name | head -5'
run 'grep -rlx active regions/*/connections/*/status | wc -l'
run 'cat regions/fr-par/connections/*/pop/display_name | sort | uniq -c'
run "ls regions/fr-par/connections/$id/links"
run 'grep -l down regions/*/links/*/bgp_v4_status | wc -l'
run 'bgp-down.sh . | head -4'
run 'cut -f1,3-6 tables/links.tsv | head -4'
run 'grep "bgp_status.*status=\"down\"} 1" .interlinkfs/prometheus/interlink.prom | head -2'
run cat .interlinkfs/stats

if [ -t 0 ]; then
  printf '\ninterlinkfs is mounted on %s (API: %s).\n' "$mnt" "$url"
  printf 'Explore it from another shell; press Enter to unmount.\n'
  read -r _
else
  printf '\nunmounting %s (fusermount3 -u %s)\n' "$mnt" "$mnt"
fi
