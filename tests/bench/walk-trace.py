# SPDX-License-Identifier: Apache-2.0
"""Where the time of a cold walk goes, from the kernel's FUSE tracepoints,
on interlinkfs and on the floor (interlinkfs-floor, tests/bench/floor.c).

For N connections (interlink-sim on 127.0.0.1, page cap 100): a new mount
with -o rate=0, the region's listing read first (so that the walk is only
the part after it), then the benchmark's cold walk

    grep -rlx active connections

while `perf record` takes fuse:fuse_request_send and fuse:fuse_request_end;
then the same on a new mount of the floor, which holds the same tree in
the same order (read from a mount of interlinkfs kept for that). Each
request of the walk is split in two:

  answer   from the kernel sending it to the daemon's answer;
  reader   from that answer to the reader's next request: the reader's
           own work (and its wake-up), which includes making the inodes
           of a readdirplus answer.

The reads that reach a daemon are grouped by the directory they follow
(1, 2-3, 4-9, 10 or more): a reader that got ahead of the page push reads
one or two files through the daemon, a push that did not come reads
most. The same walk over a copy in tmpfs gives the reader's time with no
FUSE at all. Prints Markdown; medians over --runs mounts of each.

Needs root, /dev/fuse, perf (Debian: linux-perf) and a kernel with the
fuse tracepoints (perf list 'fuse:*'); exits 77 saying which is missing.

usage: python3 tests/bench/walk-trace.py [--build DIR] [--sizes 1000,10000]
       [--runs 3]
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "py"))
from harness import daemon_path  # noqa: E402 (after the path)

TOKEN = "be9c4000-0000-4000-8000-00000000be9c"
WALK = "grep -rlx active connections"
EVENT = re.compile(r"^\s*(\S+)\s+\d+\s+\[\d+\]\s+(\d+\.\d+):\s+"
                   r"fuse:fuse_request_(send|end):.* connection (\d+)"
                   r" req (\d+)(?: opcode \d+ \((\w+)\))?"
                   r"(?:.* len (\d+))?")
REGION = os.path.join("regions", "fr-par")
END = "READDIRPLUS, end"
BUCKETS = [(1, 1), (2, 3), (4, 9), (10, 1 << 30)]


def skip(why):
    print("walk-trace: skipped: " + why)
    sys.exit(77)


def parse(text, reader, conn):
    """{kind: [(answer_us, reader_us or None)]} for requests sent by the
    reader to FUSE connection conn (other mounts of the machine are
    not this walk's), and the reader's requests in the order they were
    answered. A readdirplus answered with no entry (16 bytes: the header
    alone) is the end of a directory, a kind of its own."""
    sent, out, last, seq = {}, {}, None, []
    for line in text.splitlines():
        m = EVENT.match(line)
        # The kernel's dev_t: the minor number in the low 20 bits.
        if not m or int(m.group(4)) & 0xfffff != conn:
            continue
        comm, t, what, req = m.group(1), float(m.group(2)), m.group(3), \
            m.group(5)
        if what == "send":
            if comm != reader:
                continue
            if last:
                last[1][1] = (t - last[0]) * 1e6
                last = None
            sent[req] = (t, m.group(6))
        elif req in sent:
            t0, op = sent.pop(req)
            op = op.replace("FUSE_", "")
            if op == "READDIRPLUS" and int(m.group(7) or 0) <= 16:
                op = END
            sample = [(t - t0) * 1e6, None]
            out.setdefault(op, []).append(sample)
            seq.append(op)
            last = (t, sample)
    return {k: [tuple(s) for s in v] for k, v in out.items()}, seq


def reads_by_dir(seq):
    """The number of reads after each directory's end, for the
    directories that had any (the reader reads a directory's files right
    after listing it)."""
    out, cur = [], 0
    for op in seq + [END]:
        if op == END:
            if cur:
                out.append(cur)
            cur = 0
        elif op == "READ":
            cur += 1
    return out


def traced(root):
    """The walk in root/regions/fr-par, after its listing, traced: (its
    seconds, parse()'s answer)."""
    from floor import list_first
    list_first(root)
    data = os.path.join(tempfile.gettempdir(), "walk-trace-%d.data"
                        % os.getpid())
    rec = subprocess.Popen(["perf", "record", "-q", "-a", "-o", data,
                            "-e", "fuse:fuse_request_send",
                            "-e", "fuse:fuse_request_end"],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)  # perf is recording
        t0 = time.monotonic()
        subprocess.run(WALK, shell=True, cwd=os.path.join(root, REGION),
                       stdout=subprocess.DEVNULL, timeout=600)
        walk = time.monotonic() - t0
    finally:
        rec.send_signal(2)
        rec.wait(timeout=60)
    text = subprocess.run(["perf", "script", "-i", data],
                          capture_output=True, text=True,
                          timeout=600).stdout
    os.unlink(data)
    return walk, parse(text, "grep", os.minor(os.stat(root).st_dev))


def one(sim, src, tree, floor_exe):
    """One traced walk on each: interlinkfs, the floor, tmpfs."""
    from floor import Floor
    from mount import Mount
    m = Mount(sim, "regions=fr-par", "rate=0")
    s0 = m.stats()
    walk, (req, seq) = traced(m.dir)
    s1 = m.stats()
    m.unmount()
    got = {"interlinkfs": {
        "walk": walk, "req": req, "by_dir": reads_by_dir(seq),
        "reads": int(s1["kernel_reads"]) - int(s0["kernel_reads"]),
        "pushed": int(s1["pages_pushed"]) - int(s0["pages_pushed"])}}
    f = Floor(floor_exe, src)
    walk, (req, seq) = traced(f.dir)
    c = f.unmount()
    got["floor"] = {"walk": walk, "req": req, "by_dir": reads_by_dir(seq),
                    "reads": c["reads"], "pushed": c["pages_pushed"]}
    region = os.path.join(tree, REGION)
    subprocess.run(WALK, shell=True, cwd=region, stdout=subprocess.DEVNULL)
    t0 = time.monotonic()
    subprocess.run(WALK, shell=True, cwd=region, stdout=subprocess.DEVNULL)
    got["tmpfs"] = time.monotonic() - t0
    return got


def source(sim, tmp):
    """A mount of interlinkfs that no walk uses (the floor reads its tree
    there: no request once read), and a copy of its tree in tmp."""
    from mount import Mount
    m = Mount(sim, "regions=fr-par", "rate=0", "ttl=86400",
              "catalog_ttl=86400")
    tree = os.path.join(tmp, "tree")
    shutil.copytree(m.path(REGION, "connections"),
                    os.path.join(tree, REGION, "connections"), symlinks=True)
    return m, tree


def per_request(runs, n):
    """Per request kind and daemon: (per connection, answer µs, reader µs,
    answer + reader per connection µs); and each daemon's totals."""
    rows, total = {}, {}
    for d in ("interlinkfs", "floor"):
        kinds = {k for r in runs for k in r[d]["req"]}
        daemon = reader = 0.0
        for k in kinds:
            s = [x for r in runs for x in r[d]["req"].get(k, [])]
            rd = [x[1] for x in s if x[1] is not None]
            rows.setdefault(k, {})[d] = (
                len(s) / len(runs) / n, statistics.median(x[0] for x in s),
                statistics.median(rd) if rd else 0.0,
                sum(x[0] + (x[1] or 0) for x in s) / len(runs) / n)
            daemon += sum(x[0] for x in s) / len(runs) / n
            reader += sum(x[1] or 0 for x in s) / len(runs) / n
        total[d] = (daemon, reader)
    return rows, total


def report(n, runs):
    walk = {d: statistics.median(r[d]["walk"] for r in runs)
            for d in ("interlinkfs", "floor")}
    tmpfs = statistics.median(r["tmpfs"] for r in runs)
    print("## N = %d\n" % n)
    print("Walk after the listing: interlinkfs %.3f s, the floor %.3f s "
          "(interlinkfs / floor: %.2f; per run: %s), tmpfs %.3f s. Per "
          "connection: %.0f, %.0f and %.0f µs.\n"
          % (walk["interlinkfs"], walk["floor"],
             walk["interlinkfs"] / walk["floor"],
             ", ".join("%.2f" % (r["interlinkfs"]["walk"] /
                                 r["floor"]["walk"]) for r in runs),
             tmpfs, walk["interlinkfs"] / n * 1e6, walk["floor"] / n * 1e6,
             tmpfs / n * 1e6))
    rows, total = per_request(runs, n)
    print("| request | per connection: interlinkfs | floor | answer, µs: "
          "interlinkfs | floor | reader until its next request, µs: "
          "interlinkfs | floor | answer + reader, per connection, µs: "
          "interlinkfs | floor |")
    print("|---|---|---|---|---|---|---|---|---|")
    z = (0, 0, 0, 0)
    for k in sorted(rows, key=lambda k: -rows[k].get("interlinkfs", z)[0]):
        a, b = rows[k].get("interlinkfs", z), rows[k].get("floor", z)
        print("| %s | %.2f | %.2f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f |"
              % (k, a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3]))
    print()
    print("Per connection: the daemon's answers %.0f µs on interlinkfs, "
          "%.0f on the floor; the reader between them %.0f and %.0f µs.\n"
          % (total["interlinkfs"][0], total["floor"][0],
             total["interlinkfs"][1], total["floor"][1]))
    print("Reads that reached the daemon in each run, and pages pushed; the "
          "directories after which reads came, by how many came (all "
          "runs).\n")
    print("| daemon | reads per run | pushed per run | directories with "
          "reads | " + " | ".join(
              "%d" % lo if lo == hi else "%d or more" % lo
              if hi > 100 else "%d–%d" % (lo, hi)
              for lo, hi in BUCKETS) + " |")
    print("|---|---|---|---|" + "---|" * len(BUCKETS))
    for d in ("interlinkfs", "floor"):
        by = [c for r in runs for c in r[d]["by_dir"]]
        print("| %s | %s | %s | %d | %s |" % (
            d, ", ".join(str(r[d]["reads"]) for r in runs),
            ", ".join(str(r[d]["pushed"]) for r in runs), len(by),
            " | ".join("%d dirs, %d reads" % (
                sum(1 for c in by if lo <= c <= hi),
                sum(c for c in by if lo <= c <= hi)) for lo, hi in BUCKETS)))
    print()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build-bench"))
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    if os.geteuid() != 0:
        skip("needs root (perf record -a, mounts)")
    if not shutil.which("perf"):
        skip("perf is not installed (Debian: apt-get install linux-perf)")
    ev = subprocess.run(["perf", "list", "fuse:*"], capture_output=True,
                        text=True).stdout
    if "fuse_request_send" not in ev:
        skip("this kernel has no fuse:fuse_request_* tracepoints")
    os.environ["INTERLINKFS"] = daemon_path(a.build)
    os.environ["INTERLINK_SIM"] = os.path.join(a.build, "tests", "sim",
                                               "interlink-sim")
    floor_exe = os.path.join(a.build, "tests", "interlinkfs-floor")
    import harness
    from sim import Sim
    print("# Where a cold walk's time goes\n")
    print("`%s` in `regions/fr-par` (it enters each connection's "
          "`links/`), after the listing, on %d mounts of interlinkfs and %d "
          "of the floor, taking turns; µs are medians over every request "
          "of every run.\n" % (WALK, a.runs, a.runs))
    try:
        for n in [int(x) for x in a.sizes.split(",")]:
            sim = Sim("--regions", "fr-par", "--max-page-size", "100",
                      connections=n, seed=3, token=TOKEN)
            with tempfile.TemporaryDirectory(dir="/dev/shm") as tmp:
                src, tree = source(sim, tmp)
                runs = [one(sim, src.dir, tree, floor_exe)
                        for _ in range(a.runs)]
                src.unmount()
            sim.stop()
            report(n, runs)
    finally:
        harness.cleanup()
    print(WHY)


WHY = """## Why reads still reach the daemon

The page push, interlinkfs's and the floor's alike, begins when the end of
a connection's directory has been answered: that handler stores the
directory's files one after the other, each a write to /dev/fuse of about
4 to 5 µs (the kernel copies the page in). The reader, woken by the same
answer, goes through the files in the same order, a few µs each when the
page is there. A read that gets to a file before its store is a READ
round trip: when the handler lost its CPU right after answering (the
reader ran first), or when the reader, a little faster per file, caught
up with the push under way. Both daemons lose that race alike, as the
scheduler decides: the tables above count the reads by directory, mostly
1 to 3, the reader a file or two ahead of the push.

interlinkfs had two more ways to lose it, both through its keeper thread,
to which a handler leaves a push it cannot make itself:

- a read that came first claimed the object's push and queued it for the
  keeper; the handler of the end of the directory then found it claimed
  and stored nothing, and the keeper, woken by an event, came after the
  reader had read several more files;
- while the keeper stored, the lock that lets one thread at a time store
  made the next directories' handlers leave their pushes to it too, so
  that it fell further behind the reader: a cascade, seen as walks with
  thousands of reads.

Since "fs: a read of an object's file stores the object's other files
itself, after its reply", the handler of such a read stores the object's
other files, after its answer, from the next file on; the floor does the
same. Measured with a timestamp taken at every store, read and end of
directory in both daemons (a build made for that, not kept), N = 1,000,
21 rounds taking turns on a loaded machine (load average 16 to 22),
reads per walk:

| | interlinkfs before | interlinkfs after | the floor |
|---|---|---|---|
| median (mean, max) | 296 (1,008, 10,428) | 178 (207, 467) | 201 (191, 318) |
| the reader got to the files before their push began | 131 | 100 | 92 |
| the reader caught up with a push under way | 138 | 107 | 99 |
| a read came first and left the push to the keeper | 137 | 0 | - |
| the push went to the keeper, which was storing | 602 | 0.3 | - |

At a load average near 5 (18 rounds), interlinkfs before read 456 files
per walk through the daemon (the median), 125 of them through the
keeper, the floor (without its push after a read) 424. The figure of
about 30 for the floor was not seen in any run made beside interlinkfs:
over this work the floor's reads moved between 6 and 1,601 per walk with
the scheduler, which is why they are counted in the same rounds. A read
that reaches the daemon costs its round trip, some 20 to 40 µs: the reads
left are one or two hundredths of a walk.
"""


if __name__ == "__main__":
    main()
