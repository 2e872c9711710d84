# SPDX-License-Identifier: Apache-2.0
"""Sight: every view says how fresh and how complete its data is, from one
model (cache.h's cache_sight), and never "all is well" when interlinkfs
could not look. On real mounts:

- age counts from the API's own clock (Date, Age: RFC 9111 §4.2.3), a
  listing as old as its oldest page;
- a listing whose pages do not add up is not served as complete, and an
  object that moves between pages is not journalled as gone;
- .interlinkfs/health says each state (fresh, stale, blind, unserved,
  unloaded), and reading it costs no request of its own;
- a hanging API is blindness within ttl and grace, and a scrape never
  waits longer than grace;
- interlink.prom exports no object older than stale, and a status that
  cannot be read as a series that can alert;
- check-active.sh answers UNKNOWN (3) on data it cannot vouch for;
- with ttl=0 a watched journal still shows changes; a look at
  .interlinkfs/ costs no request;
- a script that read old data (a slow API, past the grace) is told so by
  sight.sh, though the listing is fresh again when it asks;
- a watched listing that is slow to load stays fresh: its refresh starts
  as much ahead as the last one took;
- a 404 for a kind in a region the API serves is an error, never an
  empty directory; a region once unserved is asked again;
- a revoked key drops what every listing held, the catalogue's too.
"""
import errno
import json
import os
import re
import subprocess
import threading
import time

from harness import concurrent, errno_of, listdir, read, run, wait_for
from mount import Mount
from sim import Sim

ROOT = os.environ["SOURCE_ROOT"]
JOURNAL = (".interlinkfs", "changes")
PROM = (".interlinkfs", "prometheus", "interlink.prom")


def prom(m):
    """interlink.prom as {series: value}, the series as written."""
    out = {}
    for line in read(m.path(*PROM)).decode().splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out


def up(m, region, kind):
    return prom(m).get('interlink_up{region="%s",kind="%s"}' % (region, kind))


def check_active(m):
    return subprocess.run([os.path.join(ROOT, "examples", "check-active.sh"),
                           m.dir], capture_output=True, timeout=120)


def journal_signs(m):
    """The '+' and '-' lines of the journal: [(sign, id)]."""
    out = []
    for line in read(m.path(*JOURNAL)).decode().splitlines():
        f = line.split("\t")
        if len(f) == 7 and f[4] in "+-":
            out.append((f[4], f[3]))
    return out


def reloaded(m, region, kind, cond):
    """SIGHUP (the cache dropped), then the listing read again until its
    (state, age) holds cond; returns them."""
    os.kill(m.proc.pid, 1)
    d = m.path("regions", region, kind)

    def got():
        if errno_of(listdir, d):
            return False
        h = m.health()[(region, kind)]
        return h[1] != "-" and cond(h[0], int(h[1]))
    wait_for(got, 5, "the listing again")
    return m.health()[(region, kind)]


@concurrent
def test_every_state_is_said():
    sim = Sim("--regions", "fr-par,nl-ams", connections=3)
    m = Mount(sim, "regions=fr-par:nl-ams:it-mil", "ttl=1", "stale=4",
              "timeout=1")
    h = m.health()
    # One line per region and kind; nothing read yet.
    assert len(h) == 3 * 5, h
    assert h[("fr-par", "connections")][:3] == ("unloaded", "-", "-"), h
    listdir(m.path("regions", "fr-par", "connections"))
    errno_of(listdir, m.path("regions", "it-mil", "connections"))
    h = m.health()
    state, age, objects, detail = h[("fr-par", "connections")]
    assert (state, objects, detail) == ("fresh", "3", "ok"), h
    assert int(age) <= 1, age
    # A region the API does not serve.
    assert h[("it-mil", "pops")][0] == "unserved", h
    # The API fails: stale while what is held is younger than stale,
    # saying why; blind past it, and for what was never held.
    sim.fault("status", count=0, status=503)
    # Past ttl it is stale at once, while the refresh that gets the 503
    # may still be under way (a loaded machine): then it says so.
    wait_for(lambda: m.health()[("fr-par", "connections")][0] == "stale",
             5, "stale")
    wait_for(lambda: "HTTP 503" in m.health()[("fr-par", "connections")][3],
             3, "the 503 said")
    wait_for(lambda: m.health()[("fr-par", "connections")][0] == "blind",
             8, "blind")
    assert m.health()[("fr-par", "connections")][2] == "3"
    assert m.health()[("nl-ams", "links")][0] == "blind"   # watched, failing
    sim.clear_faults()
    wait_for(lambda: m.health()[("fr-par", "connections")][0] == "fresh",
             8, "fresh again")
    assert m.unmount() == 0


