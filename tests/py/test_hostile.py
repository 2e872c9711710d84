# SPDX-License-Identifier: Apache-2.0
"""Hostile and odd input from the API, through a real mount: names and ids
that try to escape a directory, NUL bytes, newlines, 4 KiB names, invalid
UTF-8, duplicates; huge, deeply nested and out-of-range bodies."""
import errno
import json
import os
import signal
import time

from harness import (errno_of, listdir, lstat, proc_status_kib, read, readlink,
                     run, wait_for)
from mount import Mount
from sim import Sim

UUIDS = ["6f1c2e8a-93b4-4d0e-9a77-0c2b5d1e4f%02x" % i for i in range(64)]


def conn(i, name, **kw):
    c = {"id": UUIDS[i], "name": name, "status": "active", "tags": [],
         "pop_id": None, "bandwidth_mbps": 1000,
         "available_link_bandwidths": [1000], "region": "fr-par",
         "created_at": "2024-01-01T00:00:00Z", "updated_at": None,
         "demarcation_info": None, "vlan_range": None,
         "project_id": UUIDS[63], "organization_id": UUIDS[62]}
    c.update(kw)
    return c


def hostile_data():
    good = [
        conn(0, "/"), conn(1, ".."), conn(2, "."), conn(3, ""),
        conn(4, "a\u0000b"), conn(5, "line1\nline2"),
        conn(6, "x" * 4096), conn(7, "dup"), conn(8, "dup"), conn(9, "dup"),
        conn(10, "../../etc/passwd"), conn(11, "ok name"),
        conn(12, "neg", bandwidth_mbps=-5), conn(13, "float",
                                                bandwidth_mbps=10.5),
        conn(14, "\u00e9" * 200), conn(15, "tab\there"),
        conn(16, "cr\rhere\x7f"),
    ]
    good[4]["tags"] = ["t\u0000x", "multi\nline"]
    bad_ids = [
        {"id": "not-a-uuid", "name": "bad1"},
        {"id": "../../../etc", "name": "bad2"},
        {"id": "a/b", "name": "bad3"},
        {"id": "", "name": "bad4"},
        {"id": 12345, "name": "bad5"},
        {"id": None, "name": "bad6"},
        {"name": "no id at all"},
        dict(conn(11, "same id again")),  # a duplicate id
    ]
    return good, bad_ids


