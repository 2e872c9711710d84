#!/bin/bash
# Prove the README's two commands on a freshly bootstrapped Debian 12, as
# root, from a clean clone of this repository.
#
#   bash tests/fresh.sh demo    bash examples/demo.sh </dev/null, in a minbase
#                               root with curl and ca-certificates added (as
#                               stock Debian images have them)
#   bash tests/fresh.sh check   bash tests/check.sh, in a minbase root with
#                               nothing else
#   bash tests/fresh.sh package the Debian package: built with
#                               dpkg-buildpackage and checked by lintian in
#                               one root, then installed, used (by root and
#                               by an ordinary user) and removed in another
#                               (tests/package.sh)
#   bash tests/fresh.sh ci      all three, then the summary line "N passed,
#                               N failed" (what .ci/run does)
#
# The root is made by debootstrap --variant=minbase from the mirror apt on
# this machine already uses, kept in $FRESH_CACHE (default
# /var/cache/interlinkfs-fresh) and copied afresh for every stage, so no
# stage sees what another installed. Every stage is bounded in time, and
# what it mounted and started is unmounted, stopped (by PID) and removed
# (by path) when it ends, whatever happened.
#
# Exit status: 0 passed, 1 failed, 77 when debootstrap itself cannot run
# (the reason is printed; a demo or a test that fails is a failure).
set -u
cd "$(dirname "$0")/.." || exit 1
prog=fresh
. tests/quiet.sh

CACHE=${FRESH_CACHE:-/var/cache/interlinkfs-fresh}
BASE=$CACHE/bookworm-minbase
SUITE=bookworm
root=
results=

say() { printf 'fresh: %s\n' "$*" >&2; }
skip() { say "skipped: $*"; exit 77; }

# The mirror apt uses here: the first URIs of a .sources file that serves
# the suite, else a sources.list line, else Debian's default.
mirror() {
  local f line
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    if grep -qE "^Suites:.*\b$SUITE\b( |$)" "$f"; then
      awk '/^URIs:/ {print $2; exit}' "$f"
      return
    fi
  done
  line=$(grep -hE "^deb +(\[[^]]*\] +)?[a-z]+://[^ ]+ +$SUITE " \
    /etc/apt/sources.list 2>/dev/null | head -1)
  if [ -n "$line" ]; then
    echo "$line" | sed -E 's/^deb +(\[[^]]*\] +)?//' | awk '{print $1}'
    return
  fi
  echo http://deb.debian.org/debian
}

# The cached minbase root, bootstrapped when missing (about 3 minutes).
bootstrap() {
  local m log
  m=$(mirror)
  if [ -f "$BASE/.interlinkfs-base" ] &&
     [ "$(cat "$BASE/.interlinkfs-base")" = "$m" ]; then
    return 0
  fi
  if ! command -v debootstrap >/dev/null 2>&1; then
    quiet "apt-get install debootstrap" \
      env DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap ||
      skip "debootstrap is not installed and could not be installed"
  fi
  say "bootstrapping Debian $SUITE (minbase) from $m into $BASE"
  mkdir -p "$CACHE" || skip "cannot create $CACHE"
  rm -rf --one-file-system "$BASE.tmp" "$BASE"
  log=$CACHE/debootstrap.log
  if ! timeout 1500 debootstrap --variant=minbase "$SUITE" "$BASE.tmp" \
      "$m" >"$log" 2>&1; then
    tail -5 "$log" >&2
    rm -rf --one-file-system "$BASE.tmp"
    skip "debootstrap cannot run here (mirror $m); see above"
  fi
  # apt inside uses the same mirror (and signing keys) as apt here.
  rm -f "$BASE.tmp/etc/apt/sources.list"
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && cp "$f" "$BASE.tmp/etc/apt/sources.list.d/"
  done
  if ! ls "$BASE.tmp"/etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
    echo "deb $m $SUITE main" >"$BASE.tmp/etc/apt/sources.list"
  fi
  echo "$m" >"$BASE.tmp/.interlinkfs-base"
  mv "$BASE.tmp" "$BASE"
}

