# SPDX-License-Identifier: Apache-2.0
"""interlink-sim as a black box: what a client sees over HTTP on 127.0.0.1."""
import http.client
import os
import signal
import socket
import subprocess
import threading
import time

from harness import read_line, run, spawn, stop_process
from oracle import DOCUMENTED_FIELDS
from sim import API, Sim

SIM = os.environ["INTERLINK_SIM"]


def test_acceptance_scenario_130_connections_capped_at_50():
    sim = Sim("--max-page-size", "50", connections=130, seed=7, token="T")
    status, body = sim.api("/fr-par/dedicated-connections?page_size=1000")
    assert status == 200
    assert len(body["connections"]) == 50
    assert body["total_count"] == 130
    ids = []
    for page in (1, 2, 3):
        status, body = sim.api("/fr-par/dedicated-connections?page_size=1000"
                               "&page=%d" % page)
        assert status == 200
        ids += [c["id"] for c in body["connections"]]
        for c in body["connections"]:
            for f in DOCUMENTED_FIELDS:
                assert f in c, (f, c["id"])
    assert len(ids) == 130 and len(set(ids)) == 130
    status, body = sim.api("/fr-par/dedicated-connections/nope")
    assert status == 404
    assert body == {"message": "resource is not found", "type": "not_found",
                    "resource": "dedicated_connection",
                    "resource_id": "nope"}, body
    status, body = sim.api("/fr-par/dedicated-connections", token="wrong")
    assert status == 401 and body["type"] == "denied_authentication", body
    status, body = sim.api("/fr-par/dedicated-connections", token=False)
    assert status == 401 and body["type"] == "denied_authentication", body
    assert sim.stop() == 0


def _all_bytes(sim):
    out = []
    for region in ("fr-par", "pl-waw"):
        for page in (1, 2, 3):
            out.append(sim.request(API + "/%s/dedicated-connections?page=%d"
                                   "&page_size=40" % (region, page))[2])
        for c in sim.list_all(region):
            out.append(sim.request(API + "/%s/dedicated-connections/%s"
                                   % (region, c["id"]))[2])
        out.append(sim.request(API + "/%s/pops" % region)[2])
    return out


def test_same_seed_gives_byte_identical_responses():
    a = Sim(connections=90, seed=42)
    first = _all_bytes(a)
    a.stop()
    b = Sim(connections=90, seed=42)
    second = _all_bytes(b)
    b.stop()
    c = Sim(connections=90, seed=43)
    third = _all_bytes(c)
    c.stop()
    assert first == second
    assert first != third


def _ids(sim, token):
    status, body = sim.api("/fr-par/dedicated-connections?page_size=1000",
                           token=token)
    return status, {c["id"] for c in body.get("connections", [])}


def test_accounts_each_read_their_own_data():
    t1, t2 = "11111111-0000-4000-8000-000000000001", \
        "22222222-0000-4000-8000-000000000002"
    sim = Sim("--regions", "fr-par", "--account", t1 + "=5", "--account",
              t2 + "=6", token=None, connections=4)
    s1, ids1 = _ids(sim, t1)
    s2, ids2 = _ids(sim, t2)
    assert s1 == s2 == 200 and len(ids1) == len(ids2) == 4
    assert not ids1 & ids2, (ids1, ids2)
    assert ids1 == {c["id"] for c in sim.data("account1")["fr-par"]
                    ["connections"]}
    assert ids2 == {c["id"] for c in sim.data("account2")["fr-par"]
                    ["connections"]}
    # Without --token, no other token is anyone's.
    assert _ids(sim, "any-other-token")[0] == 401
    # The log names the account, never the token.
    reqs = sim.requests()
    assert [r["account"] for r in reqs] == ["account1", "account2", None]
    assert t1 not in str(reqs) and t2 not in str(reqs)
    # One account revoked alone; then back.
    sim.revoke("account2")
    assert _ids(sim, t2)[0] == 401 and _ids(sim, t1) == (200, ids1)
    assert sim.requests()[-2]["auth"] == "revoked"
    sim.revoke("account2", revoked=False)
    assert _ids(sim, t2) == (200, ids2)
    # A fault's answer is logged with the account too.
    sim.fault("status", count=1)
    assert _ids(sim, t2)[0] == 503
    assert sim.requests()[-1]["account"] == "account2"
    # Changes go to the account named.
    cid = sorted(ids2)[0]
    sim.ctl("POST", "/regions/fr-par/connections/%s?account=account2" % cid,
            {"name": "renamed"})
    assert [c["name"] for c in sim.data("account2")["fr-par"]["connections"]
            if c["id"] == cid] == ["renamed"]
    status, _, _ = sim.request("/_sim/revoke", method="POST",
                               body={"account": "account9"}, token=False)
    assert status == 404
    status, _, _ = sim.request("/_sim/data?account=account9", token=False)
    assert status == 404
    assert sim.stop() == 0


