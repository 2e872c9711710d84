# SPDX-License-Identifier: Apache-2.0
"""TLS and proxies on real mounts, without leaving the machine: the
simulator serves HTTPS with certificates of a throwaway PKI (made here with
openssl, in a temporary directory), and a CONNECT proxy on 127.0.0.1
stands in for a corporate one."""
import atexit
import errno
import os
import shutil
import subprocess
import tempfile
import time

import pki
from harness import errno_of, listdir, read, run, Skip, wait_for
from mount import Mount
from sim import Proxy, Sim

R = "fr-par"
TIMEOUT = 2
PROXY_USER, PROXY_PASS = "proxyuser", "pr0xy-s3cret"

_pki = {}


def certs():
    """The PKI, made once per run in a temporary directory."""
    if not pki.openssl_available():
        raise Skip("the openssl command is missing")
    if not _pki:
        d = tempfile.mkdtemp(prefix="interlinkfs-pki-")
        atexit.register(shutil.rmtree, d, ignore_errors=True)
        _pki.update(pki.make(d))
        _pki["tmp"] = d
    return _pki


def tls_sim(which="server", **kw):
    cert, key = certs()[which]
    return Sim("--regions", R, "--tls-cert", cert, "--tls-key", key, **kw)


def timed(fn, *args):
    t0 = time.monotonic()
    e = errno_of(fn, *args)
    return e, time.monotonic() - t0


def conns(m):
    return m.path("regions", R, "connections")


def test_simulator_speaks_tls():
    sim = tls_sim(connections=3)
    assert sim.url.startswith("https://127.0.0.1:")
    assert len(sim.list_all(R)) == 3


def test_a_trusted_ca_works_from_each_place():
    ca = certs()["ca"]
    sim = tls_sim(connections=4)
    # -o ca_file=, SSL_CERT_FILE, SSL_CERT_DIR.
    for opts, env in (([ "ca_file=" + ca], {}),
                      ([], {"SSL_CERT_FILE": ca}),
                      ([], {"SSL_CERT_DIR": certs()["dir"]})):
        m = Mount(sim, "regions=" + R, *opts, env=env)
        assert len(listdir(conns(m))) == 4, (opts, env, m.log())
        m.unmount()
    # ca_file= comes first: SSL_CERT_FILE naming another CA is ignored.
    other = os.path.join(certs()["tmp"], "otherca.pem")
    m = Mount(sim, "regions=" + R, "ca_file=" + ca,
              env={"SSL_CERT_FILE": other})
    assert len(listdir(conns(m))) == 4
    m.unmount()
    # Nothing given: the system's CAs, which do not know the test CA.
    m = Mount(sim, "regions=" + R, "timeout=%d" % TIMEOUT)
    e, took = timed(listdir, conns(m))
    assert e == errno.EPROTO and took <= TIMEOUT + 2, (e, took)
    assert "unable to get local issuer certificate" in m.log(), m.log()


def test_bad_certificates_are_refused_and_named():
    ca = certs()["ca"]
    # OpenSSL's words for each (interlinkfs's own for a host name that
    # does not match); OpenSSL 1.1 wrote "self signed".
    for which, words in (("expired", ("certificate has expired",)),
                         ("otherhost", ("host name mismatch",)),
                         ("selfsigned", ("self-signed certificate",
                                         "self signed certificate")),
                         ("untrusted", ("unable to get local issuer",))):
        sim = tls_sim(which, connections=2)
        m = Mount(sim, "regions=" + R, "ca_file=" + ca,
                  "timeout=%d" % TIMEOUT)
        e, took = timed(listdir, conns(m))
        assert e == errno.EPROTO, (which, e)
        assert took <= TIMEOUT + 2, (which, took)
        log = m.log()
        assert any(w in log for w in words), (which, log)
        assert "TLS with 127.0.0.1:%d failed" % sim.port in log, log
        assert m.unmount() == 0
        sim.stop()


def test_a_certificate_failure_serves_stale_data():
    ca = certs()["ca"]
    sim = tls_sim(connections=3)
    m = Mount(sim, "regions=" + R, "ca_file=" + ca, "ttl=1", "stale=600",
              "grace=0.5", "timeout=%d" % TIMEOUT)
    c = sim.list_all(R)[0]
    status = os.path.join(conns(m), c["id"], "status")
    assert read(status) == c["status"].encode() + b"\n"
    # The same simulator, now with an expired certificate.
    cert, key = certs()["expired"]
    i = sim.argv.index("--tls-cert")
    sim.argv[i + 1], sim.argv[i + 3] = cert, key
    sim.restart()
    time.sleep(1.5)
    assert read(status) == c["status"].encode() + b"\n"
    wait_for(lambda: "certificate has expired" in m.log(), 10,
             "the certificate problem logged")
    assert int(m.stats()["stale_served"]) >= 1


