# SPDX-License-Identifier: Apache-2.0
"""interlinkfs benchmark: prints a Markdown table (and writes a PNG chart).

Against interlink-sim on 127.0.0.1 with added latency (default 20 ms, a
real API round trip) and a page cap of 100, for each N connections in one
region:

  0. the floor        interlinkfs's cold walk (less its listing) and warm
                      walk as ratios to interlinkfs-floor's, the least any
                      FUSE daemon can do on this kernel, beside tmpfs, in
                      the same rounds (floor.py; --floor-sizes)
  1. cold full walk   grep -rlx active .../connections right after mount
  2. warm full walk   the same again, against the same tree copied to tmpfs
  3. curl | jq        the usual script paging the API, cold and repeated
  4. ttl=0            the walk with no cache (small N only: it is slow)
  5. cat latency      p50/p99: kernel cache, daemon cache, miss (one get)
  6. memory           daemon RSS after a full walk, bytes per connection
  7. concurrency      1, 4, 16, 64 readers over warm data, operations/s

Timings are medians of several runs with min and max; wherever a reference
exists (tmpfs, the curl script) it is measured in the same run and the
ratio is given.

and, with --base DIR (a build of another commit; run.sh --base COMMIT
builds one), the same cold and warm measures for both builds side by side,
in the same run, at each of --compare-sizes:

  8. before / after   cold walk with -o rate=0 beside the listing's own
                      time (api/ alone, interlinkctl) and the tmpfs walk;
                      the daemon's CPU seconds per 1,000 connections of a
                      cold walk; warm walk / tmpfs; warm cat p99; parallel
                      readers; RSS after the walks (and the base build
                      takes its turn in the floor's rounds)

usage: python3 tests/bench/bench.py [--build DIR] [--sizes 100,1000,...]
       [--runs N] [--latency MS] [--out DIR] [--smoke]
       [--floor-sizes 1000,10000] [--floor-runs N]
       [--base DIR --base-label NAME --compare-sizes 1000,10000]
--smoke: N=200, one run, checks the request counts only (CI).
"""
import argparse
import math
import multiprocessing
import os
import platform
import random
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

CAP = 100
TOKEN = "be9c4000-0000-4000-8000-00000000be9c"

CURL_JQ = r'''
page=1
while :; do
  body=$(curl -s -H "X-Auth-Token: $TOKEN" \
    "$URL/interlink/v1beta1/regions/fr-par/dedicated-connections?page=$page&page_size=100")
  printf '%s' "$body" | jq -r '.connections[] | select(.status == "active") | .id'
  n=$(printf '%s' "$body" | jq '.connections | length')
  [ "$n" -lt 100 ] && break
  page=$((page + 1))
done
'''


def med(xs):
    return statistics.median(xs), min(xs), max(xs)


def fmt(t):
    m, lo, hi = t
    return "%.3f (%.3f–%.3f)" % (m, lo, hi)


def timeit(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def sh(cmd, cwd=None, env=None):
    p = subprocess.run(cmd, shell=True, cwd=cwd, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode not in (0, 1):   # grep -l: 1 = nothing found
        raise RuntimeError("%s: %s" % (cmd, p.stderr.decode()))
    return p.stdout


def percentile(xs, p):
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, int(math.ceil(p / 100 * len(xs))) - 1))
    return xs[k]


def cat_times(paths, samples, before=None):
    out = []
    for i in range(samples):
        p = paths[i % len(paths)]
        if before:
            before()
        t0 = time.perf_counter()
        subprocess.run(["cat", p], stdout=subprocess.DEVNULL, check=True)
        out.append(time.perf_counter() - t0)
    return out


def reader_proc(paths, start, seconds, q):
    rnd = random.Random(os.getpid())
    n = err = 0
    # Everyone starts and stops together: the total over the window is
    # the rate, however long the processes took to start.
    while time.monotonic() < start:
        time.sleep(0.001)
    end = start + seconds
    while time.monotonic() < end:
        p = rnd.choice(paths)
        try:
            fd = os.open(p, os.O_RDONLY)
            os.read(fd, 4096)
            os.close(fd)
            n += 1
        except OSError:
            err += 1
    q.put((n, err))