@concurrent
def test_age_comes_from_the_apis_clock():
    sim = Sim("--regions", "fr-par", "--max-page-size", "5", connections=12)
    m = Mount(sim, "regions=fr-par", "ttl=60")
    conns = m.path("regions", "fr-par", "connections")
    # A Date 20 s ago: 20 s old, still fresh (ttl 60).
    sim.fault("age", date_ago=20, match="list", count=0)
    assert len(listdir(conns)) == 12
    state, age, _, _ = m.health()[("fr-par", "connections")]
    assert state == "fresh" and 19 <= int(age) <= 22, (state, age)
    assert 19 <= m.listing_age("fr-par") <= 22
    # An Age header (a cache's) counts, plus the request's own delay.
    sim.clear_faults()
    sim.fault("age", age="30", match="list", count=0)
    reloaded(m, "fr-par", "connections", lambda s, a: 30 <= a <= 32)
    # A Date in the future (this machine's clock behind) counts as 0.
    sim.clear_faults()
    sim.fault("age", date_ago=-300, match="list", count=0)
    reloaded(m, "fr-par", "connections", lambda s, a: s == "fresh" and a <= 1)
    # A listing is as old as its oldest page: page 3 of 3 made 90 s ago.
    # Older than ttl: not fresh, served as stale, interlink_up 0.
    sim.clear_faults()
    sim.fault("age", date_ago=90, match="list", page=3, count=0)
    state, age, objects, detail = reloaded(
        m, "fr-par", "connections", lambda s, a: a >= 89)
    assert state == "stale" and 89 <= int(age) <= 92, m.health()
    assert objects == "12" and "came old" in detail, detail
    assert up(m, "fr-par", "connections") == 0
    assert m.unmount() == 0


@concurrent
def test_a_short_listing_is_not_served_as_complete():
    # Page 2 answers 200 with no entries while total_count says 12.
    sim = Sim("--regions", "fr-par", "--max-page-size", "5", connections=12)
    m = Mount(sim, "regions=fr-par", "ttl=1", "stale=60")
    conns = m.path("regions", "fr-par", "connections")
    assert len(listdir(conns)) == 12
    read(m.path(*JOURNAL))                        # watched
    sim.fault("body", match="list", page=2, count=0,
              body='{"connections": [], "total_count": 12}')
    wait_for(lambda: "incomplete" in m.health()[("fr-par", "connections")][3],
             6, "the listing said incomplete")
    # What is shown is the last complete listing, said to be stale.
    assert len(listdir(conns)) == 12
    table = read(m.path("tables", "connections.tsv")).splitlines()
    assert len(table) == 1 + 12, table
    assert up(m, "fr-par", "connections") == 0
    p = check_active(m)
    assert p.returncode == 3, p
    assert re.search(rb"UNKNOWN: fr-par connections are stale \(data \d+ s "
                     rb"old\): .*incomplete", p.stdout), p.stdout
    assert "the connections list is incomplete" in m.log()
    # No connection left the account: the journal says none did.
    assert journal_signs(m) == []
    # Nothing cached: the read fails, it is not a short list.
    m2 = Mount(sim, "regions=fr-par")
    assert errno_of(listdir, m2.path("regions", "fr-par",
                                     "connections")) == 5   # EIO
    sim.clear_faults()
    wait_for(lambda: m.health()[("fr-par", "connections")][0] == "fresh", 6,
             "fresh again")
    assert journal_signs(m) == []
    assert m.unmount() == 0


@concurrent
def test_an_object_that_moves_between_pages_is_not_journalled():
    # A link is deleted and another added while the pages after the
    # first are read: total_count does not change, and a link that never
    # left slides from page 2 to page 1, out of that reading.
    sim = Sim("--regions", "fr-par", "--max-page-size", "5", connections=12)
    m = Mount(sim, "regions=fr-par", "ttl=2")
    links = m.path("regions", "fr-par", "links")
    listing = sim.list_all("fr-par")                 # not needed: warms
    del listing
    before = sorted(listdir(links))
    objs = sorted(sim.data()["fr-par"]["links"],
                  key=lambda l: (l["created_at"], l["id"]))
    gone = objs[1]
    new = dict(objs[0], id="0badc0de-0000-4000-8000-0000000c0ffe",
               name="new link", created_at="2099-01-01T00:00:00Z")
    wait_for(lambda: m.listing_age("fr-par", "links") > 2.2, 5, "expiry")
    for page in (2, 3):
        sim.fault("latency", ms=1500, match="links_list", page=page, count=1)
    seq = sim.last_seq()
    t = threading.Thread(target=lambda: listdir(links))
    t.start()
    wait_for(lambda: any("page=1&" in (r.get("query") or "") + "&"
                         for r in sim.requests(seq)
                         if r["endpoint"] == "links_list"),
             5, "page 1 asked")
    time.sleep(0.2)
    sim.delete("fr-par", gone["id"], kind="links")
    sim.add("fr-par", new, kind="links")
    t.join(10)
    wait_for(lambda: sorted(listdir(links)) == sorted(
        [i for i in before if i != gone["id"]] + [new["id"]]), 10,
        "the listing with the change")
    # Two more refreshes: nothing else came or went.
    time.sleep(5)
    assert sorted(journal_signs(m)) == sorted([("-", gone["id"]),
                                               ("+", new["id"])]), \
        read(m.path(*JOURNAL))
    assert m.unmount() == 0


