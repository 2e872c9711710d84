#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The Debian package, as a user meets it. Run as root inside a fresh Debian
# 12 root (tests/fresh.sh package does that: one root to build, another to
# install in), from the source tree:
#
#   bash tests/package.sh build OUTDIR  install the build dependencies the
#                                       Debian way, dpkg-buildpackage -us -uc
#                                       -b, lintian; the .debs go to OUTDIR
#   bash tests/package.sh use DEBDIR    apt-get install the .debs, --version,
#                                       man, mount -t fuse.interlinkfs, an
#                                       ordinary user's mount, remove, purge
#
# Each check prints "ok: WHAT" or "FAIL: WHAT"; the status is 1 if one
# failed, 77 (with the reason) if the machine cannot run the user checks.
# Every wait is bounded; what is started is stopped by PID.
set -u
cd "$(dirname "$0")/.." || exit 1
prog=package
. tests/quiet.sh
export DEBIAN_FRONTEND=noninteractive

fails=0
ok() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
check() { # check WHAT COMMAND...: one check, its output shown on failure
  local what=$1 out
  shift
  if out=$("$@" 2>&1); then ok "$what"; else fail "$what"; echo "$out" | tail -20; fi
}

version=$(sed -n "s/^ *version: *'\([^']*\)'.*/\1/p" meson.build | head -1)
apt_install() { quiet "apt-get install $*" apt-get install -y -q --no-install-recommends "$@"; }

