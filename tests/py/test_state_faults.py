# SPDX-License-Identifier: Apache-2.0
"""Faults of the state directory, on real mounts (issue 28):

- read-only, full (a small tmpfs) or missing: the mount serves as
  without it, says so once per change of condition, and saves again when
  the directory can take it, with nothing lost: the journal on disk then
  holds every line readers saw;
- a directory of another user, or a symbolic link in its place or where
  a file goes: refused, never followed.

The tmpfs mounts need root: without it the tests that need one are
skipped (exit 77).
"""
import os
import shutil
import subprocess
import tempfile

from harness import concurrent, Skip, listdir, on_cleanup, read, run, wait_for
from mount import Mount
from sim import Sim
import statefiles

JOURNAL = (".interlinkfs", "changes")


def tmpfs(size):
    """A tmpfs of size bytes of the test's own, unmounted when it ends."""
    if os.geteuid() != 0:
        raise Skip("mounting a tmpfs needs root")
    d = tempfile.mkdtemp(prefix="interlinkfs-tmpfs-")
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d,mode=0700"
                        % size, "tmpfs", d], capture_output=True, timeout=10)
    if p.returncode:
        os.rmdir(d)
        raise Skip("cannot mount a tmpfs: %s" % p.stderr.decode().strip())

    def gone():
        if os.path.isdir(d):
            subprocess.run(["umount", "-l", d], capture_output=True,
                           timeout=10)
            os.rmdir(d)
    on_cleanup(gone)
    return d


def remount(d, how):
    subprocess.run(["mount", "-o", "remount," + how, d], check=True,
                   timeout=10)


def said(m, what):
    """The log lines of the state directory that say what."""
    return [l for l in m.log().splitlines()
            if "state directory" in l and what in l]


def change(sim, m, link, v):
    """A change of link, seen and journalled."""
    links = m.path("regions", "fr-par", "links")
    sim.patch("fr-par", link["id"], {"vlan": v}, kind="links")
    wait_for(lambda: listdir(links) and b"\t%d\n" % v in
             read(m.path(*JOURNAL)), 15, "vlan %d journalled" % v)


def caught_up(m, sd):
    """Saving resumed: the journal on disk holds what readers see."""
    def same():
        j = statefiles.journal_of(sd) if os.path.isdir(sd) else None
        return j is not None and j[2] == read(m.path(*JOURNAL)) and \
            ("fr-par", "links") in statefiles.listings(sd)
    wait_for(same, 40, "the state saved again")


def check_fault(sim, m, sd, fault, cure, says):
    """Changes while the directory has the fault: served, journalled, said
    once; then cured: saved again (said once), nothing lost."""
    link = sim.data()["fr-par"]["links"][0]
    listdir(m.path("regions", "fr-par", "links"))
    for v in (2101, 2102, 2103):
        change(sim, m, link, v)
    assert len(said(m, says)) == 1, m.log()
    cure()
    caught_up(m, sd)
    assert len(said(m, "saving again")) == 1, m.log()
    change(sim, m, link, 2104)
    caught_up(m, sd)
    assert len(said(m, says)) == 1, m.log()
    text = read(m.path(*JOURNAL))
    assert m.unmount() == 0
    # The next run reads the same journal.
    m = Mount(sim, "regions=fr-par", "ttl=1", state=sd)
    assert read(m.path(*JOURNAL)) == text
    assert m.unmount() == 0


@concurrent
def test_a_read_only_directory():
    sim = Sim("--regions", "fr-par", connections=3)
    base = tmpfs(1 << 20)
    sd = os.path.join(base, "state")
    os.mkdir(sd, 0o700)
    remount(base, "ro")
    m = Mount(sim, "regions=fr-par", "ttl=1", state=sd)
    check_fault(sim, m, sd, "read-only", lambda: remount(base, "rw"),
                "is read-only")


