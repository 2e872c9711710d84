# SPDX-License-Identifier: Apache-2.0
"""Links, partners and routing policies, mounted for real: every file
against bytes computed from the simulator's JSON, attributes, mtimes and
symbolic links, request counts, by-name, changes within ttl, filters,
unknown ids, and examples/bgp-down.sh."""
import errno
import os
import stat
import subprocess
import threading
import time

from harness import errno_of, listdir, lstat, read, readlink, run, wait_for
from mount import Mount
from oracle import (expected_link_files, expected_link_links,
                    expected_partner_files, expected_policy_files, rfc3339)
from sim import Sim

ROOT = os.environ["SOURCE_ROOT"]
R = "fr-par"


def sh(cmd, cwd, timeout=60, ok=(0,)):
    p = subprocess.run(cmd, cwd=cwd, shell=True, capture_output=True,
                       timeout=timeout)
    assert p.returncode in ok, (cmd, p.returncode, p.stderr)
    return p


def when(o):
    return rfc3339(o.get("updated_at") or o.get("created_at"))


def check_dir(d, want, links, o):
    """Files (bytes, size, mode, mtime) and symbolic links of one object
    directory."""
    names = set(listdir(d))
    assert names >= set(want) | set(links), (d, set(want) - names)
    for name, data in want.items():
        p = os.path.join(d, name)
        st = lstat(p)
        assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o444
        assert st.st_size == len(data), (d, name, st.st_size, data)
        assert read(p) == data, (d, name)
        assert abs(st.st_mtime - when(o)) < 1e-3, (d, name)
    for name, target in links.items():
        p = os.path.join(d, name)
        assert stat.S_ISLNK(lstat(p).st_mode), (d, name)
        assert readlink(p) == target, (d, name)
    st = lstat(d)
    assert stat.S_ISDIR(st.st_mode) and abs(st.st_mtime - when(o)) < 1e-3
    return names - set(want) - set(links)


def test_every_file_of_every_link_partner_and_policy():
    sim = Sim("--regions", R, "--max-page-size", "10", connections=30,
              seed=4)
    m = Mount(sim, "regions=" + R, "ttl=300")
    data = sim.data()[R]
    base = m.path("regions", R)
    assert sorted(listdir(base)) == sorted([
        "by-name", "connections", "links", "partners", "pops",
        "routing-policies"])
    assert lstat(base).st_nlink == 8
    assert sorted(x for x in listdir(os.path.join(base, "links"))
                  if x != "by-name") == sorted(l["id"] for l in data["links"])
    for link in data["links"]:
        d = os.path.join(base, "links", link["id"])
        left = check_dir(d, expected_link_files(link),
                         expected_link_links(link), link)
        # A link whose target is null or absent has no such link.
        assert left == set(), (d, left)
    for p in data["partners"]:
        d = os.path.join(base, "partners", p["id"])
        assert check_dir(d, expected_partner_files(p), {}, p) == set()
    for p in data["routing_policies"]:
        d = os.path.join(base, "routing-policies", p["id"])
        assert check_dir(d, expected_policy_files(p), {}, p) == set()
    # Symbolic links lead to the objects they name.
    link = [l for l in data["links"] if l.get("self") and
            l.get("routing_policy_v4_id") and not l.get("partner")][0]
    d = os.path.join(base, "links", link["id"])
    assert read(os.path.join(d, "connection", "id")).strip().decode() == \
        link["self"]["connection_id"]
    assert read(os.path.join(d, "pop", "name"))
    assert read(os.path.join(d, "routing_policy_v4", "id")).strip().decode() \
        == link["routing_policy_v4_id"]
    hosted = [l for l in data["links"] if l.get("partner") and
              not l.get("self")][0]
    assert read(os.path.join(base, "links", hosted["id"], "partner",
                             "name")) == \
        [p for p in data["partners"] if p["id"] ==
         hosted["partner"]["partner_id"]][0]["name"].encode() + b"\n"


def test_kind_of_a_link_with_both_or_neither_is_empty_and_logged():
    sim = Sim("--regions", R, connections=12, seed=4)
    m = Mount(sim, "regions=" + R)
    links = sim.data()[R]["links"]
    both = [l for l in links if l.get("self") and l.get("partner")]
    neither = [l for l in links if not l.get("self") and
               not l.get("partner")]
    assert both and neither
    for l in both + neither:
        d = m.path("regions", R, "links", l["id"])
        assert read(os.path.join(d, "kind")) == b""
        assert read(os.path.join(d, "name")) == \
            expected_link_files(l)["name"]
    log = m.log()
    assert "has both self and partner" in log, log
    assert "has neither self nor partner" in log, log


