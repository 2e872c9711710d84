# SPDX-License-Identifier: Apache-2.0
"""Restarts and boots without the API: the state a mount saves between
runs, on real mounts (issue 28).

- a restart serves the saved tree at once, without the API, by its true
  age (within stale=), said stale (interlink_up 0) until a refresh
  succeeds;
- what is saved is each listing as the API sent it, with the time the
  API made it, and nothing secret; a listing that never changes keeps its
  true age; a listing is saved at most once per ttl;
- the journal reads the same after a restart, what changed meanwhile
  follows a line that says so, and nothing is journalled twice;
- another account, API or view never serves it; a file that cannot be
  used is ignored with one log line naming it; two mounts share a
  directory, each with its own files, and a second mount of the same key
  is refused.

Faults of the directory (read-only, full, missing, another user's,
symbolic links) are test_state_faults.py's; kill -9 while saving,
test_state_crash.py's.
"""
import errno
import hashlib
import os
import re
import shutil
import signal
import tempfile
import time

from harness import concurrent, errno_of, listdir, on_cleanup, read, run, wait_for
from mount import Mount
from oracle import rfc3339
from sim import Sim
import statefiles

JOURNAL = (".interlinkfs", "changes")
PROM = (".interlinkfs", "prometheus", "interlink.prom")
OTHER = "11111111-1111-4111-8111-111111111111"


def state_dir():
    """A state directory of the test's own, removed when it ends."""
    d = tempfile.mkdtemp(prefix="interlinkfs-state-")
    on_cleanup(lambda: shutil.rmtree(d, ignore_errors=True))
    return os.path.join(d, "state")


def up(m, region, kind):
    for line in read(m.path(*PROM)).decode().splitlines():
        if line.startswith('interlink_up{region="%s",kind="%s"}'
                           % (region, kind)):
            return float(line.rsplit(" ", 1)[1])
    return None


def data_lines(text):
    return [l.split(b"\t") for l in text.split(b"\n")
            if l and not l.startswith((b"#", b" "))]


def saved(sd, region, kind):
    """The listing saved for region and kind, waited for."""
    wait_for(lambda: (region, kind) in statefiles.listings(sd), 10,
             "the %s %s listing saved" % (region, kind))
    return statefiles.listings(sd)[(region, kind)]


@concurrent
def test_a_restart_serves_the_saved_tree_at_once_and_says_it_is_old():
    sim = Sim("--regions", "fr-par,nl-ams", connections=6)
    sd = state_dir()
    m = Mount(sim, "regions=fr-par:nl-ams", "ttl=30", state=sd)
    seen = {}
    for r in ("fr-par", "nl-ams"):
        for kind in ("connections", "links"):
            d = ("regions", r, kind)
            seen[d] = sorted(listdir(m.path(*d)))
        for c in sim.data()[r]["connections"]:
            p = ("regions", r, "connections", c["id"], "connection.json")
            seen[p] = read(m.path(*p))
    for r in ("fr-par", "nl-ams"):
        saved(sd, r, "links")
    assert m.unmount() == 0
    stopped = time.time()
    # The API is unreachable: the last-known tree, at once, the same.
    sim.stop()
    m = Mount(sim, "regions=fr-par:nl-ams", "ttl=30", "timeout=2",
              state=sd)
    for p, v in seen.items():
        got = sorted(listdir(m.path(*p))) if isinstance(v, list) else \
            read(m.path(*p))
        assert got == v, p
    state, age, objects, detail = m.health()[("fr-par", "connections")]
    assert state == "stale" and objects == "6", m.health()
    assert "saved by an earlier run" in detail, detail
    assert 0 <= int(age) <= time.time() - stopped + 2, age
    assert up(m, "fr-par", "connections") == 0
    # The API back: a refresh succeeds, and it is fresh.
    sim.restart()
    wait_for(lambda: m.health()[("fr-par", "connections")][0] == "fresh",
             15, "fresh again")
    wait_for(lambda: up(m, "fr-par", "connections") == 1, 5, "up again")
    assert m.unmount() == 0


