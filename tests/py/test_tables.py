# SPDX-License-Identifier: Apache-2.0
"""tables/: every object of a kind across the mounted regions in one file.

Every column of every kind is held to the oracle (oracle.py, computed from
the API's objects apart from the C renderer), on the simulator's data and
on the fixtures' awkward objects; the JSON to the objects as sent; the
cost of a cold and a warm read is counted at the simulator; and the tools
the README names (column, awk, mlr, sort) read the tables as they are.
"""
import errno
import json
import os
import subprocess
import time

import fixtures
from harness import errno_of, listdir, read, run
from mount import Mount
from oracle import EXPECTED, tsv_field, tsv_unescape
from sim import Sim

REGIONS = ["fr-par", "nl-ams", "pl-waw"]


def kinds():
    out = subprocess.run([os.environ["KINDS"]], capture_output=True,
                         text=True, check=True).stdout
    return [json.loads(l) for l in out.splitlines()]


def columns(k):
    # The object's own region is the first column's: not twice.
    return [f for f in k["files"] if not f.endswith(".json") and
            f != "region"]


def rows(text):
    """A TSV table's header and rows, as lists of byte fields."""
    lines = text.split(b"\n")
    assert lines[-1] == b"", "the table ends with a newline"
    return [l.split(b"\t") for l in lines[:-1]]


def expected_row(k, region, obj, files=None):
    files = files if files is not None else EXPECTED[k["dir"]](obj)
    return [region.encode()] + [tsv_field(files.get(c)) for c in columns(k)]


def test_every_column_of_every_kind():
    sim = Sim("--regions", ",".join(REGIONS), connections=12, seed=5)
    m = Mount(sim, "regions=" + ":".join(REGIONS))
    data = sim.data()
    checked = 0
    for k in kinds():
        path = m.path("tables", k["dir"] + ".tsv")
        text = read(path)
        assert os.stat(path).st_size == len(text)
        got = rows(text)
        assert got[0] == [b"region"] + [c.encode() for c in columns(k)]
        # No name twice: pandas, mlr and SQL loaders each take a
        # duplicate column their own way.
        assert len(set(got[0])) == len(got[0]), got[0]
        # One row per object, region after region, each as the oracle
        # says.
        assert [r[0].decode() for r in got[1:]] == [
            r for r in REGIONS for _ in data[r][k["key"]]]
        want = {(r, o["id"]): expected_row(k, r, o)
                for r in REGIONS for o in data[r][k["key"]]}
        assert len(want) == len(got) - 1 > 0
        for row in got[1:]:
            assert len(row) == len(got[0])
            assert row == want[(row[0].decode(), row[1 + columns(k).index(
                "id")].decode())], (k["dir"], row)
            checked += len(row)
        # The JSON: the objects exactly as the API sent them, unknown
        # members included, region after region.
        jpath = m.path("tables", k["dir"] + ".json")
        jtext = read(jpath)
        assert os.stat(jpath).st_size == len(jtext)
        objs = json.loads(jtext)
        assert [o["id"] for o in objs] == [
            r[1 + columns(k).index("id")].decode() for r in got[1:]]
        assert sorted(objs, key=lambda o: o["id"]) == sorted(
            (o for r in REGIONS for o in data[r][k["key"]]),
            key=lambda o: o["id"]), k["dir"]
    assert checked > 1000, checked
    assert m.unmount() == 0


def test_the_fixtures_awkward_objects():
    # Each kind's fixtures, sent as one page (as text: some hold what no
    # JSON library writes): each row as the fixture's files say, an
    # unreadable one as \N.
    sim = Sim("--regions", "fr-par", connections=1)
    m = Mount(sim, "regions=fr-par", "ttl=300")
    work = os.path.join(m.home, "pages")
    os.mkdir(work)
    ks = {k["dir"]: k for k in kinds()}
    want = {}
    for kind, d, _ in fixtures.serve(sim, work):
        want.setdefault(kind, []).append(
            expected_row(ks[kind], "fr-par", None, fixtures.files(d)))
    for kind in want:
        got = rows(read(m.path("tables", kind + ".tsv")))[1:]
        assert sorted(got) == sorted(want[kind]), kind
    sim.clear_faults()
    assert m.unmount() == 0


