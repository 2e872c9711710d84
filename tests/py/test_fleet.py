# SPDX-License-Identifier: Apache-2.0
"""A fleet on one API load (docs/fleet.md): interlinkfs mounts behind
Debian's nginx running examples/fleet/ as shipped (nginx.py), in front of
the simulator over HTTPS. Many hosts walking at once cost the API one
host's requests; two accounts never see each other's objects; no token
reaches the cache's disk or nginx's logs; in gateway mode hosts without a
key read everything with a certificate of the fleet, and are refused
without one. nginx runs on 127.0.0.1 with its own prefix, is stopped by
PID, and its directories are removed."""
import errno
import hashlib
import hmac
import os
import re
import subprocess

from fleet import GATEWAY, R, T1, T2, certs, gateway_mount, mount, \
    need_all, start_mounts, tls_sim, walk_all
from harness import errno_of, listdir, read, run, spawn, stop_process, \
    wait_for
from nginx import CACHE_SECRET, Nginx, free_port
from sim import API

HOSTS = 20


def requests_seen(sim):
    """The API requests the simulator answered: (path, query), sorted."""
    return sorted((r["path"], r["query"]) for r in sim.requests()
                  if r["endpoint"] != "other")


def ids(m, kind="connections"):
    return set(listdir(m.path("regions", R, kind))) - {"by-name"}


def sim_ids(sim, account, kind="connections"):
    return {o["id"] for o in sim.data(account)[R][kind]}


def test_twenty_hosts_walking_at_once_cost_one_hosts_requests():
    need_all()
    # Several pages per list: each page is one request, once.
    sim = tls_sim("--regions", R, "--max-page-size", "10", "--account",
                  T1 + "=3", connections=35)
    n = Nginx(sim, certs())
    hosts = start_mounts(HOSTS, lambda i: mount(n.cache_url, T1,
                                                "regions=" + R))
    for rc, err in walk_all(hosts):
        assert rc == 0 and not err, (rc, err)
    through = requests_seen(sim)
    for m in hosts:
        assert m.unmount() == 0
    # One host alone, straight to the API, walking the same tree.
    sim.reset()
    alone = mount(sim.url, T1, "regions=" + R)
    assert walk_all([alone]) == [(0, "")]
    direct = requests_seen(sim)
    assert alone.unmount() == 0
    print("%d hosts through the cache: %d requests; one host direct: %d"
          % (HOSTS, len(through), len(direct)))
    assert through == direct, (through, direct)
    assert len(set(direct)) == len(direct)         # one request per page
    assert sum(1 for p, q in direct if p.endswith("/dedicated-connections")
               ) == 4                                 # 35 in pages of 10
    hits = sum(1 for l in n.access() if " 200 HIT " in l)
    assert hits >= (HOSTS - 1) * len(direct) // 2, hits


def test_two_accounts_never_see_each_others_objects():
    need_all()
    sim = tls_sim("--regions", R, "--account", T1 + "=5", "--account",
                  T2 + "=6", connections=6)
    n = Nginx(sim, certs(), lifetime=1)
    one, two = sim_ids(sim, "account1"), sim_ids(sim, "account2")
    assert one and two and not one & two
    a = mount(n.cache_url, T1, "regions=" + R, "ttl=1")
    b = mount(n.cache_url, T2, "regions=" + R, "ttl=1")
    assert ids(a) == one and ids(b) == two
    # The same, from the cache this time.
    a2 = mount(n.cache_url, T1, "regions=" + R)
    b2 = mount(n.cache_url, T2, "regions=" + R)
    assert ids(a2) == one and ids(b2) == two
    assert any(" 200 HIT " in l for l in n.access())
    # The second account's key is revoked: it reads nothing any more
    # (once its copies expire), never the first account's objects, and
    # the first reads on.
    sim.revoke("account2")
    path = b.path("regions", R, "connections")
    wait_for(lambda: errno_of(listdir, path) == errno.EACCES, 15,
             "the revoked key refused")
    assert "the API refused the secret key" in b.log(), b.log()
    b3 = mount(n.cache_url, T2, "regions=" + R)
    assert errno_of(listdir, b3.path("regions", R, "connections")) == \
        errno.EACCES
    assert ids(a) == one and ids(a2) == one
    for m in (a, b, a2, b2, b3):
        assert m.unmount() == 0


