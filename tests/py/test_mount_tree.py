# SPDX-License-Identifier: Apache-2.0
"""The mounted tree, for real: every file of every connection against bytes
computed from the simulator's JSON, attributes, shell tools, request
counts, by-name, errors."""
import errno
import json
import os
import stat
import subprocess
import time

import fixtures
from harness import errno_of, listdir, lstat, read, readlink, run
from mount import Mount
from oracle import expected_files, rfc3339
from sim import Sim

REGIONS = ["fr-par", "nl-ams", "pl-waw"]
CONN_FILES = sorted(["id", "name", "status", "bandwidth_mbps",
                     "demarcation_info", "tags", "pop_id", "project_id",
                     "organization_id", "available_link_bandwidths",
                     "created_at", "updated_at", "vlan_range", "region",
                     "connection.json"])


def sh(cmd, cwd, timeout=30):
    p = subprocess.run(cmd, cwd=cwd, shell=True, capture_output=True,
                       timeout=timeout)
    assert p.returncode == 0, (cmd, p.returncode, p.stderr)
    return p.stdout


def test_every_file_of_every_connection_has_the_expected_bytes():
    sim = Sim("--max-page-size", "10", connections=30, seed=11)
    m = Mount(sim, "ttl=300")
    ino_seen = {}
    for region in REGIONS:
        conns = sim.list_all(region)
        assert len(conns) == 30
        got = sorted(listdir(m.path("regions", region, "connections")))
        assert got == sorted(c["id"] for c in conns)
        for c in conns:
            d = m.path("regions", region, "connections", c["id"])
            want = expected_files(c)
            names = sorted(listdir(d))
            assert names == sorted(CONN_FILES + ["pop", "links"]), names
            for name, data in want.items():
                st = lstat(os.path.join(d, name))
                assert stat.S_ISREG(st.st_mode)
                assert stat.S_IMODE(st.st_mode) == 0o444
                assert st.st_size == len(data), (c["id"], name)
                assert read(os.path.join(d, name)) == data, (c["id"], name)
                assert st.st_uid == os.getuid() and st.st_nlink == 1
                ino_seen[(c["id"], name)] = st.st_ino
            st = lstat(d)
            # nlink: ".", the entry, and links/
            assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(
                st.st_mode) == 0o555 and st.st_nlink == 3
            # st_mtime is updated_at, else created_at
            when = c.get("updated_at") or c.get("created_at")
            assert abs(st.st_mtime - rfc3339(when)) < 1e-3, (when,
                                                              st.st_mtime)
            fst = lstat(os.path.join(d, "status"))
            assert abs(fst.st_mtime - rfc3339(when)) < 1e-3
            assert fst.st_ctime == fst.st_mtime and st.st_ctime == st.st_mtime
            link = os.path.join(d, "pop")
            assert stat.S_ISLNK(lstat(link).st_mode)
            assert readlink(link) == "../../pops/" + c["pop_id"]
        # nlink of connections/ counts its subdirectories
        assert lstat(m.path("regions", region, "connections")).st_nlink == 32
    # Inode numbers are stable for the life of the mount.
    for (cid, name), ino in list(ino_seen.items())[:50]:
        region = [r for r in REGIONS
                  if os.path.exists(m.path("regions", r, "connections",
                                           cid))][0]
        assert lstat(m.path("regions", region, "connections", cid,
                            name)).st_ino == ino
    assert len(set(ino_seen.values())) == len(ino_seen)
    assert m.unmount() == 0