def readers(paths, k, seconds=2.0):
    q = multiprocessing.Queue()
    start = time.monotonic() + 1.0 + k * 0.02
    ps = [multiprocessing.Process(target=reader_proc,
                                  args=(paths, start, seconds, q))
          for _ in range(k)]
    for p in ps:
        p.start()
    res = [q.get(timeout=seconds + 30) for _ in ps]
    for p in ps:
        p.join(30)
    return sum(r[0] for r in res) / seconds, sum(r[1] for r in res)


def cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def listing_alone(build, sim, runs):
    """The region's listing with api/ alone (interlinkctl), no rate limit:
    what a walk cannot go below."""
    ctl = os.path.join(build, "examples", "interlinkctl")
    env = dict(os.environ, SCW_SECRET_KEY=TOKEN, SCW_API_URL=sim.url,
               SCW_CONFIG_PATH="/nonexistent")
    out = []
    for _ in range(runs):
        p = subprocess.run([ctl, "--time", "--rate", "0", "ls", "fr-par"],
                           env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, check=True)
        line = [x for x in p.stderr.decode().splitlines()
                if x.startswith("elapsed_ms")][0]
        out.append(float(line.split()[1]) / 1000)
    return med(out)


def session(fsbin, sim, n, walk, Mount):
    """One mount of one build: a cold walk (rate=0) and its CPU, warm
    walks, RSS after them, warm cats, parallel readers."""
    old = os.environ["INTERLINKFS"]
    os.environ["INTERLINKFS"] = fsbin
    try:
        m = Mount(sim, "regions=fr-par", "rate=0")
        c0 = cpu_seconds(m.proc.pid)
        cold = timeit(lambda: sh(walk, cwd=m.dir))
        cpu = (cpu_seconds(m.proc.pid) - c0) * 1000 / n
        warm = [timeit(lambda: sh(walk, cwd=m.dir)) for _ in range(3)]
        rss = harness_mod().proc_status_kib(m.proc.pid, "VmRSS")
        conns = os.listdir(m.path("regions", "fr-par", "connections"))
        paths = [m.path("regions", "fr-par", "connections", cid, "status")
                 for cid in conns[:200]]
        cat = cat_times(paths, 200)
        rd = {k: readers(paths, k)[0] for k in (16, 64)}
        m.unmount()
    finally:
        os.environ["INTERLINKFS"] = old
    return {"cold": cold, "cpu": cpu, "warm": warm, "rss_kib": rss,
            "cat": cat, "readers": rd}


def merge(sessions):
    """Medians over sessions (cat: all samples pooled)."""
    return {"cold": med([x["cold"] for x in sessions]),
            "cpu": med([x["cpu"] for x in sessions]),
            "warm": med([w for x in sessions for w in x["warm"]]),
            "rss_kib": statistics.median(x["rss_kib"] for x in sessions),
            "cat": [c for x in sessions for c in x["cat"]],
            "readers": {k: statistics.median(x["readers"][k]
                                             for x in sessions)
                        for k in (16, 64)},
            "readers_range": {k: (min(x["readers"][k] for x in sessions),
                                  max(x["readers"][k] for x in sessions))
                              for k in (16, 64)},
            "warm_all": [w for x in sessions for w in x["warm"]]}


def links_walks(sim, n, runs, shm):
    """links/ at N links: cold walks (each on a new mount, rate=0) with
    their requests, warm walks, and the same tree on tmpfs."""
    from mount import Mount
    walk = "grep -rlx down regions/fr-par/links"
    cold, reqs, warm = [], [], []
    for i in range(runs):
        m = Mount(sim, "regions=fr-par", "rate=0")
        sim.reset()
        cold.append(timeit(lambda: sh(walk, cwd=m.dir)))
        c = sim.counters()
        # The region's PoP list (does the API serve it?) is read once
        # when the region is first entered: not the walk's cost.
        reqs.append((c["links_list"], c["link_get"],
                     c["total"] - c["pops_list"]))
        sim.reset()
        warm += [timeit(lambda: sh(walk, cwd=m.dir)) for _ in range(3)]
        assert sim.counters()["total"] == 0
        if i < runs - 1:
            m.unmount()
    dst = os.path.join(shm, "links%d" % n)
    sh("mkdir -p %s/regions/fr-par && cp -r %s %s/regions/fr-par/"
       % (dst, m.path("regions", "fr-par", "links"), dst))
    m.unmount()
    tmp = [timeit(lambda: sh(walk, cwd=dst)) for _ in range(3 * runs)]
    shutil.rmtree(dst)
    pages = math.ceil(n / CAP)
    return {"n": n, "cold": med(cold), "req": reqs[0],
            "req_ok": all(x == (pages, 0, pages) for x in reqs),
            "warm": med(warm), "tmpfs": med(tmp)}


