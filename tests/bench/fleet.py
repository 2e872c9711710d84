# SPDX-License-Identifier: Apache-2.0
"""A fleet on one API load, measured (docs/fleet.md): prints Markdown
tables, every figure a ratio within this one run.

interlink-sim over HTTPS on 127.0.0.1 (+20 ms per request, pages of 100),
Debian's nginx running examples/fleet/ (shared-cache mode) in front of it
(tests/py/nginx.py); each group of hosts has a key of its own (the
simulator's accounts), so the simulator's log tells whose requests it
answered:

  1. Watching: H mounts through the cache and H mounts straight to the
     API (default 50 each), and one mount alone, all at once, 3 regions,
     ttl=30, each mount's Prometheus files read every 15 s (as
     node_exporter scraped by Prometheus does, the hosts' scrapes spread
     over the interval), for --watch seconds (default 300): the API
     requests per minute of each group, against the one mount's. Goals:
     through the cache at most 1.2x one mount's; direct about H x.
  2. Started at once, cold: H new mounts through the cache (an account
     the cache has never seen) each read their Prometheus files once:
     the API requests, against one mount's alone. Goal: one mount's.
  3. A cold walk of 1,000 connections (grep -rlx active over
     connections/, a new mount each time, -o rate=0) through the cache,
     whose entries are new each time, and straight to the API; and one
     page alone, direct, through the cache as a miss and as a hit: what
     the cache adds per page.

usage: python3 tests/bench/fleet.py [--build DIR] [--hosts N]
       [--watch SECONDS] [--walk N] [--runs N] [--latency MS] [--smoke]
--smoke: 4 hosts, a 12 s watch with ttl=6, a walk of 200: checks the
request counts only (the cache saves; a cold start costs one mount's),
in under a minute (CI).
"""
import argparse
import os
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "py"))
from harness import daemon_path  # noqa: E402 (after the path)
os.environ.setdefault("SOURCE_ROOT", ROOT)

REGIONS = ["fr-par", "nl-ams", "pl-waw"]


def key(i):
    """The key of account i (the simulator's "account<i>")."""
    return "%08d-0000-4000-8000-%012d" % (i, i)


def lifetime(ttl):
    """The cache's lifetime for hosts of this ttl: 2 s under it, the
    shipped 28 s for 30 (docs/fleet.md)."""
    return None if ttl == 30 else max(1, ttl - 2)


def quiet(sim, seconds=2, bound=60):
    """Waits until the simulator has answered nothing for seconds (the
    loads a scrape started in the background are done)."""
    end = time.monotonic() + bound
    last, since = sim.last_seq(), time.monotonic()
    while time.monotonic() < end:
        time.sleep(0.2)
        now = sim.last_seq()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= seconds:
            return
    raise AssertionError("the simulator never went quiet")


def per_account(sim, seq):
    out = {}
    for r in sim.requests(seq):
        if r["endpoint"] != "other":
            out[r["account"]] = out.get(r["account"], 0) + 1
    return out


def scrape(m):
    for f in ("interlink.prom", "interlinkfs.prom"):
        with open(m.path(".interlinkfs", "prometheus", f), "rb") as fh:
            while fh.read(4096):        # as node_exporter: 4 KiB reads
                pass


def watching(a, fl, n, sim):
    """Section 1: requests per minute of each group."""
    opts = ("regions=" + ":".join(REGIONS), "ttl=%d" % a.ttl)
    cached = fl.start_mounts(a.hosts, lambda i: fl.mount(
        n.cache_url, key(1), *opts))
    direct = fl.start_mounts(a.hosts, lambda i: fl.mount(
        sim.url, key(2), *opts))
    alone = fl.mount(sim.url, key(3), *opts)
    hosts = cached + direct + [alone]
    seq = sim.last_seq()
    start = time.monotonic()
    step = a.scrape / len(hosts)
    k = 0
    while time.monotonic() - start < a.watch:
        scrape(hosts[k % len(hosts)])
        k += 1
        time.sleep(max(0, start + k * step - time.monotonic()))
    took = time.monotonic() - start
    counts = per_account(sim, seq)
    for m in hosts:
        m.unmount()
    per_min = {g: counts.get("account%d" % i, 0) / took * 60
               for g, i in (("cache", 1), ("direct", 2), ("alone", 3))}
    return took, k, per_min