def test_static_tree_and_attributes():
    sim = Sim(connections=3)
    m = Mount(sim)
    assert sorted(listdir(m.dir)) == [".interlinkfs", "regions", "tables"]
    assert sorted(listdir(m.path("regions"))) == REGIONS
    assert sorted(listdir(m.path("regions", "fr-par"))) == [
        "by-name", "connections", "links", "partners", "pops",
        "routing-policies"]
    assert sorted(listdir(m.path(".interlinkfs"))) == [
        "changes", "health", "metrics", "prometheus", "stats", "version"]
    assert sorted(listdir(m.path(".interlinkfs", "prometheus"))) == [
        "interlink.prom", "interlinkfs.prom"]
    assert sorted(listdir(m.path("tables"))) == sorted(
        "%s.%s" % (k, f) for k in ("connections", "links", "partners",
                                   "pops", "routing-policies")
        for f in ("tsv", "json"))
    assert lstat(m.dir).st_nlink == 5
    assert lstat(m.path("regions")).st_nlink == 5
    assert lstat(m.path("regions", "fr-par")).st_nlink == 8
    for p in ("", "regions", "regions/fr-par"):
        st = lstat(m.path(p))
        assert stat.S_IMODE(st.st_mode) == 0o555 and st.st_uid == os.getuid()
    assert read(m.path(".interlinkfs", "version")).strip() == \
        os.environ["INTERLINKFS_VERSION"].encode()
    # statfs: no network call, a read-only filesystem
    before = sim.counters()["total"]
    sv = os.statvfs(m.dir)
    assert sv.f_flag & os.ST_RDONLY
    assert sim.counters()["total"] == before
    with open("/proc/self/mounts") as f:
        line = [l for l in f if l.split()[1] == m.dir][0].split()
    assert line[0] == "interlinkfs" and line[2] == "fuse.interlinkfs"
    assert "ro" in line[3].split(",")


def test_shell_tools_work():
    sim = Sim(connections=8, seed=3)
    m = Mount(sim)
    c = sim.list_all("fr-par")[0]
    d = "regions/fr-par/connections/" + c["id"]
    want = expected_files(c)
    assert sh("cat %s/status" % d, m.dir) == want["status"]
    assert sh("head -c 3 %s/connection.json" % d, m.dir) == b"{\n "
    assert sh("wc -c < %s/connection.json" % d, m.dir).strip() == \
        str(len(want["connection.json"])).encode()
    out = sh("ls -l %s" % d, m.dir).decode()
    assert "connection.json" in out and "-r--r--r--" in out
    assert "pop -> ../../pops/" in out
    assert sh("stat -c %%s %s/name" % d, m.dir).strip() == \
        str(len(want["name"])).encode()
    n = int(sh("find regions -type f | wc -l", m.dir))
    # connections, PoPs, links, partners, routing policies
    per_region = {"connections": 15, "pops": 9, "links": 30, "partners": 8,
                  "routing_policies": 12}
    files = sum(len(objs) * per_region[k] for region in sim.data().values()
                for k, objs in region.items())
    assert n == files and files > 3 * 8 * 15, (n, files)
    tmp = m.home + "/copy"
    sh("cp -r %s %s" % (d, tmp), m.dir)
    for name, data in want.items():
        with open(os.path.join(tmp, name), "rb") as f:
            assert f.read() == data


def test_grep_lists_exactly_the_active_connections():
    sim = Sim(connections=40, seed=5)
    m = Mount(sim)
    out = sh("grep -rlx active regions/*/connections/*/status", m.dir)
    got = sorted(out.decode().split())
    want = sorted("regions/%s/connections/%s/status" % (r, c["id"])
                  for r in REGIONS for c in sim.list_all(r)
                  if c["status"] == "active")
    assert got == want and 0 < len(want) < 160


