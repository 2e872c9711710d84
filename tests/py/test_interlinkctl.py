# SPDX-License-Identifier: Apache-2.0
"""examples/interlinkctl: api/ used on its own, against interlink-sim."""
import os
import subprocess

from harness import run
from sim import Sim

CTL = os.environ["INTERLINKCTL"]


def ctl(sim, *args, env=None):
    e = {"PATH": os.environ.get("PATH", ""), "SCW_SECRET_KEY": sim.token,
         "SCW_API_URL": sim.url, "SCW_CONFIG_PATH": "/nonexistent"}
    e.update(env or {})
    return subprocess.run([CTL] + list(args), capture_output=True, env=e,
                          timeout=30)


def clean(name):
    return "".join(" " if c in "\n\t\0" else c for c in name)


def test_ls_prints_one_line_per_connection():
    sim = Sim("--max-page-size", "7", connections=45)
    p = ctl(sim, "ls", "fr-par")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.decode().splitlines()
    want = ["%s\t%s\t%s\t%s" % (c["id"], c["status"], c["bandwidth_mbps"],
                                clean(c["name"]))
            for c in sim.list_all("fr-par")]
    assert lines == want
    # 45 connections, 7 per page: 7 list requests.
    assert sim.counters()["list"] == 7 + 7  # ours + the reference listing


def test_get_and_filters():
    sim = Sim(connections=12)
    every = sim.list_all("nl-ams")
    p = ctl(sim, "get", "nl-ams", every[4]["id"])
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode().split("\t")[0] == every[4]["id"]
    p = ctl(sim, "--status", "active", "ls", "nl-ams")
    got = [l.split("\t")[0] for l in p.stdout.decode().splitlines()]
    assert got == [c["id"] for c in every if c["status"] == "active"]


def test_errors_are_one_clear_line():
    sim = Sim()
    p = ctl(sim, "ls", "fr-par",
            env={"SCW_SECRET_KEY": "0badc0de-0000-4000-8000-000000000000"})
    assert p.returncode == 1
    assert b"Permission denied" in p.stderr, p.stderr
    assert b"0badc0de" not in p.stderr
    p = ctl(sim, "ls", "fr-par", env={"SCW_SECRET_KEY": ""})
    assert p.returncode == 1
    assert b"SCW_SECRET_KEY" in p.stderr, p.stderr
    p = ctl(sim, "get", "fr-par", "00000000-0000-4000-8000-000000000000")
    assert p.returncode == 1 and b"No such file" in p.stderr, p.stderr


if __name__ == "__main__":
    run(globals())
