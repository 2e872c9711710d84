"""Mount options on real mounts: every filter against the simulator, regions
the API does not serve, and every value refused before anything is mounted
(one line, a non-zero exit, no mount left behind)."""
import errno
import os
import subprocess
import tempfile
import time

from harness import (Mount, Sim, errno_of, listdir, mounted_at, read,
                     require_fuse, run)

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
        p = subprocess.run([FS, d, "-f", "-o", opts], env=e,
                           capture_output=True, timeout=10)
        err = p.stderr.decode()
        assert p.returncode != 0, (opts, p.returncode)
        assert err.count("\n") == 1 and want in err, (opts, err)
        assert mounted_at(d) is None
    finally:
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
    line = "region it-mil is not served by the InterLink API (HTTP 404"
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


if __name__ == "__main__":
    run(globals())