def test_token_and_accounts_together():
    t1 = "11111111-0000-4000-8000-000000000001"
    sim = Sim("--regions", "fr-par", "--account", t1 + "=5", token="T",
              connections=3, seed=9)
    assert _ids(sim, "T")[1] == {c["id"] for c in sim.data()["fr-par"]
                                 ["connections"]}
    assert not _ids(sim, "T")[1] & _ids(sim, t1)[1]
    assert _ids(sim, "other")[0] == 401
    assert sim.requests()[0]["account"] == "default"
    for bad in ("=5", "tok=", "tok=x", "tok"):
        p = subprocess.run([SIM, "--account", bad], capture_output=True,
                           timeout=10)
        assert p.returncode != 0 and b"--account" in p.stderr, (bad, p)
    assert sim.stop() == 0


def test_refuses_non_loopback_listen():
    for addr in ("0.0.0.0:0", "[::]:0", "192.0.2.1:0"):
        p = subprocess.run([SIM, "--listen", addr], capture_output=True,
                           timeout=10)
        assert p.returncode == 2, (addr, p)
        assert b"loopback" in p.stderr, p.stderr


def test_ipv6_loopback_listen():
    if not socket.has_ipv6:
        return
    p = spawn([SIM, "--listen", "[::1]:0"], stdout=subprocess.PIPE,
              stderr=subprocess.PIPE)
    line = read_line(p.stdout, 10)
    stop_process(p)
    if "listening" not in line:
        return  # no IPv6 on this host
    assert line.startswith("interlink-sim listening on http://[::1]:"), line


def test_forbidden_and_unknown_regions():
    sim = Sim("--forbid", "pl-waw")
    status, body = sim.api("/pl-waw/dedicated-connections")
    assert status == 403 and body["type"] == "permissions_denied", body
    status, body = sim.api("/xx-yyy/dedicated-connections")
    assert status == 404 and body["type"] == "not_found", body
    status, body = sim.api("/fr-par/dedicated-connections")
    assert status == 200


def test_filters_are_applied_over_http():
    sim = Sim(connections=40)
    every = sim.list_all("fr-par")
    active = [c for c in every if c["status"] == "active"]
    got = sim.list_all("fr-par", "&status=active")
    assert [c["id"] for c in got] == [c["id"] for c in active]
    tagged = [c for c in every if "prod" in c["tags"] and "edge" in c["tags"]]
    got = sim.list_all("fr-par", "&tags=prod&tags=edge")
    assert sorted(c["id"] for c in got) == sorted(c["id"] for c in tagged)
    assert 0 < len(tagged) < len(every)
    status, body = sim.api("/fr-par/dedicated-connections?page_size=1001")
    assert status == 400 and body["type"] == "invalid_arguments"
    assert body["details"][0]["argument_name"] == "page_size"


def test_counters_requests_and_reset():
    sim = Sim()
    sim.api("/fr-par/dedicated-connections")
    sim.api("/fr-par/dedicated-connections/x")
    sim.api("/fr-par/pops")
    c = sim.counters()
    assert (c["list"], c["get"], c["pops_list"], c["total"]) == (1, 1, 1, 3), c
    reqs = sim.requests()
    assert [r["endpoint"] for r in reqs] == ["list", "get", "pops_list"]
    assert reqs[0]["auth"] == "ok"
    assert reqs[1]["status"] == 404
    assert reqs[0]["t_ms"] <= reqs[1]["t_ms"] <= reqs[2]["t_ms"]
    sim.reset()
    assert sim.counters()["total"] == 0


def test_mutations_are_visible():
    sim = Sim(connections=5)
    c = sim.list_all("fr-par")[2]
    sim.patch("fr-par", c["id"], {"status": "failed", "name": "renamed"})
    status, got = sim.api("/fr-par/dedicated-connections/" + c["id"])
    assert got["status"] == "failed" and got["name"] == "renamed"
    assert got["updated_at"] == c["updated_at"]
    sim.delete("fr-par", c["id"])
    status, _ = sim.api("/fr-par/dedicated-connections/" + c["id"])
    assert status == 404
    new = sim.add("fr-par", {"name": "brand-new", "status": "configuring"})
    ids = [x["id"] for x in sim.list_all("fr-par")]
    assert new in ids and c["id"] not in ids and len(ids) == 5


def test_latency_option_delays_every_api_request():
    sim = Sim("--latency", "300")
    t0 = time.monotonic()
    sim.api("/fr-par/dedicated-connections")
    assert time.monotonic() - t0 >= 0.3
    t0 = time.monotonic()
    sim.counters()  # controls are not delayed
    assert time.monotonic() - t0 < 0.3


def test_fault_status_503_json_then_recovers():
    sim = Sim()
    sim.fault("status", status=503, count=2)
    for _ in range(2):
        status, hdrs, body = sim.request(API + "/fr-par/dedicated-connections")
        assert status == 503 and hdrs["Content-Type"] == "application/json"
        assert b"service_unavailable" in body
    status, _, _ = sim.request(API + "/fr-par/dedicated-connections")
    assert status == 200
    assert sim.counters()["faults"] == 2


