# SPDX-License-Identifier: Apache-2.0
"""Soak: 32 threads read random files for 60 s while the API changes a
connection every second and fails now and then. No unexpected error, no
memory growth, and every value read is one the API served at some time.
Also: values that grow and shrink while they are read are never seen cut
short."""
import os
import random
import threading
import time

from harness import listdir, proc_status_kib, run
from mount import Mount
from sim import Sim

SECONDS = int(os.environ.get("SOAK_SECONDS", "60"))
THREADS = 32
REGIONS = ["fr-par", "nl-ams"]
STATUSES = ["active", "failed", "locked", "disabled", "configuring"]


def read_whole(path, drop=False):
    """Read a file to its end as cat does. Returns (content, size of the
    first read). drop: first drop the file's pages from the page cache
    (the kernel keeps what it knows of the file's size)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        if drop:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        chunks = []
        while True:
            b = os.read(fd, 65536)
            if not b:
                break
            chunks.append(b)
        return b"".join(chunks), len(chunks[0]) if chunks else 0
    finally:
        os.close(fd)


def judge(v, first, versions):
    """What a read to the end (v, whose first read() gave `first` bytes)
    returned: "whole" (one of the versions), "mixed" (the value changed
    between two read() calls: one whole version, then the rest of
    another, as with a file rewritten in place), or what the documented
    race with the length the kernel holds leaves: "short" (a version cut
    at another version's length) or "padded" (a version followed by zero
    bytes up to another version's length). None: anything else, which is
    always wrong."""
    if v in versions:
        return "whole"
    if any(v[:first] == a and b[first:] and v[first:] == b[first:]
           for a in versions for b in versions):
        return "mixed"
    if len(v) in {len(x) for x in versions}:
        if any(x.startswith(v) for x in versions):
            return "short"
        if v.rstrip(b"\0") in versions:
            return "padded"
    return None


def run_threads(m, threads, stop, marks, at_mark=None):
    """Start threads; at each mark (seconds from now, in order) check the
    daemon is alive and call at_mark(mark); then stop them (stop event)
    and join them, within a bound."""
    t0 = time.monotonic()
    for t in threads:
        t.start()
    try:
        for mark in marks:
            while time.monotonic() - t0 < mark:
                time.sleep(0.2)
                assert m.proc.poll() is None, m.log()
            if at_mark:
                at_mark(mark)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert not any(t.is_alive() for t in threads), "a reader hung"


def change_every_second(sim, conns, allowed, lock, stop):
    """Until stop: every second, a random connection gets a new status and
    name, added to allowed[(id, field)] (under lock) before the API can
    serve them."""
    rnd = random.Random(7)
    n = 0
    while not stop.wait(1.0):
        r = rnd.choice(REGIONS)
        c = rnd.choice(conns[r])
        n += 1
        new = {"status": rnd.choice(STATUSES),
               "name": "soak-%s-%d" % (c["id"][:8], n)}
        with lock:
            allowed[(c["id"], "status")].add(new["status"])
            allowed[(c["id"], "name")].add(new["name"])
        sim.patch(r, c["id"], new)


def fail_now_and_then(sim, stop):
    """Until stop: about one request in twenty fails, one way or
    another."""
    rnd = random.Random(11)
    kinds = [{"kind": "status", "status": 503}, {"kind": "html"},
             {"kind": "rate_limit"}, {"kind": "truncate"},
             {"kind": "reset"}]
    while not stop.wait(0.5):
        if rnd.random() < 0.3:
            f = dict(rnd.choice(kinds))
            sim.fault(f.pop("kind"), count=1, **f)


def test_soak():
    sim = Sim("--regions", ",".join(REGIONS), connections=150, seed=21)
    m = Mount(sim, "ttl=1", "timeout=5", "regions=" + ":".join(REGIONS), env=dict(x.split("=", 1) for x in os.environ.get("SOAK_ENV", "").split() if x))
    conns = {r: sim.list_all(r) for r in REGIONS}
    for r in REGIONS:   # warm: from here on a fault never finds nothing
        assert len(listdir(m.path("regions", r, "connections"))) == 150
    # Every value each (connection, field) has had.
    seen_lock = threading.Lock()
    allowed = {}
    for r in REGIONS:
        for c in conns[r]:
            allowed[(c["id"], "status")] = {c["status"]}
            allowed[(c["id"], "name")] = {c["name"]}
    stop = threading.Event()
    errors, reads, bad = [], [0], []
    got = {"whole": 0, "mixed": 0, "short": 0, "padded": 0}

    def reader(seed):
        rnd = random.Random(seed)
        while not stop.is_set():
            r = rnd.choice(REGIONS)
            c = rnd.choice(conns[r])
            field = rnd.choice(["status", "name"])
            p = m.path("regions", r, "connections", c["id"], field)
            try:
                # Read to the end, as cat does: a read() that races with a
                # change may return less than the whole value, and the
                # reads that follow return the rest.
                v, first = read_whole(p)
            except Exception as e:  # any error is unexpected here
                errors.append((p, repr(e)))
                continue
            with seen_lock:
                versions = [(x + "\n").encode()
                            for x in allowed[(c["id"], field)]]
                reads[0] += 1
            kind = judge(v, first, versions)
            if kind is None:
                bad.append((p, v, first, sorted(versions)))
            else:
                with seen_lock:
                    got[kind] += 1

    threads = [threading.Thread(target=reader, args=(i,))
               for i in range(THREADS)]
    if not os.environ.get("SOAK_NO_MUTATIONS"):
        threads.append(threading.Thread(target=change_every_second, args=(
            sim, conns, allowed, seen_lock, stop)))
    if not os.environ.get("SOAK_NO_FAULTS"):
        threads.append(threading.Thread(target=fail_now_and_then,
                                        args=(sim, stop)))
    rss = {}
    marks = os.environ.get("SOAK_MARKS")
    marks = [int(x) for x in marks.split(",")] if marks else []

    def at_mark(mark):
        rss[mark] = proc_status_kib(m.proc.pid, "VmRSS")

    run_threads(m, threads, stop, sorted(set(marks + [SECONDS // 3, SECONDS])),
                at_mark)
    counters = sim.counters()
    print("reads %d (%s), API requests %d (faults %d), RSS %s KiB"
          % (reads[0], ", ".join("%s %d" % kv for kv in got.items()),
             counters["total"], counters["faults"], rss))
    # On stdout too: what went wrong must reach a log that keeps only
    # the start of each stream.
    for what, items in (("error", errors), ("wrong value", bad)):
        for x in items[:5]:
            print("%s: %r" % (what, x))

    assert not errors, errors[:5]
    assert not bad, bad[:5]
    # What remains is documented (docs/design.md): a read that races with
    # the length the kernel holds may be cut short or padded; rarely.
    assert got["short"] + got["padded"] <= reads[0] / 10000, got
    assert reads[0] > 1000
    assert counters["faults"] > 0 or os.environ.get("SOAK_NO_FAULTS")
    if not os.environ.get("SANITIZED"):
        first, last = rss[SECONDS // 3], rss[SECONDS]
        assert last < first * 1.10, rss
    assert m.unmount() == 0


def test_growing_values():
    """The kernel keeps a file's size between reads. When a value grows
    (active -> configuring) while the kernel still holds the old size,
    reading the file to its end must give the whole new value, not the
    old size's worth of it ("configu"). All 200 connections of a region
    change together every 1.5 s while 8 readers drop pages and read them
    again, as fast as they can: far more reads racing with changes than
    any real mount sees."""
    sim = Sim("--regions", "fr-par", connections=200, seed=5)
    m = Mount(sim, "ttl=1", "timeout=5", "regions=fr-par")
    conns = sim.list_all("fr-par")
    d = m.path("regions", "fr-par", "connections")
    assert len(listdir(d)) == len(conns)
    values = ["active", "configuring"]
    stop = threading.Event()
    seen, bad, errors = [0], [], []
    got = {"whole": 0, "second read": 0, "mixed": 0, "short": 0,
           "padded": 0}

    def reader(seed):
        rnd = random.Random(seed)
        while not stop.is_set():
            c = rnd.choice(conns)
            p = os.path.join(d, c["id"], "status")
            try:
                os.stat(p)
                v, first = read_whole(p, drop=True)
            except Exception as e:
                errors.append((p, repr(e)))
                continue
            seen[0] += 1
            versions = [(x + "\n").encode() for x in values + [c["status"]]]
            kind = judge(v, first, versions)
            if kind is None:
                bad.append((p, v, first))
            else:
                if kind == "whole" and first < len(v):
                    kind = "second read"
                got[kind] += 1

    def mutator():
        n = 0
        while not stop.is_set():
            n += 1
            t0 = time.monotonic()
            for c in conns:
                if stop.is_set():
                    break
                sim.patch("fr-par", c["id"], {"status": values[n % 2]})
            stop.wait(max(0, 1.5 - (time.monotonic() - t0)))

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(8)]
    threads.append(threading.Thread(target=mutator))
    run_threads(m, threads, stop, [int(os.environ.get("GROW_SECONDS", "20"))])
    st = m.stats()
    print("reads %d: whole %d, completed by a second read() %d, changed "
          "between two read() calls %d, cut short %d, padded %d; size "
          "resyncs %s" % (seen[0], got["whole"], got["second read"],
                          got["mixed"], got["short"], got["padded"],
                          st.get("size_resyncs")))
    for x in errors[:5] + bad[:5]:
        print("wrong: %r" % (x,))
    assert "size_resyncs" in st, st
    assert not errors, errors[:5]
    assert not bad, bad[:5]
    # The reads that found the kernel's size behind were fixed up.
    assert int(st["size_resyncs"]) > 0, st
    # Left: races inside the kernel, between a size fetched just before a
    # change (or a size answer it drops because an invalidation crossed
    # it) and a read of the new value at that moment. Before reads checked
    # the kernel's size, about 1 read in 700 here came out cut short; now
    # about 1 in 100,000.
    assert got["short"] + got["padded"] <= seen[0] / 10000, got
    assert seen[0] > 100
    assert m.unmount() == 0


if __name__ == "__main__":
    run(globals())
