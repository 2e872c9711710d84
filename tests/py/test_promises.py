# SPDX-License-Identifier: Apache-2.0
"""Promises that hold for every reader: no kernel cache outlives the TTL,
timeout means what it says, a hung API costs about one timeout, stale data
after a short grace, monitoring scripts never say OK when blind, and one
bad record never takes down a region. All on real mounts."""
import errno
import json
import os
import subprocess
import tempfile
import time

from harness import concurrent, errno_of, listdir, read, run, wait_for
from mount import Mount
from sim import TOKEN, Sim

ROOT = os.environ["SOURCE_ROOT"]



# ---- 1. no kernel cache outlives ttl ------------------------------------

def test_plain_ls_sees_changes_within_ttl():
    ttl = 2
    sim = Sim("--regions", "fr-par", connections=6, seed=31)
    m = Mount(sim, "regions=fr-par", "ttl=%d" % ttl,
              "catalog_ttl=%d" % ttl)
    conns = m.path("regions", "fr-par", "connections")
    byname = m.path("regions", "fr-par", "by-name")
    pops = m.path("regions", "fr-par", "pops")
    every = sim.list_all("fr-par")
    # os.listdir is a plain readdir: no stat, no lookup of the entries.
    # A few of them: the kernel keeps a directory in its readdir cache
    # once it has been read through.
    for _ in range(3):
        assert sorted(listdir(conns)) == sorted(c["id"] for c in every)
        names = listdir(byname)
        before_pops = listdir(pops)
    readdirs = int(m.stats()["kernel_readdirs"])
    listdir(conns)
    listdir(byname)
    listdir(pops)
    assert int(m.stats()["kernel_readdirs"]) == readdirs, \
        "the kernel's readdir cache is not in use: this test proves nothing"
    # Then leave the mount alone for longer than ttl (the kernel would
    # answer a plain ls from its readdir cache forever).
    time.sleep(ttl + 1.5)
    gone, renamed = every[1], every[2]
    t0 = time.monotonic()
    sim.delete("fr-par", gone["id"])
    new = sim.add("fr-par", {"name": "added-by-test", "status": "active"})
    sim.patch("fr-par", renamed["id"], {"name": "renamed-by-test"})
    status, _, body = sim.request("/_sim/regions/fr-par/pops",
                                  method="POST", body={"name": "NEWPOP"},
                                  token=False)
    assert status == 200, body
    new_pop = json.loads(body)["id"]
    wait_for(lambda: new in listdir(conns) and
             gone["id"] not in listdir(conns), ttl + 1,
             "connections/ to change")
    wait_for(lambda: "renamed-by-test" in listdir(byname) and
             "added-by-test" in listdir(byname) and
             renamed["name"] not in listdir(byname), ttl + 1,
             "by-name/ to change")
    wait_for(lambda: new_pop in listdir(pops), ttl + 1, "pops/ to change")
    assert time.monotonic() - t0 <= ttl + 1 + 0.5
    assert len(before_pops) == 3 and len(names) == 6


def test_plain_ls_sees_link_changes_within_ttl():
    ttl = 2
    sim = Sim("--regions", "fr-par", connections=12, seed=31)
    m = Mount(sim, "regions=fr-par", "ttl=%d" % ttl)
    links = sim.data()["fr-par"]["links"]
    on = [l for l in links if l.get("self") and not l.get("partner")][0]
    cid = on["self"]["connection_id"]
    ldir = m.path("regions", "fr-par", "links")
    byname = m.path("regions", "fr-par", "links", "by-name")
    sub = m.path("regions", "fr-par", "connections", cid, "links")
    for _ in range(3):
        assert len(listdir(ldir)) == len(links) + 1     # and by-name/
        listdir(byname)
        assert on["id"] in listdir(sub)
    readdirs = int(m.stats()["kernel_readdirs"])
    for d in (ldir, byname, sub):
        listdir(d)
    assert int(m.stats()["kernel_readdirs"]) == readdirs, \
        "the kernel's readdir cache is not in use: this test proves nothing"
    time.sleep(ttl + 1.5)
    t0 = time.monotonic()
    sim.delete("fr-par", on["id"], kind="links")
    new = sim.add("fr-par", {"name": "link-added-by-test",
                             "self": {"connection_id": cid}}, kind="links")
    wait_for(lambda: new in listdir(ldir) and on["id"] not in listdir(ldir),
             ttl + 1, "links/ to change")
    wait_for(lambda: "link-added-by-test" in listdir(byname), ttl + 1,
             "links/by-name/ to change")
    wait_for(lambda: new in listdir(sub) and on["id"] not in listdir(sub),
             ttl + 1, "connections/ID/links/ to change")
    assert time.monotonic() - t0 <= ttl + 1 + 0.5


