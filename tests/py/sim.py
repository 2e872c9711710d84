# SPDX-License-Identifier: Apache-2.0
"""The programs the mount tests run beside interlinkfs: interlink-sim on
127.0.0.1 (a random port), with its /_sim/ controls, and a CONNECT proxy
(connect_proxy.py). Each is stopped by PID when the test ends."""
import http.client
import json
import os
import subprocess
import sys
import time

from harness import read_line, spawn, stop_process

# The simulator's default key: a UUID, as Scaleway secret keys are (a key
# of any other form is refused before mounting).
TOKEN = "7e57c0de-0000-4000-8000-00000000c0de"
API = "/interlink/v1beta1/regions"


class Sim:
    """A running interlink-sim on 127.0.0.1 with a random port."""

    def __init__(self, *args, token=TOKEN, connections=20, seed=1, listen=None,
                 extra_env=None):
        self.token = token
        argv = [os.environ["INTERLINK_SIM"], "--listen",
                listen or "127.0.0.1:0"]
        if token is not None:
            argv += ["--token", token]
        if "--data" not in args:
            argv += ["--connections", str(connections), "--seed", str(seed)]
        argv += list(args)
        self.argv = argv
        self.start()

    def start(self, port=None):
        argv = list(self.argv)
        if port is not None:
            argv[2] = "127.0.0.1:%d" % port
        self.proc = spawn(argv, stdout=subprocess.PIPE)
        line = read_line(self.proc.stdout, 10)
        assert line.startswith(("interlink-sim listening on http://",
                                "interlink-sim listening on https://")), line
        self.url = line.split()[-1]
        self.tls = self.url.startswith("https://")
        hostport = self.url.split("://", 1)[1]
        self.host, port_s = hostport.rsplit(":", 1)
        assert self.host == "127.0.0.1", self.host
        self.port = int(port_s)

    def stop(self, timeout=10):
        return stop_process(self.proc, timeout)

    def restart(self):
        """Stop and start again on the same port (data regenerated)."""
        port = self.port
        self.stop()
        deadline = time.monotonic() + 10
        while True:
            try:
                self.start(port)
                return
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def request(self, path, method="GET", body=None, token=True,
                headers=None, timeout=10):
        if self.tls:
            import ssl
            # The harness talking to its own simulator, whatever test
            # certificate it serves (expired, another host's ...).
            conn = http.client.HTTPSConnection(
                "127.0.0.1", self.port, timeout=timeout,
                context=ssl._create_unverified_context())
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                              timeout=timeout)
        h = dict(headers or {})
        if token is True and self.token is not None:
            h["X-Auth-Token"] = self.token
        elif isinstance(token, str):
            h["X-Auth-Token"] = token
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            conn.close()

    def api(self, path, **kw):
        status, headers, body = self.request(API + path, **kw)
        return status, json.loads(body) if body else None

    def list_all(self, region, query=""):
        """Every connection of a region, paging like the SDKs do."""
        out, page = [], 1
        while True:
            status, body = self.api("/%s/dedicated-connections?page_size=1000"
                                    "&page=%d%s" % (region, page, query))
            assert status == 200, (status, body)
            out += body["connections"]
            if not body["connections"] or len(out) >= body["total_count"]:
                return out
            page += 1

    def ctl(self, method, path, body=None):
        status, _, data = self.request("/_sim" + path, method=method,
                                       body=body, token=False)
        assert status == 200, (method, path, status, data)
        return json.loads(data)

    def counters(self):
        return self.ctl("GET", "/counters")

    def reset(self):
        return self.ctl("POST", "/reset")

    def requests(self, since=0):
        return self.ctl("GET", "/requests?since=%d" % since)

    def last_seq(self):
        reqs = self.requests()
        return reqs[-1]["seq"] if reqs else 0

    def fault(self, kind, **spec):
        spec["kind"] = kind
        return self.ctl("POST", "/faults", spec)

    def clear_faults(self):
        return self.ctl("DELETE", "/faults")

    # Data changes; kind is a collection's list key ("links", ...).
    def patch(self, region, cid, fields, kind="connections"):
        return self.ctl("POST", "/regions/%s/%s/%s" % (region, kind, cid),
                        fields)

    def delete(self, region, cid, kind="connections"):
        return self.ctl("DELETE", "/regions/%s/%s/%s" % (region, kind, cid))

    def add(self, region, conn, kind="connections"):
        return self.ctl("POST", "/regions/%s/%s" % (region, kind),
                        conn)["id"]

    def data(self, account=None):
        """Everything served (to an --account's tokens: "account1"...)."""
        return self.ctl("GET", "/data" + ("?account=" + account
                                          if account else ""))

    def revoke(self, account, revoked=True):
        """An --account's token refused (401), or accepted again."""
        return self.ctl("POST", "/revoke", {"account": account,
                                            "revoked": revoked})


class Proxy:
    """tests/py/connect_proxy.py on 127.0.0.1 with a random port: CONNECT
    tunnels to 127.0.0.1 only (map: {"host:port": sim_port}). Stopped by
    PID when the test ends."""

    def __init__(self, workdir, mapping=None, auth=None, answer=None):
        import tempfile
        fd, self.log = tempfile.mkstemp(prefix="proxy-", suffix=".log",
                                        dir=workdir)
        os.close(fd)
        argv = [sys.executable, os.path.join(os.path.dirname(
            os.path.abspath(__file__)), "connect_proxy.py"), "--log",
            self.log]
        for src, port in (mapping or {}).items():
            argv += ["--map", "%s=127.0.0.1:%d" % (src, port)]
        if auth:
            argv += ["--auth", auth]
        if answer:
            argv += ["--answer", str(answer)]
        self.proc = spawn(argv, stdout=subprocess.PIPE)
        line = read_line(self.proc.stdout, 10)
        assert line.startswith("proxy listening on 127.0.0.1:"), line
        self.port = int(line.rsplit(":", 1)[1])
        self.url = "http://127.0.0.1:%d" % self.port

    def lines(self):
        try:
            with open(self.log) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def seen(self):
        """Every byte clients sent through the proxy."""
        try:
            with open(self.log + ".bytes", "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""

    def stop(self, timeout=10):
        return stop_process(self.proc, timeout)