def test_fault_html_502():
    sim = Sim()
    sim.fault("html", count=1)
    status, hdrs, body = sim.request(API + "/fr-par/dedicated-connections")
    assert status == 502 and hdrs["Content-Type"] == "text/html"
    assert body.startswith(b"<html>")


def test_fault_429_with_and_without_retry_after():
    sim = Sim()
    sim.fault("rate_limit", retry_after=2, count=1)
    sim.fault("rate_limit", count=1)
    status, hdrs, body = sim.request(API + "/fr-par/dedicated-connections")
    assert status == 429 and hdrs.get("Retry-After") == "2", hdrs
    assert hdrs.get("x-envoy-ratelimited") == "true" and body == b""
    status, hdrs, body = sim.request(API + "/fr-par/dedicated-connections")
    assert status == 429 and "Retry-After" not in hdrs, hdrs
    status, _, _ = sim.request(API + "/fr-par/dedicated-connections")
    assert status == 200


def test_fault_truncated_and_invalid_json():
    sim = Sim()
    sim.fault("truncate", count=1)
    sim.fault("invalid_json", count=1)
    for _ in range(2):
        status, _, body = sim.request(API + "/fr-par/dedicated-connections")
        assert status == 200
        try:
            import json
            json.loads(body)
        except ValueError:
            continue
        raise AssertionError("body parsed: %r" % body[:80])


def test_fault_wrong_shapes():
    import json
    sim = Sim()
    for shape, check in (
            ("connections_not_array",
             lambda b: isinstance(b["connections"], dict)),
            ("total_count_string", lambda b: isinstance(b["total_count"], str)),
            ("id_not_string",
             lambda b: isinstance(b["connections"][0]["id"], int))):
        sim.fault("shape", shape=shape, count=1)
        status, _, body = sim.request(API + "/fr-par/dedicated-connections")
        assert status == 200 and check(json.loads(body)), shape


def test_fault_connection_reset_mid_body():
    sim = Sim(connections=50)
    sim.fault("reset", count=1)
    try:
        sim.request(API + "/fr-par/dedicated-connections?page_size=50")
    except (http.client.IncompleteRead, ConnectionError) as e:
        assert e is not None
    else:
        raise AssertionError("the response was complete")
    status, _, _ = sim.request(API + "/fr-par/dedicated-connections")
    assert status == 200


def test_fault_hang_until_cleared():
    sim = Sim()
    sim.fault("hang", match="get")
    t0 = time.monotonic()
    try:
        sim.request(API + "/fr-par/dedicated-connections/x", timeout=1)
    except socket.timeout:
        pass
    else:
        raise AssertionError("a hanging request answered")
    assert time.monotonic() - t0 >= 0.9
    # Other endpoints are not affected by a fault that matches "get".
    status, _, _ = sim.request(API + "/fr-par/dedicated-connections")
    assert status == 200
    sim.clear_faults()
    status, _, _ = sim.request(API + "/fr-par/dedicated-connections/x")
    assert status == 404


def test_fault_latency_and_raw_body_and_huge():
    sim = Sim()
    sim.fault("latency", ms=400, count=1)
    t0 = time.monotonic()
    status, _, _ = sim.request(API + "/fr-par/dedicated-connections")
    assert status == 200 and time.monotonic() - t0 >= 0.4
    sim.fault("body", status=200, body='{"connections": [{"id": "a\\u0000b"'
              '}], "total_count": 1}', count=1)
    status, _, body = sim.request(API + "/fr-par/dedicated-connections")
    assert body.startswith(b'{"connections": [{"id": "a\\u0000b"')
    sim.fault("huge", size=3 << 20, count=1)
    status, hdrs, body = sim.request(API + "/fr-par/dedicated-connections")
    assert status == 200 and len(body) > 3 << 19
    import json
    assert json.loads(body)["total_count"] == 1
    sim.fault("huge", size=1 << 20, chunked=True, count=1)
    status, hdrs, body = sim.request(API + "/fr-par/dedicated-connections")
    assert hdrs.get("Transfer-Encoding") == "chunked", hdrs
    assert len(body) > 1 << 19


def test_sigterm_stops_cleanly_even_with_a_hanging_request():
    sim = Sim()
    sim.fault("hang")
    t = threading.Thread(target=lambda: _swallow(
        lambda: sim.request(API + "/fr-par/dedicated-connections",
                            timeout=20)))
    t.start()
    time.sleep(0.3)
    t0 = time.monotonic()
    assert sim.stop(timeout=10) == 0
    assert time.monotonic() - t0 < 5
    t.join(20)
    assert not t.is_alive()


def test_sigint_stops_cleanly():
    sim = Sim()
    sim.proc.send_signal(signal.SIGINT)
    assert sim.proc.wait(10) == 0


def _swallow(fn):
    try:
        fn()
    except Exception:
        pass


if __name__ == "__main__":
    run(globals())
