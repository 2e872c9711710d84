# SPDX-License-Identifier: Apache-2.0
"""Mount options on real mounts: every filter against the simulator, regions
the API does not serve, and every value refused before anything is mounted
(one line, a non-zero exit, no mount left behind)."""
import errno
import os
import subprocess
import tempfile
import time

from harness import errno_of, listdir, read, run
from mount import Mount, mounted_at, require_fuse
from sim import Sim

FS = os.environ["INTERLINKFS"]


def refused(sim, opts, want, env=None):
    """Mounting with opts fails before mounting: non-zero status, one line
    on stderr that contains want, no mount. Returns stderr."""
    require_fuse()
    d = tempfile.mkdtemp(prefix="interlinkfs-refused-")
    e = {"PATH": os.environ["PATH"], "HOME": "/nonexistent",
         "SCW_CONFIG_PATH": "/nonexistent", "SCW_SECRET_KEY": sim.token,
         "SCW_API_URL": sim.url}
    e.update(env or {})
    try:
        try:
            p = subprocess.run([FS, d, "-f", "-o", opts], env=e,
                               capture_output=True, timeout=10)
        except subprocess.TimeoutExpired:
            raise AssertionError("%s was taken: it mounted" % opts)
        err = p.stderr.decode()
        assert p.returncode != 0, (opts, p.returncode)
        assert err.count("\n") == 1 and want in err, (opts, err)
        assert mounted_at(d) is None
    finally:
        # A value wrongly taken left a mount (its daemon killed): gone.
        if mounted_at(d):
            subprocess.run(["fusermount3", "-u", "-z", d], timeout=10)
        os.rmdir(d)
    return err


def test_a_region_the_api_does_not_serve_is_enoent_and_said_once():
    sim = Sim("--regions", "fr-par,nl-ams", connections=4)
    m = Mount(sim, "regions=fr-par:it-mil:nl-ams", "ttl=1")
    d = m.path("regions", "it-mil", "connections")
    assert errno_of(listdir, d) == errno.ENOENT
    assert errno_of(listdir, m.path("regions", "it-mil", "by-name")) == \
        errno.ENOENT
    assert errno_of(listdir, m.path("regions", "it-mil", "pops")) == \
        errno.ENOENT
    # Asked again after the "not found" is forgotten: still one line.
    time.sleep(1.5)
    assert errno_of(listdir, d) == errno.ENOENT
    line = "region it-mil: HTTP 404 for its pops ("
    assert m.log().count(line) == 1, m.log()
    # The other regions keep working, and grep says what it could not read.
    assert len(listdir(m.path("regions", "fr-par", "connections"))) == 4
    assert len(listdir(m.path("regions", "nl-ams", "connections"))) == 4
    p = subprocess.run("grep -rlx active regions", shell=True, cwd=m.dir,
                       capture_output=True, timeout=60)
    assert p.returncode == 2, p.returncode
    assert b"it-mil" in p.stderr and b"No such file" in p.stderr
    got = p.stdout.decode().split()
    want = ["regions/%s/connections/%s/status" % (r, c["id"])
            for r in ("fr-par", "nl-ams") for c in sim.list_all(r)
            if c["status"] == "active"]
    assert sorted(x for x in got if "/connections/" in x and
                  x.endswith("/status")) == sorted(want)


def test_regions_must_be_region_codes_and_not_repeated():
    sim = Sim(connections=1)
    refused(sim, "regions=fr-par:Paris", "'Paris' is not a region code")
    refused(sim, "regions=fr-par:../etc", "is not a region code")
    refused(sim, "regions=fr-par:fr-par", "fr-par is listed twice")
    refused(sim, "regions=", "no region given")


def active_ids(m, region):
    return sorted(listdir(m.path("regions", region, "connections")))


def check_filter(sim, opt, pred, hidden_ok=True):
    """The mount with -o opt shows exactly the connections pred accepts, in
    every region; a hidden one is not there by its id either."""
    m = Mount(sim, opt, "regions=fr-par:nl-ams")
    shown = 0
    for r in ("fr-par", "nl-ams"):
        every = sim.list_all(r)
        want = sorted(c["id"] for c in every if pred(c))
        assert active_ids(m, r) == want, (opt, r)
        shown += len(want)
        hidden = [c for c in every if not pred(c)]
        if hidden_ok and hidden:
            # A fresh mount: the id was never listed, so it costs a get,
            # which the filter must hide too.
            m2 = Mount(sim, opt, "regions=fr-par:nl-ams")
            assert errno_of(read, m2.path("regions", r, "connections",
                                          hidden[0]["id"], "id")) == \
                errno.ENOENT, (opt, hidden[0]["id"])
            m2.unmount()
    m.unmount()
    return shown


