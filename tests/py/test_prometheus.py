# SPDX-License-Identifier: Apache-2.0
"""InterLink's state for Prometheus: .interlinkfs/prometheus/*.prom.

The files are valid for promtool; their series say what the simulator
holds; and end to end, with Debian's node_exporter scraping the directory
and a real Prometheus server scraping node_exporter with the shipped
rules (examples/prometheus/interlink.rules.yml), a BGP session set down
fires its alert within ttl and two scrape intervals and resolves when it
comes back, and an API that fails fires the "blind" alert. Every program
runs on 127.0.0.1, is stopped by PID, and its data is removed.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

from harness import Skip, listdir, on_cleanup, read, run, spawn, \
    stop_process, wait_for
from mount import Mount
from sim import Sim

ROOT = os.environ["SOURCE_ROOT"]
RULES = os.path.join(ROOT, "examples", "prometheus", "interlink.rules.yml")
PROM_DIR = (".interlinkfs", "prometheus")


def need(prog):
    path = shutil.which(prog)
    if not path:
        raise Skip("%s is not installed (tests/deps.sh installs it)" % prog)
    return path


def series(text):
    """{(name, frozenset(labels)): value} of a text exposition."""
    out = {}
    for line in text.decode().splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^(\w+)\{(.*)\} (\S+)$', line)
        assert m, line
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"',
                                      m.group(2)))
        key = (m.group(1), labels)
        assert key not in out, line
        out[key] = float(m.group(3))
    return out


def test_promtool_finds_no_problem():
    promtool = need("promtool")
    sim = Sim("--regions", "fr-par,nl-ams", connections=6)
    m = Mount(sim, "regions=fr-par:nl-ams")
    assert sorted(listdir(m.path(*PROM_DIR))) == ["interlink.prom",
                                                 "interlinkfs.prom"]
    for f in listdir(m.path(*PROM_DIR)):
        p = subprocess.run([promtool, "check", "metrics"],
                           input=read(m.path(*PROM_DIR, f)),
                           capture_output=True, timeout=30)
        assert p.returncode == 0 and not p.stdout.strip(), (f, p.stdout,
                                                             p.stderr)
    p = subprocess.run([promtool, "check", "rules", RULES],
                       capture_output=True, timeout=30)
    assert p.returncode == 0 and b"SUCCESS" in p.stdout, p
    assert m.unmount() == 0


STATUSES = ["unknown_link_status", "configuring", "failed", "requested",
            "refused", "expired", "provisioning", "active",
            "limited_connectivity", "all_down", "deprovisioning", "deleted",
            "locked", "ready"]
BGP = ["unknown_bgp_status", "up", "down", "disabled"]


def test_the_series_say_what_the_api_holds():
    sim = Sim("--regions", "fr-par,nl-ams", connections=8, seed=4)
    m = Mount(sim, "regions=fr-par:nl-ams")
    s = series(read(m.path(*PROM_DIR, "interlink.prom")))
    data = sim.data()
    n = 0
    for r in ("fr-par", "nl-ams"):
        for kind in ("connections", "links"):
            assert s[("interlink_up", frozenset(
                {("region", r), ("kind", kind)}))] == 1
        for l in data[r]["links"]:
            # Identity labels on state series; what describes the link,
            # on its info series, joined by id.
            base = {("region", r), ("id", l["id"])}
            assert s[("interlink_link_info", frozenset(base | {
                ("name", (l.get("name") or "").replace("\\", "\\\\")
                 .replace('"', '\\"').replace("\n", "\\n")),
                ("connection_id", (l.get("self") or {})
                 .get("connection_id") or ""),
                ("partner_id", (l.get("partner") or {})
                 .get("partner_id") or ""),
                ("pop_id", l.get("pop_id") or "")}))] == 1
            for st in STATUSES:
                assert s[("interlink_link_status", frozenset(
                    base | {("status", st)}))] == (l["status"] == st)
            for fam, key in (("ipv4", "bgp_v4_status"),
                             ("ipv6", "bgp_v6_status")):
                for st in BGP:
                    assert s[("interlink_link_bgp_status", frozenset(
                        base | {("family", fam), ("status", st)}))] == \
                        (l.get(key) == st)
            if l.get("bandwidth_mbps") is not None:
                assert s[("interlink_link_bandwidth_mbps",
                          frozenset(base))] == l["bandwidth_mbps"]
            n += 1
        for c in data[r]["connections"]:
            st = [v for (name, labels), v in s.items()
                  if name == "interlink_connection_status" and
                  ("id", c["id"]) in labels and
                  ("status", c["status"]) in labels]
            assert st == [1.0], c
    assert n >= 16
    assert m.unmount() == 0


def test_blind_is_said_not_hidden():
    sim = Sim("--regions", "fr-par", connections=4)
    m = Mount(sim, "regions=fr-par", "ttl=1", "timeout=1", "grace=0.2")
    path = m.path(*PROM_DIR, "interlink.prom")
    s = series(read(path))
    up = ("interlink_up", frozenset({("region", "fr-par"),
                                     ("kind", "links")}))
    assert s[up] == 1
    sim.fault("status", count=0, match="links_list")

    def blind():
        return series(read(path)).get(up) == 0
    wait_for(blind, 10, "interlink_up 0 with the links listing failing")
    # What was listed is still there, stale, its age growing.
    s = series(read(path))
    assert any(k[0] == "interlink_link_status" for k in s)
    age = ("interlink_listing_age_seconds", up[1])
    a0 = s[age]
    time.sleep(1.5)
    assert series(read(path))[age] > a0
    sim.clear_faults()
    wait_for(lambda: series(read(path)).get(up) == 1, 10,
             "interlink_up back to 1")
    assert m.unmount() == 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())


def workdir():
    """A directory for the programs' logs and data: at the end of the test,
    the programs started in it are stopped (by PID), then it is removed."""
    work = tempfile.mkdtemp(prefix="interlinkfs-prom-")
    procs = []

    def end():
        for p in procs:
            stop_process(p)
        shutil.rmtree(work, ignore_errors=True)
    on_cleanup(end)
    return work, procs


def start(argv, url, what, work):
    """A program started, and waited for until url answers (bounded)."""
    workdir, procs = work
    log = open(os.path.join(workdir, what + ".log"), "wb")
    p = spawn(argv, stdout=log, stderr=subprocess.STDOUT)
    procs.append(p)

    def up():
        assert p.poll() is None, "%s exited: %s" % (
            what, open(log.name, "rb").read()[-2000:])
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return True
        except OSError:
            return False
    wait_for(up, 30, what + " answering")
    return p


def alerts(prom, name):
    out = get_json(prom + "/api/v1/alerts")["data"]["alerts"]
    return [a for a in out if a["labels"]["alertname"] == name and
            a["state"] == "firing"]


def test_end_to_end_with_node_exporter_and_prometheus():
    exporter = need("prometheus-node-exporter")
    prometheus = need("prometheus")
    ttl, scrape = 2, 1
    sim = Sim("--regions", "fr-par,nl-ams", connections=4)
    m = Mount(sim, "regions=fr-par:nl-ams", "ttl=%d" % ttl)
    work = workdir()
    ne_port, prom_port = free_port(), free_port()
    ne = start([exporter, "--web.listen-address=127.0.0.1:%d" % ne_port,
                "--collector.disable-defaults", "--collector.textfile",
                "--collector.textfile.directory=" + m.path(*PROM_DIR)],
               "http://127.0.0.1:%d/metrics" % ne_port, "node_exporter",
               work)
    with open(os.path.join(work[0], "prometheus.yml"), "w") as f:
        f.write("global:\n  scrape_interval: %ds\n  evaluation_interval: "
                "%ds\nrule_files:\n  - %s\nscrape_configs:\n  - job_name: "
                "node\n    static_configs:\n      - targets: "
                "['127.0.0.1:%d']\n" % (scrape, scrape, RULES, ne_port))
    prom = "http://127.0.0.1:%d" % prom_port
    pr = start([prometheus, "--config.file=" + os.path.join(
        work[0], "prometheus.yml"), "--storage.tsdb.path=" +
        os.path.join(work[0], "data"), "--web.listen-address=127.0.0.1:%d"
        % prom_port], prom + "/-/ready", "prometheus", work)

    def query(q):
        return get_json(prom + "/api/v1/query?query=" +
                        urllib.parse.quote(q))["data"]["result"]
    wait_for(lambda: len(query("interlink_up == 1")) >= 4, 30,
             "InterLink state in Prometheus")
    # A BGP session goes down: its alert fires within ttl and two scrape
    # intervals, with nobody reading the tree.
    link = [l for l in sim.data()["nl-ams"]["links"]
            if l.get("bgp_v4_status") == "up"][0]
    assert not [a for a in alerts(prom, "InterLinkBGPSessionDown")
                if a["labels"]["id"] == link["id"]]
    t0 = time.monotonic()
    sim.patch("nl-ams", link["id"], {"bgp_v4_status": "down"}, kind="links")

    def fired():
        return [a for a in alerts(prom, "InterLinkBGPSessionDown")
                if a["labels"]["id"] == link["id"] and
                a["labels"]["family"] == "ipv4"]
    wait_for(fired, 30, "the BGP alert")
    took = time.monotonic() - t0
    print("BGP alert fired %.2f s after the change (ttl %d s, scrape %d s)"
          % (took, ttl, scrape))
    assert took <= ttl + 2 * scrape + 0.5, took
    # The summary reads by name, joined from the info series.
    assert link["name"] in fired()[0]["annotations"]["summary"], fired()
    # A rename: every state series stays (they carry no name), the alert
    # stays the same alert (its labels are who it is about: same id,
    # same start), and no other alert fires.
    def link_series():
        return sorted(json.dumps(r["metric"], sort_keys=True) for r in query(
            'interlink_link_bgp_status{id="%s"}' % link["id"]))
    before, active = link_series(), fired()[0]["activeAt"]
    others = sorted(a["labels"]["alertname"] + a["labels"].get("id", "")
                    for a in get_json(prom + "/api/v1/alerts")["data"]
                    ["alerts"])
    sim.patch("nl-ams", link["id"], {"name": "renamed-link"}, kind="links")
    wait_for(lambda: "renamed-link" in fired()[0]["annotations"]["summary"],
             30, "the summary's new name")
    assert link_series() == before
    assert [a["activeAt"] for a in fired()] == [active]
    assert sorted(a["labels"]["alertname"] + a["labels"].get("id", "")
                  for a in get_json(prom + "/api/v1/alerts")["data"]
                  ["alerts"]) == others
    # It comes back: the alert resolves.
    sim.patch("nl-ams", link["id"], {"bgp_v4_status": "up"}, kind="links")
    t0 = time.monotonic()
    wait_for(lambda: not fired(), 30, "the BGP alert resolved")
    print("resolved %.2f s after" % (time.monotonic() - t0))
    # The API fails: the blind alert fires (the state is stale).
    sim.fault("status", count=0)
    t0 = time.monotonic()
    wait_for(lambda: alerts(prom, "InterLinkBlind"), 60, "the blind alert")
    print("blind alert fired %.2f s after the API failed"
          % (time.monotonic() - t0))
    sim.clear_faults()
    wait_for(lambda: not alerts(prom, "InterLinkBlind"), 60,
             "the blind alert resolved")
    # Answers that come old, as from a cache in front of the API that
    # serves what it kept while the API fails: blind too.
    sim.fault("age", count=0, date_ago=10 * ttl)
    wait_for(lambda: alerts(prom, "InterLinkBlind"), 60,
             "the blind alert on old answers")
    sim.clear_faults()
    stop_process(pr)
    stop_process(ne)
    assert m.unmount() == 0


if __name__ == "__main__":
    run(globals())