def test_names_and_ids_that_try_to_escape():
    good, bad = hostile_data()
    path = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                        "interlinkfs-hostile-%d.json" % os.getpid())
    with open(path, "w") as f:
        json.dump({"fr-par": good}, f)
    try:
        sim = Sim("--data", path)
    finally:
        os.unlink(path)
    m = Mount(sim, "regions=fr-par", "ttl=1")
    conns = m.path("regions", "fr-par", "connections")
    ids = sorted(listdir(conns))
    assert ids == sorted(c["id"] for c in good), ids
    # Nothing under connections/ or by-name/ leaves the directory.
    for d in (conns, m.path("regions", "fr-par", "by-name")):
        for n in listdir(d):
            assert "/" not in n and n not in (".", "..") and \
                0 < len(n.encode()) <= 255
            # shell-safe: no control character, so `ls | while read`
            # sees one name per line
            assert not any(ord(ch) < 0x20 or ord(ch) == 0x7f for ch in n), n
            p = os.path.realpath(os.path.join(d, n))
            assert p.startswith(m.dir + "/"), p
    # Contents come through byte for byte: NUL, newlines, long names.
    by_id = {c["id"]: c for c in good}
    assert read(os.path.join(conns, UUIDS[4], "name")) == b"a\x00b\n"
    assert read(os.path.join(conns, UUIDS[4], "tags")) == \
        b"t\x00x\nmulti\nline\n"
    assert read(os.path.join(conns, UUIDS[5], "name")) == b"line1\nline2\n"
    assert read(os.path.join(conns, UUIDS[6], "name")) == b"x" * 4096 + b"\n"
    assert lstat(os.path.join(conns, UUIDS[6], "name")).st_size == 4097
    assert read(os.path.join(conns, UUIDS[11], "name")) == b"ok name\n"
    # bandwidth_mbps negative or a float: that file says EIO; the others
    # and connection.json are fine.
    for i in (12, 13):
        f = os.path.join(conns, UUIDS[i], "bandwidth_mbps")
        assert errno_of(lstat, f) == errno.EIO
        assert errno_of(read, f) == errno.EIO
        assert "bandwidth_mbps" in listdir(os.path.join(conns, UUIDS[i]))
        assert read(os.path.join(conns, UUIDS[i], "status")) == b"active\n"
        raw = json.loads(read(os.path.join(conns, UUIDS[i],
                                           "connection.json")))
        assert raw["bandwidth_mbps"] == by_id[UUIDS[i]]["bandwidth_mbps"]
    # by-name: every entry safe, unique, pointing at its connection.
    byname = m.path("regions", "fr-par", "by-name")
    names = listdir(byname)
    assert len(names) == len(good) == len(set(names))
    targets = {readlink(os.path.join(byname, n))[len("../connections/"):]
               for n in names}
    assert targets == set(by_id)
    for want in ("_~" + UUIDS[0][:8], "_~" + UUIDS[3], "_.", "_..", "a_b", "line1_line2", "tab_here",
                 "cr_here_", "ok name",
                 "dup~" + UUIDS[7][:8], "dup~" + UUIDS[8],
                 ".._.._etc_passwd"):
        assert want in names, (want, names)
    # Ids that are no UUID, none at all, one twice: such a listing is not
    # complete. It is not served as the account (what was listed stays,
    # said stale), and the log names the entries.
    body = json.dumps({"connections": good + bad,
                       "total_count": len(good + bad)})
    f = os.path.join(m.home, "page.json")
    with open(f, "w") as fh:
        fh.write(body)
    sim.fault("body", body_file=f, match="list")
    wait_for(lambda: m.health()[("fr-par", "connections")][0] == "stale",
             6, "the listing refused")
    assert sorted(listdir(conns)) == sorted(c["id"] for c in good)
    assert "incomplete" in m.health()[("fr-par", "connections")][3]
    log = m.log()
    assert log.count("id is not a UUID") >= 3, log
    assert "list is incomplete" in log, log
    sim.clear_faults()
    assert m.proc.poll() is None


def test_invalid_utf8_in_a_name_is_repaired_not_fatal():
    sim = Sim("--regions", "fr-par", connections=3)
    m = Mount(sim, "regions=fr-par")
    body = (b'{"connections": [{"id": "%s", "name": "bad \xff\xfe name", '
            b'"status": "active"}, {"id": "%s", "name": "fine"}], '
            b'"total_count": 2}' % (UUIDS[20].encode(), UUIDS[21].encode()))
    f = os.path.join(m.home, "body.json")
    with open(f, "wb") as fh:
        fh.write(body)
    sim.fault("body", body_file=f, match="list")
    conns = m.path("regions", "fr-par", "connections")
    assert sorted(listdir(conns)) == sorted(UUIDS[20:22])
    assert read(os.path.join(conns, UUIDS[20], "name")) == \
        "bad \ufffd\ufffd name\n".encode()
    assert "bad \ufffd\ufffd name" in listdir(m.path("regions", "fr-par",
                                                     "by-name"))
    assert "invalid UTF-8" in m.log()


def refresh(m):
    """Drop the cache so the next access asks the API again."""
    m.proc.send_signal(signal.SIGHUP)
    time.sleep(0.3)