build() {
  local out=$1 src changes
  quiet "apt-get update" apt-get update -q || return 1
  # What dpkg-buildpackage needs, then the Build-Depends of debian/control.
  apt_install dpkg-dev debhelper lintian || return 1
  quiet "apt-get build-dep ./" apt-get build-dep -y -q ./ || return 1
  # dpkg-buildpackage writes next to the source tree: build in a copy.
  src=$(mktemp -d /var/tmp/interlinkfs-pkg.XXXXXX)/interlinkfs
  cp -a . "$src"
  (cd "$src" && dpkg-buildpackage -us -uc -b) >/var/tmp/dpkg-buildpackage.log 2>&1 ||
    { tail -40 /var/tmp/dpkg-buildpackage.log; fail "dpkg-buildpackage -us -uc -b"; return 1; }
  ok "dpkg-buildpackage -us -uc -b"
  check "interlinkfs_${version}_amd64.deb, from meson.build's version" \
    test -f "$src/../interlinkfs_${version}_$(dpkg --print-architecture).deb"
  changes=$(ls "$src"/../interlinkfs_*.changes)
  # The changelog names the release; it must follow meson.build.
  check "debian/changelog's version is meson.build's ($version)" \
    test "$(dpkg-parsechangelog -S Version)" = "$version"
  # Errors fail; every other tag (none today) is printed for the record.
  local rc
  lintian --fail-on error --display-info --pedantic "$changes" \
    >/var/tmp/lintian.log 2>&1
  rc=$?
  grep -v '^running with root privileges is not recommended!$' \
    /var/tmp/lintian.log | sed 's/^/lintian: /'
  if [ $rc -eq 0 ]; then ok "lintian: no errors"; else fail "lintian: no errors"; fi
  mkdir -p "$out"
  cp "$src"/../*.deb "$out"/
  rm -rf "$(dirname "$src")"
}

# Files (not directories) a package installed, from dpkg's list.
package_files() {
  dpkg -L "$@" 2>/dev/null | while read -r f; do
    [ -d "$f" ] && [ ! -L "$f" ] || echo "$f"
  done
}

# wait_until SECONDS COMMAND...: poll, bounded.
wait_until() {
  local t=$(($1 * 10))
  shift
  while [ $t -gt 0 ]; do
    "$@" && return 0
    sleep 0.1
    t=$((t - 1))
  done
  return 1
}

mounted() { grep -q " $1 fuse.interlinkfs " /proc/self/mounts; }

# No interlinkfs process of user $1 (minbase has no pgrep).
no_daemon_of() {
  local p
  for p in /proc/[0-9]*; do
    [ "$(cat "$p/comm" 2>/dev/null)" = interlinkfs ] &&
      [ "$(stat -c %U "$p" 2>/dev/null)" = "$1" ] && return 1
  done
  return 0
}

sim_pid=
sim_out=
start_sim() {
  sim_out=$(mktemp)
  interlink-sim --connections 12 --token "$token" >"$sim_out" 2>&1 &
  sim_pid=$!
  wait_until 10 grep -q "listening on" "$sim_out" || return 1
  sim_url=$(sed -n 's/^interlink-sim listening on //p' "$sim_out" | head -1)
}
stop_sim() {
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
  sim_pid=
  rm -f "$sim_out"
}

user_mount() {
  local u=interlinkfs-user home
  useradd -m -s /bin/sh "$u" || { fail "useradd $u"; return; }
  home=$(getent passwd "$u" | cut -d: -f6)
  if ! runuser -u "$u" -- test -r /dev/fuse -a -w /dev/fuse; then
    echo "package: /dev/fuse is not usable by an ordinary user here" \
         "($(stat -c %a /dev/fuse)); a stock Debian has 0666" >&2
    userdel -r "$u" 2>/dev/null
    return 77
  fi
  as_user() {
    timeout -k 5 60 runuser -u "$u" -- env -i HOME="$home" \
      PATH=/usr/bin:/bin LANG=C.UTF-8 SCW_SECRET_KEY="$token" \
      SCW_API_URL="$sim_url" sh -c "$*"
  }
  check "an ordinary user mounts ~/il through fusermount3" \
    as_user 'mkdir -p ~/il && interlinkfs ~/il -o regions=fr-par'
  check "... it is that user's mount" \
    as_user 'test "$(stat -c %u ~/il/regions)" = "$(id -u)"'
  check "... the user lists, reads and greps" \
    as_user 'test "$(ls ~/il/regions/fr-par/connections | wc -l)" -eq 12 &&
             cat ~/il/regions/fr-par/connections/*/status >/dev/null &&
             grep -rlx active ~/il/regions/fr-par/connections | grep -q /status'
  check "... and unmounts with fusermount3 -u" as_user 'fusermount3 -u ~/il'
  check "... the daemon is gone with its mount" wait_until 10 no_daemon_of "$u"
  # allow_other is refused by fusermount3 unless root allows it.
  local out rc
  out=$(as_user 'interlinkfs ~/il -o regions=fr-par,allow_other' 2>&1)
  rc=$?
  if [ $rc -ne 0 ] && echo "$out" | grep -q "user_allow_other" &&
     ! mounted "$home/il"; then
    ok "allow_other as a user: refused, with fusermount3's message"
  else
    fail "allow_other as a user: refused, with fusermount3's message"
    echo "status $rc: $out"
  fi
  cp /etc/fuse.conf /etc/fuse.conf.orig
  echo user_allow_other >>/etc/fuse.conf
  check "allow_other as a user once /etc/fuse.conf has user_allow_other" \
    as_user 'interlinkfs ~/il -o regions=fr-par,allow_other &&
             ls ~/il/regions/fr-par/connections >/dev/null &&
             fusermount3 -u ~/il'
  mv /etc/fuse.conf.orig /etc/fuse.conf
  mounted "$home/il" && fusermount3 -u -z "$home/il"
  wait_until 10 no_daemon_of "$u"
  userdel -r "$u" 2>/dev/null
  return 0
}

# nothing_left WHEN: no file of $list, and dpkg knows neither package
# as installed.
nothing_left() {
  local left
  left=$(echo "$list" | while read -r f; do [ -e "$f" ] || [ -L "$f" ] && echo "$f"; done)
  left="$left$(ls -d /usr/share/doc/interlinkfs /usr/share/doc/interlinkfs-sim 2>/dev/null)"
  if [ -n "$list" ] && [ -z "$left" ] &&
     ! dpkg-query -W -f='${Status}\n' interlinkfs interlinkfs-sim 2>/dev/null |
       grep -q ' installed$'; then
    ok "$1: no file of the packages is left ($(echo "$list" | wc -l) were installed)"
  else
    fail "$1: no file of the packages is left"
    echo "$left"
  fi
}

