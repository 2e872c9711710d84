# SPDX-License-Identifier: Apache-2.0
"""kill -9 while the state is being written, 200 times, on real mounts
(issue 28): each file is always the old version or the new one, never a
part; the next mount serves what it holds; and across all those crashes
the journal says every change once, each line from where the last one
left (nothing journalled twice, nothing lost).

Each round: a mount serves the link's VLAN the saved listing holds
(without asking the API: the listing is fresh), the link changes, SIGHUP
drops the cache, the listing is read again (and saved at once), and the
mount is killed (-9) at a random moment of the save. The moments are
spread over the time a save takes on this machine, measured first.
"""
import os
import random
import signal
import statistics
import tempfile
import shutil
import time

from harness import listdir, on_cleanup, read, run, wait_for
from mount import Mount
from sim import Sim
import statefiles

ROUNDS = 200
JOURNAL = (".interlinkfs", "changes")
OPTS = ("regions=fr-par", "ttl=3600", "catalog_ttl=3600")


def vlan_saved(sd, lid):
    """The link's VLAN in the saved listing (read whole, or failing)."""
    import json
    for obj in statefiles.listings(sd)[("fr-par", "links")]["objects"]:
        o = json.loads(obj)
        if o["id"] == lid:
            return o["vlan"]
    raise AssertionError("link not in the saved listing")


def check_files(sd):
    """Every file whole (the journal: its header); temporaries counted."""
    temps = 0
    for n, b in statefiles.files(sd).items():
        if n.endswith(".tmp"):
            temps += 1
        elif n.endswith((".listing", ".seen")):
            statefiles.whole(b)
        elif n.endswith(".journal"):
            statefiles.journal(b)
    return temps


def round_(sim, sd, lid, v, delay):
    """One round; returns (the VLAN on disk after the kill, seconds from
    the read to the save, when it was seen, else None)."""
    before = sim.counters()["links_list"]
    m = Mount(sim, *OPTS, state=sd)
    path = m.path("regions", "fr-par", "links", lid, "vlan")
    # Served from what was saved: the API is not asked.
    assert read(path) == b"%d\n" % vlan_saved(sd, lid)
    assert sim.counters()["links_list"] == before
    sim.patch("fr-par", lid, {"vlan": v}, kind="links")
    m.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: m.stats()["links"] == "0", 5, "the cache dropped")
    listdir(m.path("regions", "fr-par", "links"))
    assert sim.counters()["links_list"] > before
    t0 = time.monotonic()
    took = None
    if delay is None:
        wait_for(lambda: vlan_saved(sd, lid) == v, 5, "the save",
                 interval=0.0002)
        took = time.monotonic() - t0
    else:
        time.sleep(delay)
    m.proc.send_signal(signal.SIGKILL)
    m.proc.wait(10)
    m.kill()
    return took


def test_kill_9_while_saving_200_times():
    sim = Sim("--regions", "fr-par", connections=150)
    top = tempfile.mkdtemp(prefix="interlinkfs-state-")
    on_cleanup(lambda: shutil.rmtree(top, ignore_errors=True))
    sd = os.path.join(top, "state")
    lid = sim.data()["fr-par"]["links"][0]["id"]
    m = Mount(sim, *OPTS, state=sd)
    listdir(m.path("regions", "fr-par", "links"))
    wait_for(lambda: ("fr-par", "links") in statefiles.listings(sd), 10,
             "the first save")
    assert m.unmount() == 0
    rng = random.Random(28)
    # How long a save takes here, from the read that brings the listing.
    took = [round_(sim, sd, lid, 3000 + i, None) for i in range(5)]
    spread = max(statistics.median(took) * 2, 0.002)
    v = 3004
    old = new = temps = 0
    for i in range(ROUNDS):
        v += 1
        was = vlan_saved(sd, lid)
        round_(sim, sd, lid, v, rng.uniform(0, spread))
        temps += check_files(sd) > 0
        now = vlan_saved(sd, lid)
        assert now in (was, v), (i, was, v, now)
        old += now == was
        new += now == v
    print("%d rounds: %d kept the old listing, %d the new; %d left a "
          "temporary file (killed while writing); saves took %.1f ms"
          % (ROUNDS, old, new, temps, statistics.median(took) * 1000))
    assert new > 0
    # The journal: every line whole, each change from where the last
    # one left, none twice; the last value last.
    m = Mount(sim, *OPTS, state=sd)
    m.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: m.stats()["links"] == "0", 5, "the cache dropped")
    wait_for(lambda: listdir(m.path("regions", "fr-par", "links")) and
             b"\t%d\n" % v in read(m.path(*JOURNAL)), 10, "the journal")
    text = read(m.path(*JOURNAL))
    assert text.endswith(b"\n")
    chain, stops = [], 0
    for line in text.split(b"\n")[:-1]:
        f = line.split(b"\t")
        if line.startswith(b"#"):
            assert b"while interlinkfs was stopped" in line, line
            stops += 1
            continue
        assert len(f) == 7 and f[3].decode() == lid and f[4] == b"vlan", f
        chain.append((int(f[5]), int(f[6])))
    assert chain[0][0] != chain[0][1]
    for (a, b), (c, d) in zip(chain, chain[1:]):
        assert b == c and c != d, (a, b, c, d)
    assert chain[-1][1] == v
    assert stops == len(chain), (stops, len(chain))
    assert m.unmount() == 0


if __name__ == "__main__":
    run(globals())
