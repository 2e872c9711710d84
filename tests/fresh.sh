#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Prove the README's two commands on freshly bootstrapped Debian 12
# (bookworm) and Debian 13 (trixie), as root, from a clean clone of this
# repository.
#
#   bash tests/fresh.sh [STAGE] [RELEASE...]
#
# STAGE:
#   demo      bash examples/demo.sh </dev/null, in a minbase root with curl
#             and ca-certificates added (as stock Debian images have them)
#   check     bash tests/check.sh, in a minbase root with nothing else
#   package   the Debian package: built with dpkg-buildpackage and checked
#             by lintian in one root, then installed, used (by root and by
#             an ordinary user) and removed in another (tests/package.sh)
#   ci        all three (the default; what .ci/run does), then the summary
#             line "N passed, N failed". tests/check.sh runs whole on
#             Debian 13 and only its plain stage on Debian 12: the
#             sanitizers and the fuzzers once, with the newest compilers
#             (docs/development.md says why)
# RELEASE: 12, 13 (the default: both, 13 first).
#
# Each release's root is made by debootstrap --variant=minbase from the
# mirror apt on this machine already uses, kept in $FRESH_CACHE (default
# /var/cache/interlinkfs-fresh) and copied afresh for every stage, so no
# stage sees what another installed. What this script needs itself (git,
# debootstrap) it installs. Every stage is bounded in time, and what it
# mounted and started is unmounted, stopped (by PID) and removed (by path)
# when it ends, whatever happened.
#
# Exit status: 0 passed, 1 failed, 77 when debootstrap itself cannot run
# (the reason is printed; a demo or a test that fails is a failure).
set -u
cd "$(dirname "$0")/.." || exit 1
prog=fresh
. tests/quiet.sh

CACHE=${FRESH_CACHE:-/var/cache/interlinkfs-fresh}
root=
results=
stage_t=0
check_counts=

say() { printf 'fresh: %s\n' "$*" >&2; }
skip() { say "skipped: $*"; exit 77; }

# The Debian release of a number, and back.
suite_of() {
  case $1 in
    12) echo bookworm ;;
    13) echo trixie ;;
    *) return 1 ;;
  esac
}

# The mirrors apt uses here: the first URIs of a deb822 stanza (or a
# sources.list line) whose suites are not -security ones, and of one whose
# are; else Debian's defaults. Printed as "MAIN SECURITY".
mirrors() {
  local main sec
  read -r main sec <<<"$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
    awk 'BEGIN {RS = ""; FS = "\n"}
         { u = ""; sec = 0
           for (i = 1; i <= NF; i++) {
             if ($i ~ /^URIs:/) { split($i, w, " "); u = w[2] }
             if ($i ~ /^Suites:.*-security/) sec = 1
           }
           if (u == "") next
           if (sec && s == "") s = u
           if (!sec && m == "") m = u }
         END { print (m == "" ? "-" : m), (s == "" ? "-" : s) }')"
  [ "$main" = - ] && main=
  [ "$sec" = - ] && sec=
  if [ -z "$main" ]; then
    main=$(grep -hE '^deb +(\[[^]]*\] +)?[a-z]+://' /etc/apt/sources.list \
             2>/dev/null | grep -v -- '-security' | head -1 |
           sed -E 's/^deb +(\[[^]]*\] +)?//' | awk '{print $1}')
  fi
  echo "${main:-http://deb.debian.org/debian} ${sec:-http://deb.debian.org/debian-security}"
}

# What this script runs on this machine, installed when missing.
host_tools() {
  local missing= t
  for t in git debootstrap; do
    command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
  done
  [ -z "$missing" ] && return 0
  say "installing on this machine:$missing"
  quiet "apt-get update" env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
  # shellcheck disable=SC2086
  quiet "apt-get install$missing" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends $missing
}

