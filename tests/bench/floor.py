# SPDX-License-Identifier: Apache-2.0
"""interlinkfs against the floor: the least any FUSE daemon can do on the
kernel at hand, measured in the same run.

For N connections (interlink-sim on 127.0.0.1, +latency ms per request,
page cap 100), the tree interlinkfs shows under regions/fr-par/connections
(each connection's files and symbolic links, its links/) is copied to
tmpfs, and interlinkfs-floor (tests/bench/floor.c) reads it from a mount
of interlinkfs kept for that, and serves it from memory: the same bytes
in the same order, the same capabilities, the same page push, nothing
else. Then, in rounds whose order rotates (so that a slow moment of the
machine falls on each in turn), the same walk

    grep -rlx active regions/fr-par/connections

is timed on three mounts:

  interlinkfs  a new mount (-o rate=0). Its listing is read first, as
               `ls connections` and `ls connections/<first>/links` read
               it: the API's time, which no daemon can save. Then the
               cold walk, then 3 warm walks (the kernel's caches alone);
  floor        a new mount of the floor: the same steps;
  tmpfs        the copy: the same walk, 4 times (no cold).

On a 2-CPU machine shared with other work, where the scheduler puts the
reader and the daemon's threads moves a cold walk by 3 to 8 times between
runs, only ratios within one round mean anything: each ratio below is the
median of the rounds' ratios (min–max). Counts (reads that reached the
daemon, pages pushed) are reported beside them, and are what --smoke
checks: never a time.

With --base DIR (a build of another commit: run.sh --base COMMIT makes
one), that build's interlinkfs takes its turn in the same rounds too.

usage: python3 tests/bench/floor.py [--build DIR] [--sizes 1000]
       [--runs 7] [--latency MS] [--base DIR --base-label NAME] [--smoke]
--smoke: N=200, one round: every walk gives the same answer, the walks
reach both daemons alike, a warm walk reaches neither (CI).
"""
import argparse
import os
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

import harness  # noqa: E402
from mount import Mount, mounted_at, require_fuse  # noqa: E402
from sim import Sim  # noqa: E402

CAP = 100
TOKEN = "be9c4000-0000-4000-8000-00000000be9c"
CONNS = os.path.join("regions", "fr-par", "connections")
WALK = "grep -rlx active " + CONNS
WARM = 3


def walk(cwd):
    """The walk's time, and its answer (the files it names, sorted)."""
    t0 = time.perf_counter()
    p = subprocess.run(WALK, shell=True, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=600)
    t = time.perf_counter() - t0
    if p.returncode not in (0, 1) or p.stderr:
        raise RuntimeError("%s in %s: %s" % (WALK, cwd, p.stderr.decode()))
    return t, sorted(p.stdout.split())


def list_first(root):
    """What a walk cannot go below, read before it: the connections'
    listing and the links' (through the first connection's links/)."""
    conns = os.path.join(root, CONNS)
    first = sorted(harness.listdir(conns))[0]
    harness.listdir(os.path.join(conns, first, "links"))


class Floor:
    """interlinkfs-floor mounted with what source (a mount's root) holds at
    regions/fr-par/connections; stopped by PID (and unmounted) when the
    benchmark ends."""

    def __init__(self, exe, source):
        require_fuse()
        self.dir = tempfile.mkdtemp(prefix="interlinkfs-floor-")
        self.out = tempfile.TemporaryFile()
        self.proc = harness.spawn([exe, os.path.join(source, CONNS), CONNS,
                                   self.dir, "-f"],
                                  stdout=self.out, stderr=subprocess.STDOUT)
        harness.on_cleanup(self._cleanup)
        harness.wait_for(lambda: mounted_at(self.dir) or
                         self.proc.poll() is not None, 60, "the floor")
        if self.proc.poll() is not None:
            raise AssertionError("interlinkfs-floor exited: %s" % self.log())

    def log(self):
        self.out.seek(0)
        return self.out.read().decode(errors="replace")

    def unmount(self):
        """Unmounted; what reached it over its life ({name: count})."""
        subprocess.run(["fusermount3", "-u", self.dir], timeout=10,
                       check=True)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        rc = harness.stop_process(self.proc)
        counts = {x[0]: int(x[1]) for x in map(str.split,
                                               self.log().splitlines())
                  if len(x) == 2 and x[1].isdigit()}
        self._cleanup()
        assert rc == 0 and "reads" in counts, (rc, self.log())
        return counts

    def _cleanup(self):
        if self.proc.poll() is None:
            harness.stop_process(self.proc)
        if mounted_at(self.dir):
            subprocess.run(["fusermount3", "-u", "-z", self.dir], timeout=10)
        if os.path.isdir(self.dir):
            os.rmdir(self.dir)


def stats(m):
    return {k: int(v) for k, v in m.stats().items() if v.isdigit()}


def diff(a, b):
    return {k: b[k] - a[k] for k in b if k in a}


