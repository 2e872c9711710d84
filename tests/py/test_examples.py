# SPDX-License-Identifier: Apache-2.0
"""Every example against each kind of failure, on real mounts: the API's
listings down, only the PoP listing down, one object's field unreadable,
a mount filter that hides related objects. An example either gives the
right answer or exits 3 (UNKNOWN) saying what it could not read: never a confident
wrong one."""
import os
import subprocess

from harness import concurrent, errno_of, read, read_line, run, spawn, \
    stop_process, wait_for
from mount import Mount
from sim import Sim

ROOT = os.environ.get("SOURCE_ROOT") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")
R = "fr-par"


def example(name, mnt, *args):
    return subprocess.run(["sh", os.path.join(ROOT, "examples", name)] +
                          list(args) + [mnt], capture_output=True,
                          timeout=120)


def all_examples(m, pop):
    """Each example's outcome on mount m: {name: (status, stdout)}."""
    out = {}
    for name, args in (("check-active.sh", ()), ("report.sh", ()),
                       ("in-pop.sh", (pop,)), ("vlans.sh", ()),
                       ("bgp-down.sh", ())):
        p = example(name, m.dir, *args)
        out[name] = (p.returncode, p.stdout, p.stderr)
    return out


class World:
    """One region, its data, and a healthy mount's answers."""

    def __init__(self):
        self.sim = Sim("--regions", R, connections=24, seed=7)
        self.data = self.sim.data()[R]
        conns = {c["id"]: c for c in self.data["connections"]}
        # A PoP that has connections, and a down BGP session on a link
        # that runs on a connection.
        counts = {}
        for c in conns.values():
            counts[c["pop_id"]] = counts.get(c["pop_id"], 0) + 1
        pops = {p["id"]: p for p in self.data["pops"]}
        self.pop = pops[max(counts, key=counts.get)]["name"]
        self.down = [l for l in self.data["links"]
                     if "down" in (l["bgp_v4_status"], l["bgp_v6_status"])
                     and (l.get("self") or {}).get("connection_id") in conns
                     and not l.get("partner")]
        assert self.down, "no down session on a self-hosted link"
        m = Mount(self.sim, "regions=" + R)
        self.healthy = all_examples(m, self.pop)
        m.unmount()
        for name, (rc, out, err) in self.healthy.items():
            assert rc in (0, 1) and out, (name, rc, err)

    def mount(self, *opts):
        return Mount(self.sim, "regions=" + R, "timeout=2", *opts)


def right_or_blind(world, got, blind):
    """Every example in blind exits 3 (UNKNOWN) and says why; every other
    one gives exactly the healthy mount's answer, or exits 3 saying why."""
    for name, (rc, out, err) in got.items():
        if name in blind:
            assert rc == 3, (name, rc, out, err)
        if rc == 3:
            # check-active speaks on stdout, as monitoring checks do.
            said = out if name == "check-active.sh" else err
            assert said.strip(), (name, "exit 3 without a word")
            if name == "check-active.sh":
                assert out.startswith(b"UNKNOWN: ") or \
                    b"\nUNKNOWN: " in out, out
            continue
        assert (rc, out) == world.healthy[name][:2], (name, rc, out, err)


@concurrent
def test_every_example_with_every_listing_down():
    w = World()
    w.sim.fault("status", status=503)
    m = w.mount()
    right_or_blind(w, all_examples(m, w.pop), set(w.healthy))
    w.sim.clear_faults()
    m.unmount()


@concurrent
def test_every_example_with_the_pop_listing_down():
    w = World()
    w.sim.fault("status", status=503, match="pops_list")
    m = w.mount()
    got = all_examples(m, w.pop)
    right_or_blind(w, got, {"in-pop.sh", "bgp-down.sh"})
    assert b"cannot read the PoPs of fr-par" in got["in-pop.sh"][2]
    w.sim.clear_faults()
    m.unmount()


@concurrent
def test_every_example_with_one_field_unreadable():
    w = World()
    link = w.down[0]
    cid = link["self"]["connection_id"]
    pop_id = [c for c in w.data["connections"] if c["id"] == cid][0]["pop_id"]
    # Each of these fields, of the wrong type, reads as an I/O error; the
    # examples that read it must say so.
    cases = [
        ("connections", cid, {"status": 5}, {"check-active.sh",
                                             "report.sh"}),
        ("connections", cid, {"name": 5}, {"report.sh", "bgp-down.sh"}),
        ("connections", cid, {"vlan_range": {"start": 1500}},
         {"vlans.sh"}),
        ("connections", cid, {"pop_id": 5}, {"bgp-down.sh"}),
        ("pops", pop_id, {"display_name": 5}, {"bgp-down.sh"}),
        ("links", link["id"], {"bgp_v4_status": 5, "bgp_v6_status": 5},
         {"bgp-down.sh"}),
    ]
    for kind, oid, fields, blind in cases:
        before = {k: v for k, v in [o for o in w.data[kind]
                                    if o["id"] == oid][0].items()
                  if k in fields}
        w.sim.patch(R, oid, fields, kind=kind)
        m = w.mount()
        f = m.path("regions", R, kind, oid, list(fields)[0])
        assert errno_of(read, f) != 0, (kind, fields)
        right_or_blind(w, all_examples(m, w.pop), blind)
        m.unmount()
        w.sim.patch(R, oid, before, kind=kind)