@concurrent
def test_saved_data_is_served_only_within_stale():
    sim = Sim("--regions", "fr-par", connections=3)
    sd = state_dir()
    m = Mount(sim, "regions=fr-par", "ttl=1", "stale=4", state=sd)
    conns = m.path("regions", "fr-par", "connections")
    assert len(listdir(conns)) == 3
    born = saved(sd, "fr-par", "connections")["born"]
    assert m.unmount() == 0
    sim.stop()
    # Past its ttl, within stale: served, said old.
    m = Mount(sim, "regions=fr-par", "ttl=1", "stale=4", "timeout=1",
              "grace=0.2", state=sd)
    assert len(listdir(m.path("regions", "fr-par", "connections"))) == 3
    assert m.unmount() == 0
    # Past stale: not served (as data held in memory would not be).
    time.sleep(max(0, born + 4.5 - time.time()))
    m = Mount(sim, "regions=fr-par", "ttl=1", "stale=4", "timeout=1",
              "grace=0.2", state=sd)
    conns = m.path("regions", "fr-par", "connections")
    assert errno_of(listdir, conns) == errno.ECONNREFUSED
    assert m.health()[("fr-par", "connections")][0] == "blind"
    assert m.unmount() == 0


@concurrent
def test_what_is_saved_is_the_api_json_with_its_time_and_no_secret():
    sim = Sim("--regions", "fr-par", connections=4)
    sd = state_dir()
    # The API says its data was made 20 s ago.
    sim.fault("age", date_ago=20, match="list", count=0)
    m = Mount(sim, "regions=fr-par", "ttl=60", state=sd)
    ids = listdir(m.path("regions", "fr-par", "connections"))
    now = time.time()
    listing = saved(sd, "fr-par", "connections")
    # Each object exactly as the API sent it (its connection.json), in
    # the API's order (readdir's); the time the API made it.
    ids = [i for i in ids if i != "by-name"]
    assert listing["objects"] == [
        read(m.path("regions", "fr-par", "connections", i,
                    "connection.json")) for i in ids]
    assert m.unmount() == 0
    assert now - 23 <= listing["born"] <= now - 18, (now, listing["born"])
    # The key is a hash: neither the secret nor the URL is in any file.
    names = statefiles.files(sd)
    assert names and all(n.startswith(listing["key"][:16])
                         for n in names), names
    for n, b in names.items():
        assert sim.token.encode() not in b and b"X-Auth-Token" not in b, n
        assert sim.url.encode() not in b, n
        assert hashlib.sha256(sim.token.encode()).hexdigest().encode() \
            not in b, n
        assert os.stat(os.path.join(sd, n)).st_mode & 0o777 == 0o600, n
    assert os.stat(sd).st_mode & 0o777 == 0o700


@concurrent
def test_the_journal_reads_the_same_and_says_what_changed_meanwhile():
    sim = Sim("--regions", "fr-par", connections=4)
    sd = state_dir()
    m = Mount(sim, "regions=fr-par", "ttl=1", state=sd)
    links = m.path("regions", "fr-par", "links")
    listdir(links)
    link, other = sim.data()["fr-par"]["links"][:2]
    for v in (2001, 2002):
        sim.patch("fr-par", link["id"], {"vlan": v}, kind="links")
        wait_for(lambda: listdir(links) and b"\t%d\n" % v in
                 read(m.path(*JOURNAL)), 10, "vlan %d journalled" % v)
    before = read(m.path(*JOURNAL))
    assert m.unmount() == 0
    stopped = time.time()
    # On disk, at the same offsets.
    base, dropped, lines = statefiles.journal_of(sd)
    assert (base, dropped, lines) == (0, 0, before)
    # While it is stopped, two changes.
    sim.patch("fr-par", link["id"], {"vlan": 2003}, kind="links")
    sim.patch("fr-par", other["id"], {"status": "down"}, kind="links")
    m = Mount(sim, "regions=fr-par", "ttl=1", state=sd)
    assert read(m.path(*JOURNAL)) == before     # before any listing
    links = m.path("regions", "fr-par", "links")
    wait_for(lambda: listdir(links) and b"\t2003\n" in
             read(m.path(*JOURNAL)), 10, "the change while stopped")
    after = read(m.path(*JOURNAL))
    assert after.startswith(before)
    new = after[len(before):].split(b"\n")[:-1]
    head = new[0].decode().split(" ")
    assert head[:5] == ["#", "fr-par", "links:", "changed", "between"] \
        and head[6] == "and", new[0]
    t1, t2 = rfc3339(head[5]), rfc3339(head[7].rstrip(","))
    assert t1 <= stopped + 1 and stopped - 5 <= t1 <= t2, (t1, t2)
    assert new[0].endswith(b"while interlinkfs was stopped"), new[0]
    assert sorted(l.split(b"\t")[3:] for l in new[1:]) == sorted([
        [link["id"].encode(), b"vlan", b"2002", b"2003"],
        [other["id"].encode(), b"status", other["status"].encode(),
         b"down"]]), new
    assert m.unmount() == 0
    # Again, with nothing changed meanwhile: nothing journalled twice.
    m = Mount(sim, "regions=fr-par", "ttl=1", state=sd)
    listdir(m.path("regions", "fr-par", "links"))
    time.sleep(1.5)
    listdir(m.path("regions", "fr-par", "links"))
    time.sleep(0.5)
    assert read(m.path(*JOURNAL)) == after
    assert m.unmount() == 0