@concurrent
def test_a_full_directory():
    sim = Sim("--regions", "fr-par", connections=40)
    base = tmpfs(256 << 10)
    sd = os.path.join(base, "state")
    os.mkdir(sd, 0o700)
    filler = os.path.join(base, "filler")
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while os.write(fd, b"x" * 4096):
            pass
    except OSError:
        pass
    os.close(fd)
    m = Mount(sim, "regions=fr-par", "ttl=1", state=sd)
    check_fault(sim, m, sd, "full", lambda: os.remove(filler), "is full")


@concurrent
def test_a_missing_directory():
    sim = Sim("--regions", "fr-par", connections=3)
    top = tempfile.mkdtemp(prefix="interlinkfs-state-")
    on_cleanup(lambda: shutil.rmtree(top, ignore_errors=True))
    sd = os.path.join(top, "gone", "state")
    m = Mount(sim, "regions=fr-par", "ttl=1", state=sd)
    check_fault(sim, m, sd, "missing",
                lambda: os.mkdir(os.path.join(top, "gone")), "is missing")
    # Removed while mounted: made again, with everything in it.
    m = Mount(sim, "regions=fr-par", "ttl=1", state=sd)
    link = sim.data()["fr-par"]["links"][0]
    listdir(m.path("regions", "fr-par", "links"))
    shutil.rmtree(sd)
    change(sim, m, link, 2201)
    caught_up(m, sd)
    assert m.unmount() == 0


def refused(sim, sd, why):
    m = Mount(sim, "regions=fr-par", state=sd, wait=False)
    assert m.proc.wait(10) != 0
    log = m.log()
    assert "state directory" in log and why in log, log
    assert len(log.strip().splitlines()) == 1, log
    m.kill()


@concurrent
def test_another_users_directory_and_planted_links_are_refused():
    sim = Sim("--regions", "fr-par", connections=3)
    top = tempfile.mkdtemp(prefix="interlinkfs-state-")
    on_cleanup(lambda: shutil.rmtree(top, ignore_errors=True))
    theirs = os.path.join(top, "theirs")
    os.mkdir(theirs, 0o700)
    os.chown(theirs, 65534, 65534)
    refused(sim, theirs, "belongs to uid 65534")
    assert os.listdir(theirs) == []
    # A symbolic link where the directory goes.
    sd = os.path.join(top, "state")
    os.mkdir(sd, 0o755)
    link = os.path.join(top, "link")
    os.symlink(sd, link)
    refused(sim, link, "a symbolic link")
    # Its own, readable by others: made 0700.
    m = Mount(sim, "regions=fr-par", "ttl=1", state=sd)
    listdir(m.path("regions", "fr-par", "links"))
    wait_for(lambda: ("fr-par", "links") in statefiles.listings(sd), 10,
             "saved")
    assert os.stat(sd).st_mode & 0o777 == 0o700
    assert m.unmount() == 0
    # Symbolic links planted where files go: never followed.
    victim = os.path.join(top, "victim")
    with open(victim, "wb") as f:
        f.write(b"precious\n")
    names = {n.split(".", 1)[1]: n for n in os.listdir(sd)}
    for n in (names["fr-par.links.listing"], names["journal"]):
        os.remove(os.path.join(sd, n))
        os.symlink(victim, os.path.join(sd, n))
    m = Mount(sim, "regions=fr-par", "ttl=1", state=sd)
    listdir(m.path("regions", "fr-par", "links"))
    link = sim.data()["fr-par"]["links"][0]
    change(sim, m, link, 2301)
    caught_up(m, sd)
    # ... and while it runs, where the journal is appended to.
    os.remove(os.path.join(sd, names["journal"]))
    os.symlink(victim, os.path.join(sd, names["journal"]))
    change(sim, m, link, 2302)
    caught_up(m, sd)
    assert open(victim, "rb").read() == b"precious\n"
    for n in (names["fr-par.links.listing"], names["journal"]):
        assert not os.path.islink(os.path.join(sd, n)), n
    assert m.unmount() == 0
    # And where the lock goes: refused.
    os.remove(os.path.join(sd, names["lock"]))
    os.symlink(victim, os.path.join(sd, names["lock"]))
    refused(sim, sd, "a symbolic link where the lock file goes")
    assert open(victim, "rb").read() == b"precious\n"


if __name__ == "__main__":
    run(globals(), jobs=3)