# Everything below $root, deepest first (FUSE mounts the tests left too).
unmount_all() {
  local m
  awk -v r="$root" '$2 == r || index($2, r "/") == 1 {print $2}' \
    /proc/self/mounts | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || fusermount3 -u -z "$m" 2>/dev/null
  done
}

# Processes whose root directory is the chroot: stopped by PID.
stop_processes() {
  local p sig
  for sig in TERM KILL; do
    for p in /proc/[0-9]*; do
      [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] &&
        kill "-$sig" "${p#/proc/}" 2>/dev/null
    done
    sleep 1
  done
}

cleanup() {
  [ -n "$root" ] || return 0
  stop_processes
  unmount_all
  if grep -q " $root[ /]" /proc/self/mounts; then
    say "something is still mounted under $root: not removed"
  else
    rm -rf --one-file-system "$root"
  fi
  root=
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A /dev of the root's own, as a stock Debian has it: /dev/fuse 0666, so
# that an ordinary user can mount (this machine's may be 0600, and is never
# changed).
own_dev() {
  local d=$root/dev n
  mount -t tmpfs -o mode=0755,nosuid tmpfs "$d" || return 1
  for n in "null c 1 3" "zero c 1 5" "random c 1 8" "urandom c 1 9" \
           "tty c 5 0" "fuse c 10 229"; do
    set -- $n
    mknod -m 0666 "$d/$1" "$2" "$3" "$4" || return 1
  done
  mkdir "$d/pts" "$d/shm" &&
  mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$d/pts" &&
  ln -s pts/ptmx "$d/ptmx" && ln -s /proc/self/fd "$d/fd"
}

# A new root: a copy of the base, with /proc, /sys, /dev, /dev/pts, DNS,
# /etc/mtab (as installed systems have), the CA bundle of this machine for
# node (HTTPS to the npm registry may need it), a shared cache of downloaded
# packages, and a clone of this repository in /src. new_root own-dev gives
# it a /dev of its own (own_dev) instead of this machine's.
new_root() {
  root=$(mktemp -d /var/tmp/interlinkfs-fresh.XXXXXX) || return 1
  cp -a "$BASE/." "$root/" || return 1
  mount -t proc proc "$root/proc" &&
  mount -t sysfs sysfs "$root/sys" || return 1
  if [ "${1:-}" = own-dev ]; then
    own_dev || return 1
  else
    mount --bind /dev "$root/dev" &&
    mount --bind /dev/pts "$root/dev/pts" || return 1
  fi
  mkdir -p "$CACHE/archives/partial"
  mount --bind "$CACHE/archives" "$root/var/cache/apt/archives" || return 1
  cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null
  ln -sf ../proc/self/mounts "$root/etc/mtab"
  if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    cp /etc/ssl/certs/ca-certificates.crt "$root/etc/host-ca.crt"
  fi
  quiet "git clone into the root" git clone -q --no-hardlinks . "$root/src"
}

# in_root SECONDS COMMAND: run COMMAND (bash) inside the root with a clean
# environment, bounded in time.
in_root() {
  local t=$1
  shift
  timeout -k 30 "$t" chroot "$root" /usr/bin/env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 TERM=dumb NODE_EXTRA_CA_CERTS=/etc/host-ca.crt \
    bash -c "$*"
}

# result NAME OK|FAIL|SKIP: recorded for the summary.
result() {
  results="$results$1 $2
"
  say "$1: $2"
}

# The demo, as a new user runs it: it must print the tour.
stage_demo() {
  local log=$CACHE/demo.log
  new_root || { result fresh-demo FAIL; cleanup; return; }
  if ! in_root 600 "apt-get update -q && DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -q --no-install-recommends curl ca-certificates" \
      >"$CACHE/demo-apt.log" 2>&1; then
    cat "$CACHE/demo-apt.log" >&2
    result fresh-demo FAIL
    cleanup
    return
  fi
  in_root 1800 "cd /src && bash examples/demo.sh </dev/null" >"$log" 2>&1
  local rc=$?
  cat "$log"
  if [ $rc -eq 0 ] &&
     awk 'p && /^[0-9]+$/ && $1 > 0 {found=1} {p = /\| wc -l$/}
          END {exit !found}' "$log" &&
     grep -q '^\$ cat .interlinkfs/stats$' "$log" &&
     grep -qE '^api_requests: [1-9][0-9]*$' "$log" &&
     grep -qE '^cache_hits: [0-9]+$' "$log"; then
    result fresh-demo OK
  else
    say "the demo exited with $rc or did not print the tour"
    result fresh-demo FAIL
  fi
  # It built with the build packages alone, and meson said the tests
  # were left out.
  if in_root 60 "! dpkg-query -W -f='\${Status}' libcmocka-dev 2>/dev/null |
       grep -q ' installed' &&
     grep -qE '^ +tests +: off ' /src/build/meson-logs/meson-log.txt"; then
    result fresh-demo-build-without-test-packages OK
  else
    say "cmocka was installed, or meson's summary did not say the tests are off"
    result fresh-demo-build-without-test-packages FAIL
  fi
  cleanup
}

# The package: built in one root, installed, used and removed in another.
stage_package() {
  local log=$CACHE/package.log debs=$CACHE/debs rc
  rm -rf "$debs"
  new_root || { result fresh-package FAIL; cleanup; return; }
  in_root 1800 "cd /src && bash tests/package.sh build /debs" 2>&1 |
    tee "$log"
  rc=${PIPESTATUS[0]}
  if [ "$rc" -ne 0 ] || ! cp -r "$root/debs" "$debs"; then
    result fresh-package-build FAIL
    cleanup
    return
  fi
  result fresh-package-build OK
  cleanup
  new_root own-dev || { result fresh-package-use FAIL; cleanup; return; }
  cp -r "$debs" "$root/debs"
  in_root 1200 "cd /src && bash tests/package.sh use /debs" 2>&1 |
    tee -a "$log"
  case ${PIPESTATUS[0]} in
    0) result fresh-package-use OK ;;
    77) result fresh-package-use SKIP ;;
    *) result fresh-package-use FAIL ;;
  esac
  cleanup
  rm -rf "$debs"
}