def test_connection_links_subdirectory():
    sim = Sim("--regions", R, connections=20, seed=6)
    m = Mount(sim, "regions=" + R, "ttl=300")
    data = sim.data()[R]
    on = {}
    for l in data["links"]:
        if l.get("self"):
            on.setdefault(l["self"]["connection_id"], []).append(l["id"])
    listdir(m.path("regions", R, "connections"))
    sim.reset()
    for c in data["connections"]:
        d = m.path("regions", R, "connections", c["id"], "links")
        assert stat.S_ISDIR(lstat(d).st_mode)
        got = sorted(listdir(d))
        assert got == sorted(on.get(c["id"], [])), c["id"]
        for lid in got:
            p = os.path.join(d, lid)
            assert stat.S_ISLNK(lstat(p).st_mode)
            assert readlink(p) == "../../../links/" + lid
            assert read(os.path.join(p, "id")).strip().decode() == lid
    cn = sim.counters()
    # One links listing for the region, not one per connection; and no
    # request per link or connection.
    assert cn["links_list"] == 1 and cn["link_get"] == 0, cn
    assert cn["get"] == 0 and cn["list"] == 0, cn
    # A link id that is not on this connection is not in its directory.
    other = [l for l in data["links"] if l.get("self")][0]
    c2 = [c for c in data["connections"]
          if c["id"] != other["self"]["connection_id"]][0]
    assert errno_of(lstat, m.path("regions", R, "connections", c2["id"],
                                  "links", other["id"])) == errno.ENOENT


def test_a_walk_costs_its_list_pages():
    sim = Sim("--regions", R, "--max-page-size", "10", connections=35,
              seed=8)
    m = Mount(sim, "regions=" + R, "ttl=300")
    sim.reset()
    sh("grep -r . regions/%s/links > /dev/null" % R, m.dir, ok=(0, 1))
    c = sim.counters()
    # 35 links, 10 per page: 4 list requests; no get of any kind; the
    # region's PoP list, read once to know the API serves the region.
    assert (c["links_list"], c["link_get"], c["get"], c["pops_list"]) == \
        (4, 0, 0, 1), c
    # readlink of every link's connection fetches nothing.
    sim.reset()
    sh("for l in regions/%s/links/*/connection; do readlink $l; done "
       "> /dev/null" % R, m.dir)
    assert sim.counters()["total"] == 0
    sim.reset()
    sh("grep -r . regions/%s/links regions/%s/partners "
       "regions/%s/routing-policies > /dev/null" % (R, R, R), m.dir,
       ok=(0, 1))
    c = sim.counters()
    assert c["links_list"] == 0 and c["partners_list"] == 1 and \
        c["routing_policies_list"] == 1 and c["total"] == 2, c
    st = m.stats()
    for k in ("links", "partners", "routing_policies",
              "links_listing_age_" + R, "partners_listing_age_" + R,
              "routing_policies_listing_age_" + R):
        assert k in st, k
    assert st["links"] == "35"
    metrics = read(m.path(".interlinkfs", "metrics")).decode()
    assert "interlinkfs_links 35" in metrics
    assert 'interlinkfs_routing_policies_listing_age_seconds{region="%s"}' \
        % R in metrics