def cold_start(a, fl, n, sim):
    """Section 2: H mounts at once, through a cache that never saw their
    key, against one mount alone."""
    opts = ("regions=" + ":".join(REGIONS), "ttl=%d" % a.ttl)
    seq = sim.last_seq()
    hosts = fl.start_mounts(a.hosts, lambda i: fl.mount(
        n.cache_url, key(4), *opts))
    threads = [threading.Thread(target=scrape, args=(m,)) for m in hosts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    quiet(sim)
    alone = fl.mount(sim.url, key(5), *opts)
    scrape(alone)
    quiet(sim)
    counts = per_account(sim, seq)
    for m in hosts + [alone]:
        m.unmount()
    return counts.get("account4", 0), counts.get("account5", 0)


def one_page(n, sim, certs, tok, pages):
    """Milliseconds of one GET of each list page (a new TLS connection
    each, as a new mount makes), direct, through the cache (a miss: the
    key's first request) and again (a hit)."""
    out = {"direct": [], "miss": [], "hit": []}
    path = "/interlink/v1beta1/regions/fr-par/dedicated-connections?" \
        "page_size=100&page=%d"
    for p in range(1, pages + 1):
        for way, port in (("direct", sim.port), ("miss", n.cache_port),
                          ("hit", n.cache_port)):
            t0 = time.perf_counter()
            status, _, _ = n.get(path % p, token=tok, port=port,
                                 ca=certs["ca"])
            out[way].append((time.perf_counter() - t0) * 1000)
            assert status == 200, (way, status)
    return out


def walk(a, fl, certs, Nginx, tls_sim):
    """Section 3: a cold walk through the cache and direct, alternated;
    seconds of each, the pages a walk costs, and one page's time."""
    runs = a.runs
    keys = " ".join("--account %s=1" % key(10 + i) for i in range(runs + 1))
    sim = tls_sim("--regions", "fr-par", "--max-page-size", "100",
                  "--latency", str(a.latency), *keys.split(),
                  connections=a.walk)
    n = Nginx(sim, certs)
    t = {"cache": [], "direct": []}
    pages = 0
    for i in range(runs):
        for way in ("direct", "cache"):
            url = n.cache_url if way == "cache" else sim.url
            # Each run its own account: the cache's entries are new.
            m = fl.mount(url, key(10 + i), "regions=fr-par", "rate=0")
            seq = sim.last_seq()
            t0 = time.perf_counter()
            p = subprocess.run(["grep", "-rlx", "active",
                                "regions/fr-par/connections"], cwd=m.dir,
                               capture_output=True, timeout=600)
            t[way].append(time.perf_counter() - t0)
            assert p.returncode in (0, 1), p.stderr
            if way == "direct":
                pages = len(sim.requests(seq))
            m.unmount()
    page = one_page(n, sim, certs, key(10 + runs), max(1, a.walk // 100))
    n.stop()
    sim.stop()
    return t, pages, page


def fmt(xs, f="%.3f"):
    return (f + " (" + f + "-" + f + ")") % (statistics.median(xs), min(xs),
                                           max(xs))


def report_watch(a, took, scrapes, per_min):
    one = per_min["alone"] or 1e-9
    print("## %d hosts watching, through the cache and direct\n" % a.hosts)
    print("3 regions, ttl=%d, each host's Prometheus files read every "
          "%g s; %d scrapes in %.0f s, all groups at once.\n"
          % (a.ttl, a.scrape, scrapes, took))
    print("| hosts | API requests per minute | x one mount |\n|---|---|---|")
    print("| one mount, direct | %.1f | 1.00 |" % per_min["alone"])
    print("| %d through the cache | %.1f | %.2f |"
          % (a.hosts, per_min["cache"], per_min["cache"] / one))
    print("| %d direct | %.1f | %.2f |"
          % (a.hosts, per_min["direct"], per_min["direct"] / one))
    ok = per_min["cache"] / one <= 1.2
    print("\n- through the cache: %.2fx one mount's (goal: at most 1.2x): "
          "%s" % (per_min["cache"] / one, "met" if ok else "NOT met"))
    # The smoke run's ttl is short against the cache's 1 s steps: what
    # it checks is that the cache saves, not the goal.
    return ok or (a.smoke and per_min["cache"] < per_min["direct"] / 2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--hosts", type=int, default=50)
    ap.add_argument("--watch", type=float, default=300)
    ap.add_argument("--ttl", type=int, default=30)
    ap.add_argument("--scrape", type=float, default=15)
    ap.add_argument("--objects", type=int, default=50)
    ap.add_argument("--walk", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--latency", type=int, default=20)
    ap.add_argument("--smoke", action="store_true")
    a = ap.parse_args()
    a.build = os.path.abspath(a.build)
    if a.smoke:
        a.hosts, a.watch, a.ttl, a.scrape = 4, 12, 6, 3
        a.objects, a.walk, a.runs = 10, 200, 1
    os.environ.setdefault("INTERLINKFS",
                          daemon_path(a.build))
    os.environ.setdefault("INTERLINK_SIM", os.path.join(
        a.build, "tests", "sim", "interlink-sim"))
    import fleet as fl
    import harness
    from nginx import Nginx
    try:
        fl.need_all()
    except harness.Skip as e:
        print("SKIP: %s" % e)
        sys.exit(77)
    try:
        ok = run_all(a, fl, Nginx)
    finally:
        harness.cleanup()
    if a.smoke and not ok:
        sys.exit(1)


def run_all(a, fl, Nginx):
    keys = []
    for i in range(1, 6):
        keys += ["--account", "%s=1" % key(i)]
    sim = fl.tls_sim("--regions", ",".join(REGIONS), "--latency",
                     str(a.latency), *keys, connections=a.objects)
    n = Nginx(sim, fl.certs(), lifetime=lifetime(a.ttl))
    took, scrapes, per_min = watching(a, fl, n, sim)
    ok = report_watch(a, took, scrapes, per_min)
    cached, alone = cold_start(a, fl, n, sim)
    print("\n## %d hosts started at once, cold\n" % a.hosts)
    print("| | API requests |\n|---|---|")
    print("| one mount, direct | %d |\n| %d through the cache | %d |"
          % (alone, a.hosts, cached))
    print("\n- through the cache: %.2fx one mount's (goal: 1x): %s"
          % (cached / max(alone, 1), "met" if cached == alone
             else "NOT met"))
    ok = ok and cached == alone
    n.stop()
    sim.stop()
    t, pages, page = walk(a, fl, fl.certs(), Nginx, fl.tls_sim)
    med = {w: statistics.median(x) for w, x in t.items()}
    print("\n## A cold walk of %d connections\n" % a.walk)
    print("grep -rlx active over connections/ (%d list pages, +%d ms per "
          "API request, -o rate=0), a new mount and new cache entries each "
          "time, %d runs. Seconds: median (min-max).\n"
          % (pages, a.latency, a.runs))
    print("| way | seconds |\n|---|---|")
    for w in ("direct", "cache"):
        print("| %s | %s |" % ("through the cache" if w == "cache" else
                               "direct", fmt(t[w])))
    print("\n- through the cache / direct: %.2fx (%+.1f ms per page)"
          % (med["cache"] / med["direct"],
             (med["cache"] - med["direct"]) / max(pages, 1) * 1000))
    print("\nOne page of 100 connections alone, %d pages one after the "
          "other, each on a new TLS connection. Milliseconds: median "
          "(min-max).\n" % len(page["direct"]))
    print("| way | ms |\n|---|---|")
    for w, name in (("direct", "direct"), ("miss", "through the cache, "
                    "a miss"), ("hit", "through the cache, a hit")):
        print("| %s | %s |" % (name, fmt(page[w], "%.1f")))
    add = statistics.median(page["miss"]) - statistics.median(
        page["direct"])
    print("\n- the cache adds %.1f ms to a page it does not hold" % add)
    return ok


if __name__ == "__main__":
    main()