def on_interlinkfs(sim, exe):
    old = os.environ["INTERLINKFS"]
    os.environ["INTERLINKFS"] = exe
    try:
        m = Mount(sim, "regions=fr-par", "rate=0")
    finally:
        os.environ["INTERLINKFS"] = old
    list_first(m.dir)
    s0 = stats(m)
    sim.reset()
    cold, answer = walk(m.dir)
    s1 = stats(m)
    api = sim.counters()["total"]
    warm = [walk(m.dir)[0] for _ in range(WARM)]
    s2 = stats(m)
    m.unmount()
    return {"cold": cold, "warm": warm, "answer": answer,
            "reads": s1["kernel_reads"] - s0["kernel_reads"],
            "pushed": s1["pages_pushed"] - s0["pages_pushed"],
            "readdirs": s2["kernel_readdirs"],
            "api": api, "warm_sent": diff(s1, s2)}


def on_floor(exe, source):
    f = Floor(exe, source)
    list_first(f.dir)
    cold, answer = walk(f.dir)
    warm = [walk(f.dir)[0] for _ in range(WARM)]
    c = f.unmount()
    return {"cold": cold, "warm": warm, "answer": answer,
            "reads": c["reads"], "pushed": c["pages_pushed"], "counts": c}


def on_tmpfs(tree):
    list_first(tree)
    runs = [walk(tree) for _ in range(WARM + 1)]
    return {"walks": [t for t, _ in runs], "answer": runs[0][1]}


def measure(build, n, runs, latency, shm, base=None):
    """runs rounds of the three (four with base, a build directory), for
    N connections: {"n", "rounds", "files"}."""
    exe = os.path.join(build, "tests", "interlinkfs-floor")
    sim = Sim("--regions", "fr-par", "--max-page-size", str(CAP),
              "--latency", str(latency), connections=n, seed=3, token=TOKEN)
    tree = os.path.join(shm, "floor%d" % n)
    # The floor's source, for every round: no request once it is read.
    src = Mount(sim, "regions=fr-par", "rate=0", "ttl=86400",
                "catalog_ttl=86400")
    os.makedirs(os.path.join(tree, "regions", "fr-par"))
    subprocess.run(["cp", "-r", src.path(CONNS),
                    os.path.join(tree, "regions", "fr-par")], check=True,
                   timeout=600)
    files = sum(1 for d, _, fs in os.walk(os.path.join(tree, CONNS))
                for f in fs if not os.path.islink(os.path.join(d, f))
                and os.path.getsize(os.path.join(d, f)) > 0)
    ways = {"interlinkfs": lambda: on_interlinkfs(
                sim, daemon_path(build)),
            "floor": lambda: on_floor(exe, src.dir),
            "tmpfs": lambda: on_tmpfs(tree)}
    if base:
        ways["before"] = lambda: on_interlinkfs(
            sim, daemon_path(base))
    order = list(ways)
    rounds = []
    for i in range(runs):
        k = i % len(order)
        rounds.append({w: ways[w]() for w in order[k:] + order[:k]})
    src.unmount()
    sim.stop()
    shutil.rmtree(tree)
    return {"n": n, "rounds": rounds, "files": files}


def spread(xs, fmt="%.2f"):
    """Median (min–max)."""
    return (fmt + " (" + fmt + "–" + fmt + ")") % (
        statistics.median(xs), min(xs), max(xs))


def warm(x):
    return statistics.median(x["warm"] if "warm" in x else x["walks"])


def ratios(res, way):
    """Per round: way's cold and warm walks over the floor's and over
    tmpfs's (tmpfs: the median of its walks)."""
    out = {"cold": [], "warm": [], "cold_tmpfs": [], "warm_tmpfs": []}
    for r in res["rounds"]:
        i, f, t = r[way], r["floor"], warm(r["tmpfs"])
        out["cold"].append(i["cold"] / f["cold"])
        out["warm"].append(warm(i) / warm(f))
        out["cold_tmpfs"].append(i["cold"] / t)
        out["warm_tmpfs"].append(warm(i) / t)
    return out


def typical(res, way, key):
    """The median over rounds of one way's time (of a round's median when
    it walked several times)."""
    return statistics.median(warm(x[way]) if key == "warm" else
                             x[way][key] for x in res["rounds"])


def daemons(res, base_label):
    """(key, name) of each interlinkfs measured."""
    out = [("interlinkfs", "interlinkfs")]
    if "before" in res["rounds"][0]:
        out = [("before", "interlinkfs before (%s)" % base_label),
               ("interlinkfs", "interlinkfs after (this build)")]
    return out


