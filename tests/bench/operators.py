# SPDX-License-Identifier: Apache-2.0
"""The operators' view, measured: prints Markdown tables.

Against interlink-sim on 127.0.0.1 with added latency (default 20 ms per
request) and a page cap of 100:

  1. "Which BGP sessions are down?" for N links (default 1,000) in one
     region, three ways side by side in one run: awk on tables/links.tsv
     (cold: a new mount; warm: again), grep -r over links/ (cold, warm),
     and the curl + jq script (tests/bench/bgp-down-curl.sh); with the
     links' listing alone (api/ alone, interlinkctl) and the same awk on a
     copy of the table in tmpfs as references. Goals: the cold table read
     within the listing plus 50 ms; the warm one within 2x tmpfs. All
     ways must give the same answer.
  2. The cost of watching: a mount of 3 regions with ttl=30 whose
     Prometheus files are read every 15 s (as node_exporter scraped by
     Prometheus does), for --watch seconds: the API requests per minute,
     and the listings of each region and kind per ttl (goal: at most 1).

usage: python3 tests/bench/operators.py [--build DIR] [--links N]
       [--runs N] [--latency MS] [--watch SECONDS] [--smoke]
--smoke: 200 links, one run, a 12 s watch with ttl=3: checks the answers
and the request counts only (CI).
"""
import argparse
import collections
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

TOKEN = "be9c4000-0000-4000-8000-00000000be9c"
AWK = ("awk -F'\\t' 'NR > 1 && ($5 == \"down\" || $6 == \"down\") "
       "{print $2}' %s")
GREP = ("grep -rlx --include=bgp_v4_status --include=bgp_v6_status down "
        "regions/fr-par/links")


def run(cmd, cwd=None, env=None):
    t0 = time.perf_counter()
    p = subprocess.run(["bash", "-c", cmd], cwd=cwd, env=env,
                       capture_output=True, timeout=600)
    took = time.perf_counter() - t0
    if p.returncode not in (0, 1):
        raise RuntimeError("%s: %s" % (cmd, p.stderr.decode()))
    return took, p.stdout.decode()


def ids_of_grep(out):
    return sorted({l.split("/")[3] for l in out.split()})


def fmt(xs):
    return "%.3f (%.3f-%.3f)" % (statistics.median(xs), min(xs), max(xs))


def question(a, Mount, Sim):
    sim = Sim("--regions", "fr-par", "--max-page-size", "100",
              "--latency", str(a.latency), token=TOKEN,
              connections=a.links)
    want = sorted(l["id"] for l in sim.data()["fr-par"]["links"]
                  if "down" in (l.get("bgp_v4_status"),
                                l.get("bgp_v6_status")))
    env = dict(os.environ, SCW_SECRET_KEY=TOKEN, SCW_API_URL=sim.url,
               SCW_CONFIG_PATH="/nonexistent")
    ctl = os.path.join(a.build, "examples", "interlinkctl")
    t = collections.defaultdict(list)
    shm = tempfile.mkdtemp(dir="/dev/shm" if os.path.isdir("/dev/shm")
                           else None)
    try:
        for _ in range(a.runs):
            took, _ = run("%s --kind links --rate 0 ls fr-par >/dev/null"
                          % ctl, env=env)
            t["listing alone"].append(took)
            m = Mount(sim, "regions=fr-par", "rate=0")
            table = m.path("tables", "links.tsv")
            took, out = run(AWK % table)
            t["awk tables/links.tsv, cold"].append(took)
            assert sorted(set(out.split())) == want
            took, out = run(AWK % table)
            t["awk tables/links.tsv, warm"].append(took)
            shutil.copy(table, os.path.join(shm, "links.tsv"))
            took, _ = run(AWK % os.path.join(shm, "links.tsv"))
            t["awk on tmpfs"].append(took)
            m.unmount()
            m = Mount(sim, "regions=fr-par", "rate=0")
            took, out = run(GREP, cwd=m.dir)
            t["grep -r links/, cold"].append(took)
            assert ids_of_grep(out) == want
            took, out = run(GREP, cwd=m.dir)
            t["grep -r links/, warm"].append(took)
            m.unmount()
            took, out = run("sh %s %s fr-par" % (os.path.join(
                HERE, "bgp-down-curl.sh"), sim.url), env=env)
            t["curl + jq"].append(took)
            assert sorted(set(out.split())) == want
    finally:
        shutil.rmtree(shm)
        sim.stop()
    return t, len(want)


