# SPDX-License-Identifier: Apache-2.0
"""The journal .interlinkfs/changes, and what watching it costs.

One line per change between successive listings, as the man page says;
GNU tail -f shows lines as they come; a reader reading on from its offset
gets exactly the lines appended since; old lines are dropped without ever
giving a reader a line twice or half a line, and one that fell behind
learns how many it missed. While the journal is read, every listing is
kept fresh; a mount nobody reads sends no request.
"""
import datetime
import json
import os
import signal
import subprocess
import time

from harness import (concurrent, listdir, read, read_on, run, spawn,
                     stop_process, wait_for)
from mount import Mount
from oracle import rfc3339, tsv_field
from sim import Sim

JOURNAL = (".interlinkfs", "changes")


def lines(text):
    return [l.split(b"\t") for l in text.split(b"\n") if l]


def data_lines(text):
    """The changes: not the comments, which begin with '#', or with a
    space (the rest of a comment on lines dropped)."""
    return [l for l in lines(text) if not l[0].startswith((b"#", b" "))]


def first_link(sim, region="fr-par"):
    return sim.data()[region]["links"][0]


@concurrent
def test_a_line_per_change_between_listings():
    sim = Sim("--regions", "fr-par,nl-ams", connections=4)
    m = Mount(sim, "regions=fr-par:nl-ams", "ttl=1")
    # The first listing is not a change.
    for r in ("fr-par", "nl-ams"):
        listdir(m.path("regions", r, "links"))
        listdir(m.path("regions", r, "connections"))
    assert read(m.path(*JOURNAL)) == b""
    link = first_link(sim)
    conn = sim.data()["nl-ams"]["connections"][1]
    gone = sim.data()["fr-par"]["links"][2]
    new = dict(link, id="0badc0de-0000-4000-8000-00000000beef",
               name="new\tone")
    before = time.time()
    sim.patch("fr-par", link["id"], {"bgp_v4_status": "down"}, kind="links")
    sim.patch("nl-ams", conn["id"], {"status": "failed",
                                     "name": "a\\b\nc"})
    sim.delete("fr-par", gone["id"], kind="links")
    sim.add("fr-par", new, kind="links")

    def seen():
        for r in ("fr-par", "nl-ams"):
            listdir(m.path("regions", r, "links"))
            listdir(m.path("regions", r, "connections"))
        return len(data_lines(read(m.path(*JOURNAL)))) >= 5
    wait_for(seen, 15, "the changes in the journal")
    got = data_lines(read(m.path(*JOURNAL)))
    for l in got:
        assert len(l) == 7, l
        t = rfc3339(l[0].decode())
        assert l[0].endswith(b"Z") and before - 1 < t < time.time() + 1
    rest = sorted(l[1:] for l in got)
    assert rest == sorted([
        [b"fr-par", b"links", link["id"].encode(), b"bgp_v4_status",
         link["bgp_v4_status"].encode(), b"down"],
        [b"nl-ams", b"connections", conn["id"].encode(), b"name",
         tsv_field(conn["name"].encode()), b"a\\\\b\\nc"],
        [b"nl-ams", b"connections", conn["id"].encode(), b"status",
         conn["status"].encode(), b"failed"],
        [b"fr-par", b"links", gone["id"].encode(), b"-",
         tsv_field(gone["name"].encode()), tsv_field(gone["name"].encode())],
        [b"fr-par", b"links", new["id"].encode(), b"+", b"new\\tone",
         b"new\\tone"],
    ]), rest
    assert m.unmount() == 0


