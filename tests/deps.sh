#!/bin/sh
# Install the Debian 12 packages interlinkfs needs to build, run its demo and
# run every test. Idempotent: when everything is present it prints nothing and
# touches nothing. Needs root (or sudo) only when something is missing.
#
#   sh tests/deps.sh          build + demo + all tests
#   sh tests/deps.sh --build  only what building interlinkfs needs
set -eu

build="gcc libc6-dev meson ninja-build pkg-config
       fuse3 libfuse3-dev libcurl4-openssl-dev libjansson-dev libyaml-dev
       libmicrohttpd-dev"
# Tests: cmocka for unit tests, python3 for the mount tests, curl and jq for
# the demo and the shell examples, clang with its runtimes for libFuzzer and
# the sanitizer builds, valgrind for the leak check, groff/man-db for the man
# page check, gnuplot for the benchmark chart, procps/psmisc for ps/fuser.
tests="libcmocka-dev python3 curl jq clang libclang-rt-14-dev valgrind
       groff man-db gnuplot-nox procps psmisc util-linux ca-certificates"

case "${1:-}" in
  --build) want=$build ;;
  "") want="$build $tests" ;;
  *) echo "usage: $0 [--build]" >&2; exit 2 ;;
esac

missing=
for p in $want; do
  if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing="$missing $p"
  fi
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
$sudo apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