use() {
  local debs=$1 list rc
  token=7e57c0de-0000-4000-8000-00000000c0de
  quiet "apt-get update" apt-get update -q || return 1
  # man-db, as on any installed Debian (minbase lacks it); the packages'
  # own dependencies come from the mirror.
  apt_install man-db || return 1
  check "apt-get install ./interlinkfs_*.deb ./interlinkfs-sim_*.deb" \
    apt-get install -y -q "$debs"/interlinkfs_*.deb "$debs"/interlinkfs-sim_*.deb
  check "interlinkfs --version is $version" \
    sh -c "interlinkfs --version | grep -qx 'interlinkfs $version'"
  check "man interlinkfs" \
    sh -c "MANWIDTH=80 man -P cat interlinkfs | grep -q 'ca_file=PATH'"
  check "man interlink-sim" sh -c "MANWIDTH=80 man -P cat interlink-sim | grep -q tls-cert"
  check "the README, docs and examples are in /usr/share/doc/interlinkfs" \
    test -f /usr/share/doc/interlinkfs/README.md.gz -a \
         -d /usr/share/doc/interlinkfs/docs -a \
         -f /usr/share/doc/interlinkfs/examples/systemd/mnt-interlink.mount -a \
         -f /usr/share/doc/interlinkfs/copyright
  check "no interlinkfs in /usr/local" test ! -e /usr/local/bin/interlinkfs

  if ! start_sim; then
    fail "interlink-sim starts"
    cat "$sim_out"
    return 1
  fi
  mkdir -p /mnt/il
  check "mount -t fuse.interlinkfs none /mnt/il -o regions=fr-par" \
    env SCW_SECRET_KEY="$token" SCW_API_URL="$sim_url" PATH=/usr/sbin:/usr/bin:/sbin:/bin \
      timeout 30 mount -t fuse.interlinkfs none /mnt/il -o regions=fr-par
  check "... a file reads" \
    sh -c 'for s in /mnt/il/regions/fr-par/connections/*/status; do
             grep -qE "^[a-z_]+$" "$s" || exit 1; done; ls /mnt/il/regions/fr-par/connections/*/status >/dev/null'
  check "umount /mnt/il" timeout 30 umount /mnt/il
  mounted /mnt/il && umount -l /mnt/il

  user_mount
  rc=$?
  stop_sim

  list=$(package_files interlinkfs interlinkfs-sim)
  # apt-get remove, then purge what remains (apt no longer knows a package
  # that came from a file once it is removed: dpkg purges it) ...
  check "apt-get remove" apt-get remove -y -q interlinkfs interlinkfs-sim
  nothing_left "after apt-get remove"
  check "dpkg --purge after the remove" dpkg --purge interlinkfs interlinkfs-sim
  nothing_left "after the purge"
  # ... and apt-get purge of the installed packages, in one step.
  quiet "apt-get install again" apt-get install -y -q \
    "$debs"/interlinkfs_*.deb "$debs"/interlinkfs-sim_*.deb
  check "apt-get purge" apt-get purge -y -q interlinkfs interlinkfs-sim
  nothing_left "after apt-get purge"
  [ $rc -eq 77 ] && [ $fails -eq 0 ] && return 77
  return 0
}

trap 'stop_sim' EXIT
case "${1:-}" in
  build) build "${2:?OUTDIR}" || fails=$((fails + 1)) ;;
  use) use "${2:?DEBDIR}"; r=$?; [ $r -eq 77 ] && exit 77; [ $r -ne 0 ] && fails=$((fails + 1)) ;;
  *) echo "usage: $0 build OUTDIR | use DEBDIR" >&2; exit 2 ;;
esac
[ $fails -eq 0 ]