def test_bodies_huge_deep_and_out_of_range():
    sim = Sim("--regions", "fr-par", connections=3)
    m = Mount(sim, "regions=fr-par", "stale=0")
    conns = m.path("regions", "fr-par", "connections")
    # 100 MiB answer: refused at the 64 MiB cap, quickly, without OOM.
    sim.fault("huge", size=100 << 20, match="list")
    t0 = time.monotonic()
    assert errno_of(listdir, conns) == errno.EIO
    assert time.monotonic() - t0 < 15
    assert "larger than 67108864 bytes refused" in m.log()
    sim.clear_faults()
    if not os.environ.get("SANITIZED"):
        peak = proc_status_kib(m.proc.pid, "VmHWM")
        assert peak < 256 * 1024, peak
    # Chunked (no length announced) as well.
    refresh(m)
    sim.fault("huge", size=100 << 20, chunked=True, count=1,
              match="list")
    wait_for(lambda: errno_of(listdir, conns) == errno.EIO, 20, "EIO")
    sim.clear_faults()
    # Deeply nested JSON in a record: that record cannot be read (logged),
    # not a crash; the listing that holds it is not complete (refused).
    refresh(m)
    sim.fault("body", body='{"connections": [' + "[" * 50000 + "]" * 50000 +
              '], "total_count": 1}', count=1, match="list")
    wait_for(lambda: errno_of(listdir, conns) == errno.EIO, 5,
             "the listing refused")
    assert "cannot be read" in m.log()
    assert "list is incomplete" in m.log()
    sim.clear_faults()
    # A number out of every range is kept as the API sent it: that file is
    # EIO (not an unsigned integer), connection.json shows it.
    refresh(m)
    sim.fault("body", body='{"connections": [{"id": "%s", "bandwidth_mbps": '
              '1e999999}], "total_count": 1}' % UUIDS[30], count=1,
              match="list")
    wait_for(lambda: errno_of(listdir, conns) == 0 and
             listdir(conns) == [UUIDS[30]], 5, "the odd number")
    d = os.path.join(conns, UUIDS[30])
    assert errno_of(read, os.path.join(d, "bandwidth_mbps")) == errno.EIO
    assert b'"bandwidth_mbps": 1e999999' in read(os.path.join(
        d, "connection.json"))
    sim.clear_faults()
    # A total_count beyond every range: the page is refused.
    refresh(m)
    sim.fault("body", body='{"connections": [], "total_count": '
              '99999999999999999999999999}', count=1, match="list")
    wait_for(lambda: errno_of(listdir, conns) == errno.EIO, 5, "EIO")
    sim.clear_faults()
    # An absurd total_count: refused, no million requests.
    refresh(m)
    sim.reset()
    sim.fault("body", body='{"connections": [{"id": "%s"}], "total_count": '
              '999999999999}' % UUIDS[31], count=1, match="list")
    wait_for(lambda: errno_of(listdir, conns) == errno.EIO, 5, "EIO")
    assert sim.counters()["total"] < 10
    sim.clear_faults()
    refresh(m)
    wait_for(lambda: errno_of(listdir, conns) == 0 and
             len(listdir(conns)) == 3, 10, "recovery")
    assert m.proc.poll() is None
    assert m.unmount() == 0


WRONG = {
    # field: its value of the wrong type, the files it makes EIO, and how
    # the log names it
    "scw_bgp_config": ("str", ["scw_bgp_asn", "scw_bgp_ipv4",
                               "scw_bgp_ipv6"],
                       "scw_bgp_config is not an object"),
    "partner": ("str", ["kind", "partner_id", "pairing_key",
                        "disapproved_reason"],
                "partner is not an object"),
    "vlan": ("1500", ["vlan"], "vlan is not an unsigned integer"),
    "bgp_v4_status": (5, ["bgp_v4_status"], "bgp_v4_status is not a string"),
    "tags": ("t", ["tags"], "tags is not an array of strings"),
    "enable_route_propagation": ("yes", ["enable_route_propagation"],
                                 "enable_route_propagation is not true or "
                                 "false"),
}


