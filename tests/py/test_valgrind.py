# SPDX-License-Identifier: Apache-2.0
"""Mount sessions under valgrind memcheck: a walk, faults, an interrupted
read, SIGHUP, an unmount; and a TLS session whose handshakes fail. Zero
errors, nothing definitely lost (and after the TLS session, nothing in use
at all)."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pki
from harness import errno_of, listdir, read, run, Skip, wait_for
from mount import Mount
from sim import Sim


def under_valgrind(log, *extra):
    """Mounts from now on run under memcheck, its report in log."""
    os.environ["INTERLINKFS_WRAPPER"] = " ".join(
        ("valgrind", "--leak-check=full") + extra +
        ("--errors-for-leak-kinds=definite", "--error-exitcode=1",
         "--log-file=" + log))


def unmount_and_check(m, log):
    """Unmount; the daemon exits 0 with no error and nothing definitely
    lost. Returns the report."""
    rc = m.unmount(timeout=120)
    with open(log) as f:
        report = f.read()
    assert rc == 0, report[-4000:]
    assert re.search(r"ERROR SUMMARY: 0 errors", report), report[-4000:]
    lost = re.search(r"definitely lost: ([\d,]+) bytes", report)
    assert lost is None or lost.group(1) == "0", report[-4000:]
    return report


def test_session_under_valgrind():
    log = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                       "interlinkfs-valgrind-%d.log" % os.getpid())
    under_valgrind(log)
    try:
        sim = Sim("--max-page-size", "10", connections=25)
        m = Mount(sim, "ttl=2", "timeout=3", wait=False)
        m.wait_mounted(timeout=60)
        # A walk of every region.
        p = subprocess.run("grep -r . regions > /dev/null && "
                           "ls -lR regions > /dev/null && "
                           "cat .interlinkfs/stats .interlinkfs/metrics",
                           shell=True, cwd=m.dir, capture_output=True,
                           timeout=300)
        assert p.returncode == 0, p.stderr
        c = sim.list_all("fr-par")[0]
        status = m.path("regions", "fr-par", "connections", c["id"],
                        "status")
        # Faults: stale data served, then an error once nothing is left.
        sim.fault("status", status=503)
        time.sleep(2.5)
        assert read(status, timeout=60) == c["status"].encode() + b"\n"
        sim.clear_faults()
        # An interrupted read of a connection never seen.
        sim.fault("hang")
        cat = subprocess.Popen(["cat", m.path(
            "regions", "nl-ams", "connections",
            "00000000-0000-4000-8000-000000000000", "status")],
            stderr=subprocess.DEVNULL)
        time.sleep(1)
        cat.send_signal(signal.SIGINT)
        cat.wait(60)
        sim.clear_faults()
        # SIGHUP, and the tree afterwards.
        m.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: errno_of(lambda: listdir(m.path(
            "regions", "pl-waw", "connections"), timeout=60)) == 0, 60,
            "the tree after SIGHUP")
        unmount_and_check(m, log)
    finally:
        del os.environ["INTERLINKFS_WRAPPER"]
        if os.path.exists(log):
            os.unlink(log)


def test_tls_session_with_failed_handshakes_under_valgrind():
    if not pki.openssl_available():
        raise Skip("the openssl command is missing")
    d = tempfile.mkdtemp(prefix="interlinkfs-pki-")
    certs = pki.make(d)
    log = os.path.join(d, "valgrind.log")
    under_valgrind(log, "--show-leak-kinds=all")
    try:
        cert, key = certs["server"]
        sim = Sim("--regions", "fr-par", "--tls-cert", cert, "--tls-key",
                  key, connections=6)
        m = Mount(sim, "regions=fr-par", "ca_file=" + certs["ca"], "ttl=1",
                  "timeout=3", wait=False)
        m.wait_mounted(timeout=60)
        conns = m.path("regions", "fr-par", "connections")
        assert len(listdir(conns, timeout=60)) == 6
        # Handshakes that fail: an expired certificate, then one for
        # another host.
        for bad in ("expired", "otherhost"):
            cert, key = certs[bad]
            i = sim.argv.index("--tls-cert")
            sim.argv[i + 1], sim.argv[i + 3] = cert, key
            sim.restart()
            time.sleep(1.5)
            for _ in range(3):
                errno_of(lambda: listdir(m.path("regions", "fr-par",
                                                "links"), timeout=60))
        daemon_log = m.log()
        assert "certificate has expired" in daemon_log, daemon_log
        assert "host name mismatch" in daemon_log, daemon_log
        report = unmount_and_check(m, log)
        # Not a block left, reachable or not: TLS failures included.
        assert "All heap blocks were freed" in report or \
            "in use at exit: 0 bytes in 0 blocks" in report, report[-4000:]
    finally:
        del os.environ["INTERLINKFS_WRAPPER"]
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    run(globals())
