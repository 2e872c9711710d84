# SPDX-License-Identifier: Apache-2.0
"""The fault matrix, on real mounts: each fault the API (or the network)
can produce, in each state of the cache, and what the user gets.

The table FAULTS is the source of docs/design.md's table "What each
fault does"; test_design_table_matches checks they agree.
"""
import errno
import os
import re
import time

from harness import concurrent, errno_of, listdir, read, run, wait_for
from mount import Mount
from oracle import rfc3339
from sim import Sim

TTL, STALE, TIMEOUT, GRACE = 1, 6, 1, 0.5
LIMIT = TIMEOUT + 2          # every answer within timeout + 2 s
STALE_LIMIT = GRACE + 0.5    # the old value within the grace

# name, how to inject it, errno when nothing usable is cached (None: the
# data is still served), what the log line names (a tuple: any of these,
# where the words are libcurl's own and change between its versions).
FAULTS = [
    ("503 with a JSON body", {"kind": "status", "status": 503},
     errno.EIO, "HTTP 503 service_unavailable"),
    ("502 with an HTML body", {"kind": "html"},
     errno.EIO, "non-JSON error body"),
    ("429 with Retry-After", {"kind": "rate_limit", "retry_after": 30},
     errno.EAGAIN, "HTTP 429"),
    ("429 without Retry-After", {"kind": "rate_limit"},
     errno.EAGAIN, "HTTP 429"),
    ("truncated JSON", {"kind": "truncate"},
     errno.EIO, "invalid JSON"),
    ("connections not an array",
     {"kind": "shape", "shape": "connections_not_array"},
     errno.EIO, "is not an array"),
    ("total_count a string", {"kind": "shape", "shape": "total_count_string"},
     errno.EIO, "'total_count' is not a count"),
    ("an id that is not a string", {"kind": "shape", "shape": "id_not_string"},
     errno.EIO, "id is not a UUID"),
    ("connection refused (API down)", "stop",
     errno.ECONNREFUSED, "Connection refused"),
    ("connection reset mid-body", {"kind": "reset"},
     errno.EIO, ("transfer closed with",      # curl 7.88 (Debian 12)
                 "end of response with")),    # curl 8.14 (Debian 13)
    ("API never answers", {"kind": "hang"},
     errno.ETIMEDOUT, "timed out"),
    ("API 10x slower than timeout", {"kind": "latency", "ms": 10000},
     errno.ETIMEDOUT, "timed out"),
]


def timed(fn, *args, limit=LIMIT):
    t0 = time.monotonic()
    try:
        v = fn(*args)
        e = 0
    except OSError as ex:
        v, e = None, ex.errno
    el = time.monotonic() - t0
    assert el <= limit, "%s took %.2fs" % (getattr(fn, "__name__", fn), el)
    return v, e


class World:
    """A mount watching one object's status, of connections or links."""

    def __init__(self, fault, kind="connections"):
        self.fault, self.kind = fault, kind
        self.sim = Sim("--regions", "fr-par", connections=6)
        self.m = Mount(self.sim, "ttl=%d" % TTL, "stale=%d" % STALE,
                       "timeout=%d" % TIMEOUT, "grace=%g" % GRACE,
                       "regions=fr-par")
        # interlinkfs lists by creation date; "id not a string" spoils the
        # first entry of a page: watch another one.
        objs = self.sim.data()["fr-par"][kind]
        self.conns = sorted(objs, key=lambda o: (rfc3339(o["created_at"]),
                                                 o["id"]))
        self.x = self.conns[3]
        self.dir = self.m.path("regions", "fr-par", kind)
        self.status = os.path.join(self.dir, self.x["id"], "status")
        # links/ also holds by-name/
        self.extra = 1 if kind == "links" else 0

    def age(self):
        return self.m.listing_age(
            "fr-par", None if self.kind == "connections" else self.kind) or 0

    def inject(self):
        if self.fault == "stop":
            self.port = self.sim.port
            self.sim.stop()
        else:
            self.sim.fault(self.fault["kind"], **{
                k: v for k, v in self.fault.items() if k != "kind"})

    def clear(self):
        if self.fault == "stop":
            self.sim.start(self.port)
        else:
            self.sim.clear_faults()

    def requests(self):
        return self.sim.counters()["total"] if self.sim.proc.poll() is None \
            else 0


