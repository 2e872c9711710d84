#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Install what is needed, build, and run every test suite.
#
#   bash tests/check.sh [STAGE...]
#
# STAGE: plain (gcc, -Werror, every suite), asan (every suite again under
# AddressSanitizer + UndefinedBehaviorSanitizer), tsan (the cache under
# ThreadSanitizer), fuzz (each libFuzzer target for 20 s). None: all four,
# in that order. CI runs them all on Debian 13 and only plain on Debian 12
# (docs/development.md says why).
#
# The last line printed is "N passed, N failed" (", N skipped" when some
# were skipped), counted from meson's test logs of the stages run; the exit
# status is non-zero when anything failed or nothing ran.
set -u
cd "$(dirname "$0")/.." || exit 1
prog=check
. tests/quiet.sh

stages=${*:-plain asan tsan fuzz}
for s in $stages; do
  case $s in
    plain|asan|tsan|fuzz) ;;
    *) echo "usage: $0 [plain|asan|tsan|fuzz]..." >&2; exit 2 ;;
  esac
done
# wanted STAGE: was STAGE asked for?
wanted() { case " $stages " in *" $1 "*) return 0 ;; esac; return 1; }

logs=()
failed_steps=0

step() { printf '\n=== %s (at %d s)\n' "$*" "$SECONDS"; }

# build DIR [meson options...]: configure (or reconfigure) and compile.
# The tests are asked for explicitly: a missing test package fails here
# instead of leaving the suites out.
build() {
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    quiet "meson setup --reconfigure $dir $*" \
      meson setup --reconfigure "$dir" "$@"
  else
    quiet "meson setup $dir $*" meson setup "$dir" "$@"
  fi && quiet "ninja -C $dir" ninja -C "$dir"
}

# suite DIR [meson test options...]: run tests, remember the log.
suite() {
  local dir=$1; shift
  rm -f "$dir/meson-logs/testlog.json"
  meson test -C "$dir" --print-errorlogs --num-processes 2 "$@"
  [ -f "$dir/meson-logs/testlog.json" ] && logs+=("$dir/meson-logs/testlog.json")
  return 0
}

step "dependencies"
# The plain stage alone (Debian 12 in CI) needs no clang nor llvm.
deps=
[ "$stages" = plain ] && deps=--plain
if ! sh tests/deps.sh $deps; then
  echo "0 passed, 1 failed"
  exit 1
fi

if wanted plain; then
  step "build (gcc, -Dwerror=true)"
  if build build-tests -Dtests=enabled -Dwerror=true; then
    step "tests"
    suite build-tests
  else
    echo "check: build failed" >&2
    failed_steps=$((failed_steps + 1))
  fi
fi

# Everything again (unit and mount tests) with AddressSanitizer and
# UndefinedBehaviorSanitizer; a report or a leak fails the test. Not the
# benchmarks' smoke runs (they count requests, which the plain build did),
# nor valgrind (which cannot run a sanitized binary), nor the kill -9 test
# of the state's renames (which tests the disk, not memory), nor what runs
# little of our C that the other suites do not: the simulator's own tests
# (sim), the layout's (house), and the shell examples, the demo, the
# install and the fleet's nginx config run over a mount (scripts).
if wanted asan; then
  step "all tests under AddressSanitizer + UndefinedBehaviorSanitizer (gcc)"
  if build build-asan -Dtests=enabled -Db_sanitize=address,undefined -Dwerror=true; then
    suite build-asan --no-suite valgrind --no-suite bench --no-suite crash \
      --no-suite sim --no-suite house --no-suite scripts
  else
    echo "check: sanitizer build failed" >&2
    failed_steps=$((failed_steps + 1))
  fi
fi

# The cache's concurrency under ThreadSanitizer (clang).
if wanted tsan; then
  step "cache under ThreadSanitizer (clang)"
  if CC=clang build build-tsan -Dtests=enabled -Db_sanitize=thread -Db_lundef=false -Dwerror=true; then
    suite build-tsan --suite cache
  else
    echo "check: ThreadSanitizer build failed" >&2
    failed_steps=$((failed_steps + 1))
  fi
fi

# libFuzzer targets, 20 s each, from the seed corpora in tests/fuzz/corpus.
if wanted fuzz; then
  step "fuzzing (clang, libFuzzer + ASan + UBSan)"
  if CC=clang build build-fuzz -Dfuzz=true -Dtests=disabled -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=true; then
    suite build-fuzz --suite fuzz
  else
    echo "check: fuzz build failed" >&2
    failed_steps=$((failed_steps + 1))
  fi
fi

step "summary"
exec python3 tests/summarize.py --extra-failures "$failed_steps" "${logs[@]}"