@concurrent
def test_the_journal_keeps_changes_lines_across_restarts():
    sim = Sim("--regions", "fr-par", connections=3)
    sd = state_dir()
    m = Mount(sim, "regions=fr-par", "ttl=1", "changes=5", state=sd)
    links = m.path("regions", "fr-par", "links")
    listdir(links)
    link = sim.data()["fr-par"]["links"][0]
    for i in range(14):
        sim.patch("fr-par", link["id"], {"vlan": 3000 + i}, kind="links")
        wait_for(lambda: listdir(links) and b"\t%d\n" % (3000 + i) in
                 read(m.path(*JOURNAL)), 10, "change %d" % i)
    before = read(m.path(*JOURNAL))
    assert m.unmount() == 0
    # The file holds no more than twice what the journal keeps.
    _, dropped, lines = statefiles.journal_of(sd)
    assert lines.count(b"\n") <= 2 * 5 + 1, lines
    m = Mount(sim, "regions=fr-par", "ttl=1", "changes=5", state=sd)
    after = read(m.path(*JOURNAL))
    # The same size, the same lines at the same offsets, and a reader
    # from the start meets one count of all it missed.
    kept = b"".join(l + b"\n" for l in before.split(b"\n")[-6:-1])
    assert len(after) == len(before) and after.endswith(kept)
    assert [l[6] for l in data_lines(after)] == \
        [b"%d" % (3000 + i) for i in range(9, 14)]
    comments = [l for l in after.split(b"\n") if l.startswith(b"#")]
    assert len(comments) == 1 and \
        comments[0].startswith(b"# 9 lines missed"), comments
    assert m.unmount() == 0


@concurrent
def test_a_listing_that_never_changes_keeps_its_true_age():
    sim = Sim("--regions", "fr-par", connections=3)
    sd = state_dir()
    m = Mount(sim, "regions=fr-par", "ttl=1", state=sd)
    listdir(m.path("regions", "fr-par", "connections"))
    first = saved(sd, "fr-par", "connections")["born"]
    # Watched: reloaded every second, never changed.
    deadline = time.monotonic() + 4
    while time.monotonic() < deadline:
        read(m.path(*JOURNAL))
        time.sleep(0.3)
    assert m.unmount() == 0
    assert saved(sd, "fr-par", "connections")["born"] == first
    sim.stop()
    m = Mount(sim, "regions=fr-par", "ttl=1", "timeout=1", state=sd)
    age = int(m.health()[("fr-par", "connections")][1])
    # As old as the API's last answer, not as its first.
    assert age <= 2 < time.time() - first, (age, time.time() - first)
    assert m.unmount() == 0