def test_insecure_connects_anyway_and_warns():
    sim = tls_sim("selfsigned", connections=2)
    m = Mount(sim, "regions=" + R, env={"SCW_INSECURE": "true"})
    assert len(listdir(conns(m))) == 2
    assert "TLS certificates of %s are not verified" % sim.url in m.log()


def proxied(sim, proxy_url, var="https_proxy", **env):
    e = {var: proxy_url}
    e.update(env)
    return Mount(sim, "regions=" + R, "ca_file=" + certs()["ca"],
                 "timeout=%d" % TIMEOUT, "log_level=debug", env=e)


def test_proxies_from_the_environment():
    sim = tls_sim(connections=3)
    for var in ("https_proxy", "HTTPS_PROXY"):
        proxy = Proxy(certs()["tmp"])
        sim.reset()
        m = proxied(sim, proxy.url, var)
        assert len(listdir(conns(m))) == 3
        assert any(l.startswith("CONNECT 127.0.0.1:%d -> " % sim.port)
                   for l in proxy.lines()), proxy.lines()
        assert sim.counters()["list"] >= 1
        # The key travels inside the tunnel only.
        assert sim.token.encode() not in proxy.seen()
        assert b"CONNECT" in proxy.seen()
        m.unmount()
        proxy.stop()
    # no_proxy / NO_PROXY: straight to the API.
    for var in ("no_proxy", "NO_PROXY"):
        proxy = Proxy(certs()["tmp"])
        m = proxied(sim, proxy.url, **{var: "127.0.0.1"})
        assert len(listdir(conns(m))) == 3
        assert proxy.lines() == [], proxy.lines()
        m.unmount()
        proxy.stop()


def test_proxy_credentials_stay_secret():
    sim = tls_sim(connections=3)
    proxy = Proxy(certs()["tmp"], auth=PROXY_USER + ":" + PROXY_PASS)
    url = "http://%s:%s@127.0.0.1:%d" % (PROXY_USER, PROXY_PASS, proxy.port)
    m = proxied(sim, url)
    assert len(listdir(conns(m))) == 3
    assert any("status 200 auth yes" in l for l in proxy.lines())
    assert sim.token.encode() not in proxy.seen()
    texts = [m.log(), read(m.path(".interlinkfs", "stats")).decode(),
             read(m.path(".interlinkfs", "metrics")).decode()]
    with open("/proc/mounts") as f:
        texts.append(f.read())
    for t in texts:
        assert PROXY_PASS not in t and PROXY_USER not in t, t[-2000:]
    assert "Proxy-Authorization: [REDACTED]" in m.log()


def test_proxy_failures_name_the_proxy():
    sim = tls_sim(connections=2)
    # Down: nothing listens there.
    dead = Proxy(certs()["tmp"])
    dead.stop()
    for answer, want in ((None, errno.ECONNREFUSED), (403, errno.EACCES),
                         (407, errno.EACCES)):
        proxy = dead if answer is None else Proxy(certs()["tmp"],
                                                  answer=answer)
        m = proxied(sim, proxy.url)
        e, took = timed(listdir, conns(m))
        assert e == want, (answer, e)
        assert took <= TIMEOUT + 2, (answer, took)
        log = m.log()
        assert "proxy http://127.0.0.1:%d" % proxy.port in log, log
        assert "from https_proxy" in log
        if answer:
            assert "refused the tunnel to 127.0.0.1:%d: HTTP %d" % (
                sim.port, answer) in log, log
        else:
            assert "cannot reach the proxy" in log, log
        m.unmount()
        if answer:
            proxy.stop()


def test_the_default_api_url_through_a_proxy():
    """What real users run: https://api.scaleway.com, through a proxy
    that resolves the name (here, to the simulator), with a custom CA."""
    sim = tls_sim(connections=5)
    proxy = Proxy(certs()["tmp"],
                  mapping={"api.scaleway.com:443": sim.port})
    m = Mount(sim, "regions=" + R, env={
        "SCW_API_URL": "", "https_proxy": proxy.url,
        "SSL_CERT_FILE": certs()["ca"]})
    ids = listdir(conns(m))
    assert len(ids) == 5
    c = sim.list_all(R)[0]
    assert read(os.path.join(conns(m), c["id"], "status")) == \
        c["status"].encode() + b"\n"
    p = subprocess.run("grep -rlx active regions/%s/connections" % R,
                       shell=True, cwd=m.dir, capture_output=True,
                       timeout=60)
    assert p.returncode in (0, 1), p.stderr
    assert p.stdout.decode().count("/status") == sum(
        1 for x in sim.list_all(R) if x["status"] == "active")
    assert all(l.startswith("CONNECT api.scaleway.com:443 -> 127.0.0.1:")
               for l in proxy.lines()) and proxy.lines(), proxy.lines()


if __name__ == "__main__":
    run(globals())