@concurrent
def test_check_active_says_unknown_on_stale_data():
    sim = Sim("--regions", "fr-par", connections=8)
    for c in sim.data()["fr-par"]["connections"]:
        sim.patch("fr-par", c["id"], {"status": "active"})
    m = Mount(sim, "regions=fr-par", "ttl=1", "stale=600", "timeout=1")
    p = check_active(m)
    assert p.returncode == 0 and p.stdout.startswith(b"OK: "), p
    # Every request fails: the data is served stale, and the check says
    # it cannot vouch for it, with how old it is.
    sim.fault("status", count=0, status=503)
    victim = sim.data()["fr-par"]["connections"][0]
    sim.patch("fr-par", victim["id"], {"status": "failed"})
    time.sleep(2.5)
    p = check_active(m)
    assert p.returncode == 3, p
    assert re.search(rb"UNKNOWN: fr-par connections are stale \(data \d+ s "
                     rb"old\)", p.stdout), p.stdout
    assert b"OK" not in p.stdout
    sim.clear_faults()
    wait_for(lambda: check_active(m).returncode == 1, 10,
             "the failed connection seen")
    assert m.unmount() == 0


def test_a_hanging_api_is_blindness_within_ttl_and_grace():
    sim = Sim("--regions", "fr-par", connections=4)
    m = Mount(sim, "regions=fr-par", "ttl=1", "grace=0.5", "timeout=20")
    assert up(m, "fr-par", "links") == 1
    sim.fault("hang")
    t0 = time.monotonic()
    wait_for(lambda: up(m, "fr-par", "links") == 0, 5,
             "interlink_up 0 with the API hanging")
    print("interlink_up 0 %.2f s after the API hung (ttl 1, grace 0.5)"
          % (time.monotonic() - t0))
    # A scrape never waits longer than the grace (plus a little).
    for _ in range(3):
        t = time.monotonic()
        read(m.path(*PROM))
        assert time.monotonic() - t < 0.5 + 0.5, time.monotonic() - t
    assert m.health()[("fr-par", "links")][0] == "stale"
    assert "refresh under way" in m.health()[("fr-par", "links")][3]
    sim.clear_faults()
    wait_for(lambda: up(m, "fr-par", "links") == 1, 25, "up again")
    assert m.unmount() == 0


@concurrent
def test_no_object_is_exported_older_than_stale():
    sim = Sim("--regions", "fr-par", connections=4)
    m = Mount(sim, "regions=fr-par", "ttl=1", "stale=3", "timeout=1")
    s = prom(m)
    assert any(k.startswith("interlink_link_status{") for k in s)
    sim.fault("status", count=0, status=503)
    wait_for(lambda: not any(k.startswith("interlink_link_status{")
                             for k in prom(m)), 8, "no series past stale")
    s = prom(m)
    assert s['interlink_listing_state{region="fr-par",kind="links",'
             'state="blind"}'] == 1
    assert s['interlink_up{region="fr-par",kind="links"}'] == 0
    # The files say EIO likewise.
    link = sim.data()["fr-par"]["links"][0]["id"]
    assert errno_of(read, m.path("regions", "fr-par", "links", link,
                                 "status")) == 5
    sim.clear_faults()
    assert m.unmount() == 0