@concurrent
def test_every_example_with_a_filter_that_hides_connections():
    w = World()
    m = w.mount("status=failed")
    conns = [c for c in w.data["connections"] if c["status"] == "failed"]
    hidden = {c["id"] for c in w.data["connections"]} - \
        {c["id"] for c in conns}
    got = all_examples(m, w.pop)
    for name, (rc, out, err) in got.items():
        assert rc in (0, 1), (name, rc, err)
        assert b"cannot" not in err, (name, err)
    # check-active: every connection shown is failed, each one named.
    rc, out, _ = got["check-active.sh"]
    assert rc == 1 and {l.split()[1] for l in out.decode().splitlines()} \
        == {c["id"] for c in conns}
    # bgp-down: a self-hosted link on a hidden connection shows that
    # connection's id (not "-", which means a hosted link) and its own
    # PoP; every down session is there.
    rc, out, _ = got["bgp-down.sh"]
    rows = [l.split("\t") for l in out.decode().splitlines()[1:]]
    pops = {p["id"]: p["display_name"] for p in w.data["pops"]}
    want = 0
    for l in w.data["links"]:
        for fam in ("v4", "v6"):
            if l["bgp_%s_status" % fam] != "down":
                continue
            want += 1
            cid = (l.get("self") or {}).get("connection_id")
            if cid in hidden and not l.get("partner"):
                assert [cid, pops.get(l["pop_id"], "-")] in \
                    [r[5:] for r in rows if r[3] == fam], (l, rows)
    assert rc == 1 and len(rows) == want, (rows, want)
    assert any(r[5] in hidden for r in rows), rows
    m.unmount()


def bash_example(name, mnt):
    return subprocess.run(["bash", os.path.join(ROOT, "examples", name),
                           mnt], capture_output=True, timeout=120)


@concurrent
def test_links_table_shows_every_link_or_says_it_cannot():
    sim = Sim("--regions", "fr-par,nl-ams", connections=6, seed=3)
    m = Mount(sim, "regions=fr-par:nl-ams")
    p = bash_example("links-table.sh", m.dir)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.decode().splitlines()
    links = [(r, l) for r in ("fr-par", "nl-ams")
             for l in sim.data()[r]["links"]]
    assert lines[0].split() == ["region", "name", "status", "bgp_v4_status",
                                "bgp_v6_status", "vlan", "bandwidth_mbps"]
    assert len(lines) == 1 + len(links)
    for line, (r, l) in zip(lines[1:], links):
        assert line.startswith(r) and " %s " % l["status"] in line, line
    m.unmount()
    # Nothing cached and the listing failing: exit 3, said, no table.
    sim.fault("status", count=0, match="links_list")
    m = Mount(sim, "regions=fr-par:nl-ams")
    p = bash_example("links-table.sh", m.dir)
    assert p.returncode == 3 and p.stdout == b"", p
    assert b"cannot read tables/links.tsv" in p.stderr
    sim.clear_faults()
    m.unmount()


def test_bgp_watch_shows_sessions_as_they_change():
    import signal
    import time
    sim = Sim("--regions", R, connections=4)
    m = Mount(sim, "regions=" + R, "ttl=1", "timeout=2")
    p = spawn(["bash", os.path.join(ROOT, "examples", "bgp-watch.sh"),
               m.dir], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
              start_new_session=True)
    try:
        # Watching loads the listings first (the first is not a change).
        time.sleep(2)
        link = [l for l in sim.data()[R]["links"]
                if l.get("bgp_v6_status") != "down"][0]
        sim.patch(R, link["id"], {"bgp_v6_status": "down", "vlan": 3333},
                  kind="links")
        line = read_line(p.stdout, 15)
        f = line.rstrip("\n").split("\t")
        assert f[1:] == [R, link["name"] or "-", link["id"], "bgp_v6",
                         "%s -> down" % (link["bgp_v6_status"] or "-")], f
        # An empty value on either side keeps its place: "down -> -",
        # then "- -> down" (never the other way round).
        sim.patch(R, link["id"], {"bgp_v6_status": None}, kind="links")
        f = read_line(p.stdout, 15).rstrip("\n").split("\t")
        assert f[-1] == "down -> -", f
        sim.patch(R, link["id"], {"bgp_v6_status": "down"}, kind="links")
        f = read_line(p.stdout, 15).rstrip("\n").split("\t")
        assert f[-1] == "- -> down", f
        # The API fails: the journal says interlinkfs cannot see, and so
        # does the script, on standard error.
        sim.fault("status", count=0, match="links_list")
        err = ""
        while "not seen since" not in err:
            err = read_line(p.stderr, 15)
        assert err.startswith("bgp-watch: # %s links: not seen since" % R), err
        sim.clear_faults()
        while "seen again" not in err:
            err = read_line(p.stderr, 15)
        # The daemon dies: the script says so and fails, it does not end
        # as if all were well.
        m.proc.kill()
        assert p.wait(15) == 3, p.returncode
        assert b"the journal went away" in p.stderr.read()
    finally:
        # The pipeline (bash, tail, read loop) is one process group: it
        # is stopped by its leader's PID.
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
        stop_process(p)
    m.kill()


if __name__ == "__main__":
    run(globals(), jobs=3)