def test_a_listing_is_saved_at_most_once_per_ttl():
    sim = Sim("--regions", "fr-par", connections=3)
    sd = state_dir()
    # Links come 3 s old with ttl 4: loaded again every second.
    sim.fault("age", age="3", match="links_list", count=0)
    m = Mount(sim, "regions=fr-par", "ttl=4", state=sd)
    links = m.path("regions", "fr-par", "links")
    link = sim.data()["fr-par"]["links"][0]
    listdir(links)
    saves, loads0 = set(), sim.counters()["links_list"]
    t0 = time.monotonic()
    v = 0
    while time.monotonic() - t0 < 9:
        v += 1
        sim.patch("fr-par", link["id"], {"vlan": 1000 + v}, kind="links")
        listdir(links)
        got = statefiles.listings(sd).get(("fr-par", "links"))
        if got:
            saves.add(got["born"])
        time.sleep(0.1)
    loads = sim.counters()["links_list"] - loads0
    # Loaded about every second, each time changed; saved at most once
    # per 4 s (the first save, then at most 3 in 9 s).
    assert loads >= 5, loads
    assert 2 <= len(saves) <= 4, (len(saves), loads)
    # The journal followed, each line from where the last one left.
    wait_for(lambda: listdir(links) and b"\t%d\n" % (1000 + v) in
             read(m.path(*JOURNAL)), 10, "the last change journalled")
    vals = [l[5:] for l in data_lines(read(m.path(*JOURNAL)))]
    for a, b in zip(vals, vals[1:]):
        assert a[1] == b[0], vals
    assert m.unmount() == 0


@concurrent
def test_another_account_url_or_view_never_serves_it():
    sim = Sim("--regions", "fr-par", "--account", OTHER + "=2",
              connections=3)
    sd = state_dir()
    m = Mount(sim, "regions=fr-par", "ttl=30", state=sd)
    listdir(m.path("regions", "fr-par", "connections"))
    saved(sd, "fr-par", "connections")
    assert m.unmount() == 0
    sim.stop()
    conns = ("regions", "fr-par", "connections")
    for opts, token in ((("regions=fr-par",), OTHER),
                        (("regions=fr-par", "project_id=" + OTHER), None),
                        (("regions=fr-par", "status=active"), None),
                        (("regions=fr-par", "api_url=http://127.0.0.1:%d"
                          % (sim.port + 1 if sim.port < 65535 else 1)),
                         None)):
        m = Mount(sim, "ttl=30", "timeout=1", *opts, token=token, state=sd)
        assert errno_of(listdir, m.path(*conns)) == errno.ECONNREFUSED, \
            opts
        assert m.unmount() == 0
    # The same view still does.
    m = Mount(sim, "regions=fr-par", "ttl=30", "timeout=1", state=sd)
    assert len(listdir(m.path(*conns))) == 3
    assert m.unmount() == 0


def ignored_lines(m, name):
    return [l for l in m.log().splitlines()
            if "state file" in l and name in l and "ignored" in l]