@concurrent
def test_a_status_of_the_wrong_type_can_alert():
    sim = Sim("--regions", "fr-par", connections=4)
    m = Mount(sim, "regions=fr-par", "ttl=1")
    link = sim.data()["fr-par"]["links"][0]
    sim.patch("fr-par", link["id"], {"status": 42, "bgp_v4_status": None,
                                     "bandwidth_mbps": "fast"},
              kind="links")
    ident = 'region="fr-par",id="%s"' % link["id"]
    wait_for(lambda: prom(m).get('interlink_link_status{%s,status='
                                 '"unreadable"}' % ident) == 1, 5,
             "status unreadable at 1")
    s = prom(m)
    assert s['interlink_link_status{%s,status="active"}' % ident] == 0
    assert s['interlink_link_bgp_status{%s,family="ipv4",status="none"}'
             % ident] == 1
    v = s['interlink_link_bandwidth_mbps{%s}' % ident]
    assert v != v, v                                  # NaN
    assert m.unmount() == 0


@concurrent
def test_ttl_0_a_watched_journal_still_shows_changes():
    sim = Sim("--regions", "fr-par", connections=3)
    m = Mount(sim, "regions=fr-par", "ttl=0")
    listdir(m.path("regions", "fr-par", "links"))
    read(m.path(*JOURNAL))
    link = sim.data()["fr-par"]["links"][0]
    time.sleep(1.5)                       # the first listing of each kind
    sim.patch("fr-par", link["id"], {"bgp_v4_status": "down"}, kind="links")

    def shown():
        return b"\tbgp_v4_status\t" in read(m.path(*JOURNAL))
    wait_for(shown, 6, "the change in the journal")
    # About once a second per listing, not at every keeper's turn.
    sim.reset()
    for _ in range(4):
        read(m.path(*JOURNAL))
        time.sleep(1)
    n = sim.counters()["links_list"]
    assert 2 <= n <= 6, n
    assert m.unmount() == 0


@concurrent
def test_a_look_at_interlinkfs_costs_no_request():
    sim = Sim("--regions", "fr-par", connections=3)
    m = Mount(sim, "regions=fr-par", "ttl=1")
    meta = m.path(".interlinkfs")
    t_end = time.monotonic() + 5
    while time.monotonic() < t_end:      # watch -n 0.5 ls -l .interlinkfs
        for n in listdir(meta):
            os.lstat(os.path.join(meta, n))
        for n in listdir(os.path.join(meta, "prometheus")):
            os.lstat(os.path.join(meta, "prometheus", n))
        time.sleep(0.5)
    assert sim.counters()["total"] == 0, sim.counters()
    # Reading health is watching: the listings are loaded, and kept.
    read(os.path.join(meta, "health"))
    wait_for(lambda: m.health()[("fr-par", "links")][0] == "fresh", 5,
             "watched")
    assert m.unmount() == 0


SIGHT_SH = os.path.join(ROOT, "examples", "sight.sh")


def sight_run(m, then_sleep):
    """sight.sh's pattern: note the time, read the connections, then
    (after then_sleep seconds) ask; the CompletedProcess."""
    script = ('. "$0"; start=$(date +%s); ls "$1/regions/fr-par/connections"'
              ' >/dev/null || exit 9; sleep "$2";'
              ' sight_check "$start" "$1" connections')
    return subprocess.run(["sh", "-c", script, SIGHT_SH, m.dir,
                           str(then_sleep)], capture_output=True, timeout=60)


@concurrent
def test_old_data_read_during_a_run_is_unknown_though_fresh_after():
    sim = Sim("--regions", "fr-par", connections=4)
    m = Mount(sim, "regions=fr-par", "ttl=4", "grace=0.2", "stale=600",
              "timeout=5")
    listdir(m.path("regions", "fr-par", "connections"))
    # The listing just read is refreshed ahead once (before ttl), then
    # left to expire: nobody reads it.
    deadline = time.monotonic() + 5
    while sim.counters()["list"] < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    # Expired, then a refresh slower than the grace: the script's ls
    # gets the old listing; by the time it asks, the listing is fresh
    # (loaded 0.8 s after the ls, at most 1.8 s old by the API's Date,
    # which counts whole seconds: fresh for 2 s more at least).
    sim.fault("latency", ms=800, match="list", count=0)
    time.sleep(4.5)
    p = sight_run(m, 1.2)
    assert p.returncode == 3, p
    assert re.search(rb"^UNKNOWN: fr-par connections: old data was read "
                     rb"while this ran \(served [0-9.]+ s ago\)$",
                     p.stdout, re.M), p.stdout
    h = m.health()[("fr-par", "connections")]
    assert h[0] == "fresh" and "old data served" in h[3], h
    # A later run that read nothing old vouches for its data.
    time.sleep(2)
    p = sight_run(m, 0)
    assert p.returncode == 0 and not p.stdout, p
    assert m.unmount() == 0


