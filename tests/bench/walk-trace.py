# SPDX-License-Identifier: Apache-2.0
"""Where the time of a cold walk goes, from the kernel's FUSE tracepoints.

For N connections (interlink-sim on 127.0.0.1, page cap 100): a new mount
with -o rate=0, the region's listing read first (so that the walk is only
the part after it), then the benchmark's cold walk

    grep -rlx active --exclude-dir=links connections

while `perf record` takes fuse:fuse_request_send and fuse:fuse_request_end.
Each request of the walk is then split in two:

  answer   from the kernel sending it to the daemon's answer;
  reader   from that answer to the reader's next request: the reader's
           own work (and its wake-up), which includes making the inodes
           of a readdirplus answer.

The same walk over a tmpfs copy of the tree gives the reader's time with
no FUSE at all. Prints Markdown tables; medians over --runs mounts.

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

TOKEN = "be9c4000-0000-4000-8000-00000000be9c"
WALK = "grep -rlx active --exclude-dir=links connections"
EVENT = re.compile(r"^\s*(\S+)\s+\d+\s+\[\d+\]\s+(\d+\.\d+):\s+"
                   r"fuse:fuse_request_(send|end):.* req (\d+)"
                   r"(?: opcode \d+ \((\w+)\))?(?:.* len (\d+))?")


def skip(why):
    print("walk-trace: skipped: " + why)
    sys.exit(77)


def parse(text, reader):
    """{kind: [(answer_us, reader_us or None)]} for requests sent by the
    reader. A readdirplus answered with no entry (16 bytes: the header
    alone) is the end of a directory, a kind of its own."""
    sent, out, last = {}, {}, None
    for line in text.splitlines():
        m = EVENT.match(line)
        if not m:
            continue
        comm, t, what, req = m.group(1), float(m.group(2)), m.group(3), \
            m.group(4)
        if what == "send":
            if comm != reader:
                continue
            if last:
                last[1][1] = (t - last[0]) * 1e6
                last = None
            sent[req] = (t, m.group(5))
        elif req in sent:
            t0, op = sent.pop(req)
            if op == "FUSE_READDIRPLUS" and int(m.group(6) or 0) <= 16:
                op = "READDIRPLUS, end"
            sample = [(t - t0) * 1e6, None]
            out.setdefault(op.replace("FUSE_", ""), []).append(sample)
            last = (t, sample)
    return {k: [tuple(s) for s in v] for k, v in out.items()}


def one(sim, n, tmp):
    from mount import Mount
    m = Mount(sim, "regions=fr-par", "rate=0")
    region = m.path("regions", "fr-par")
    os.listdir(os.path.join(region, "connections"))
    data = os.path.join(tmp, "perf.data")
    rec = subprocess.Popen(["perf", "record", "-q", "-a", "-o", data,
                            "-e", "fuse:fuse_request_send",
                            "-e", "fuse:fuse_request_end"],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # perf is recording
    t0 = time.monotonic()
    subprocess.run(WALK, shell=True, cwd=region, stdout=subprocess.DEVNULL)
    walk = time.monotonic() - t0
    rec.send_signal(2)
    rec.wait(timeout=60)
    text = subprocess.run(["perf", "script", "-i", data],
                          capture_output=True, text=True,
                          timeout=600).stdout
    copy = os.path.join(tmp, "tree")
    shutil.copytree(os.path.join(region, "connections"),
                    os.path.join(copy, "connections"), symlinks=True)
    m.unmount()
    subprocess.run(WALK, shell=True, cwd=copy, stdout=subprocess.DEVNULL)
    t0 = time.monotonic()
    subprocess.run(WALK, shell=True, cwd=copy, stdout=subprocess.DEVNULL)
    tmpfs = time.monotonic() - t0
    shutil.rmtree(copy)
    return {"walk": walk, "tmpfs": tmpfs, "req": parse(text, "grep")}


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
    os.environ["INTERLINKFS"] = os.path.join(a.build, "fs", "interlinkfs")
    os.environ["INTERLINK_SIM"] = os.path.join(a.build, "tests", "sim",
                                               "interlink-sim")
    from sim import Sim
    print("# Where a cold walk's time goes\n")
    print("`%s` in `regions/fr-par`, after the listing, %d mounts each; "
          "µs are medians over every request of every run.\n"
          % (WALK, a.runs))
    for n in [int(x) for x in a.sizes.split(",")]:
        sim = Sim("--regions", "fr-par", "--max-page-size", "100",
                  connections=n, seed=3, token=TOKEN)
        with tempfile.TemporaryDirectory(dir="/dev/shm") as tmp:
            runs = [one(sim, n, tmp) for _ in range(a.runs)]
        sim.stop()
        walk = statistics.median(r["walk"] for r in runs)
        tmpfs = statistics.median(r["tmpfs"] for r in runs)
        kinds = sorted({k for r in runs for k in r["req"]},
                       key=lambda k: -len(runs[0]["req"].get(k, [])))
        print("## N = %d\n" % n)
        print("Walk after the listing: %.3f s, %.0f µs per directory; "
              "the same walk on tmpfs: %.3f s, %.0f µs per directory.\n"
              % (walk, walk / n * 1e6, tmpfs, tmpfs / n * 1e6))
        daemon = reader = 0.0
        print("| request | per directory | answer, µs | reader until its "
              "next request, µs | answer + reader, per directory, µs |")
        print("|---|---|---|---|---|")
        for k in kinds:
            s = [x for r in runs for x in r["req"].get(k, [])]
            ans = statistics.median(x[0] for x in s)
            rd = [x[1] for x in s if x[1] is not None]
            rdm = statistics.median(rd) if rd else 0.0
            per = len(s) / a.runs / n
            print("| %s | %.2f | %.0f | %.0f | %.0f |"
                  % (k, per, ans, rdm,
                     sum(x[0] + (x[1] or 0) for x in s) / a.runs / n))
            daemon += sum(x[0] for x in s) / a.runs / n
            reader += sum(x[1] or 0 for x in s) / a.runs / n
        print()
        print("Per directory: the daemon's answers %.0f µs, the reader "
              "between them %.0f µs. The target of the benchmark's before / "
              "after table allows the walk, after its listing, twice the "
              "tmpfs walk: %.0f µs per directory; the reader's part alone "
              "is %.2f× that.\n"
              % (daemon, reader, 2 * tmpfs / n * 1e6,
                 reader / (2 * tmpfs / n * 1e6)))


if __name__ == "__main__":
    main()
