#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# "Which BGP sessions are down?" the way a script answers it without
# interlinkfs: curl pages through a region's links, jq picks the sessions.
# Prints the ids of links with a session down, one per line.
#   usage: bgp-down-curl.sh API_URL REGION     (the key in SCW_SECRET_KEY)
set -eu
url=$1 region=$2
page=1
while :; do
  body=$(curl -sf -H "X-Auth-Token: $SCW_SECRET_KEY" \
    "$url/interlink/v1beta1/regions/$region/links?page=$page&page_size=100")
  printf '%s' "$body" | jq -r '.links[] |
    select(.bgp_v4_status == "down" or .bgp_v6_status == "down") | .id'
  n=$(printf '%s' "$body" | jq '.links | length')
  [ "$n" -lt 100 ] && break
  page=$((page + 1))
done
