# SPDX-License-Identifier: Apache-2.0
"""Count results in meson testlog.json files and print the CI summary line.

usage: summarize.py [--extra-failures N] TESTLOG.json...
Prints per-suite failures, then, as the very last line,
"N passed, N failed" (plus ", N skipped" when any were skipped).
Exits 1 when anything failed or nothing passed.
"""
import json
import sys


def main(argv):
    extra = 0
    if argv[:1] == ["--extra-failures"]:
        extra = int(argv[1])
        argv = argv[2:]
    passed = failed = skipped = 0
    for path in argv:
        with open(path) as f:
            for line in f:
                if not line.strip():
                    continue
                t = json.loads(line)
                r = t.get("result")
                if r in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                elif r == "SKIP":
                    skipped += 1
                    print("skipped: %s (%s)" % (t.get("name"), path))
                else:
                    failed += 1
                    print("failed: %s: %s (%s)" % (t.get("name"), r, path))
    failed += extra
    line = "%d passed, %d failed" % (passed, failed)
    if skipped:
        line += ", %d skipped" % skipped
    print(line)
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
