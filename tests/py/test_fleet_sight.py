# SPDX-License-Identifier: Apache-2.0
"""Freshness and blindness through the fleet cache (docs/fleet.md,
"Freshness"): with the API failing behind nginx while nginx serves its
stale copies, every host says so (interlink_up 0, .interlinkfs/health
"stale") within ttl + grace, comes back to fresh when the API does, and
does not ask again faster than its back-off while the cache answers with
old data. It rests on the age rule of issue 26 (a listing's age from the
API's Date and Age headers), and on its .interlinkfs/health:

    region<TAB>kind<TAB>state<TAB>age<TAB>objects<TAB>detail

state one of fresh, stale, blind, unserved, unloaded; interlink_up
{region, kind} is 1 exactly when that listing is fresh."""
import os
import re
import time

from fleet import R, certs, mount, need_all, start_mounts, tls_sim
from harness import read, run, wait_for
from nginx import Nginx

HOSTS = 5
TTL, GRACE = 3, 1
KINDS = ("connections", "links")
FAILING = 16          # seconds the API fails for


def token(i):
    return "%08d-0000-4000-8000-%012d" % (i + 1, i + 1)


def health(m):
    """.interlinkfs/health as {(region, kind): (state, age)}."""
    path = m.path(".interlinkfs", "health")
    assert os.path.exists(path), ("no .interlinkfs/health: this test "
                                  "needs issue 26's sight")
    lines = read(path).decode().splitlines()
    assert lines[0].split("\t") == ["region", "kind", "state", "age",
                                    "objects", "detail"], lines[0]
    out = {}
    for line in lines[1:]:
        f = line.split("\t")
        out[(f[0], f[1])] = (f[2], f[3])
    return out


def up(m):
    """interlink_up of the region, by kind."""
    text = read(m.path(".interlinkfs", "prometheus",
                       "interlink.prom")).decode()
    out = {}
    for kind in KINDS:
        g = re.search(r'^interlink_up\{(?=[^}]*region="%s")(?=[^}]*kind="%s")'
                      r'[^}]*\} (\S+)$' % (R, kind), text, re.M)
        out[kind] = float(g.group(1)) if g else None
    return out


def state_is(m, state, value):
    h, u = health(m), up(m)
    return all(h.get((R, k), ("",))[0] == state and u[k] == value
               for k in KINDS)


def test_hosts_behind_the_cache_see_the_api_fail_and_come_back():
    need_all()
    args = ["--regions", R]
    for i in range(HOSTS):
        args += ["--account", "%s=%d" % (token(i), i + 1)]
    sim = tls_sim(*args, connections=4)
    # The cache's lifetime 2 s under the hosts' ttl, as docs/fleet.md
    # says.
    n = Nginx(sim, certs(), lifetime=TTL - 2)
    opts = ("regions=" + R, "ttl=%d" % TTL, "grace=%d" % GRACE,
            "stale=600", "timeout=2")
    hosts = start_mounts(HOSTS, lambda i: mount(n.cache_url, token(i),
                                                *opts))
    for m in hosts:
        wait_for(lambda: state_is(m, "fresh", 1), 20, "a fresh host")
    seq0 = sim.last_seq()
    sim.fault("status", count=0)
    t0 = time.monotonic()
    stale_seq = {}
    for i, m in enumerate(hosts):
        # Bounded by ttl + grace (and the time a poll and a read take):
        # nginx answers 200 with its old copy, whose Date says its age.
        wait_for(lambda: state_is(m, "stale", 0),
                 max(0.5, TTL + GRACE + 1.5 - (time.monotonic() - t0)),
                 "interlink_up 0 and health stale behind the cache")
        # From here on, every answer this host gets is old.
        stale_seq["account%d" % (i + 1)] = sim.last_seq()
    # Watched while the API fails: each host asks again no faster than
    # its back-off (1 s, doubling), though every answer is a 200.
    while time.monotonic() - t0 < FAILING:
        for m in hosts:
            assert state_is(m, "stale", 0)
        time.sleep(0.5)
    assert any(" STALE " in l or " UPDATING " in l for l in n.access()), \
        n.access()[-5:]
    seen = {}
    for r in sim.requests(seq0):
        # The listings the cache holds (a kind never loaded would meet
        # the 503 itself, and its retries within one request), asked
        # once the host had only old answers.
        if r["endpoint"] in ("list", "links_list") and \
                r["seq"] > stale_seq[r["account"]]:
            seen.setdefault((r["account"], r["path"], r["query"]),
                            []).append(r["t_ms"] / 1000)
    assert len({k[0] for k in seen}) == HOSTS, seen.keys()
    # Asked again 1, 2, 4, 8 s after the answer before, at the soonest
    # (not every ttl, as a host that believed the cache would).
    for key, times in seen.items():
        gaps = [b - a for a, b in zip(times, times[1:])]
        assert all(g >= 0.9 * min(2 ** i, 30) for i, g in enumerate(gaps)), \
            (key, gaps)
    sim.clear_faults()
    for m in hosts:
        wait_for(lambda: state_is(m, "fresh", 1), 40,
                 "the host fresh again")
    for m in hosts:
        assert m.unmount() == 0


if __name__ == "__main__":
    run(globals())
