# SPDX-License-Identifier: Apache-2.0
"""A mount over time: changes show within the TTL (also same-length ones
that do not move updated_at), deletions and additions, SIGHUP, interrupts,
clean shutdown, a lazy mount, and the command line."""
import errno
import os
import signal
import subprocess
import time

from harness import (errno_of, listdir, lstat, read, readlink, run,
                     stop_process, wait_for)
from mount import Mount, mounted_at, require_fuse
from oracle import expected_files
from sim import Sim

FS = os.environ["INTERLINKFS"]


def conn_path(m, region, cid, *rest):
    return m.path("regions", region, "connections", cid, *rest)



def test_changes_show_within_ttl_even_same_length():
    sim = Sim(connections=6)
    m = Mount(sim, "ttl=2")
    c = [x for x in sim.list_all("fr-par") if x["status"] == "active"][0]
    status = conn_path(m, "fr-par", c["id"], "status")
    jsonf = conn_path(m, "fr-par", c["id"], "connection.json")
    assert read(status) == b"active\n"
    old_json = read(jsonf)
    # Same length ("active" -> "failed"), updated_at left as it was.
    t0 = time.monotonic()
    sim.patch("fr-par", c["id"], {"status": "failed"})
    wait_for(lambda: read(status) == b"failed\n", 2 + 1.5,
             "the new status")
    assert time.monotonic() - t0 <= 3.0
    new_json = read(jsonf)
    assert len(new_json) == len(old_json) and new_json != old_json
    # Every file of the connection agrees (one generation).
    got = sim.api("/fr-par/dedicated-connections/" + c["id"])[1]
    for name, data in expected_files(got).items():
        assert read(conn_path(m, "fr-par", c["id"], name)) == data, name
    # The directory's mtime moved even though updated_at did not.
    assert lstat(conn_path(m, "fr-par", c["id"])).st_mtime > \
        time.time() - 60


def test_a_change_is_seen_by_a_reader_that_keeps_reading():
    # The kernel may have cached the page: the keeper must invalidate it.
    sim = Sim(connections=4)
    m = Mount(sim, "ttl=2")
    c = sim.list_all("fr-par")[1]
    name = conn_path(m, "fr-par", c["id"], "name")
    stop = time.monotonic() + 1
    while time.monotonic() < stop:
        read(name)
        time.sleep(0.05)
    new = "X" * len(c["name"].encode()) if c["name"] else "Y"
    sim.patch("fr-par", c["id"], {"name": new})
    wait_for(lambda: read(name) == new.encode() + b"\n", 3.0,
             "the renamed connection")


def test_deleted_disappears_added_appears():
    sim = Sim(connections=5)
    m = Mount(sim, "ttl=1")
    conns = sim.list_all("pl-waw")
    gone = conns[2]["id"]
    d = m.path("regions", "pl-waw", "connections")
    assert gone in listdir(d)
    assert read(os.path.join(d, gone, "id")).strip().decode() == gone
    sim.delete("pl-waw", gone)
    new = sim.add("pl-waw", {"name": "brand new", "status": "created",
                             "tags": ["x"], "bandwidth_mbps": 1000})
    wait_for(lambda: gone not in listdir(d) and new in listdir(d), 2.5,
             "the listing change")
    assert errno_of(lstat, os.path.join(d, gone)) == errno.ENOENT
    assert errno_of(read, os.path.join(d, gone, "id")) == errno.ENOENT
    assert read(os.path.join(d, new, "name")) == b"brand new\n"
    byname = m.path("regions", "pl-waw", "by-name")
    assert readlink(os.path.join(byname, "brand new")) == \
        "../connections/" + new


def test_sighup_drops_the_cache():
    sim = Sim(connections=3)
    m = Mount(sim, "ttl=300")
    c = sim.list_all("fr-par")[0]
    status = conn_path(m, "fr-par", c["id"], "status")
    assert read(status) == expected_files(c)["status"]
    sim.patch("fr-par", c["id"], {"status": "locked"})
    sim.reset()
    assert read(status) == expected_files(c)["status"]  # cached (300 s)
    assert sim.counters()["total"] == 0
    m.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: read(status) == b"locked\n", 3, "fresh data")
    assert m.proc.poll() is None  # SIGHUP does not stop it