def report(results, runs, p, base_label="base"):
    """The Markdown section, through p (print or a list's append)."""
    p("## The floor: interlinkfs against the least a FUSE daemon can do")
    p("")
    p("`%s`, %d rounds. The floor is `interlinkfs-floor` "
      "(tests/bench/floor.c): the tree interlinkfs shows, copied and "
      "served from memory with interlinkfs's capabilities and page push "
      "and no other work. interlinkfs's cold walk comes after its listing "
      "(read first, as `ls` reads it: the API's time, which no daemon can "
      "save), so that both cold walks do the same work. Ratios are the "
      "median of each round's ratio (min–max): on this 2-CPU machine, "
      "shared with other work, where the scheduler puts the reader and "
      "the daemon's threads moves a cold walk by 3 to 8 times between "
      "runs, only ratios within one round mean anything." % (WALK, runs))
    p("")
    p("| N | walk on | cold, s | warm, s | cold / floor | warm / floor | "
      "cold / tmpfs | warm / tmpfs |")
    p("|---|---|---|---|---|---|---|---|")
    for res in results:
        p("| %d | tmpfs | - | %.3f | | | | 1 |" % (
            res["n"], typical(res, "tmpfs", "warm")))
        for key, name in [("floor", "the floor")] + daemons(res,
                                                            base_label):
            r = ratios(res, key)
            p("| %d | %s | %.3f | %.3f | %s | %s | %s | %s |" % (
                res["n"], name, typical(res, key, "cold"),
                typical(res, key, "warm"),
                spread(r["cold"]) if key != "floor" else "1",
                spread(r["warm"]) if key != "floor" else "1",
                spread(r["cold_tmpfs"]), spread(r["warm_tmpfs"])))
    p("")
    p("Reads that reached the daemon in a cold walk, and files pushed to "
      "the page cache, per round: median (min–max). Files: those with "
      "bytes in the tree, each of which comes to the page cache one way "
      "or the other. A read reaches a daemon when the reader gets to a "
      "file before its push does; WALK-TRACE.md says when that happens.")
    p("")
    p("| N | files | daemon | reads | pushed |")
    p("|---|---|---|---|---|")
    for res in results:
        for key, name in [("floor", "the floor")] + daemons(res,
                                                            base_label):
            rs = res["rounds"]
            p("| %d | %d | %s | %s | %s |" % (
                res["n"], res["files"], name,
                spread([x[key]["reads"] for x in rs], "%d"),
                spread([x[key]["pushed"] for x in rs], "%d")))
    p("")


def check(res):
    """What --smoke asserts: counts and answers, never times. The list of
    what is wrong."""
    bad = []
    for i, r in enumerate(res["rounds"]):
        i_, f, t = r["interlinkfs"], r["floor"], r["tmpfs"]
        if not (i_["answer"] == f["answer"] == t["answer"]) or \
                not t["answer"]:
            bad.append("round %d: the three walks disagree" % i)
        if i_["api"]:
            bad.append("round %d: %d API requests after the listing"
                       % (i, i_["api"]))
        sent = {k: v for k, v in i_["warm_sent"].items()
                if k.startswith("kernel_") and v}
        # A file's page, now and then, is asked again in a warm walk (one
        # read in about one smoke run of ten, on a loaded machine; its
        # cause is not known yet): said, and allowed up to 1% of the
        # files. A warm walk that reaches the daemon for its files, the
        # regression this guards against, is hundreds of requests.
        if set(sent) == {"kernel_reads"} and \
                sent["kernel_reads"] * 100 <= res["files"]:
            print("floor smoke: note: round %d: %d read(s) of %d files "
                  "reached interlinkfs in warm walks" %
                  (i, sent["kernel_reads"], res["files"]))
        elif sent:
            bad.append("round %d: warm walks reached interlinkfs: %r"
                       % (i, sent))
        # The same tree, walked the same way: the kernel asks both for
        # the same pages of the same directories, over a mount's life.
        if f["counts"]["readdirplus"] != i_["readdirs"]:
            bad.append("round %d: %d readdirplus to the floor, %d to "
                       "interlinkfs" % (i, f["counts"]["readdirplus"],
                                        i_["readdirs"]))
        for w in (i_, f):
            if w["reads"] + w["pushed"] < res["files"]:
                bad.append("round %d: %d reads + %d pushes for %d files"
                           % (i, w["reads"], w["pushed"], res["files"]))
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--sizes", default="1000")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--latency", type=int, default=20)
    ap.add_argument("--base", default=None)
    ap.add_argument("--base-label", default="base")
    ap.add_argument("--smoke", action="store_true")
    a = ap.parse_args()
    os.environ.setdefault("INTERLINK_SIM", os.path.join(
        a.build, "tests", "sim", "interlink-sim"))
    os.environ.setdefault("INTERLINKFS", daemon_path(a.build))
    sizes = [200] if a.smoke else [int(x) for x in a.sizes.split(",")]
    runs = 1 if a.smoke else a.runs
    shm = tempfile.mkdtemp(prefix="interlinkfs-floor-", dir="/dev/shm")
    try:
        results = [measure(a.build, n, runs, a.latency, shm, a.base)
                   for n in sizes]
    except harness.Skip as e:
        print("floor: skipped: %s" % e)
        sys.exit(77)
    finally:
        harness.cleanup()
        shutil.rmtree(shm, ignore_errors=True)
    report(results, runs, print, a.base_label)
    if a.smoke:
        bad = [b for res in results for b in check(res)]
        for b in bad:
            print("floor smoke: " + b)
        sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