def test_every_file_of_a_field_of_the_wrong_type_is_an_io_error():
    sim = Sim("--regions", "fr-par", connections=6, seed=5)
    m = Mount(sim, "regions=fr-par", "ttl=1")
    links = sim.data()["fr-par"]["links"]
    link = [l for l in links if l.get("self") and not l.get("partner")][0]
    d = m.path("regions", "fr-par", "links", link["id"])
    assert read(os.path.join(d, "kind")) == b"self_hosted\n"
    sim.patch("fr-par", link["id"], {k: v[0] for k, v in WRONG.items()},
              kind="links")
    wait_for(lambda: errno_of(read, os.path.join(d, "vlan")) == errno.EIO,
             10, "the change")
    for field, (_, files, words) in WRONG.items():
        for f in files:
            p = os.path.join(d, f)
            assert errno_of(lstat, p) == errno.EIO, (field, f)
            assert errno_of(read, p) == errno.EIO, (field, f)
    # The other files still read, and link.json shows what the API sent.
    assert read(os.path.join(d, "name")) == \
        (link["name"] or "").encode() + b"\n" if link["name"] else True
    raw = json.loads(read(os.path.join(d, "link.json")))
    assert raw["scw_bgp_config"] == "str" and raw["partner"] == "str"
    # One log line names every field, once per change: not again at each
    # refresh (ttl=1: five of them while reading).
    t_end = time.monotonic() + 5
    while time.monotonic() < t_end:
        read(os.path.join(d, "name"))
        time.sleep(0.2)
    lines = [l for l in m.log().splitlines() if link["id"] in l]
    assert len(lines) == 1, lines
    for _, _, words in WRONG.values():
        assert words in lines[0], (words, lines[0])
    # Changed again: said again.
    sim.patch("fr-par", link["id"], {"vlan": "1600"}, kind="links")
    wait_for(lambda: read(os.path.join(d, "name")) and
             len([l for l in m.log().splitlines()
                  if link["id"] in l]) == 2, 10, "the second line")
    assert m.unmount() == 0


def test_what_is_odd_in_a_page_is_said_once_per_change():
    sim = Sim("--regions", "fr-par", connections=4, seed=7)
    m = Mount(sim, "regions=fr-par", "ttl=1")
    status, body = sim.api("/fr-par/links?page_size=1000")
    assert status == 200
    # A lone surrogate escape in a name, and an entry with no id: as text,
    # Python cannot write the first.
    first = body["links"][0]["id"]
    body["links"][0]["name"] = "LONE"
    text = json.dumps(body)
    text = text.replace('"LONE"', '"\\ud800 x"', 1)
    text = text.replace('"links": [', '"links": [{"name": "no id"}, ', 1)
    text = text.replace('"total_count": %d' % body["total_count"],
                        '"total_count": %d' % (body["total_count"] + 1))
    f = os.path.join(m.home, "page.json")
    with open(f, "w") as fh:
        fh.write(text)
    links = m.path("regions", "fr-par", "links")
    listdir(links)
    sim.fault("body", body_file=f, match="links_list")
    t_end = time.monotonic() + 5
    while time.monotonic() < t_end:       # about five refreshes
        assert first in listdir(links)
        time.sleep(0.2)
    log = m.log()
    assert log.count("lone surrogate") == 1, log
    assert log.count("id is not a UUID") == 1, log
    # The entry with no id made the page incomplete: said once too.
    assert log.count("list is incomplete") == 1, log
    # Without it, the page is whole: the name repaired.
    sim.clear_faults()
    with open(f, "w") as fh:
        fh.write(text.replace('{"name": "no id"}, ', '', 1).replace(
            '"total_count": %d' % (body["total_count"] + 1),
            '"total_count": %d' % body["total_count"]))
    sim.fault("body", body_file=f, match="links_list")
    wait_for(lambda: read(os.path.join(links, first, "name")) ==
             "\ufffd x\n".encode(), 5, "the name repaired")
    sim.clear_faults()
    assert m.unmount() == 0


if __name__ == "__main__":
    run(globals())
