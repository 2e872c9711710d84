#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Install the Debian packages (Debian 12 or 13) interlinkfs needs to build,
# run its demo and run every test. Idempotent: when everything is present it
# prints nothing and touches nothing (apt is not even asked). Needs root (or
# sudo) only when something is missing.
#
#   sh tests/deps.sh          build + demo + all tests
#   sh tests/deps.sh --plain  the same but clang and llvm (the plain stage of
#                             tests/check.sh: no sanitizer, no fuzzer)
#   sh tests/deps.sh --build  only what building interlinkfs (and its demo) needs
set -eu
prog=deps
. "$(dirname "$0")/quiet.sh"

# fuse3 brings fusermount3, which every mount needs.
build="gcc libc6-dev meson ninja-build pkg-config
       fuse3 libfuse3-dev libcurl4-openssl-dev libjansson-dev libssl-dev
       libyaml-dev libmicrohttpd-dev"
# Tests: cmocka for unit tests, python3 for the mount tests, curl and jq for
# the shell examples, clang with its runtimes for libFuzzer and the sanitizer
# builds, llvm for llvm-symbolizer (sanitizer reports name their frames),
# valgrind for the leak check, groff/man-db for the man page check, gnuplot
# for the benchmark chart, procps/psmisc for ps/fuser, nodejs/npm for the
# official TypeScript SDK run against interlink-sim, openssl for the tests'
# throwaway certificates; bsdextrautils (column) and miller (mlr) read the
# tables; prometheus (with promtool) and prometheus-node-exporter are the
# real programs the Prometheus files are tested with; nginx and its njs
# module (libnginx-mod-http-js) run examples/fleet/, the fleet's cache.
# clang's runtimes are named after its version (libclang-rt-14-dev on
# Debian 12, -19- on 13); the package is chosen below, from what apt has.
tests="libcmocka-dev python3 curl jq clang CLANG_RT llvm valgrind
       groff man-db gnuplot-nox procps psmisc util-linux ca-certificates
       nodejs npm openssl bsdextrautils miller prometheus
       prometheus-node-exporter nginx libnginx-mod-http-js"

case "${1:-}" in
  --build) want=$build ;;
  --plain) want="$build $(echo $tests | sed 's/ clang CLANG_RT llvm / /')" ;;
  "") want="$build $tests" ;;
  *) echo "usage: $0 [--build|--plain]" >&2; exit 2 ;;
esac

# A package counts as present when dpkg has it installed. node and npm may
# come from elsewhere (NodeSource's nodejs bundles npm and conflicts with
# Debian's): for those the commands are what matters.
present() {
  case $1 in
    nodejs) command -v node >/dev/null 2>&1 && return 0 ;;
    npm) command -v npm >/dev/null 2>&1 && return 0 ;;
  esac
  dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

# apt knows a package (its lists may be empty on a new machine).
known() {
  apt-cache show --no-all-versions "$1" >/dev/null 2>&1
}

# The version of clang installed, or that apt would install (from what
# the clang package depends on: clang-14, clang-19 ...).
clang_version() {
  { dpkg-query -W -f='${Depends}\n' clang 2>/dev/null ||
    apt-cache depends clang 2>/dev/null; } |
    grep -o 'clang-[0-9][0-9]*' | head -1 | cut -d- -f2
}

# The runtime package of that clang: the unversioned libclang-rt-dev where
# the release has it (it follows the default clang), else
# libclang-rt-N-dev. Installed already: nothing is asked of apt.
clang_rt() {
  n=$(clang_version)
  for p in libclang-rt-dev ${n:+libclang-rt-$n-dev}; do
    present "$p" && { echo "$p"; return; }
  done
  for p in libclang-rt-dev ${n:+libclang-rt-$n-dev}; do
    known "$p" && { echo "$p"; return; }
  done
}

sudo=
as_root() {
  if [ "$(id -u)" != 0 ] && [ -z "$sudo" ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "deps: packages are missing; run this script as root to install them" >&2
      exit 1
    fi
    sudo=sudo
  fi
  $sudo "$@"
}

export DEBIAN_FRONTEND=noninteractive
updated=no
case " $want " in
  *" CLANG_RT "*)
    rt=$(clang_rt)
    if [ -z "$rt" ]; then
      # A new machine: apt's lists say which one there is.
      quiet "apt-get update" as_root apt-get update
      updated=yes
      rt=$(clang_rt)
    fi
    if [ -z "$rt" ]; then
      echo "deps: apt knows no runtime package for clang (libclang-rt-dev, libclang-rt-N-dev)" >&2
      exit 1
    fi
    want=$(echo "$want" | sed "s/CLANG_RT/$rt/")
    ;;
esac

missing=
for p in $want; do
  present "$p" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing" >&2
[ $updated = yes ] || quiet "apt-get update" as_root apt-get update
# Packages with a service (prometheus, node_exporter, nginx) would start it on
# this machine, listening on every address: the tests start their own on
# 127.0.0.1. While installing, a policy-rc.d (Debian's way to say so)
# keeps services from starting, unless one is there already.
policy=/usr/sbin/policy-rc.d
if [ ! -e $policy ]; then
  trap 'as_root rm -f $policy' EXIT
  as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
fi
# shellcheck disable=SC2086
quiet "apt-get install$missing" as_root apt-get install -y --no-install-recommends $missing