def harness_mod():
    import harness
    return harness


def compare(a, shm):
    """Before / after: the same measures for --base and --build, their
    sessions interleaved (before, after, after, before, ...) so that a
    slow moment of the machine falls on both."""
    from mount import Mount
    from sim import Sim
    # The connections as the base build has them: connections/<id>/links/
    # (new with links) is left out, so both builds walk the same tree and
    # read the same listing. The full-walk table below includes it.
    walk = "grep -rlx active --exclude-dir=links regions/fr-par/connections"
    builds = {"before": daemon_path(a.base),
              "after": daemon_path(a.build)}
    rows = []
    for n in [int(x) for x in a.compare_sizes.split(",")]:
        sim = Sim("--regions", "fr-par", "--max-page-size", str(CAP),
                  "--latency", str(a.latency), connections=n, seed=3,
                  token=TOKEN)
        r = {"n": n, "listing": listing_alone(a.build, sim, 3)}
        got = {"before": [], "after": []}
        for i in range(a.runs):
            order = ["before", "after"] if i % 2 == 0 else ["after",
                                                            "before"]
            for label in order:
                got[label].append(session(builds[label], sim, n, walk,
                                          Mount))
        for label in got:
            r[label] = merge(got[label])
        # the same tree on tmpfs, walked and read the same way
        old = os.environ["INTERLINKFS"]
        os.environ["INTERLINKFS"] = builds["after"]
        m = Mount(sim, "regions=fr-par", "rate=0")
        os.environ["INTERLINKFS"] = old
        dst = os.path.join(shm, "cmp%d" % n)
        sh("mkdir -p %s && cp -r %s %s/" % (
            dst, m.path("regions", "fr-par", "connections"), dst))
        m.unmount()
        r["tmpfs"] = med([timeit(lambda: sh(
            "grep -rlx active --exclude-dir=links connections", cwd=dst))
            for _ in range(3 * a.runs)])
        tpaths = [os.path.join(dst, "connections", cid, "status")
                  for cid in os.listdir(os.path.join(dst,
                                                     "connections"))[:200]]
        r["cat_tmpfs"] = cat_times(tpaths, 200 * a.runs)
        r["readers_tmpfs"] = {k: readers(tpaths, k)[0] for k in (16, 64)}
        shutil.rmtree(dst)
        sim.stop()
        rows.append(r)
    return rows


