#!/bin/bash
# The README's demo: install what is needed, build, start interlink-sim with
# sample data on 127.0.0.1 and take a short tour of the API it serves.
set -eu
cd "$(dirname "$0")/.."
sh tests/deps.sh --build
for p in curl jq; do command -v $p >/dev/null || sh tests/deps.sh; done
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null

out=$(mktemp)
build/tests/sim/interlink-sim --listen 127.0.0.1:0 --connections 12 \
  --token demo-secret >"$out" &
sim=$!
trap 'kill $sim 2>/dev/null; wait $sim 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 50); do [ -s "$out" ] && break; sleep 0.1; done
url=$(awk '{print $4; exit}' "$out")
api="$url/interlink/v1beta1/regions/fr-par/dedicated-connections"

echo "\$ curl -H 'X-Auth-Token: ...' $api | jq ..."
curl -s -H 'X-Auth-Token: demo-secret' "$api?page_size=1000" |
  jq -r '.connections[] | [.id, .status, .bandwidth_mbps, .name] | @tsv'