@concurrent
def test_an_idle_region_costs_no_request():
    ttl = 1
    sim = Sim("--regions", "fr-par", connections=4)
    m = Mount(sim, "regions=fr-par", "ttl=%d" % ttl)
    assert len(listdir(m.path("regions", "fr-par", "connections"))) == 4
    # A region used once is refreshed once ahead of its expiry; after
    # that, nobody reads: nothing is polled.
    time.sleep(3 * ttl)
    sim.reset()
    time.sleep(4 * ttl)
    assert sim.counters()["total"] == 0, sim.requests()
    # The next plain ls asks, and sees what changed meanwhile.
    new = sim.add("fr-par", {"name": "late"})
    assert new in listdir(m.path("regions", "fr-par", "connections"))


# ---- 2. timeout means what the README says ---------------------------------

def test_an_answer_slower_than_half_the_timeout_succeeds():
    sim = Sim("--regions", "fr-par", connections=3)
    m = Mount(sim, "regions=fr-par", "timeout=3")
    # 2.5 s before the first byte: within timeout - 0.5 s.
    sim.fault("latency", ms=2500, match="list")
    t0 = time.monotonic()
    assert len(listdir(m.path("regions", "fr-par", "connections"),
                       timeout=10)) == 3
    assert 2.4 < time.monotonic() - t0 < 3.0
    assert "too slow" not in m.log(), m.log()


@concurrent
def test_numbers_are_finite_and_in_range():
    for opt, why in (("timeout=inf", "not a number from 0.1 to 3600"),
                     ("timeout=1e16", "not a number from 0.1 to 3600"),
                     ("timeout=0", "not a number from 0.1 to 3600"),
                     ("ttl=nan", "not a number from 0 to 86400"),
                     ("ttl=-1", "not a number from 0 to 86400"),
                     ("stale=1e9", "not a number from 0 to 604800"),
                     ("rate=inf", "not a number from 0 to 10000"),
                     ("grace=-0.5", "not a number from 0 to 60"),
                     ("cache_size=0", "not a number from 1 to 65536")):
        refused(opt, why)


# ---- 3. a slow or hung API costs about timeout -----------------------------

def test_a_hung_api_costs_one_timeout_for_a_whole_grep():
    timeout = 3
    sim = Sim(connections=5)       # three regions
    m = Mount(sim, "timeout=%d" % timeout)
    sim.fault("hang")
    t0 = time.monotonic()
    p = subprocess.run("grep -r x regions", shell=True, cwd=m.dir,
                       capture_output=True, timeout=120)
    took = time.monotonic() - t0
    assert p.returncode == 2, p
    assert took <= timeout + 2, took
    # Most of the walk failed at once: the API had just not answered.
    assert int(m.stats()["api_fast_failures"]) >= 2, m.stats()
    sim.clear_faults()