def test_no_token_on_the_cache_disk_or_in_nginx_logs():
    need_all()
    sim = tls_sim("--regions", R, "--account", T1 + "=5", "--account",
                  T2 + "=6", connections=4)
    n = Nginx(sim, certs())
    for tok in (T1, T2):
        m = mount(n.cache_url, tok, "regions=" + R)
        assert walk_all([m]) == [(0, "")]
        assert m.unmount() == 0
    disk, logs = n.cache_bytes(), n.logs()
    assert disk.count(b"\nKEY: ") >= 4, disk[:400]
    for tok in (T1, T2):
        assert tok.encode() not in disk and tok.encode() not in logs
        # What stands for it: its HMAC with the cache host's secret.
        mac = hmac.new(CACHE_SECRET.encode(), tok.encode(),
                       hashlib.sha256).hexdigest()
        assert ("\nKEY: %s %s/%s/pops" % (mac, API, R)).encode() in disk
    # A request without a token is answered by nginx: the API never
    # sees it, and nothing is kept. Nor does it see another method, or a
    # path that is not one interlinkfs reads, however it is spelt.
    before = sim.counters()["total"]
    status, headers, body = n.get(API + "/%s/pops" % R, ca=certs()["ca"])
    assert status == 401 and b"denied_authentication" in body, body
    for method, path, want in (
            ("POST", API + "/%s/pops" % R, 403),
            ("DELETE", API + "/%s/links/%s" % (R, "0" * 8 + "-0000-4000-"
                                               "8000-" + "0" * 12), 403),
            ("GET", "/iam/v1alpha1/api-keys", 404),
            ("GET", API + "/%s/pops/%%2e%%2e/%%2e%%2e/%%2e%%2e/%%2e%%2e/"
             "%%2e%%2e/iam/v1alpha1/api-keys" % R, 404),
            ("GET", API + "/%s/pops/..;/..;/x" % R, 404)):
        status, _, _ = n.get(path, token=T1, ca=certs()["ca"],
                             method=method)
        assert status == want, (method, path, status)
    assert sim.counters()["total"] == before


def test_gateway_hosts_hold_no_key():
    need_all()
    # The simulator knows one key: the gateway's.
    sim = tls_sim("--regions", R, "--account", GATEWAY + "=8",
                  connections=5)
    n = Nginx(sim, certs(), fleet=certs()["fleet"], gateway_token=GATEWAY)
    url = n.gateway_url
    host = gateway_mount(url, "host1", "regions=" + R)
    assert ids(host) == sim_ids(sim, "account1")
    assert ids(host, "links") == sim_ids(sim, "account1", "links")
    assert walk_all([host]) == [(0, "")]
    c = sim.data("account1")[R]["connections"][0]
    assert read(host.path("regions", R, "connections", c["id"], "status")) \
        == c["status"].encode() + b"\n"
    # Without a certificate, or with a revoked one, or one of another CA:
    # refused, said, never an empty tree.
    for who, words in ((None, "no client certificate"),
                       ("host2", "certificate revoked"),
                       ("stranger", "client certificate refused")):
        m = gateway_mount(url, who, "regions=" + R)
        e = errno_of(listdir, m.path("regions", R, "connections"))
        assert e == errno.EACCES, (who, e)
        log = m.log()
        assert words in log and "refused this host" in log, (who, log)
        assert m.unmount() == 0
    # Every request the API saw carried the gateway's key, and only it.
    reqs = [r for r in sim.requests() if r["endpoint"] != "other"]
    assert reqs and {r["account"] for r in reqs} == {"account1"}, reqs
    assert host.unmount() == 0
    assert GATEWAY.encode() not in n.logs() + n.cache_bytes()


def test_a_gateway_mount_sends_no_key():
    """-o gateway looks no key up, even one in the environment, and sends
    none: straight to the API, it is refused, and says by whom."""
    need_all()
    sim = tls_sim("--regions", R, token=T1, connections=2)
    m = gateway_mount(sim.url, "host1", "regions=" + R,
                      env={"SCW_SECRET_KEY": T1})
    e = errno_of(listdir, m.path("regions", R, "connections"))
    assert e == errno.EACCES, e
    reqs = [r for r in sim.requests() if r["endpoint"] != "other"]
    assert reqs and {r["auth"] for r in reqs} == {"none"}, reqs
    assert "the gateway %s refused this host" % sim.url in m.log(), m.log()
    assert m.unmount() == 0


def test_a_gateway_mount_wants_the_gateways_address():
    need_all()
    import tempfile
    d = tempfile.mkdtemp(prefix="interlinkfs-test-")
    try:
        p = subprocess.run([os.environ["INTERLINKFS"], d, "-f", "-o",
                            "gateway"], capture_output=True, timeout=10,
                           env={"PATH": os.environ.get("PATH", ""),
                                "SCW_SECRET_KEY": T1})
    finally:
        os.rmdir(d)
    assert p.returncode != 0, p
    assert p.stderr.decode().count("\n") == 1 and \
        b"-o gateway: give the gateway's address" in p.stderr, p.stderr


def test_a_tls_refusal_of_the_certificate_is_said():
    """A server that refuses a client certificate in TLS itself (here
    openssl s_server, wanting one), not over HTTP as nginx does."""
    need_all()
    cert, key = certs()["server"]
    port = free_port()
    srv = spawn(["openssl", "s_server", "-quiet", "-accept",
                 "127.0.0.1:%d" % port, "-cert", cert, "-key", key,
                 "-CAfile", certs()["fleet"]["fleet-ca"], "-Verify", "1",
                 "-verify_return_error", "-www"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)

    def up():
        import socket
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return True
        except OSError:
            return False
    wait_for(up, 10, "openssl s_server listening")
    url = "https://127.0.0.1:%d" % port
    for who, words in ((None, "none was given"),
                       ("stranger", "cert_file=")):
        m = gateway_mount(url, who, "regions=" + R, "timeout=3")
        e = errno_of(listdir, m.path("regions", R, "connections"))
        assert e == errno.EACCES, (who, e, m.log())
        assert re.search(r"refused this host's client certificate \(%s"
                         % re.escape(words), m.log()), m.log()
        assert m.unmount() == 0
    stop_process(srv)


if __name__ == "__main__":
    run(globals())