@concurrent
def test_a_file_that_cannot_be_used_is_ignored_with_one_log_line():
    sim = Sim("--regions", "fr-par", "--account", OTHER + "=2",
              connections=3)
    sd, other = state_dir(), state_dir()
    m = Mount(sim, "regions=fr-par", "ttl=30", state=sd)
    listdir(m.path("regions", "fr-par", "connections"))
    listdir(m.path("regions", "fr-par", "links"))
    saved(sd, "fr-par", "links")
    assert m.unmount() == 0
    m = Mount(sim, "regions=fr-par", "ttl=30", token=OTHER, state=other)
    listdir(m.path("regions", "fr-par", "connections"))
    theirs = saved(other, "fr-par", "connections")
    assert m.unmount() == 0
    sim.stop()
    name = [n for n in os.listdir(sd) if n.endswith("connections.listing")][0]
    good = statefiles.files(sd)[name]
    theirs_bytes = [b for n, b in statefiles.files(other).items()
                    if n.endswith("connections.listing")][0]
    assert theirs["key"] != statefiles.listing(good)["key"]
    victim = os.path.join(os.path.dirname(sd), "elsewhere")
    variants = {
        "truncated": lambda p: open(p, "wb").write(good[:len(good) // 2]),
        "garbage": lambda p: open(p, "wb").write(os.urandom(len(good))),
        "a future format": lambda p: open(p, "wb").write(good.replace(
            b"interlinkfs-state 1 listing", b"interlinkfs-state 7 listing",
            1)),
        "one bit flipped": lambda p: open(p, "wb").write(
            good[:-10] + bytes([good[-10] ^ 1]) + good[-9:]),
        "another key's": lambda p: open(p, "wb").write(theirs_bytes),
        "another user's": lambda p: (open(p, "wb").write(good),
                                     os.chown(p, 65534, 65534)),
        "a symbolic link": lambda p: (open(victim, "wb").write(good),
                                      os.symlink(victim, p)),
    }
    for what, make in variants.items():
        p = os.path.join(sd, name)
        os.remove(p)
        make(p)
        m = Mount(sim, "regions=fr-par", "ttl=30", "timeout=1", state=sd)
        # As without it: the connections cannot be read; the links can.
        assert errno_of(listdir, m.path("regions", "fr-par",
                                        "connections")) == \
            errno.ECONNREFUSED, what
        assert len(listdir(m.path("regions", "fr-par", "links"))) > 1
        assert len(ignored_lines(m, name)) == 1, (what, m.log())
        assert m.unmount() == 0
    if os.path.exists(victim):
        assert open(victim, "rb").read() == good


@concurrent
def test_two_mounts_share_a_directory_and_a_second_of_one_key_is_refused():
    sim = Sim("--regions", "fr-par", "--account", OTHER + "=2",
              connections=3)
    sd = state_dir()
    a = Mount(sim, "regions=fr-par", "ttl=30", state=sd)
    b = Mount(sim, "regions=fr-par", "ttl=30", token=OTHER, state=sd)
    for m in (a, b):
        listdir(m.path("regions", "fr-par", "connections"))
    wait_for(lambda: len([n for n in os.listdir(sd)
                          if n.endswith("connections.listing")]) == 2, 10,
             "both saved")
    # Each its own files, each whole, each of its own account.
    keys = {}
    for n, data in statefiles.files(sd).items():
        if n.endswith(".listing"):
            keys[n[:16]] = statefiles.listing(data)
    assert len(keys) == 2
    ids = [sorted(json_id(o) for o in l["objects"]) for l in keys.values()]
    assert ids[0] != ids[1]
    # A second mount of a's key: refused, saying by whom.
    c = Mount(sim, "regions=fr-par", "ttl=30", state=sd, wait=False)
    assert c.proc.wait(10) != 0
    log = c.log()
    assert "in use by another mount" in log and str(a.proc.pid) in log, log
    c.kill()
    for m in (a, b):
        assert m.unmount() == 0


@concurrent
def test_state_dir_is_an_option_and_the_units_set_it():
    sim = Sim("--regions", "fr-par", connections=3)
    env_dir, opt_dir = state_dir(), state_dir()
    # -o state_dir= over $STATE_DIRECTORY (a relative one made absolute).
    top = os.path.dirname(opt_dir)
    cwd = os.getcwd()
    os.chdir(top)
    try:
        m = Mount(sim, "regions=fr-par", "ttl=30", "state_dir=state",
                  state=env_dir)
    finally:
        os.chdir(cwd)
    listdir(m.path("regions", "fr-par", "connections"))
    saved(opt_dir, "fr-par", "connections")
    assert m.unmount() == 0
    assert not os.path.exists(env_dir)
    # none: nothing is written, nothing read back.
    m = Mount(sim, "regions=fr-par", "ttl=30", "state_dir=none",
              state=env_dir)
    listdir(m.path("regions", "fr-par", "connections"))
    assert m.unmount() == 0
    assert not os.path.exists(env_dir)
    # The shipped units have systemd make it ($STATE_DIRECTORY).
    units = os.path.join(os.environ["SOURCE_ROOT"], "examples", "systemd")
    for u in ("interlinkfs.service", "mnt-interlink.mount"):
        with open(os.path.join(units, u)) as f:
            text = f.read()
        assert "\nStateDirectory=interlinkfs\n" in text, u
        assert "\nStateDirectoryMode=0700\n" in text, u


def json_id(obj):
    import json
    return json.loads(obj)["id"]


@concurrent
def test_a_change_after_a_restart_is_not_said_to_be_while_stopped():
    sim = Sim("--regions", "fr-par", connections=3)
    sd = state_dir()
    conns = ("regions", "fr-par", "connections")
    m = Mount(sim, "regions=fr-par", "ttl=1", state=sd)
    listdir(m.path(*conns))
    saved(sd, "fr-par", "connections")
    assert m.unmount() == 0
    m = Mount(sim, "regions=fr-par", "ttl=1", state=sd)
    # The first listing of this run: the same as the saved one.
    wait_for(lambda: listdir(m.path(*conns)) and
             m.health()[("fr-par", "connections")][0] == "fresh", 10,
             "fresh after the restart")
    time.sleep(1.5)
    c = sim.data()["fr-par"]["connections"][0]
    sim.patch("fr-par", c["id"], {"status": "locked"})
    wait_for(lambda: listdir(m.path(*conns)) and
             b"\tstatus\t" in read(m.path(*JOURNAL)), 10,
             "the change journalled")
    text = read(m.path(*JOURNAL))
    assert b"while interlinkfs was stopped" not in text, text
    assert m.unmount() == 0


@concurrent
def test_sight_lost_in_one_run_is_seen_again_in_the_next():
    sim = Sim("--regions", "fr-par", connections=3)
    sd = state_dir()
    conns = ("regions", "fr-par", "connections")
    sim.fault("status", status=503, count=0)
    m = Mount(sim, "regions=fr-par", "ttl=1", "timeout=1", state=sd)
    errno_of(listdir, m.path(*conns))
    wait_for(lambda: b"# fr-par connections: not seen" in
             read(m.path(*JOURNAL)), 10, "sight lost")
    assert m.unmount() == 0
    sim.clear_faults()
    m = Mount(sim, "regions=fr-par", "ttl=1", state=sd)
    wait_for(lambda: listdir(m.path(*conns)) and
             b"# fr-par connections: seen again" in read(m.path(*JOURNAL)),
             10, "seen again, said in the next run")
    assert m.unmount() == 0


@concurrent
def test_a_restored_listing_that_is_served_is_never_said_blind():
    sim = Sim("--regions", "fr-par", connections=3)
    sd = state_dir()
    conns = ("regions", "fr-par", "connections")
    m = Mount(sim, "regions=fr-par", "ttl=300", "stale=2", state=sd)
    before = sorted(listdir(m.path(*conns)))
    saved(sd, "fr-par", "connections")
    assert m.unmount() == 0
    sim.fault("status", status=503, count=0)
    time.sleep(2.5)
    # Older than stale, younger than ttl: served without a request, as
    # the man page says, and so said stale, never blind.
    m = Mount(sim, "regions=fr-par", "ttl=300", "stale=2", "timeout=1",
              state=sd)
    assert sorted(listdir(m.path(*conns))) == before
    state = m.health()[("fr-par", "connections")]
    assert state[0] == "stale", state
    assert up(m, "fr-par", "connections") == 0
    assert m.unmount() == 0


@concurrent
def test_a_listing_saved_with_a_time_after_now_is_ignored():
    sim = Sim("--regions", "fr-par", connections=3)
    sd = state_dir()
    conns = ("regions", "fr-par", "connections")
    m = Mount(sim, "regions=fr-par", "ttl=30", state=sd)
    listdir(m.path(*conns))
    saved(sd, "fr-par", "connections")
    assert m.unmount() == 0
    for n in os.listdir(sd):
        if n.endswith(".fr-par.connections.listing"):
            p = os.path.join(sd, n)
            with open(p, "rb") as f:
                data = f.read()
            data = re.sub(rb"\nborn [0-9.]+\n",
                          b"\nborn %.3f\n" % (time.time() + 3600), data,
                          count=1)
            with open(p, "wb") as f:
                f.write(data)
    sim.stop()
    # Its age cannot be told: not served as new, said once.
    m = Mount(sim, "regions=fr-par", "ttl=30", "timeout=1", state=sd)
    assert errno_of(listdir, m.path(*conns)) != 0
    assert m.log().count("made after now") == 1, m.log()
    assert m.unmount() == 0


if __name__ == "__main__":
    run(globals(), jobs=3)