def test_single_flight_and_negative_caching():
    """16 readers entering a cold links/ at once share one listing; an
    unknown link id, asked again and again, costs no request."""
    sim = Sim("--regions", R, "--max-page-size", "10", "--latency", "50",
              connections=25, seed=9)
    m = Mount(sim, "regions=" + R, "ttl=300")
    sim.reset()
    got, start = [], threading.Barrier(16)

    def reader():
        start.wait()
        got.append(len(listdir(m.path("regions", R, "links"))))
    ts = [threading.Thread(target=reader) for _ in range(16)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    assert got == [26] * 16, got               # 25 links and by-name/
    c = sim.counters()
    # One listing of 3 pages, and the region's PoP list read once on its
    # first entry (does the API serve the region?).
    assert (c["links_list"], c["link_get"], c["pops_list"],
            c["total"]) == (3, 0, 1, 4), c
    sim.reset()
    none = "00000000-0000-4000-8000-000000000000"
    for _ in range(20):
        assert errno_of(lstat, m.path("regions", R, "links", none)) == \
            errno.ENOENT
        assert errno_of(lstat, m.path("regions", R, "links", none,
                                      "status")) == errno.ENOENT
    c = sim.counters()
    assert c["link_get"] <= 1 and c["links_list"] == 0, c


def test_by_name_of_links_and_policies():
    # 100 connections: 100 links and 8 routing policies, the first names
    # of each the awkward ones.
    sim = Sim("--regions", R, connections=100, seed=2)
    m = Mount(sim, "regions=" + R)
    data = sim.data()[R]
    for kind, key in (("links", "links"),
                      ("routing-policies", "routing_policies")):
        objs = data[key]
        d = m.path("regions", R, kind, "by-name")
        names = listdir(d)
        assert len(names) == len(objs) == len(set(names))
        ids = set()
        for n in names:
            assert "/" not in n and n not in (".", "..")
            assert all(ord(ch) >= 0x20 and ord(ch) != 0x7f for ch in n)
            t = readlink(os.path.join(d, n))
            assert t.startswith("../") and len(t) == 3 + 36
            ids.add(t[3:])
            assert read(os.path.join(d, n, "id")).strip().decode() == t[3:]
        assert ids == {o["id"] for o in objs}
        plain = [o for o in objs if o["name"] and "/" not in o["name"] and
                 o["name"] not in (".", "..") and
                 sum(1 for x in objs if x["name"] == o["name"]) == 1 and
                 len(o["name"].encode()) <= 255]
        assert plain
        for o in plain:
            assert readlink(os.path.join(d, o["name"])) == "../" + o["id"]


def test_changes_show_within_ttl():
    sim = Sim("--regions", R, connections=10, seed=5)
    m = Mount(sim, "regions=" + R, "ttl=1")
    links = sim.data()[R]["links"]
    up = [l for l in links if l["bgp_v4_status"] == "up" and
          l["status"] == "active" and l.get("self") and
          not l.get("partner")][0]
    d = m.path("regions", R, "links", up["id"])
    assert read(os.path.join(d, "bgp_v4_status")) == b"up\n"
    assert read(os.path.join(d, "status")) == b"active\n"
    # Each change within ttl (1 s) + 1 s, as for connections.
    t0 = time.monotonic()
    sim.patch(R, up["id"], {"bgp_v4_status": "down"}, kind="links")
    wait_for(lambda: read(os.path.join(d, "bgp_v4_status")) == b"down\n",
             5, "the BGP session shown down")
    assert time.monotonic() - t0 <= 2.0, time.monotonic() - t0
    # A change of the same length: the page cache must not keep it.
    t0 = time.monotonic()
    sim.patch(R, up["id"], {"status": "failed"}, kind="links")
    wait_for(lambda: read(os.path.join(d, "status")) == b"failed\n", 5,
             "the link shown failed")
    assert time.monotonic() - t0 <= 2.0, time.monotonic() - t0
    assert lstat(os.path.join(d, "status")).st_size == 7
    # Deleted: gone from links/ and from its connection's links/.
    cdir = m.path("regions", R, "connections", up["self"]["connection_id"],
                  "links")
    assert up["id"] in listdir(cdir)
    t0 = time.monotonic()
    sim.delete(R, up["id"], kind="links")
    wait_for(lambda: up["id"] not in listdir(m.path("regions", R, "links"))
             and up["id"] not in listdir(cdir), 5, "the link gone")
    assert time.monotonic() - t0 <= 2.0, time.monotonic() - t0
    assert errno_of(lstat, d) == errno.ENOENT
    # Added: shows in both.
    new = dict(up, id=None, name="brand-new-link")
    del new["id"]
    t0 = time.monotonic()
    nid = sim.add(R, new, kind="links")
    wait_for(lambda: nid in listdir(cdir), 5, "the new link listed")
    assert time.monotonic() - t0 <= 2.0, time.monotonic() - t0
    assert read(m.path("regions", R, "links", nid, "name")) == \
        b"brand-new-link\n"


def test_unknown_ids_are_enoent():
    sim = Sim("--regions", R, connections=4)
    m = Mount(sim, "regions=" + R)
    none = "00000000-0000-4000-8000-000000000000"
    c = sim.data()[R]["connections"][0]
    for p in ("links/" + none, "partners/" + none,
              "routing-policies/" + none, "links/not-an-id",
              "links/by-name/no such link",
              "routing-policies/by-name/no such policy",
              "connections/%s/links/%s" % (c["id"], none),
              "connections/%s/links/x" % c["id"]):
        assert errno_of(lstat, m.path("regions", R, p)) == errno.ENOENT, p
    # A link to an object not in its listing exists; following it is
    # ENOENT, as for any unknown id.
    link = [l for l in sim.data()[R]["links"] if l.get("self") and
            not l.get("partner")][0]
    sim.patch(R, link["id"], {"self": {"connection_id": none}},
              kind="links")
    m.unmount()
    m = Mount(sim, "regions=" + R)
    p = m.path("regions", R, "links", link["id"], "connection")
    assert readlink(p) == "../../connections/" + none
    assert errno_of(lstat, os.path.join(p, "id")) == errno.ENOENT


def test_filters_by_kind():
    sim = Sim("--regions", R, connections=24, seed=3)
    data = sim.data()[R]
    proj = data["links"][0]["project_id"]
    m = Mount(sim, "regions=" + R, "project_id=" + proj, "name=transit")
    links = listdir(m.path("regions", R, "links"))
    assert sorted(x for x in links if x != "by-name") == sorted(
        l["id"] for l in data["links"] if l["project_id"] == proj)
    pols = listdir(m.path("regions", R, "routing-policies"))
    assert sorted(x for x in pols if x != "by-name") == sorted(
        p["id"] for p in data["routing_policies"] if p["project_id"] == proj)
    # name= is a connection filter only; partners and PoPs are not
    # filtered.
    conns = listdir(m.path("regions", R, "connections"))
    assert sorted(conns) == sorted(
        c["id"] for c in data["connections"] if c["project_id"] == proj and
        "transit" in c["name"].lower())
    assert len(listdir(m.path("regions", R, "partners"))) == \
        len(data["partners"])
    assert len(listdir(m.path("regions", R, "pops"))) == len(data["pops"])
    # A link of another project is not there by id either.
    other = [l for l in data["links"] if l["project_id"] != proj][0]
    assert errno_of(lstat, m.path("regions", R, "links", other["id"])) == \
        errno.ENOENT


def test_bgp_down_example():
    sim = Sim("--regions", R, connections=30, seed=7)
    m = Mount(sim, "regions=" + R)
    data = sim.data()[R]
    script = os.path.join(ROOT, "examples", "bgp-down.sh")
    p = subprocess.run(["sh", script, m.dir], capture_output=True,
                       timeout=60)
    out = p.stdout.decode().splitlines()
    conns = {c["id"]: c for c in data["connections"]}
    pops = {x["id"]: x for x in data["pops"]}
    want = []
    for l in data["links"]:
        for fam in ("v4", "v6"):
            if l["bgp_%s_status" % fam] != "down":
                continue
            c = conns.get((l.get("self") or {}).get("connection_id"))
            pop = pops.get(c["pop_id"] if c else l.get("pop_id"))
            want.append("\t".join([
                R, l["name"].replace("\t", " ").replace("\n", " ") or "-",
                l["status"], fam, str(l["vlan"]),
                (c["name"] if c else "-").replace("\t", " ")
                .replace("\n", " ") or "-",
                pop["display_name"] if pop else "-"]))
    assert want
    assert out[0].split("\t")[:4] == ["REGION", "LINK", "STATUS", "SESSION"]
    assert sorted(out[1:]) == sorted(want), (out, want)
    assert p.returncode == 1, p
    # Nothing down: 0. The API unreachable: 2.
    for l in data["links"]:
        if "down" in (l["bgp_v4_status"], l["bgp_v6_status"]):
            sim.patch(R, l["id"], {"bgp_v4_status": "up",
                                   "bgp_v6_status": "up"}, kind="links")
    m.unmount()
    m = Mount(sim, "regions=" + R)
    p = subprocess.run(["sh", script, m.dir], capture_output=True,
                       timeout=60)
    assert p.returncode == 0 and len(p.stdout.splitlines()) == 1, p
    sim.fault("status", status=503)
    m.unmount()
    m = Mount(sim, "regions=" + R, "timeout=2")
    p = subprocess.run(["sh", script, m.dir], capture_output=True,
                       timeout=60)
    assert p.returncode == 3, p
    assert b"bgp-down" in p.stderr


if __name__ == "__main__":
    run(globals())