def test_walk_costs_list_pages_only_then_nothing():
    sim = Sim("--max-page-size", "10", connections=35)
    m = Mount(sim, "ttl=300")
    sim.reset()
    sh("grep -r . regions/fr-par/connections > /dev/null", m.dir)
    c = sim.counters()
    # 35 connections, 10 per page: 4 list requests, no get; the region's
    # PoP list, read once to know the API serves the region; and its 35
    # links, for the connections' links/ directories: 4 list requests,
    # once for all connections.
    assert (c["list"], c["get"], c["pops_list"], c["links_list"],
            c["total"]) == (4, 0, 1, 4, 9), c
    sim.reset()
    sh("grep -r . regions/fr-par/connections > /dev/null", m.dir)
    sh("ls -lR regions/fr-par/connections > /dev/null", m.dir)
    assert sim.counters()["total"] == 0
    st = read(m.path(".interlinkfs", "stats")).decode()
    fields = dict(l.split(": ", 1) for l in st.splitlines())
    for k in ("api_requests", "api_errors", "cache_hits", "cache_misses",
              "coalesced", "stale_served", "negative_hits", "bytes_cached",
              "connections", "listing_age_fr-par", "listing_age_pl-waw"):
        assert k in fields, k
    assert fields["api_requests"] == "9" and fields["connections"] == "35"
    assert fields["listing_age_pl-waw"] == "never"


def kernel(m, key):
    return int(m.stats()["kernel_" + key])


def test_readdirplus_spares_lookups_for_ls_l_and_find():
    sim = Sim("--regions", "fr-par", connections=30)
    m = Mount(sim, "regions=fr-par", "ttl=300")
    before = kernel(m, "lookups")
    sh("ls -l regions/fr-par/connections > /dev/null", m.dir)
    after_ls = kernel(m, "lookups")
    # ls -l of 30 directories: one lookup per component of the path
    # (regions, fr-par, connections) and none per entry, whose attributes
    # came with the listing. The name of a kind's directory stays valid
    # while its listing is unknown, so ls's further calls on that path
    # (coreutils 9.7 asks for four ACL and label names, one call each) do
    # not look it up again: 3 on Debian 12 and 13 alike (it was 8 and 10).
    assert after_ls - before <= 3, (before, after_ls)
    sh("find regions/fr-par/connections -type f > /dev/null", m.dir)
    after_find = kernel(m, "lookups")
    # find over 30 directories and 480 files: no lookup per entry either.
    assert after_find - after_ls <= 8, (after_ls, after_find)
    assert kernel(m, "getattrs") <= 10
    # and 30 connection directories of 16 entries each were listed
    assert kernel(m, "readdirs") >= 30


def test_listing_an_object_hands_its_files_to_the_page_cache():
    sim = Sim("--regions", "fr-par", connections=40)
    m = Mount(sim, "regions=fr-par", "ttl=300")
    conns = m.path("regions", "fr-par", "connections")
    dirs = [os.path.join(conns, c) for c in sorted(listdir(conns))]
    before = kernel(m, "reads"), int(m.stats()["pages_pushed"])
    for d in dirs:
        listdir(d)
    # Every file with bytes is stored once its directory's listing has
    # ended (the sizes come with the listing: no read). Wait for all of
    # them, bounded.
    want = sum(1 for d in dirs for f in CONN_FILES
               if lstat(os.path.join(d, f)).st_size > 0)
    assert want >= 40 * (len(CONN_FILES) - 2), want
    deadline = time.monotonic() + 10
    while int(m.stats()["pages_pushed"]) - before[1] < want:
        assert time.monotonic() < deadline, (want, before, m.stats())
        time.sleep(0.05)
    for d in dirs:
        for f in CONN_FILES:
            read(os.path.join(d, f))
    # The files were read from the kernel's page cache: all but a few, as
    # a page that nobody has read yet may be reclaimed before the test
    # gets to it (proactive reclaim, such as DAMON's pageout on the CI
    # machines, drops a stored page within a second; a walk reads it
    # within microseconds). Stores that the kernel refused, or pages it
    # could not use, would send most of the 600 reads here.
    reads = kernel(m, "reads") - before[0]
    assert reads <= len(CONN_FILES), (reads, before, want, m.stats())