def watching(a, Mount, Sim):
    regions = ["fr-par", "nl-ams", "pl-waw"]
    sim = Sim("--regions", ",".join(regions), "--latency", str(a.latency),
              token=TOKEN, connections=a.watch_objects)
    m = Mount(sim, "regions=" + ":".join(regions), "ttl=%d" % a.ttl)
    prom = [m.path(".interlinkfs", "prometheus", f)
            for f in ("interlink.prom", "interlinkfs.prom")]
    seq = sim.last_seq()
    start = time.monotonic()
    scrapes = 0
    while time.monotonic() - start < a.watch:
        for p in prom:
            with open(p, "rb") as f:
                while f.read(4096):       # as node_exporter: 4 KiB reads
                    pass
        scrapes += 1
        time.sleep(max(0, start + scrapes * a.scrape - time.monotonic()))
    took = time.monotonic() - start
    reqs = [r for r in sim.requests(seq) if r["seq"] > seq]
    m.unmount()
    sim.stop()
    # A listing is its first page; its loads per region and kind.
    loads = collections.Counter()
    for r in reqs:
        if "page=1&" in r["query"] + "&" or "page=" not in r["query"]:
            region = r["path"].split("/regions/")[1].split("/")[0]
            kind = r["endpoint"][:-len("_list")] if r["endpoint"] != \
                "list" else "connections"
            loads[(region, kind.replace("_", "-"))] += 1
    return took, scrapes, len(reqs), loads


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--links", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--latency", type=int, default=20)
    ap.add_argument("--watch", type=float, default=300)
    ap.add_argument("--ttl", type=int, default=30)
    ap.add_argument("--scrape", type=float, default=15)
    ap.add_argument("--watch-objects", type=int, default=50)
    ap.add_argument("--smoke", action="store_true")
    a = ap.parse_args()
    a.build = os.path.abspath(a.build)
    if a.smoke:
        a.links, a.runs, a.watch, a.ttl, a.scrape = 200, 1, 12, 3, 1.5
    os.environ.setdefault("INTERLINKFS",
                          daemon_path(a.build))
    os.environ.setdefault("INTERLINK_SIM", os.path.join(
        a.build, "tests", "sim", "interlink-sim"))
    from mount import Mount
    from sim import Sim

    t, down = question(a, Mount, Sim)
    print("## Which BGP sessions are down? %d links, %d with a session down"
          % (a.links, down))
    print("\n%d runs, +%d ms per API request, pages of 100. Seconds: "
          "median (min-max).\n" % (a.runs, a.latency))
    print("| way | seconds |\n|---|---|")
    for k, xs in t.items():
        print("| %s | %s |" % (k, fmt(xs)))
    med = {k: statistics.median(xs) for k, xs in t.items()}
    cold = med["awk tables/links.tsv, cold"] - med["listing alone"]
    warm = med["awk tables/links.tsv, warm"] / med["awk on tmpfs"]
    print("\n- cold table read minus the listing alone: %.0f ms (goal: "
          "at most 50 ms): %s" % (cold * 1000, "met" if cold <= 0.05
                                 else "NOT met"))
    print("- warm table read / tmpfs: %.2fx (goal: at most 2x): %s"
          % (warm, "met" if warm <= 2 else "NOT met"))
    print("- the table against grep -r, cold: %.1fx faster; against "
          "curl + jq: %.1fx faster"
          % (med["grep -r links/, cold"] / med["awk tables/links.tsv, cold"],
             med["curl + jq"] / med["awk tables/links.tsv, cold"]))

    took, scrapes, n, loads = watching(a, Mount, Sim)
    ttls = took / a.ttl
    print("\n## The cost of watching: 3 regions, ttl=%d, the Prometheus "
          "files read every %g s\n" % (a.ttl, a.scrape))
    print("%d scrapes in %.0f s: %d API requests, %.1f per minute.\n"
          % (scrapes, took, n, n / took * 60))
    print("| region | kind | listings | per ttl |\n|---|---|---|---|")
    worst = 0
    for (region, ep), c in sorted(loads.items()):
        worst = max(worst, c / ttls)
        print("| %s | %s | %d | %.2f |" % (region, ep, c, c / ttls))
    print("\n- listings per region and kind per ttl, at most: %.2f (goal: "
          "at most 1): %s" % (worst, "met" if worst <= 1.0 + 1 / ttls
                             else "NOT met"))
    if a.smoke and worst > 1.0 + 1 / ttls:
        sys.exit(1)


if __name__ == "__main__":
    main()
