# SPDX-License-Identifier: Apache-2.0
"""The README's demo command: it mounts, tours and unmounts, leaving no
mount and no simulator behind."""
import os
import subprocess

from harness import run
from mount import require_fuse

ROOT = os.environ["SOURCE_ROOT"]


def demo_mounts():
    with open("/proc/mounts") as f:
        return [l for l in f if "interlinkfs-demo" in l]


def test_demo_runs_and_cleans_up():
    require_fuse()
    before = demo_mounts()
    p = subprocess.run(["bash", "examples/demo.sh"], cwd=ROOT,
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=600)
    out = p.stdout.decode()
    assert p.returncode == 0, (out, p.stderr.decode())
    for want in ("$ ls regions regions/fr-par", "connections",
                 "$ cat regions/fr-par/connections/", "by-name",
                 "routing-policies", "$ bgp-down.sh",
                 "REGION\tLINK\tSTATUS\tSESSION",
                 "region\tname\tstatus\tbgp_v4_status\tbgp_v6_status",
                 "interlink_link_bgp_status{",
                 "api_requests:", "unmounting"):
        assert want in out, want
    assert demo_mounts() == before
    left = subprocess.run(["pgrep", "-f", "interlink-sim --listen "
                           "127.0.0.1:0 --connections 12 --regions "
                           "fr-par,nl-ams --token de305d54-75b4-431b-adb2-"
                           "eb6b9e546014"],
                          capture_output=True)
    assert left.returncode == 1, left.stdout


if __name__ == "__main__":
    run(globals())