@concurrent
def test_tail_f_shows_lines_as_they_come():
    sim = Sim("--regions", "fr-par", connections=3)
    m = Mount(sim, "regions=fr-par", "ttl=1")
    listdir(m.path("regions", "fr-par", "links"))
    tail = spawn(["tail", "-f", m.path(*JOURNAL)], stdout=subprocess.PIPE,
                 stderr=subprocess.PIPE)
    try:
        link = first_link(sim)
        out = b""
        for i, status in enumerate(("down", "up", "down")):
            sim.patch("fr-par", link["id"], {"bgp_v6_status": status},
                      kind="links")
            # Nobody reads the tree: tail's own reads keep the listing
            # fresh.
            line = b""
            deadline = time.monotonic() + 15
            while not line.endswith(b"\n"):
                assert time.monotonic() < deadline, "tail showed nothing"
                import select
                r, _, _ = select.select([tail.stdout], [], [], 0.5)
                if r:
                    line += os.read(tail.stdout.fileno(), 4096)
            out += line
            got = data_lines(line)
            assert [l[4:] for l in got] == [[b"bgp_v6_status",
                                            got[0][5], status.encode()]]
        assert len(data_lines(out)) == 3
    finally:
        stop_process(tail)
    assert m.unmount() == 0


@concurrent
def test_a_reader_reads_on_from_its_offset():
    sim = Sim("--regions", "fr-par", connections=3)
    m = Mount(sim, "regions=fr-par", "ttl=1")
    listdir(m.path("regions", "fr-par", "links"))
    link = first_link(sim)
    fd = os.open(m.path(*JOURNAL), os.O_RDONLY)
    try:
        seen = b""
        for i in range(4):
            sim.patch("fr-par", link["id"], {"vlan": 2000 + i}, kind="links")

            def more():
                return os.fstat(fd).st_size > len(seen)
            wait_for(more, 15, "the journal growing")
            chunk = read_on(fd)
            # Exactly the lines appended since: whole, new ones.
            assert chunk.endswith(b"\n")
            got = data_lines(chunk)
            assert [l[4:] for l in got] == [
                [b"vlan", str(2000 + i - 1).encode() if i else
                 str(link["vlan"]).encode(), str(2000 + i).encode()]]
            seen += chunk
        assert read(m.path(*JOURNAL)) == seen
    finally:
        os.close(fd)
    assert m.unmount() == 0


@concurrent
def test_old_lines_are_dropped_and_a_late_reader_is_told():
    sim = Sim("--regions", "fr-par", connections=3)
    m = Mount(sim, "regions=fr-par", "ttl=1", "changes=5")
    listdir(m.path("regions", "fr-par", "links"))
    link = first_link(sim)
    fd = os.open(m.path(*JOURNAL), os.O_RDONLY)
    try:
        def change(i):
            sim.patch("fr-par", link["id"], {"vlan": 3000 + i},
                      kind="links")
            wait_for(lambda: b"\t%d\n" % (3000 + i) in
                     read(m.path(*JOURNAL)), 15, "change %d" % i)
        change(0)
        first = os.read(fd, 65536)
        at = len(first)
        for i in range(1, 13):
            change(i)
        text = read(m.path(*JOURNAL))
        # Offsets count on: the size is every byte ever written.
        assert os.fstat(fd).st_size == len(text) > at
        # The late reader: where it stopped, one line says how many it
        # missed (changes 1 .. 7); the rest of that comment begins with a
        # space; then the 5 kept.
        rest = read_on(fd, 100)
        ls = rest.split(b"\n")[:-1]
        assert ls[0].startswith(b"# 7 lines missed"), ls[0]
        assert all(l.startswith(b" # ") for l in ls[1:7]), ls[1:7]
        got = [l.split(b"\t")[6] for l in ls[7:]]
        assert got == [b"%d" % (3000 + i) for i in range(8, 13)]
        # A reader from the start: one count (all 8 missed), the rest of
        # the comment, then the same 5 lines; no line twice, none torn.
        whole = data_lines(text)
        assert [l[6] for l in whole] == got
        ls = text.split(b"\n")[:-1]
        assert ls[0].startswith(b"# 8 lines missed"), ls[0]
        assert [l for l in ls if l.startswith(b"#")] == [ls[0]]
    finally:
        os.close(fd)
    assert m.unmount() == 0


def meets(text):
    """What a reader of text meets: the lines that begin with '#' and the
    longest line."""
    ls = text.split(b"\n")[:-1]
    return [l for l in ls if l.startswith(b"#")], max(len(l) for l in ls)


