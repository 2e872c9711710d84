# SPDX-License-Identifier: Apache-2.0
# quiet WHAT COMMAND [ARG...]: run COMMAND with its output put aside. On
# success nothing is printed; on failure its output is shown, then one line
# naming the step that failed, and the status is non-zero. POSIX sh, sourced
# by tests/deps.sh, tests/check.sh and examples/demo.sh ($prog names the
# script in the message).
quiet() {
  _what=$1
  shift
  _log=$(mktemp "${TMPDIR:-/tmp}/interlinkfs-step.XXXXXX") || return 1
  "$@" >"$_log" 2>&1 && { rm -f "$_log"; return 0; }
  _rc=$?
  cat "$_log" >&2
  rm -f "$_log"
  echo "${prog:-interlinkfs}: step failed (exit status $_rc): $_what" >&2
  return "$_rc"
}