def test_expired_data_is_served_after_the_grace_and_then_refreshed():
    sim = Sim("--regions", "fr-par", connections=3)
    m = Mount(sim, "regions=fr-par", "ttl=1", "grace=0.5", "timeout=10")
    c = sim.list_all("fr-par")[0]
    status = m.path("regions", "fr-par", "connections", c["id"], "status")
    assert read(status) == c["status"].encode() + b"\n"
    time.sleep(1.5)                       # expired, younger than stale
    sim.fault("latency", ms=3000)         # the refresh is slow
    sim.patch("fr-par", c["id"], {"status": "locked"})
    t0 = time.monotonic()
    assert read(status) == c["status"].encode() + b"\n"
    assert time.monotonic() - t0 < 1.2    # the grace, not the timeout
    stats = m.stats()
    assert int(stats["grace_stale_served"]) >= 1, stats
    # The refresh went on in the background: its result reaches the
    # cache and the kernel without another reader waiting for it.
    wait_for(lambda: read(status) == b"locked\n", 6, "the refreshed value")
    sim.clear_faults()


@concurrent
def test_an_authoritative_answer_wins_within_the_grace():
    sim = Sim("--regions", "fr-par", connections=3)
    m = Mount(sim, "regions=fr-par", "ttl=1", "grace=2")
    c = sim.list_all("fr-par")[0]
    status = m.path("regions", "fr-par", "connections", c["id"], "status")
    assert read(status) == c["status"].encode() + b"\n"
    time.sleep(1.5)
    sim.ctl("POST", "/token", {"token": "0badc0de-0000-4000-8000-0000000000"
                                        "00"})
    assert errno_of(read, status) == errno.EACCES


# ---- 4. monitoring scripts never say OK when blind -------------------------

def check_active(path):
    return subprocess.run([os.path.join(ROOT, "examples", "check-active.sh"),
                           path], capture_output=True, timeout=120)


@concurrent
def test_check_active_says_unknown_when_it_cannot_read():
    sim = Sim("--regions", "fr-par,nl-ams", "--forbid", "nl-ams",
              connections=3)
    # A 403 region.
    m = Mount(sim, "regions=fr-par:nl-ams")
    p = check_active(m.dir)
    assert p.returncode == 3, p
    assert b"UNKNOWN: cannot read the connections of nl-ams: Permission " \
        b"denied" in p.stdout, p.stdout
    m.unmount()
    # A region the API does not serve.
    m = Mount(sim, "regions=fr-par:it-mil")
    p = check_active(m.dir)
    assert p.returncode == 3 and b"it-mil: No such file" in p.stdout, p
    m.unmount()
    # A revoked key.
    m = Mount(sim, "regions=fr-par",
              token="0badc0de-0000-4000-8000-000000000000")
    p = check_active(m.dir)
    assert p.returncode == 3 and b"Permission denied" in p.stdout, p
    m.unmount()
    # The API down, nothing cached.
    sim.stop()
    m = Mount(sim, "regions=fr-par", "timeout=2")
    p = check_active(m.dir)
    assert p.returncode == 3 and b"Connection refused" in p.stdout, p
    m.unmount()
    # No mount at that path.
    d = tempfile.mkdtemp()
    try:
        p = check_active(d)
        assert p.returncode == 3 and b"not an interlinkfs mount" in \
            p.stdout, p
    finally:
        os.rmdir(d)


@concurrent
def test_every_example_that_reports_says_when_it_could_not_read():
    sim = Sim("--regions", "fr-par,nl-ams", "--forbid", "nl-ams",
              connections=4)
    m = Mount(sim, "regions=fr-par:nl-ams")
    for args in (["report.sh", m.dir], ["in-pop.sh", "TH2", m.dir],
                 ["in-pop.sh", "NOWHERE", m.dir], ["vlans.sh", m.dir]):
        p = subprocess.run([os.path.join(ROOT, "examples", args[0])] +
                           args[1:], capture_output=True, timeout=120)
        assert p.returncode == 3, (args, p)
        assert b"cannot read the connections of nl-ams: Permission " \
            b"denied" in p.stderr, (args, p.stderr)


