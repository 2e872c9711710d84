# SPDX-License-Identifier: Apache-2.0
"""Scaleway's official TypeScript SDK (@scaleway/sdk-interlink, from the npm
registry, run by Debian's node) against interlink-sim: its paginator at a
small page size, every documented filter and order, get by id, the 404 and
401 answers, and every object unmarshalled (tests/sdk/check.mjs).

Exits 77 when npm cannot reach its registry; any other failure fails."""
import os
import re
import shutil
import subprocess

from harness import run, Skip
from sim import Sim

ROOT = os.environ["SOURCE_ROOT"]
BUILD = os.path.dirname(os.path.dirname(os.environ["INTERLINKFS"]))
HERE = os.path.join(ROOT, "tests", "sdk")
# The SDK refuses a secret key that is not a UUID.
TOKEN = "5dc1e3d2-7a0b-4c6e-9f31-0a8b7c6d5e4f"
NETWORK = re.compile(r"ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|"
                     r"ECONNRESET|ENETUNREACH|EHOSTUNREACH|network")


def install():
    """npm ci of the pinned SDK into the build tree (kept between runs when
    the lock file is unchanged). Returns the directory."""
    for tool in ("node", "npm"):
        if not shutil.which(tool):
            raise AssertionError(tool + " is not installed: sh tests/deps.sh")
    work = os.path.join(BUILD, "sdk-node")
    os.makedirs(work, exist_ok=True)
    for f in ("package.json", "package-lock.json", "check.mjs"):
        shutil.copyfile(os.path.join(HERE, f), os.path.join(work, f))
    stamp = os.path.join(work, "node_modules", ".installed-lock")
    with open(os.path.join(HERE, "package-lock.json")) as f:
        lock = f.read()
    if os.path.exists(stamp) and open(stamp).read() == lock:
        return work
    p = subprocess.run(["npm", "ci", "--no-audit", "--no-fund",
                        "--loglevel=error"], cwd=work, capture_output=True,
                       timeout=600)
    err = (p.stdout + p.stderr).decode(errors="replace")
    if p.returncode != 0:
        if NETWORK.search(err):
            raise Skip("npm cannot reach its registry: " +
                       err.strip().splitlines()[-1][:200])
        raise AssertionError("npm ci failed:\n" + err)
    with open(stamp, "w") as f:
        f.write(lock)
    return work


def test_the_official_sdk_agrees_with_the_simulator():
    work = install()
    sim = Sim("--regions", "fr-par,nl-ams", "--max-page-size", "10",
              connections=30, seed=12, token=TOKEN)
    p = subprocess.run(["node", "check.mjs", sim.url, TOKEN, "fr-par",
                        "nl-ams"], cwd=work, capture_output=True,
                       timeout=300)
    out = p.stdout.decode(errors="replace")
    print(out[-3000:])
    assert p.returncode == 0, out[-3000:] + p.stderr.decode()[-2000:]
    n = int(re.search(r"(\d+) checks, 0 failed", out).group(1))
    assert n > 500, n


if __name__ == "__main__":
    run(globals())