def test_a_cold_read_costs_the_listings_a_warm_one_nothing():
    sim = Sim("--regions", ",".join(REGIONS), "--max-page-size", "10",
              connections=25)
    m = Mount(sim, "regions=" + ":".join(REGIONS), "ttl=300")
    sim.reset()
    text = read(m.path("tables", "links.tsv"))
    c = sim.counters()
    pages = sum(-(-len(sim.data()[r]["links"]) // 10) for r in REGIONS)
    assert c["links_list"] == pages and c["link_get"] == 0, c
    assert c["total"] == pages, c
    # Warm: no request, and no read reaches the daemon (the kernel's page
    # cache answers), also once the daemon has told the kernel all it
    # would after those loads (a table rendered from the listings just
    # loaded must not be invalidated by their arrival).
    time.sleep(0.5)
    reads = int(m.stats()["kernel_reads"])
    for _ in range(3):
        assert read(m.path("tables", "links.tsv")) == text
    assert sim.counters()["total"] == pages, sim.counters()
    assert int(m.stats()["kernel_reads"]) == reads
    # The tree's listings are the table's: listing links/ after it costs
    # no links request (entering a region asks once whether the API
    # serves it: its PoPs).
    listdir(m.path("regions", "fr-par", "links"))
    assert sim.counters()["links_list"] == pages
    assert m.unmount() == 0


def test_a_table_follows_the_api_and_says_when_it_cannot():
    sim = Sim("--regions", "fr-par,nl-ams", connections=4)
    m = Mount(sim, "regions=fr-par:nl-ams:it-mil", "ttl=1", "stale=0")
    # A region the API does not serve has no rows.
    text = read(m.path("tables", "connections.tsv"))
    assert len(rows(text)) == 1 + 8
    # A change shows within ttl, with the file's new size.
    cid = sim.data()["nl-ams"]["connections"][0]["id"]
    sim.patch("nl-ams", cid, {"status": "failed",
                              "name": "line\nbreak\ttab\\"})

    def changed():
        t = read(m.path("tables", "connections.tsv"))
        return b"line\\nbreak\\ttab\\\\\tfailed\t" in t and \
            os.stat(m.path("tables", "connections.tsv")).st_size == len(t)
    from harness import wait_for
    wait_for(changed, 10, "the change in the table")
    # A listing that fails, with nothing to serve: the read fails, it
    # is not a shorter table.
    sim.fault("status", count=0, match="list")
    import time
    time.sleep(1.2)
    assert errno_of(read, m.path("tables", "connections.tsv")) == errno.EIO
    sim.clear_faults()
    assert m.unmount() == 0


def test_grep_over_regions_reads_no_table():
    # Beside regions/, not in it: grep -r over regions/ finds only what
    # is under regions/, as before tables/ existed.
    sim = Sim("--regions", "fr-par", connections=5)
    m = Mount(sim, "regions=fr-par")
    p = subprocess.run(["grep", "-rl", "active", "regions"], cwd=m.dir,
                       capture_output=True, timeout=60)
    assert p.returncode == 0 and p.stdout
    assert all(l.startswith(b"regions/fr-par/") for l in
               p.stdout.splitlines())
    assert "tables" not in listdir(m.path("regions", "fr-par"))
    assert m.unmount() == 0


def test_the_tools_read_it_as_it_is():
    sim = Sim("--regions", "fr-par,nl-ams", connections=10, seed=2)
    m = Mount(sim, "regions=fr-par:nl-ams")
    t = m.path("tables", "links.tsv")
    got = rows(read(t))
    n = len(got)

    def sh(cmd):
        p = subprocess.run(["bash", "-c", cmd], capture_output=True,
                           timeout=60)
        assert p.returncode == 0, (cmd, p.stderr)
        return p.stdout

    # column: one line per row, the header's names in the first.
    out = sh("column -t -s$'\\t' " + t).splitlines()
    assert len(out) == n and out[0].split()[:3] == [b"region", b"id",
                                                   b"name"]
    # awk: the BGP sessions that are down, by name.
    col = got[0].index(b"bgp_v4_status") + 1
    down = sh("awk -F'\\t' 'NR > 1 && $%d == \"down\" {print $2}' %s"
              % (col, t)).split()
    assert sorted(down) == sorted(r[1] for r in got[1:]
                                  if r[col - 1] == b"down")
    # sort: by status, the header first.
    out = sh("(head -n 1 %s; tail -n +2 %s | sort -t$'\\t' -k4,4)" % (t, t))
    assert len(out.splitlines()) == n
    # mlr reads the escapes back: the names are the files' bytes.
    recs = json.loads(sh("mlr --itsv --ojson cat " + t))
    assert len(recs) == n - 1
    for r, row in zip(recs, got[1:]):
        assert str(r["name"]).encode() == tsv_unescape(row[2])
    assert m.unmount() == 0


if __name__ == "__main__":
    run(globals())