def test_ctrl_c_on_a_slow_cat_returns_at_once():
    sim = Sim(connections=3)
    m = Mount(sim, "timeout=60")
    c = sim.list_all("fr-par")[0]
    sim.fault("hang")
    p = subprocess.Popen(["cat", conn_path(m, "fr-par", c["id"], "status")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.5)
    assert p.poll() is None  # waiting on the API
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    p.wait(5)
    assert time.monotonic() - t0 < 1.0
    sim.clear_faults()
    # The filesystem is still fine afterwards.
    assert read(conn_path(m, "fr-par", c["id"], "status")) == \
        expected_files(c)["status"]
    assert m.unmount() == 0


def test_interrupted_read_gets_eintr():
    sim = Sim(connections=3)
    m = Mount(sim, "timeout=60")
    c = sim.list_all("fr-par")[0]
    sim.fault("hang")
    code = ("import os, signal, sys\n"
            "signal.signal(signal.SIGUSR1, lambda *a: None)\n"
            "signal.siginterrupt(signal.SIGUSR1, True)\n"
            "try:\n"
            "    os.stat(sys.argv[1])\n"
            "except InterruptedError:\n"
            "    sys.exit(4)\n"
            "except OSError as e:\n"
            "    sys.exit(10 + e.errno)\n")
    p = subprocess.Popen(["python3", "-c", code,
                          conn_path(m, "fr-par", c["id"], "status")])
    time.sleep(0.5)
    t0 = time.monotonic()
    p.send_signal(signal.SIGUSR1)
    rc = p.wait(5)
    assert time.monotonic() - t0 < 1.0
    assert rc == 4, rc  # EINTR
    sim.clear_faults()


def test_sigterm_and_sigint_stop_cleanly_with_requests_in_flight():
    for sig in (signal.SIGTERM, signal.SIGINT):
        sim = Sim(connections=3)
        m = Mount(sim, "timeout=60")
        c = sim.list_all("fr-par")[0]
        sim.fault("hang")
        p = subprocess.Popen(["cat", conn_path(m, "fr-par", c["id"],
                                              "status")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(0.5)
        t0 = time.monotonic()
        m.proc.send_signal(sig)
        rc = m.proc.wait(5)
        assert rc == 0, (sig, rc, m.log())
        assert time.monotonic() - t0 < 3
        p.wait(5)
        assert p.returncode != 0
        assert mounted_at(m.dir) is None
        m.kill()
        sim.stop()


def test_unmount_stops_the_daemon_with_status_0():
    sim = Sim(connections=2)
    m = Mount(sim)
    assert listdir(m.path("regions", "fr-par", "connections"))
    assert m.unmount() == 0


def test_mount_works_while_the_api_is_down():
    sim = Sim(connections=4)
    port = sim.port
    sim.stop()
    m = Mount(sim, "timeout=2")
    d = m.path("regions", "fr-par", "connections")
    t0 = time.monotonic()
    e = errno_of(listdir, d)
    assert e in (errno.ECONNREFUSED, errno.EHOSTUNREACH), e
    assert time.monotonic() - t0 < 2 + 2
    assert "fr-par" in listdir(m.path("regions"))
    sim.start(port)
    wait_for(lambda: errno_of(listdir, d) == 0, 5, "the API back")
    assert len(listdir(d)) == 4


def test_missing_credentials_and_secret_option_fail_clearly():
    require_fuse()
    sim = Sim()
    env = {"PATH": os.environ["PATH"], "HOME": "/nonexistent",
           "SCW_CONFIG_PATH": "/nonexistent", "SCW_API_URL": sim.url}
    d = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                     "interlinkfs-nomount-%d" % os.getpid())
    os.makedirs(d, exist_ok=True)
    try:
        p = subprocess.run([FS, d, "-f"], env=env, capture_output=True,
                           timeout=10)
        assert p.returncode != 0
        err = p.stderr.decode()
        assert err.count("\n") == 1 and "SCW_SECRET_KEY" in err, err
        assert mounted_at(d) is None
        env["SCW_SECRET_KEY"] = sim.token
        p = subprocess.run([FS, d, "-f", "-o", "secret_key=" + sim.token],
                           env=env,
                           capture_output=True, timeout=10)
        assert p.returncode != 0
        assert b"SCW_SECRET_KEY" in p.stderr and mounted_at(d) is None
        # An unreadable (here: not YAML) config file fails the mount.
        bad = d + ".yaml"
        with open(bad, "w") as f:
            f.write("secret_key: [unclosed\n")
        env2 = dict(env, SCW_CONFIG_PATH=bad)
        del env2["SCW_SECRET_KEY"]
        p = subprocess.run([FS, d, "-f"], env=env2, capture_output=True,
                           timeout=10)
        os.unlink(bad)
        assert p.returncode != 0 and bad.encode() in p.stderr, p.stderr
    finally:
        os.rmdir(d)


def test_help_version_and_source_argument():
    p = subprocess.run([FS, "--help"], capture_output=True, timeout=10)
    assert p.returncode == 0 and b"regions=LIST" in p.stdout
    p = subprocess.run([FS, "--version"], capture_output=True, timeout=10)
    assert p.returncode == 0 and ("interlinkfs %s" % os.environ["INTERLINKFS_VERSION"]).encode() in p.stdout
    sim = Sim(connections=2)
    m = Mount(sim, "regions=fr-par:nl-ams", args=["interlinkfs"])
    assert sorted(listdir(m.path("regions"))) == ["fr-par", "nl-ams"]
    assert m.unmount() == 0


def test_ttl_zero_asks_every_time():
    sim = Sim(connections=3)
    m = Mount(sim, "ttl=0")
    c = sim.list_all("fr-par")[0]
    status = conn_path(m, "fr-par", c["id"], "status")
    read(status)
    sim.reset()
    for _ in range(3):
        read(status)
    assert sim.counters()["total"] >= 3
    sim.patch("fr-par", c["id"], {"status": "locked"})
    assert read(status) == b"locked\n"


if __name__ == "__main__":
    run(globals())