# The cached minbase root of release $1 (in $BASE), bootstrapped when
# missing (about 3 minutes). Its apt uses the same mirrors as this
# machine's, in deb822 form, for the release, its updates and its security
# updates.
bootstrap() {
  local suite m sec log
  suite=$(suite_of "$1") || { say "unknown release $1 (12 or 13)"; return 1; }
  BASE=$CACHE/$suite-minbase
  read -r m sec <<<"$(mirrors)"
  if [ -f "$BASE/.interlinkfs-base" ] &&
     [ "$(cat "$BASE/.interlinkfs-base")" = "$m $sec" ]; then
    return 0
  fi
  host_tools || skip "git or debootstrap is missing and could not be installed"
  say "bootstrapping Debian $1 ($suite, minbase) from $m into $BASE"
  mkdir -p "$CACHE" || skip "cannot create $CACHE"
  rm -rf --one-file-system "$BASE.tmp" "$BASE"
  log=$CACHE/debootstrap-$suite.log
  if ! timeout 1500 debootstrap --variant=minbase "$suite" "$BASE.tmp" \
      "$m" >"$log" 2>&1; then
    tail -5 "$log" >&2
    rm -rf --one-file-system "$BASE.tmp"
    skip "debootstrap cannot run here (mirror $m); see above"
  fi
  rm -f "$BASE.tmp/etc/apt/sources.list"
  rm -f "$BASE.tmp"/etc/apt/sources.list.d/*
  cat >"$BASE.tmp/etc/apt/sources.list.d/debian.sources" <<EOS
Types: deb
URIs: $m
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $sec
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
  echo "$m $sec" >"$BASE.tmp/.interlinkfs-base"
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

# result NAME OK|FAIL|SKIP: recorded for the summary (NAME carries the
# release: fresh-demo-13), said with the seconds since the stage began.
result() {
  results="$results$1-$rel $2
"
  say "$1 on Debian $rel: $2 ($((SECONDS - stage_t)) s)"
}

# The demo, as a new user runs it: it must print the tour.
stage_demo() {
  local log=$CACHE/demo-$rel.log
  stage_t=$SECONDS
  new_root || { result fresh-demo FAIL; cleanup; return; }
  if ! in_root 600 "apt-get update -q && DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -q --no-install-recommends curl ca-certificates" \
      >"$CACHE/demo-apt-$rel.log" 2>&1; then
    cat "$CACHE/demo-apt-$rel.log" >&2
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
  local log=$CACHE/package-$rel.log debs=$CACHE/debs-$rel rc
  stage_t=$SECONDS
  rm -rf "$debs"
  new_root || { result fresh-package-build FAIL; cleanup; return; }
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
  stage_t=$SECONDS
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

# What of tests/check.sh CI runs on release $1: everything on Debian 13,
# whose gcc 14 and clang 19 find the most; the plain stage on Debian 12,
# where what differs (libfuse, libcurl, glibc) is what the plain suite
# proves against.
ci_check_stages() {
  case $1 in
    13) echo "" ;;
    *) echo plain ;;
  esac
}

# The README's test command (with the stages $1, all when empty), on a
# root with nothing but minbase. Its counts are added to the summary's.
stage_check() {
  local log=$CACHE/check-$rel.log line stages=${1:-}
  stage_t=$SECONDS
  new_root || { result fresh-check FAIL; cleanup; return; }
  in_root 4200 "cd /src && bash tests/check.sh $stages" 2>&1 | tee "$log"
  line=$(tail -1 "$log")
  if echo "$line" | grep -qE '^[0-9]+ passed, [0-9]+ failed'; then
    check_counts="$check_counts$line
"
    say "tests/check.sh ${stages:-(every stage)} on Debian $rel: $line ($((SECONDS - stage_t)) s)"
  else
    say "tests/check.sh did not end with its summary line"
    result fresh-check FAIL
  fi
  cleanup
}

# "N passed, N failed[, N skipped]" over the checks and the stages.
summary() {
  local p=0 f=0 s=0 line n
  while read -r line; do
    [ -n "$line" ] || continue
    p=$((p + $(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')))
    f=$((f + $(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')))
    n=$(echo "$line" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p')
    s=$((s + ${n:-0}))
  done <<<"$check_counts"
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
stage=${1:-ci}
[ $# -gt 0 ] && shift
releases=${*:-13 12}
for rel in $releases; do
  suite_of "$rel" >/dev/null || { echo "usage: $0 [demo|check|package|ci] [12|13...]" >&2; exit 2; }
done
case $stage in
  demo|check|package)
    for rel in $releases; do
      bootstrap "$rel" || exit 1
      "stage_$stage"
    done
    ;;
  ci)
    start=$SECONDS
    for rel in $releases; do
      if ! (bootstrap "$rel"); then
        # debootstrap cannot run here: the suite still runs, on this
        # machine (once, whatever the releases).
        say "no fresh root of Debian $rel: running tests/check.sh here instead"
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
    done
    for rel in $releases; do
      bootstrap "$rel"
      t=$SECONDS
      stage_demo
      stage_package
      stage_check "$(ci_check_stages "$rel")"
      say "Debian $rel: $((SECONDS - t)) s"
    done
    say "all releases: $((SECONDS - start)) s"
    ;;
  *) echo "usage: $0 [demo|check|package|ci] [12|13...]" >&2; exit 2 ;;
esac
summary