@concurrent
def test_a_slow_listing_watched_does_not_flap():
    sim = Sim("--regions", "fr-par", connections=4)
    m = Mount(sim, "regions=fr-par", "ttl=5", "grace=0.5", "timeout=5")
    listdir(m.path("regions", "fr-par", "links"))
    # Every listing of links takes 1.5 s: more than the grace, less than
    # the ttl (5 s: an HTTP Date counts whole seconds, so data may arrive
    # 2.5 s old). Watched (health read), it is refreshed ahead by as much.
    sim.fault("latency", ms=1500, match="links_list", count=0)
    # The first slow listing cannot be foreseen: it may end past the
    # grace. Once one took that long, the next start as much ahead: the
    # second has started when the first has ended.
    n = sim.counters()["links_list"]
    wait_for(lambda: m.health() and sim.counters()["links_list"] >= n + 2,
             15, "a slow listing of links", interval=0.2)
    seen = []
    t_end = time.monotonic() + 12
    while time.monotonic() < t_end:
        seen.append(m.health()[("fr-par", "links")][0])
        time.sleep(0.2)
    assert sim.counters()["links_list"] >= 3, sim.counters()
    assert set(seen) == {"fresh"}, seen
    sim.clear_faults()
    assert m.unmount() == 0


@concurrent
def test_a_404_in_a_served_region_is_an_error_not_emptiness():
    sim = Sim("--regions", "fr-par", connections=4)
    m = Mount(sim, "regions=fr-par", "ttl=1", "stale=4", "timeout=1")
    listdir(m.path("regions", "fr-par", "connections"))
    links = m.path("regions", "fr-par", "links")
    before = sorted(listdir(links))
    assert before
    sim.fault("status", status=404, match="links_list", count=0)

    def said():
        h = m.health()[("fr-par", "links")]
        return h[0] == "stale" and "HTTP 404" in h[3]
    # The old listing is served, said to be stale, never emptied...
    wait_for(lambda: sorted(listdir(links)) == before and said(), 5,
             "stale, 404")
    # ... and past stale, an error.
    wait_for(lambda: errno_of(listdir, links) == errno.EIO, 8, "EIO")
    assert m.health()[("fr-par", "links")][0] == "blind"
    sim.clear_faults()
    wait_for(lambda: errno_of(listdir, links) == 0 and
             sorted(listdir(links)) == before, 8, "back")
    assert m.unmount() == 0


@concurrent
def test_a_region_once_unserved_is_asked_again():
    sim = Sim("--regions", "fr-par,nl-ams", connections=3)
    m = Mount(sim, "regions=fr-par:nl-ams", "ttl=1", "catalog_ttl=2",
              "timeout=1")
    conns = m.path("regions", "nl-ams", "connections")
    sim.fault("status", status=404, region="nl-ams", count=0)
    assert errno_of(listdir, conns) == errno.ENOENT
    wait_for(lambda: m.health()[("nl-ams", "connections")][0] ==
             "unserved", 5, "unserved")
    sim.clear_faults()
    # Watched, the keeper asks again within catalog_ttl (and a turn).
    wait_for(lambda: m.health()[("nl-ams", "connections")][0] == "fresh",
             8, "served again")
    assert len(listdir(conns)) == 3
    assert m.unmount() == 0


@concurrent
def test_a_revoked_key_drops_every_listing_the_catalogues_too():
    sim = Sim("--regions", "fr-par", connections=4)
    m = Mount(sim, "regions=fr-par", "ttl=1", "stale=600", "timeout=1")
    pops = m.path("regions", "fr-par", "pops")
    conns = m.path("regions", "fr-par", "connections")
    assert listdir(pops) and listdir(conns)
    sim.ctl("POST", "/token", {"token": "revoked"})
    # A 401 for any listing: what every kind held is forgotten, the
    # PoPs' too (held an hour), so no name of the account is shown.
    wait_for(lambda: errno_of(listdir, conns) == errno.EACCES, 5,
             "connections refused")
    wait_for(lambda: errno_of(listdir, pops) == errno.EACCES, 5,
             "pops refused")
    log = m.log()
    assert log.count("the API refused the key: dropping every listing") == 1
    # Held nothing, the failure is: reads do not each ask the API.
    asked = sim.counters()["pops_list"]
    for _ in range(20):
        errno_of(listdir, pops)
    assert sim.counters()["pops_list"] <= asked + 1, (asked, sim.counters())
    sim.ctl("POST", "/token", {"token": sim.token})
    wait_for(lambda: errno_of(listdir, pops) == 0, 8, "the key back")
    assert m.unmount() == 0


if __name__ == "__main__":
    run(globals(), jobs=3)