def test_a_walk_ends_with_a_single_request_handler():
    # With -s or max_threads=1 no other handler could answer a read while
    # one stores a file the reader has started to read: the keeper stores
    # there, and a walk (which reads each file right after listing its
    # directory) must end.
    sim = Sim("--regions", "fr-par", connections=300)
    for args, opts in ((["-s"], ()), ((), ("max_threads=1",))):
        m = Mount(sim, "regions=fr-par", "ttl=300", *opts, args=args)
        for _ in range(2):  # cold, then warm
            out = sh("grep -rlx active regions/fr-par/connections", m.dir,
                     timeout=30)
            assert len(out.split()) == sum(
                1 for c in sim.list_all("fr-par") if c["status"] == "active")
        m.unmount()


def test_a_never_listed_connection_costs_one_get():
    sim = Sim(connections=5)
    c = sim.list_all("nl-ams")[3]
    m = Mount(sim)
    sim.reset()
    d = m.path("regions", "nl-ams", "connections", c["id"])
    assert read(os.path.join(d, "status")) == expected_files(c)["status"]
    assert read(os.path.join(d, "name")) == expected_files(c)["name"]
    c = sim.counters()
    # One get, and the region's PoP list, read once when the region is
    # first entered (does the API serve it?).
    assert (c["get"], c["list"], c["pops_list"]) == (1, 0, 1), \
        (c, sim.requests())
    # An id that is not a UUID costs nothing at all.
    assert errno_of(lstat, m.path("regions", "nl-ams", "connections",
                                  "HEAD")) == errno.ENOENT
    assert sim.counters()["total"] == 2


def test_by_name_for_every_awkward_name():
    sim = Sim(connections=20, seed=9)
    m = Mount(sim)
    conns = sim.list_all("nl-ams")
    byname = m.path("regions", "nl-ams", "by-name")
    names = listdir(byname)
    assert len(names) == len(conns) == len(set(names))
    targets = {}
    for n in names:
        assert "/" not in n and "\0" not in n and n not in (".", "..")
        assert 0 < len(n.encode()) <= 255
        n.encode("utf-8")  # valid UTF-8
        t = readlink(os.path.join(byname, n))
        assert t.startswith("../connections/")
        targets[n] = t[len("../connections/"):]
        # following the link lands in the connection
        assert read(os.path.join(byname, n, "id")).strip().decode() == \
            targets[n]
    by_id = {v: k for k, v in targets.items()}
    assert sorted(by_id) == sorted(c["id"] for c in conns)
    for c in conns:
        name = c["name"]
        got = by_id[c["id"]]
        dup = sum(1 for x in conns if x["name"] == name) > 1
        ok = (name and name not in (".", "..") and "/" not in name and
              len(name.encode()) <= 255 and not dup)
        if ok:
            assert got == name, (name, got)
        elif dup:
            assert got == name + "~" + c["id"][:8], (name, got)
        elif name == "":
            assert got == "_"
        elif name in (".", ".."):
            assert got == "_" + name
        elif "/" in name:
            assert got == name.replace("/", "_")
        else:
            assert len(got.encode()) <= 255 and name.startswith(got)


def test_writes_are_erofs_and_unknown_paths_enoent():
    sim = Sim(connections=2)
    m = Mount(sim)
    c = sim.list_all("fr-par")[0]
    d = m.path("regions", "fr-par", "connections", c["id"])
    f = os.path.join(d, "name")

    def write():
        with open(f, "w") as fh:
            fh.write("x")

    def create():
        open(m.path("regions", "new"), "w").close()
    checks = [
        (write,), (create,), (os.mkdir, m.path("regions", "x")),
        (os.unlink, f), (os.rmdir, d),
        (os.rename, f, os.path.join(d, "n2")), (os.chmod, f, 0o644),
        (os.symlink, "x", m.path("regions", "l")),
        (os.link, f, os.path.join(d, "hard")),
        (os.truncate, f, 0), (os.utime, f, (1, 1)),
        (os.setxattr, f, "user.x", b"1"),
    ]
    # EROFS comes from the kernel, the mount being read-only: interlinkfs
    # registers no operation that writes, so without `ro` these would be
    # ENOSYS (or worse) and this test would fail.
    with open("/proc/self/mounts") as fh:
        opts = [l.split()[3] for l in fh if l.split()[1] == m.dir]
    assert opts and "ro" in opts[0].split(","), opts
    for chk in checks:
        assert errno_of(*chk) == errno.EROFS, chk
    for p in ("nope", "regions/xx-yyy", "regions/fr-par/nope",
              "regions/fr-par/connections/00000000-0000-4000-8000-"
              "000000000000", "regions/fr-par/connections/" + c["id"] +
              "/nope", "regions/fr-par/by-name/no such name"):
        assert errno_of(lstat, m.path(p)) == errno.ENOENT, p
    assert read(f) == expected_files(c)["name"]