def check_fault(name, fault, want, cause, kind="connections"):
    w = World(fault, kind)
    m, sim = w.m, w.sim
    # -- never cached ------------------------------------------------------
    w.inject()
    names, e = timed(listdir, w.dir)
    if want is None:
        assert e == 0 and len(names) == len(w.conns) - 1 + w.extra, \
            (name, e, names)
    else:
        assert e == want, (name, errno.errorcode.get(e, e))
    assert any(c in m.log() for c in
               (cause if isinstance(cause, tuple) else (cause,))), \
        (name, cause, m.log())
    assert int(m.stats()["api_errors"]) >= (0 if want is None else 1)
    w.clear()
    wait_for(lambda: errno_of(listdir, w.dir) == 0 and
             len(listdir(w.dir)) == len(w.conns) + w.extra, 6,
             "recovery " + name)
    # -- cached and fresh: no request, the value ---------------------------
    v0 = read(w.status)
    assert v0 == w.x["status"].encode() + b"\n"
    before = w.requests()
    w.inject()
    v, e = timed(read, w.status)
    assert (e, v) == (0, v0), name
    assert w.requests() == before or fault == "stop"
    # -- expired, younger than stale: the old value, and no storm ------------
    wait_for(lambda: w.age() > TTL + 0.2, 5, "expiry")
    stale0 = int(m.stats()["stale_served"])
    v, e = timed(read, w.status, limit=STALE_LIMIT)
    assert (e, v) == (0, v0), (name, errno.errorcode.get(e, e))
    if want is not None:
        assert int(m.stats()["stale_served"]) > stale0, name
        # Reading for 2.5 s costs at most one operation per back-off
        # interval (1 s, then 2 s ...), each at most 4 attempts.
        r0, reads, t_end = w.requests(), 0, time.monotonic() + 2.5
        while time.monotonic() < t_end:
            v, e = timed(read, w.status, limit=STALE_LIMIT)
            assert (e, v) == (0, v0), (name, errno.errorcode.get(e, e), v, m.log()[-600:])
            reads += 1
            time.sleep(0.05)
        spent = w.requests() - r0
        assert spent <= 4 * 3 and reads > spent, (name, reads, spent)
    # -- older than stale: the error, not the old value ------------------------
    if want is not None:
        wait_for(lambda: w.age() > STALE + 0.2, STALE + 5, "staleness")
        v, e = timed(read, w.status)
        assert e == want, (name, errno.errorcode.get(e, e), v)
    # -- the API recovers: fresh values on the next access ---------------------
    w.clear()
    new = {"active": "failed"}.get(w.x["status"], "active")
    sim.patch("fr-par", w.x["id"], {"status": new}, kind=w.kind)
    wait_for(lambda: errno_of(read, w.status) == 0 and
             read(w.status) == new.encode() + b"\n", 10, "fresh " + name)
    assert m.proc.poll() is None      # alive and serving
    assert m.unmount() == 0


# Over links/ too, one fault of each kind of failure (an error status, a
# rate limit, a body that is not JSON, a page of the wrong shape, a bad
# entry, no server, no answer): what happens after a page arrives is the
# same code for every kind, so the other faults would test it again.
LINK_FAULTS = ["503 with a JSON body", "429 without Retry-After",
               "truncated JSON", "connections not an array",
               "an id that is not a string", "connection refused (API down)",
               "API never answers"]


def make_test(name, fault, want, cause, kind="connections"):
    def t():
        check_fault(name, fault, want, cause, kind)
    t.__name__ = ("test_fault_" if kind == "connections" else
                  "test_links_fault_") + \
        re.sub(r"\W+", "_", name).strip("_").lower()
    return concurrent(t)


for _f in FAULTS:
    _t = make_test(*_f)
    globals()[_t.__name__] = _t
    if _f[0] in LINK_FAULTS:
        _t = make_test(*_f, kind="links")
        globals()[_t.__name__] = _t


@concurrent
def test_key_revoked_is_eacces_never_stale():
    sim = Sim("--regions", "fr-par", connections=4)
    m = Mount(sim, "ttl=1", "stale=600", "timeout=1", "regions=fr-par")
    c = sim.list_all("fr-par")[1]
    status = m.path("regions", "fr-par", "connections", c["id"], "status")
    assert read(status) == c["status"].encode() + b"\n"
    sim.ctl("POST", "/token", {"token": "revoked"})
    wait_for(lambda: errno_of(read, status) == errno.EACCES, 5,
             "Permission denied")
    # and it stays so: the old value is not served for an auth error
    for _ in range(5):
        assert errno_of(read, status) == errno.EACCES
    assert int(m.stats()["stale_served"]) == 0
    assert "HTTP 401" in m.log()
    sim.ctl("POST", "/token", {"token": sim.token})
    wait_for(lambda: errno_of(read, status) == 0, 8, "the key back")


def test_simulator_restarted_mid_walk():
    sim = Sim("--latency", "150", connections=40, seed=4)
    m = Mount(sim, "timeout=10")
    import subprocess
    import threading
    result = {}

    def walk():
        result["p"] = subprocess.run(
            "grep -rlx active regions/*/connections/*/status",
            shell=True, cwd=m.dir, capture_output=True, timeout=60)
    t = threading.Thread(target=walk)
    t.start()
    time.sleep(0.25)       # the first region is being listed
    sim.restart()
    t.join(60)
    p = result["p"]
    assert p.returncode == 0, p.stderr
    got = sorted(p.stdout.decode().split())
    want = sorted("regions/%s/connections/%s/status" % (r, c["id"])
                  for r in ("fr-par", "nl-ams", "pl-waw")
                  for c in sim.list_all(r) if c["status"] == "active")
    assert got == want


def test_design_table_matches():
    """docs/design.md's fault table says what these tests check."""
    with open(os.path.join(os.environ["SOURCE_ROOT"], "docs",
                           "design.md")) as f:
        text = f.read()
    section = text.split("### What each fault does", 1)[1].split("\n## ")[0]
    rows = [l for l in section.splitlines() if l.startswith("| ")][1:]
    by_name = {}
    for r in rows:
        cells = [c.strip() for c in r.strip("|").split("|")]
        by_name[cells[0]] = cells
    for name, _, want, _ in FAULTS:
        assert name in by_name, name
        cells = by_name[name]
        if want is None:
            assert cells[1].startswith("served"), cells
        else:
            code = errno.errorcode[want]
            assert cells[1].startswith("`%s`" % code), (name, cells)
            assert cells[4].startswith("`%s`" % code), (name, cells)
            assert cells[3].startswith("the old value"), cells
        assert cells[2].startswith("the value"), cells
    assert len(by_name) == len(FAULTS)


if __name__ == "__main__":
    run(globals(), jobs=6)
