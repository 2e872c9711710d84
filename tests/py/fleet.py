# SPDX-License-Identifier: Apache-2.0
"""What the fleet tests share (test_fleet.py, test_fleet_sight.py,
tests/bench/fleet.py): a throwaway PKI made once per run, the simulator
speaking HTTPS with accounts of its own, and mounts that reach it through
nginx (nginx.py) or directly."""
import atexit
import os
import shutil
import subprocess
import tempfile
import threading

import pki
from harness import Skip
from mount import Mount, require_fuse
from nginx import require as require_nginx
from sim import Sim

R = "fr-par"
# Accounts' keys: UUIDs, as Scaleway secret keys are.
T1 = "11111111-1111-4111-8111-111111111111"
T2 = "22222222-2222-4222-8222-222222222222"
GATEWAY = "99999999-9999-4999-8999-999999999999"

_pki = {}


def certs():
    """The test PKI (pki.make) and the fleet's (pki.fleet), once a run."""
    if not pki.openssl_available():
        raise Skip("the openssl command is missing")
    if not _pki:
        d = tempfile.mkdtemp(prefix="interlinkfs-fleet-pki-")
        atexit.register(shutil.rmtree, d, ignore_errors=True)
        _pki.update(pki.make(os.path.join(d, "tls")))
        _pki["fleet"] = pki.fleet(os.path.join(d, "fleet"))
    return _pki


def need_all():
    """Skips (exit 77, saying why) without FUSE, nginx or openssl."""
    require_fuse()
    require_nginx()
    certs()


def tls_sim(*args, token=None, **kw):
    """The simulator over HTTPS (the cache verifies it), serving *args'
    accounts."""
    cert, key = certs()["server"]
    return Sim("--tls-cert", cert, "--tls-key", key, *args, token=token,
               **kw)


def mount(url, token, *opts, **kw):
    """interlinkfs on url (the cache, or the simulator) with token,
    trusting the test CA."""
    env = {"SCW_API_URL": url, "SCW_SECRET_KEY": token}
    env.update(kw.pop("env", {}))
    return Mount(None, "ca_file=" + certs()["ca"], *opts, env=env, **kw)


def gateway_mount(url, host, *opts, **kw):
    """interlinkfs behind the gateway: no key, host's certificate (a name
    of pki.fleet, or None for none)."""
    o = ["gateway", "api_url=" + url, "ca_file=" + certs()["ca"]]
    if host:
        cert, key = certs()["fleet"][host]
        o += ["cert_file=" + cert, "key_file=" + key]
    return Mount(None, *(o + list(opts)), **kw)


def walk_all(mounts, argv=("grep", "-rlx", "active", "regions"),
             timeout=120):
    """argv run in every mount at once (one process each); their exit
    statuses."""
    procs = [subprocess.Popen(list(argv), cwd=m.dir,
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE) for m in mounts]
    out = []
    for p in procs:
        try:
            _, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            raise
        out.append((p.returncode, err.decode(errors="replace")))
    return out


def start_mounts(n, make):
    """n mounts made by make(i) at once (each waits for its own mount)."""
    out, errs = [None] * n, []

    def one(i):
        try:
            out[i] = make(i)
        except Exception as e:  # noqa: B902 - re-raised below
            errs.append(e)
    ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    if errs:
        raise errs[0]
    return out