def report_compare(rows, a, p):
    b, cur = a.base_label, "this build"
    p("## Before (%s) and after (%s), in the same run" % (b, cur))
    p("")
    p("Each build is measured on %d new mounts, interleaved with the other "
      "build's. Cold walk: `grep -rlx active --exclude-dir=links "
      "regions/fr-par/connections` (the tree the base build has: without "
      "each connection's `links/`, new with links) on a new mount with "
      "`-o rate=0`. Listing alone: the region's "
      "listing with api/ alone (interlinkctl, no rate limit), what no "
      "daemon can save. RSS: after the cold and warm walks. What a walk "
      "costs beyond its listing is set against the floor in the floor's "
      "table." % a.runs)
    p("")
    p("| N | listing alone | tmpfs walk | cold walk before | "
      "cold walk after | after / before | daemon CPU s per 1,000, before | "
      "after |")
    p("|---|---|---|---|---|---|---|---|")
    for r in rows:
        p("| %d | %.3f | %.3f | %s | %s | %.2f | %.3f | %.3f |" % (
            r["n"], r["listing"][0], r["tmpfs"][0],
            fmt(r["before"]["cold"]), fmt(r["after"]["cold"]),
            r["after"]["cold"][0] / r["before"]["cold"][0],
            r["before"]["cpu"][0], r["after"]["cpu"][0]))
    p("")
    p("| N | warm / tmpfs, before | after | warm cat p99 ms, before | "
      "after | tmpfs | 16 readers /s, before | after | tmpfs | "
      "64 readers /s, before | after | tmpfs | RSS MiB, before | after |")
    p("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        bb, aa = r["before"], r["after"]
        p("| %d | %.2f× | %.2f× | %.2f | %.2f | %.2f | %.0f | %.0f | %.0f | "
          "%.0f | %.0f | %.0f | %.1f | %.1f |" % (
              r["n"], bb["warm"][0] / r["tmpfs"][0],
              aa["warm"][0] / r["tmpfs"][0],
              percentile(bb["cat"], 99) * 1000,
              percentile(aa["cat"], 99) * 1000,
              percentile(r["cat_tmpfs"], 99) * 1000,
              bb["readers"][16], aa["readers"][16], r["readers_tmpfs"][16],
              bb["readers"][64], aa["readers"][64], r["readers_tmpfs"][64],
              bb["rss_kib"] / 1024, aa["rss_kib"] / 1024))
    p("")
    p("The spread over the %d mounts of each build, for the figures above "
      "that compare to the base build: warm / tmpfs, min–max; readers per "
      "second, min–max." % a.runs)
    p("")
    p("| N | warm / tmpfs, before | after | 16 readers, before | after | "
      "64 readers, before | after |")
    p("|---|---|---|---|---|---|---|")
    for r in rows:
        bb, aa, t = r["before"], r["after"], r["tmpfs"][0]
        p("| %d | %.2f–%.2f | %.2f–%.2f | %s | %s | %s | %s |" % (
            r["n"], min(bb["warm_all"]) / t, max(bb["warm_all"]) / t,
            min(aa["warm_all"]) / t, max(aa["warm_all"]) / t,
            "%.0f–%.0f" % bb["readers_range"][16],
            "%.0f–%.0f" % aa["readers_range"][16],
            "%.0f–%.0f" % bb["readers_range"][64],
            "%.0f–%.0f" % aa["readers_range"][64]))
    p("")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--sizes", default="100,1000,2000,10000")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--latency", type=int, default=20)
    ap.add_argument("--out", default=None)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--base", default=None)
    ap.add_argument("--base-label", default="base")
    ap.add_argument("--compare-sizes", default="1000,10000")
    ap.add_argument("--compare-only", action="store_true")
    ap.add_argument("--links-sizes", default="1000")
    ap.add_argument("--floor-sizes", default="1000,10000")
    ap.add_argument("--floor-runs", type=int, default=7)
    a = ap.parse_args()
    os.environ.setdefault("INTERLINK_SIM", os.path.join(
        a.build, "tests", "sim", "interlink-sim"))
    os.environ.setdefault("INTERLINKFS", daemon_path(a.build))
    import floor
    import harness
    from mount import Mount
    from sim import Sim

    sizes = [200] if a.smoke else [int(x) for x in a.sizes.split(",")]
    runs = 1 if a.smoke else a.runs
    lat = a.latency / 1000.0
    rows = []
    shm = tempfile.mkdtemp(prefix="interlinkfs-bench-", dir="/dev/shm")
    cmp_rows, floor_rows = [], []
    try:
        if a.base:
            cmp_rows = compare(a, shm)
        if not (a.compare_only or a.smoke):
            floor_rows = [floor.measure(a.build, n, a.floor_runs, a.latency,
                                        shm, a.base)
                          for n in map(int, a.floor_sizes.split(","))]
        for n in ([] if a.compare_only else sizes):
            r = {"n": n}
            sim = Sim("--regions", "fr-par", "--max-page-size", str(CAP),
                      "--latency", str(a.latency), connections=n, seed=3,
                      token=TOKEN)
            active = sum(1 for c in sim.list_all("fr-par")
                         if c["status"] == "active")
            walk = "grep -rlx active regions/fr-par/connections"
            # 1. cold walks, each on a new mount
            cold, cold_req, warm = [], [], []
            for i in range(runs):
                # ttl=300: at N=10,000 the cold walk and the four after
                # it can outlast the default ttl less its refresh lead
                # (25 s) on a loaded machine, and the keeper's reload
                # would then come during the warm walks.
                m = Mount(sim, "regions=fr-par", "ttl=300")
                sim.reset()
                cold.append(timeit(lambda: sh(walk, cwd=m.dir)))
                c = sim.counters()
                # The region's PoP list is read once when the region is
                # first entered (does the API serve it?): not part of
                # the walk's cost. The links listing is: the walk enters
                # connections/<id>/links/.
                cold_req.append((c["list"], c.get("links_list", 0),
                                 c["get"], c["total"] - c["pops_list"]))
                out = sh(walk, cwd=m.dir).split()
                assert len(out) == active, (len(out), active)
                # 2. warm walks on the same mount
                sim.reset()
                for _ in range(3):
                    warm.append(timeit(lambda: sh(walk, cwd=m.dir)))
                assert sim.counters()["total"] == 0
                # what the curl | jq script computes: the active ids
                query = "grep -lx active regions/fr-par/connections/*/status"
                status_q = [timeit(lambda: sh(query, cwd=m.dir))
                            for _ in range(3)]
                if i < runs - 1:
                    m.unmount()
            r["cold"] = med(cold)
            r["cold_req"] = cold_req[0]
            # the same without the client-side rate limit (20/s, burst 40)
            if not a.smoke:
                cr0 = []
                for i in range(min(runs, 3)):
                    m0 = Mount(sim, "regions=fr-par", "rate=0")
                    cr0.append(timeit(lambda: sh(walk, cwd=m0.dir)))
                    m0.unmount()
                r["cold_norate"] = med(cr0)
            pages = math.ceil(n / CAP)
            r["cold_req_ok"] = all(x == (pages, pages, 0, 2 * pages)
                                   for x in cold_req)
            r["warm"] = med(warm)
            r["status_q"] = med(status_q)
            r["rss_kib"] = harness.proc_status_kib(m.proc.pid, "VmRSS")
            if a.smoke:
                m.unmount()
                sim.stop()
                rows.append(r)
                continue
            # tmpfs copy of the same tree, walked the same way
            dst = os.path.join(shm, "n%d" % n)
            sh("mkdir -p %s/regions/fr-par && cp -r %s %s/regions/fr-par/"
               % (dst, m.path("regions", "fr-par", "connections"), dst))
            tmp = [timeit(lambda: sh(walk, cwd=dst)) for _ in range(3 * runs)]
            r["tmpfs"] = med(tmp)
            # 5. cat latency: kernel cache, then daemon cache, then a get
            conns = os.listdir(m.path("regions", "fr-par",
                                                "connections"))
            fs_paths = [m.path("regions", "fr-par", "connections", cid,
                               "status") for cid in conns[:200]]
            tmp_paths = [os.path.join(dst, "regions", "fr-par", "connections",
                                      cid, "status") for cid in conns[:200]]
            samples = 200
            r["cat_warm"] = cat_times(fs_paths, samples)
            r["cat_tmpfs"] = cat_times(tmp_paths, samples)

            def drop_kernel():
                with open("/proc/sys/vm/drop_caches", "w") as f:
                    f.write("2")
            r["cat_daemon"] = cat_times(fs_paths, 40, before=drop_kernel)

            def drop_daemon():
                m.proc.send_signal(1)      # SIGHUP: daemon cache dropped
                time.sleep(0.05)
            sim.reset()
            r["cat_miss"] = cat_times(fs_paths, 20, before=drop_daemon)
            r["miss_gets"] = sim.counters()["get"]
            sh(walk, cwd=m.dir)             # warm again
            # 7. concurrency over warm data
            conc = {}
            for k in (1, 4, 16, 64):
                ops, errs = readers(fs_paths, k)
                tops, _ = readers(tmp_paths, k)
                conc[k] = (ops, errs, tops)
            r["conc"] = conc
            m.unmount()
            # 4. ttl=0 (no cache): small N only
            if n <= 100:
                m0 = Mount(sim, "regions=fr-par", "ttl=0", "rate=0")
                sim.reset()
                t = timeit(lambda: sh(walk, cwd=m0.dir))
                r["ttl0"] = (t, sim.counters()["total"])
                m0.unmount()
            # 3. curl | jq, cold and repeated
            env = dict(os.environ, URL=sim.url, TOKEN=TOKEN)
            sim.reset()
            cj = [timeit(lambda: sh(CURL_JQ, env=env)) for _ in range(runs)]
            r["curljq"] = med(cj)
            r["curljq_req"] = sim.counters()["total"] // runs
            shutil.rmtree(dst)
            if str(n) in a.links_sizes.split(","):
                r["links"] = links_walks(sim, n, runs, shm)
            sim.stop()
            rows.append(r)
    finally:
        harness.cleanup()
        shutil.rmtree(shm, ignore_errors=True)
    report(rows, cmp_rows, floor_rows, a, lat)
    if a.smoke:
        bad = [r for r in rows if not r["cold_req_ok"]]
        if bad:
            print("request counts off the target: %r" % [
                (r["n"], r["cold_req"]) for r in bad])
            sys.exit(1)


