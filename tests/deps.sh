#!/bin/sh
# Install the Debian 12 packages interlinkfs needs to build, run its demo and
# run every test. Idempotent: when everything is present it prints nothing and
# touches nothing. Needs root (or sudo) only when something is missing.
#
#   sh tests/deps.sh          build + demo + all tests
#   sh tests/deps.sh --build  only what building interlinkfs (and its demo) needs
set -eu
prog=deps
. "$(dirname "$0")/quiet.sh"

# fuse3 brings fusermount3, which every mount needs.
build="gcc libc6-dev meson ninja-build pkg-config
       fuse3 libfuse3-dev libcurl4-openssl-dev libjansson-dev libyaml-dev
       libmicrohttpd-dev"
# Tests: cmocka for unit tests, python3 for the mount tests, curl and jq for
# the shell examples, clang with its runtimes for libFuzzer and the sanitizer
# builds, llvm for llvm-symbolizer (sanitizer reports name their frames),
# valgrind for the leak check, groff/man-db for the man page check, gnuplot
# for the benchmark chart, procps/psmisc for ps/fuser, nodejs/npm for the
# official TypeScript SDK run against interlink-sim, openssl for the tests'
# throwaway certificates.
tests="libcmocka-dev python3 curl jq clang libclang-rt-14-dev llvm valgrind
       groff man-db gnuplot-nox procps psmisc util-linux ca-certificates
       nodejs npm openssl"

case "${1:-}" in
  --build) want=$build ;;
  "") want="$build $tests" ;;
  *) echo "usage: $0 [--build]" >&2; exit 2 ;;
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

missing=
for p in $want; do
  present "$p" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

sudo=
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=sudo
  else
    echo "deps: missing packages:$missing; run this script as root to install them" >&2
    exit 1
  fi
fi
echo "deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
quiet "apt-get update" $sudo apt-get update
# shellcheck disable=SC2086
quiet "apt-get install$missing" $sudo apt-get install -y --no-install-recommends $missing