def test_6000_changes_a_late_reader_meets_one_true_count():
    # 600 links whose VLAN moves at every listing, ten times: 6,000
    # lines, into journals keeping 1, 5 and 1,000 of them.
    sim = Sim("--regions", "fr-par", connections=600)
    links = sorted(sim.data()["fr-par"]["links"],
                   key=lambda l: (l["created_at"], l["id"]))
    # A long ttl: the listings are read again when the test drops them
    # (SIGHUP drops the cache, not the journal's last listing).
    ms = {keep: Mount(sim, "regions=fr-par", "ttl=300", "changes=%d" % keep)
          for keep in (1, 5, 1000)}
    for m in ms.values():
        assert len(listdir(m.path("regions", "fr-par", "links"))) == 601
    body = os.path.join(next(iter(ms.values())).home, "links.json")
    stopped = {}
    for k in range(1, 11):
        with open(body, "w") as f:
            json.dump({"links": [dict(l, vlan=4000 + k) for l in links],
                       "total_count": len(links)}, f)
        sim.clear_faults()
        sim.fault("body", body_file=body, match="links_list", count=0)
        for m in ms.values():
            m.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: listdir(m.path("regions", "fr-par", "links"))
                     and b"\t%d\n" % (4000 + k) in
                     read_tail(m.path(*JOURNAL)), 10, "round %d" % k)
        if k == 3:                     # a reader stops here: 1,800 read
            stopped = {keep: os.stat(m.path(*JOURNAL)).st_size
                       for keep, m in ms.items()}
    for keep, m in ms.items():
        text = read(m.path(*JOURNAL))
        assert len(data_lines(text)) == keep, (keep, len(data_lines(text)))
        for at, missed in ((0, 6000 - keep), (stopped[keep],
                                              6000 - 1800 - keep)):
            hashes, longest = meets(text[at:])
            assert len(hashes) == 1, (keep, at, hashes[:3])
            assert hashes[0].startswith(b"# %d lines missed" % missed), \
                (keep, hashes[0])
            assert longest <= 4096, (keep, longest)
    sim.clear_faults()
    for m in ms.values():
        assert m.unmount() == 0


def read_tail(path, size=4096):
    """The last bytes of a file."""
    with open(path, "rb") as f:
        end = f.seek(0, 2)
        f.seek(max(0, end - size))
        return f.read()


def requests(sim):
    return sim.counters()["total"]


@concurrent
def test_watching_keeps_data_fresh_and_idleness_stays_free():
    sim = Sim("--regions", "fr-par,nl-ams", connections=3)
    m = Mount(sim, "regions=fr-par:nl-ams", "ttl=1")
    listdir(m.path("regions", "fr-par", "links"))
    # Nobody reads: past the one refresh-ahead of a listing used since
    # its load, no request, however long.
    time.sleep(2)
    n = requests(sim)
    time.sleep(3.5)
    assert requests(sim) == n
    # The journal is read once a second: every listing of every region
    # and kind is kept fresh (a change shows with nobody reading the
    # tree), about once per ttl each.
    sim.reset()
    start = time.monotonic()
    for _ in range(2):
        read(m.path(*JOURNAL))
        time.sleep(1)
    # Every listing was loaded by then (the first is not a change).
    link = sim.data()["nl-ams"]["links"][1]
    sim.patch("nl-ams", link["id"], {"status": "all_down"}, kind="links")
    shown = None
    changed = time.monotonic()
    while time.monotonic() - start < 6:
        if shown is None and b"\tall_down\n" in read(m.path(*JOURNAL)):
            shown = time.monotonic() - changed
        time.sleep(1)
    assert shown is not None, "the change did not show"
    # Within about a ttl (1 s), read once a second.
    assert shown < 3.5, shown
    c = sim.counters()
    lists = {k: c[k] for k in ("list", "links_list",
                               "routing_policies_list")}
    # 2 regions, 6 s, ttl 1: each listing at most once a ttl.
    for k, v in lists.items():
        assert 2 <= v <= 2 * 7, (k, v, c)
    assert c["get"] == c["link_get"] == 0
    # Reading stops: within about 1.5 ttl, so do the requests.
    time.sleep(3)
    n = requests(sim)
    time.sleep(3)
    assert requests(sim) == n
    assert m.unmount() == 0


if __name__ == "__main__":
    run(globals(), jobs=5)
