"""Soak: 32 threads read random files for 60 s while the API changes a
connection every second and fails now and then. No unexpected error, no
memory growth, and every value read is one the API served at some time."""
import os
import random
import threading
import time

from harness import Mount, Sim, listdir, read, run

SECONDS = int(os.environ.get("SOAK_SECONDS", "60"))
THREADS = 32
REGIONS = ["fr-par", "nl-ams"]
STATUSES = ["active", "failed", "locked", "disabled", "configuring"]


def read_once(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, 65536)
    finally:
        os.close(fd)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


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

    def reader(seed):
        rnd = random.Random(seed)
        while not stop.is_set():
            r = rnd.choice(REGIONS)
            c = rnd.choice(conns[r])
            field = rnd.choice(["status", "name"])
            p = m.path("regions", r, "connections", c["id"], field)
            try:
                # One read() call: each call is one version of the file
                # (a file that changes between two calls shows parts of
                # both, as on any filesystem).
                v = read_once(p)
            except Exception as e:  # any error is unexpected here
                errors.append((p, repr(e)))
                continue
            text = v.decode()[:-1] if v.endswith(b"\n") else None
            with seen_lock:
                ok = text in allowed[(c["id"], field)]
                reads[0] += 1
            if not ok:
                bad.append((p, v))

    def mutator():
        rnd = random.Random(7)
        n = 0
        while not stop.wait(1.0):
            r = rnd.choice(REGIONS)
            c = rnd.choice(conns[r])
            n += 1
            new = {"status": rnd.choice(STATUSES),
                   "name": "soak-%s-%d" % (c["id"][:8], n)}
            with seen_lock:   # known before the API can serve it
                allowed[(c["id"], "status")].add(new["status"])
                allowed[(c["id"], "name")].add(new["name"])
            sim.patch(r, c["id"], new)

    def faulter():
        # About one request in twenty fails, one way or another.
        rnd = random.Random(11)
        kinds = [{"kind": "status", "status": 503}, {"kind": "html"},
                 {"kind": "rate_limit"}, {"kind": "truncate"},
                 {"kind": "reset"}]
        while not stop.wait(0.5):
            if rnd.random() < 0.3:
                f = dict(rnd.choice(kinds))
                sim.fault(f.pop("kind"), count=1, **f)

    threads = [threading.Thread(target=reader, args=(i,))
               for i in range(THREADS)]
    if not os.environ.get("SOAK_NO_MUTATIONS"):
        threads.append(threading.Thread(target=mutator))
    if not os.environ.get("SOAK_NO_FAULTS"):
        threads.append(threading.Thread(target=faulter))
    t0 = time.monotonic()
    for t in threads:
        t.start()
    rss = {}
    try:
        marks = os.environ.get("SOAK_MARKS")
        marks = [int(x) for x in marks.split(",")] if marks else []
        for mark in sorted(set(marks + [SECONDS // 3, SECONDS])):
            while time.monotonic() - t0 < mark:
                time.sleep(0.2)
                assert m.proc.poll() is None, m.log()
            rss[mark] = rss_kib(m.proc.pid)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
        assert not any(t.is_alive() for t in threads), "a reader hung"
    counters = sim.counters()
    print("reads %d, API requests %d (faults %d), RSS %s KiB"
          % (reads[0], counters["total"], counters["faults"], rss))

    assert not errors, errors[:5]
    assert not bad, bad[:5]
    assert reads[0] > 1000
    assert counters["faults"] > 0 or os.environ.get("SOAK_NO_FAULTS")
    if not os.environ.get("SANITIZED"):
        first, last = rss[SECONDS // 3], rss[SECONDS]
        assert last < first * 1.10, rss
    assert m.unmount() == 0


if __name__ == "__main__":
    run(globals())