@concurrent
def test_check_active_says_ok_for_an_empty_region():
    path = os.path.join(tempfile.mkdtemp(), "data.json")
    with open(path, "w") as f:
        json.dump({"fr-par": [], "nl-ams": [
            {"id": "6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f01", "name": "a",
             "status": "active"}]}, f)
    sim = Sim("--data", path)
    m = Mount(sim, "regions=fr-par:nl-ams")
    p = check_active(m.dir)
    assert p.returncode == 0, p
    assert p.stdout == b"OK: every connection is active (1 connections; " \
        b"none in fr-par)\n", p.stdout
    os.unlink(path)
    os.rmdir(os.path.dirname(path))


# ---- 5. one bad record never takes down a region ---------------------------

BAD = [
    # a lone surrogate escape in a name
    ('"name": "\\ud800 x"', "name", "\ufffd x\n".encode()),
    # a valid u64 past json_int_t
    ('"bandwidth_mbps": 18446744073709551615', "bandwidth_mbps",
     b"18446744073709551615\n"),
]


@concurrent
def test_odd_values_are_shown_and_the_region_keeps_answering():
    sim = Sim("--regions", "fr-par", connections=5, seed=41)
    m = Mount(sim, "regions=fr-par", "ttl=1", "stale=2")
    every = sim.list_all("fr-par", "&order_by=created_at_asc")
    d = m.path("regions", "fr-par", "connections")
    assert len(listdir(d)) == 5
    victim = every[2]
    for field_json, fname, want in BAD:
        # The field replaced, as text: Python cannot write these.
        page = [dict(c) for c in every]
        del page[2][fname]
        body = json.dumps({"connections": page, "total_count": 5})
        vid = json.dumps(victim["id"])
        i = body.index('"id": ' + vid)
        body = body[:i] + field_json + ", " + body[i:]
        f = os.path.join(m.home, "page.json")
        with open(f, "w") as fh:
            fh.write(body)
        sim.fault("body", body_file=f, match="list")
        t_end = time.monotonic() + 4       # past stale: no EIO period
        while time.monotonic() < t_end:
            assert len(listdir(d)) == 5
            for c in every:
                assert errno_of(read, os.path.join(d, c["id"], "status")) \
                    == 0
            time.sleep(0.2)
        assert read(os.path.join(d, victim["id"], fname)) == want
        raw = read(os.path.join(d, victim["id"], "connection.json"))
        if fname == "bandwidth_mbps":
            assert b'"bandwidth_mbps": 18446744073709551615,' in raw, raw
        sim.clear_faults()
    assert int(m.stats()["stale_served"]) == 0