def test_wrong_key_and_forbidden_region_are_eacces():
    sim = Sim("--forbid", "pl-waw", connections=2)
    m = Mount(sim, token="0badc0de-0000-4000-8000-000000000000")
    assert errno_of(listdir, m.path("regions", "fr-par", "connections")) \
        == errno.EACCES
    log = m.log()
    assert "SCW_SECRET_KEY environment variable" in log, log
    assert "0badc0de" not in log
    m.unmount()
    m = Mount(sim)
    assert errno_of(listdir, m.path("regions", "pl-waw", "connections")) \
        == errno.EACCES
    assert len(listdir(m.path("regions", "fr-par", "connections"))) == 2


def test_pops_tree():
    sim = Sim(connections=6)
    m = Mount(sim)
    pops = sim.api("/fr-par/pops")[1]["pops"]
    assert sorted(listdir(m.path("regions", "fr-par", "pops"))) == \
        sorted(p["id"] for p in pops)
    for p in pops:
        d = m.path("regions", "fr-par", "pops", p["id"])
        assert sorted(listdir(d)) == sorted([
            "id", "name", "display_name", "city", "address",
            "hosting_provider_name", "available_link_bandwidths_mbps",
            "region", "pop.json"])
        assert read(os.path.join(d, "display_name")) == \
            p["display_name"].encode() + b"\n"
        assert read(os.path.join(d, "available_link_bandwidths_mbps")) == \
            b"".join(b"%d\n" % x for x in p["available_link_bandwidths_mbps"])
        assert json.loads(read(os.path.join(d, "pop.json"))) == p
    out = subprocess.run("cat regions/fr-par/connections/*/pop/display_name",
                         shell=True, cwd=m.dir, capture_output=True,
                         timeout=30)
    assert out.returncode == 0
    assert len(out.stdout.splitlines()) == 6


def test_every_fixture_through_the_mount():
    # The objects of tests/fixtures, sent as the API would send them (as
    # text: some hold what no JSON library writes), read through a real
    # mount: each file as the fixture says, bytes or EIO, each link.
    sim = Sim("--regions", "fr-par", connections=1)
    m = Mount(sim, "regions=fr-par", "ttl=300")
    work = os.path.join(m.home, "pages")
    os.mkdir(work)
    cases = fixtures.serve(sim, work)
    # Listed first, as a walk does: a get by id would ask the simulator's
    # own data.
    for kind, _, _ in fixtures.LISTS:
        assert len(listdir(m.path("regions", "fr-par", kind))) >= 1
    checked = 0
    for kind, d, text in cases:
        o = m.path("regions", "fr-par", kind, json.loads(text)["id"])
        for name, want in fixtures.files(d).items():
            f = os.path.join(o, name)
            if want is None:
                assert errno_of(read, f) == errno.EIO, f
                continue
            assert read(f) == want, (d, name)
            checked += 1
        want = fixtures.links(d)
        # Every entry that reads as a link (a file is EINVAL, or EIO).
        got = {n: readlink(os.path.join(o, n)) for n in listdir(o)
               if errno_of(readlink, os.path.join(o, n)) == 0}
        assert got == want, (d, got, want)
    assert checked > 100, checked
    sim.clear_faults()
    assert m.unmount() == 0


if __name__ == "__main__":
    run(globals())