def machine():
    fuse = subprocess.run(["pkg-config", "--modversion", "fuse3"],
                          capture_output=True).stdout.decode().strip()
    return ("%d cores, %s, kernel %s, libfuse %s, Python %s"
            % (os.cpu_count(), platform.machine(), platform.release(), fuse,
               platform.python_version()))


def report(rows, cmp_rows, floor_rows, a, lat):
    out = []
    p = out.append
    p("# interlinkfs benchmark")
    p("")
    p("Machine: %s. Built in %s. interlink-sim on 127.0.0.1, +%d ms per "
      "API request, page cap %d. Times in seconds: median (min–max)." % (
          machine(), os.path.basename(os.path.abspath(a.build)), a.latency,
          CAP))
    p("")
    if floor_rows:
        import floor
        floor.report(floor_rows, a.floor_runs, p, a.base_label)
    if cmp_rows:
        report_compare(cmp_rows, a, p)
    if not rows:
        print("\n".join(out))
        return
    p("## Full walk: `grep -rlx active regions/fr-par/connections`")
    p("")
    p("N connections and N links. The walk enters `connections/<id>/links/`, "
      "so it reads the links listing too (once for all connections).")
    p("")
    p("| N | cold walk | cold, `-o rate=0` | requests (connections list / "
      "links list / get) | minimum | target: 3 × latency + 0.5 s | "
      "warm walk | tmpfs | warm / tmpfs |")
    p("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        mn = math.ceil(r["n"] / CAP)
        p("| %d | %s | %s | %d/%d/%d | %d + %d list | %.2f | %s | %s | %s |" % (
            r["n"], fmt(r["cold"]),
            fmt(r["cold_norate"]) if "cold_norate" in r else "-",
            r["cold_req"][0], r["cold_req"][1], r["cold_req"][2], mn, mn,
            3 * lat + 0.5,
            fmt(r["warm"]), fmt(r["tmpfs"]) if "tmpfs" in r else "-",
            "%.2f×" % (r["warm"][0] / r["tmpfs"][0])
            if "tmpfs" in r else "-"))
    if not a.smoke:
        lk = [r["links"] for r in rows if "links" in r]
        if lk:
            p("")
            p("## Links: `grep -rlx down regions/fr-par/links`")
            p("")
            p("| N links | cold walk, `-o rate=0` | requests (list/get/all) "
              "| warm walk | tmpfs | warm / tmpfs |")
            p("|---|---|---|---|---|---|")
            for x in lk:
                p("| %d | %s | %d/%d/%d%s | %s | %s | %.2f× |" % (
                    x["n"], fmt(x["cold"]), x["req"][0], x["req"][1],
                    x["req"][2], "" if x["req_ok"] else " (off target)",
                    fmt(x["warm"]), fmt(x["tmpfs"]),
                    x["warm"][0] / x["tmpfs"][0]))
        p("")
        p("## What a user does instead: `curl | jq` paging the API")
        p("")
        p("| N | curl \\| jq, each run | requests each run | interlinkfs "
          "warm walk (all 15 files of each) | script / walk | "
          "interlinkfs, the same question: `grep -lx active "
          "connections/*/status` | script / that | requests |")
        p("|---|---|---|---|---|---|---|---|")
        for r in rows:
            p("| %d | %s | %d | %.3f | %.0f× | %s | %.0f× | 0 |" % (
                r["n"], fmt(r["curljq"]), r["curljq_req"], r["warm"][0],
                r["curljq"][0] / r["warm"][0], fmt(r["status_q"]),
                r["curljq"][0] / r["status_q"][0]))
        z = [r for r in rows if "ttl0" in r]
        if z:
            p("")
            p("## No cache (`-o ttl=0,rate=0`), same walk")
            p("")
            p("| N | time | requests | with the cache: cold walk, requests |")
            p("|---|---|---|---|")
            for r in z:
                p("| %d | %.3f | %d | %.3f, %d |" % (
                    r["n"], r["ttl0"][0], r["ttl0"][1], r["cold"][0],
                    r["cold_req"][3]))
        p("")
        p("## `cat` of one value (ms, p50 / p99)")
        p("")
        p("| N | tmpfs | kernel cache | daemon cache (kernel dropped) | "
          "miss: one get | warm p99 / tmpfs p99 |")
        p("|---|---|---|---|---|---|")
        for r in rows:
            def pp(k):
                return "%.2f / %.2f" % (percentile(r[k], 50) * 1000,
                                        percentile(r[k], 99) * 1000)
            p("| %d | %s | %s | %s | %s (%d gets for %d cats) | %.2f× |" % (
                r["n"], pp("cat_tmpfs"), pp("cat_warm"), pp("cat_daemon"),
                pp("cat_miss"), r["miss_gets"], len(r["cat_miss"]),
                percentile(r["cat_warm"], 99) /
                percentile(r["cat_tmpfs"], 99)))
        p("")
        p("## Memory: daemon RSS after a full walk")
        p("")
        p("The walk enters every connection's `links/`, so the daemon then "
          "holds N connections and N links.")
        p("")
        p("| N | RSS MiB | per connection and its link, over the smallest "
          "N |")
        p("|---|---|---|")
        base = rows[0]
        for r in rows:
            per = ((r["rss_kib"] - base["rss_kib"]) * 1024 /
                   (r["n"] - base["n"])) if r is not base else 0
            p("| %d | %.1f | %s |" % (r["n"], r["rss_kib"] / 1024,
                                      "%.0f bytes" % per if per else "-"))
        p("")
        p("## Parallel readers over warm data (open+read+close per second)")
        p("")
        p("| N | readers | interlinkfs | errors | tmpfs | interlinkfs / "
          "tmpfs |")
        p("|---|---|---|---|---|---|")
        for r in rows:
            for k, (ops, errs, tops) in sorted(r["conc"].items()):
                p("| %d | %d | %.0f | %d | %.0f | %.2f |" % (
                    r["n"], k, ops, errs, tops, ops / tops))
    text = "\n".join(out) + "\n"
    print(text)
    if a.out:
        os.makedirs(a.out, exist_ok=True)
        with open(os.path.join(a.out, "RESULTS.md"), "w") as f:
            f.write(text)
        chart(rows, a.out)


def chart(rows, outdir):
    if not shutil.which("gnuplot") or not rows or "tmpfs" not in rows[0]:
        return
    data = os.path.join(outdir, "walk.dat")
    with open(data, "w") as f:
        for r in rows:
            f.write("%d %f %f %f %f\n" % (r["n"], r["cold"][0], r["warm"][0],
                                          r["tmpfs"][0], r["curljq"][0]))
    script = """
set terminal pngcairo size 900,500
set output '%s'
set title 'grep -rlx active over N connections (lower is better)'
set logscale xy
set xlabel 'connections'
set ylabel 'seconds'
set key left top
plot '%s' using 1:2 with linespoints title 'interlinkfs cold', \\
     '' using 1:3 with linespoints title 'interlinkfs warm', \\
     '' using 1:4 with linespoints title 'tmpfs copy', \\
     '' using 1:5 with linespoints title 'curl | jq script'
""" % (os.path.join(outdir, "walk.png"), data)
    subprocess.run(["gnuplot"], input=script.encode(), check=False)
    os.unlink(data)


if __name__ == "__main__":
    main()