@concurrent
def test_an_unreadable_record_makes_the_listing_incomplete():
    # One record jansson cannot read does not make its object disappear:
    # the listing that holds it is not complete, so the one before stays
    # (stale, and said to be), the journal says no "-", and Prometheus
    # keeps the object's series with interlink_up 0.
    sim = Sim("--regions", "fr-par", connections=5, seed=42)
    m = Mount(sim, "regions=fr-par", "ttl=1", "stale=30")
    every = sim.list_all("fr-par", "&order_by=created_at_asc")
    d = m.path("regions", "fr-par", "connections")
    assert len(listdir(d)) == 5
    read(m.path(".interlinkfs", "changes"))          # watched
    victim = every[3]
    # A record jansson cannot read at all: an invalid escape.
    page = [dict(c) for c in every]
    del page[3]["name"]
    body = json.dumps({"connections": page, "total_count": 5})
    vid = json.dumps(victim["id"])
    i = body.index('"id": ' + vid)
    body = body[:i] + '"name": "bad \\x escape", ' + body[i:]
    f = os.path.join(m.home, "page.json")
    with open(f, "w") as fh:
        fh.write(body)
    sim.fault("body", body_file=f, match="list")
    wait_for(lambda: "incomplete" in m.health()[("fr-par", "connections")][3],
             6, "the listing said incomplete")
    t_end = time.monotonic() + 3
    while time.monotonic() < t_end:
        assert sorted(listdir(d)) == sorted(c["id"] for c in every)
        h = m.health()[("fr-par", "connections")]
        assert h[0] == "stale" and h[2] == "5", h
        time.sleep(0.2)
    prom = read(m.path(".interlinkfs", "prometheus",
                       "interlink.prom")).decode()
    assert 'interlink_up{region="fr-par",kind="connections"} 0' in prom
    assert 'interlink_connection_info{region="fr-par",id="%s"' % \
        victim["id"] in prom
    assert "cannot be read (id %s)" % victim["id"] in m.log(), m.log()
    assert "incomplete" in m.log()
    assert int(m.stats()["api_records_skipped"]) >= 1
    sim.clear_faults()
    wait_for(lambda: m.health()[("fr-par", "connections")][0] == "fresh", 6,
             "fresh again")
    # Nothing came or went: the journal says so, with a "-" for no one.
    wait_for(lambda: b"# fr-par connections: seen again" in
             read(m.path(".interlinkfs", "changes")), 3, "seen again")
    journal = read(m.path(".interlinkfs", "changes")).decode()
    assert "\t-\t" not in journal and "\t+\t" not in journal, journal
    assert "# fr-par connections: not seen since" in journal, journal
    # A mount with nothing cached: the read fails, it is not a short list.
    sim.fault("body", body_file=f, match="list")
    m2 = Mount(sim, "regions=fr-par", "ttl=1")
    assert errno_of(listdir, m2.path("regions", "fr-par",
                                     "connections")) == errno.EIO
    sim.clear_faults()


# ---- 6. refusals before mounting -------------------------------------------

def refused(opts, want, env=None):
    """The mount is refused before mounting: a non-zero status, one line
    on stderr containing want, no mount. Returns stderr."""
    sim = Sim(connections=1)
    from test_options import refused as refused_with
    return refused_with(sim, opts, want, env=env)


def test_api_url_must_be_scheme_host_port():
    refused("api_url=http://127.0.0.1:1/interlink/v1beta1",
            "give scheme://host[:port] only")
    refused("api_url=http://127.0.0.1:1/?x=1", "give scheme://host[:port]")
    refused("api_url=http://127.0.0.1:1/#f", "give scheme://host[:port]")
    refused("api_url=ftp://127.0.0.1", "only http and https")
    # A trailing slash is dropped: the mount works.
    sim = Sim("--regions", "fr-par", connections=2)
    m = Mount(sim, "regions=fr-par", "api_url=" + sim.url + "/")
    assert len(listdir(m.path("regions", "fr-par", "connections"))) == 2


def test_the_secret_key_is_trimmed_and_must_be_a_uuid():
    sim = Sim("--regions", "fr-par", connections=2)
    m = Mount(sim, "regions=fr-par", token=" %s\n" % TOKEN)
    assert len(listdir(m.path("regions", "fr-par", "connections"))) == 2
    m.unmount()
    secret = "not-a-scaleway-key"
    for key in (secret, secret + "\n", TOKEN + "x"):
        err = refused("regions=fr-par", "the secret key from the "
                      "SCW_SECRET_KEY environment variable is not a "
                      "Scaleway secret key", env={"SCW_SECRET_KEY": key})
        assert key.strip() not in err and "not-a" not in err, err


def test_the_mountpoint_must_be_a_directory():
    sim = Sim(connections=1)
    f = tempfile.mkstemp()[1]
    try:
        p = subprocess.run([os.environ["INTERLINKFS"], f], env={
            "PATH": os.environ["PATH"], "SCW_SECRET_KEY": TOKEN,
            "SCW_API_URL": sim.url, "SCW_CONFIG_PATH": "/nonexistent"},
            capture_output=True, timeout=10)
        assert p.returncode != 0 and p.stderr == \
            ("interlinkfs: %s: not a directory\n" % f).encode(), p.stderr
    finally:
        os.unlink(f)


if __name__ == "__main__":
    run(globals(), jobs=4)
