"""Shared helpers for the integration tests: start interlink-sim, talk to it,
mount interlinkfs, and run test functions with bounded waits.

Every process started here is stopped by PID when the test ends; every wait
has a deadline so a bug fails a test instead of hanging CI. Network traffic
goes to 127.0.0.1 only.
"""
import errno
import http.client
import json
import os
import select
import signal
import subprocess
import sys
import time
import traceback

SKIP = 77
DOCUMENTED_FIELDS = [
    "id", "project_id", "organization_id", "status", "name", "tags",
    "pop_id", "bandwidth_mbps", "available_link_bandwidths", "created_at",
    "updated_at", "demarcation_info", "vlan_range", "region",
]
API = "/interlink/v1beta1/regions"

_children = []


class Skip(Exception):
    """Raised by a test that cannot run here; the reason is printed."""


def _cleanup():
    for p in list(_children):
        if p.poll() is None:
            p.kill()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass


def _on_signal(signum, frame):
    _cleanup()
    sys.exit(128 + signum)


signal.signal(signal.SIGTERM, _on_signal)


def spawn(argv, **kw):
    p = subprocess.Popen(argv, **kw)
    _children.append(p)
    return p


def stop_process(p, timeout=10, sig=signal.SIGTERM):
    """Stop p by PID; returns its exit status (killed if it lingers)."""
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)
            raise AssertionError("%s did not exit within %ss of signal %d"
                                 % (p.args[0], timeout, sig))
    if p in _children:
        _children.remove(p)
    return p.returncode


def read_line(stream, timeout):
    """Read one line from a pipe within timeout seconds (or fail)."""
    fd = stream.fileno()
    buf = b""
    deadline = time.monotonic() + timeout
    while not buf.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("no line within %ss (got %r)" % (timeout, buf))
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            continue
        ch = os.read(fd, 1)
        if not ch:
            raise AssertionError("stream closed (got %r)" % buf)
        buf += ch
    return buf.decode()


class Sim:
    """A running interlink-sim on 127.0.0.1 with a random port."""

    def __init__(self, *args, token="T", connections=20, seed=1, listen=None,
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
        assert line.startswith("interlink-sim listening on http://"), line
        self.url = line.split()[-1]
        hostport = self.url[len("http://"):]
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

    def patch(self, region, cid, fields):
        return self.ctl("POST", "/regions/%s/connections/%s" % (region, cid),
                        fields)

    def delete(self, region, cid):
        return self.ctl("DELETE", "/regions/%s/connections/%s" % (region, cid))

    def add(self, region, conn):
        return self.ctl("POST", "/regions/%s/connections" % region, conn)["id"]

    def data(self):
        return self.ctl("GET", "/data")


def wait_for(pred, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %ss waiting for %s"
                                 % (timeout, what))
        time.sleep(interval)


def run(module_globals):
    """Run every test_* function of the calling module, in file order.

    Exit status: 0 all passed, 1 something failed, 77 everything skipped.
    """
    names = [n for n, f in module_globals.items()
             if n.startswith("test_") and callable(f)]
    only = sys.argv[1:]
    if only:
        names = [n for n in names if n in only]
    failed = skipped = 0
    for n in names:
        t0 = time.monotonic()
        try:
            module_globals[n]()
        except Skip as e:
            skipped += 1
            print("SKIP %s: %s" % (n, e), flush=True)
            continue
        except Exception:
            failed += 1
            print("FAIL %s (%.2fs)" % (n, time.monotonic() - t0), flush=True)
            traceback.print_exc()
            sys.stdout.flush()
            continue
        finally:
            _cleanup()
        print("ok   %s (%.2fs)" % (n, time.monotonic() - t0), flush=True)
    print("%d passed, %d failed, %d skipped"
          % (len(names) - failed - skipped, failed, skipped))
    if failed:
        sys.exit(1)
    if names and skipped == len(names):
        sys.exit(SKIP)
    sys.exit(0)


def errno_of(fn, *args):
    """Call fn(*args); return the errno it raised (0 if none)."""
    try:
        fn(*args)
    except OSError as e:
        return e.errno
    return 0


__all__ = ["Sim", "Skip", "run", "wait_for", "errno_of", "spawn",
           "stop_process", "read_line", "DOCUMENTED_FIELDS", "API", "errno"]