def test_every_filter_against_the_simulator():
    sim = Sim("--regions", "fr-par,nl-ams", connections=30, seed=8)
    every = sim.list_all("fr-par")
    c0 = every[12]
    filters = [
        ("project_id=" + c0["project_id"],
         lambda c: c["project_id"] == c0["project_id"]),
        ("organization_id=" + c0["organization_id"],
         lambda c: c["organization_id"] == c0["organization_id"]),
        ("status=failed", lambda c: c["status"] == "failed"),
        ("bandwidth_mbps=%d" % c0["bandwidth_mbps"],
         lambda c: c["bandwidth_mbps"] == c0["bandwidth_mbps"]),
        ("pop_id=" + c0["pop_id"], lambda c: c["pop_id"] == c0["pop_id"]),
        ("name=backbone", lambda c: "backbone" in c["name"]),
        ("tags=prod:edge", lambda c: {"prod", "edge"} <= set(c["tags"])),
    ]
    for opt, pred in filters:
        shown = check_filter(sim, opt, pred)
        assert 0 < shown < 60, (opt, shown)


def test_filter_values_are_checked_at_mount():
    sim = Sim(connections=1)
    refused(sim, "pop_id=not-a-uuid", "pop_id=not-a-uuid: not a UUID")
    refused(sim, "project_id=123", "project_id=123: not a UUID")
    refused(sim, "organization_id=x", "organization_id=x: not a UUID")
    refused(sim, "status=bogus", "status=bogus: not a status")
    refused(sim, "bandwidth_mbps=-1", "not an unsigned integer")
    refused(sim, "bandwidth_mbps=10G", "not an unsigned integer")
    refused(sim, "name=", "empty value")
    refused(sim, "tags=", "no tag given")


def test_name_matches_part_of_a_name_ignoring_case_whatever_the_api_does():
    # The API's documentation says of name only "name to filter for": an
    # API that matches whole names (or only as their case is) must not
    # hide what name= promises. Held against both readings.
    for how in ("exact", "part"):
        sim = Sim("--regions", "fr-par", "--name-filter", how,
                  connections=40, seed=8)
        every = sim.list_all("fr-par")
        want = sorted(c["id"] for c in every
                      if "backbone" in (c.get("name") or "").lower())
        assert 0 < len(want) < 40, want
        m = Mount(sim, "regions=fr-par", "name=BackBone", "tags=prod")
        conns = m.path("regions", "fr-par", "connections")
        shown = sorted(listdir(conns))
        assert shown == sorted(c["id"] for c in every if c["id"] in want
                               and "prod" in c["tags"]), (how, shown)
        # Neither name nor tags went to the API: they apply here.
        queries = [r["query"] for r in sim.requests()]
        assert queries and not any("name=" in q or "tags=" in q
                                   for q in queries), queries
        m.unmount()
        sim.stop()


def test_rate_is_at_most_n_requests_in_any_second():
    # Small pages make a cold walk many requests at once; by the
    # simulator's clock no second (less 50 ms of jitter) holds more than
    # rate of them.
    for rate in (1, 3):
        sim = Sim("--regions", "fr-par", "--max-page-size", "4",
                  connections=24, seed=3)
        m = Mount(sim, "regions=fr-par", "rate=%d" % rate)
        seq = sim.last_seq()
        t0 = time.monotonic()
        assert len(listdir(m.path("regions", "fr-par", "connections"),
                           timeout=60)) == 24
        assert len(listdir(m.path("regions", "fr-par", "links"),
                           timeout=60)) == 25
        took = time.monotonic() - t0
        t = sorted(r["t_ms"] for r in sim.requests(seq)
                   if r["path"].startswith("/interlink/"))
        assert len(t) >= 12, t
        worst = max(sum(1 for u in t if s <= u < s + 950) for s in t)
        assert worst <= rate, (rate, worst, t)
        # ... and no slower than that: the requests went at about rate.
        assert took < len(t) / rate + 2, (rate, took, len(t))
        m.unmount()
        sim.stop()


def test_numbers_are_decimal_and_lists_have_no_empty_element():
    sim = Sim(connections=1)
    for opt in ("ttl=0x10", "ttl= 30", "ttl=30 ", "ttl=1e3", "ttl=+5",
                "ttl=.5", "ttl=5.", "grace=0x1", "rate=1e2"):
        refused(sim, opt, "not a number from")
    refused(sim, "tags=a::b", "an empty tag")
    refused(sim, "tags=a:", "an empty tag")
    refused(sim, "regions=fr-par::nl-ams", "an empty region")
    # What the documentation shows is taken.
    m = Mount(sim, "ttl=30", "grace=0.5", "rate=20", "tags=a:b",
              "regions=fr-par:nl-ams")
    m.unmount()


def test_a_directory_as_the_config_file_is_said_to_be_one():
    sim = Sim(connections=1)
    d = tempfile.mkdtemp(prefix="interlinkfs-cfgdir-")
    try:
        err = refused(sim, "regions=fr-par", "Is a directory",
                      env={"SCW_CONFIG_PATH": d})
        assert "mode" not in err, err
    finally:
        os.rmdir(d)


if __name__ == "__main__":
    run(globals())