# The README's test command, on a root with nothing but minbase.
check_counts=
stage_check() {
  local log=$CACHE/check.log line
  new_root || { result fresh-check FAIL; cleanup; return; }
  in_root 4200 "cd /src && bash tests/check.sh" 2>&1 | tee "$log"
  line=$(tail -1 "$log")
  if echo "$line" | grep -qE '^[0-9]+ passed, [0-9]+ failed'; then
    check_counts=$line
  else
    say "tests/check.sh did not end with its summary line"
    result fresh-check FAIL
  fi
  cleanup
}

# "N passed, N failed[, N skipped]" over the check and the stages.
summary() {
  local p=0 f=0 s=0 n
  if [ -n "$check_counts" ]; then
    p=$(echo "$check_counts" | sed -E 's/^([0-9]+) passed.*/\1/')
    f=$(echo "$check_counts" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    n=$(echo "$check_counts" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p')
    s=${n:-0}
  fi
  p=$((p + $(printf '%s' "$results" | grep -c ' OK$')))
  f=$((f + $(printf '%s' "$results" | grep -c ' FAIL$')))
  s=$((s + $(printf '%s' "$results" | grep -c ' SKIP$')))
  if [ "$s" -gt 0 ]; then
    echo "$p passed, $f failed, $s skipped"
  else
    echo "$p passed, $f failed"
  fi
  [ "$f" -eq 0 ] && [ "$p" -gt 0 ]
}

[ "$(id -u)" = 0 ] || skip "needs root (debootstrap, chroot, mounts)"
case "${1:-ci}" in
  demo) bootstrap; stage_demo ;;
  check) bootstrap; stage_check ;;
  package) bootstrap; stage_package ;;
  ci)
    if ! (bootstrap); then
      # debootstrap cannot run here: the suite still runs, on this machine.
      say "no fresh root: running tests/check.sh here instead"
      result fresh-demo SKIP
      result fresh-package SKIP
      result fresh-check SKIP
      log=$(mktemp /tmp/interlinkfs-check.XXXXXX)
      bash tests/check.sh 2>&1 | tee "$log"
      check_counts=$(tail -1 "$log")
      rm -f "$log"
      summary
      exit
    fi
    stage_demo
    stage_package
    stage_check
    ;;
  *) echo "usage: $0 [demo|check|package|ci]" >&2; exit 2 ;;
esac
summary
