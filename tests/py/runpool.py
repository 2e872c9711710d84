# SPDX-License-Identifier: Apache-2.0
"""The tests marked @concurrent of the modules named, in one pool: each
in a process of its own, up to 6 at a time (3 under the sanitizers).

    python3 tests/py/runpool.py tests/py/test_faults.py ...

They need nothing but what they start themselves and mostly wait (for a
ttl, a back-off, a journal line), so one module's wait beside another's,
where run one module after the other they left the machine idle. meson
runs each of these modules' other tests with --unmarked, alone.
"""
import sys

from harness import run_pool

if __name__ == "__main__":
    run_pool(sys.argv[1:], jobs=6)
