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
# The simulator's default key: a UUID, as Scaleway secret keys are (a key
# of any other form is refused before mounting).
TOKEN = "7e57c0de-0000-4000-8000-00000000c0de"
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

    def data(self):
        return self.ctl("GET", "/data")


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


__all__ = ["Sim", "Skip", "TOKEN", "run", "wait_for", "errno_of", "spawn",
           "stop_process", "read_line", "DOCUMENTED_FIELDS", "API", "errno"]


# ---- mounting -------------------------------------------------------------

def fuse_available():
    """Why a real mount cannot be made here, or None if it can."""
    if not os.path.exists("/dev/fuse"):
        return "/dev/fuse does not exist"
    if not os.access("/dev/fuse", os.R_OK | os.W_OK):
        return "/dev/fuse is not readable and writable by this user"
    if not any(os.access(os.path.join(d, "fusermount3"), os.X_OK)
               for d in os.environ.get("PATH", "").split(":")):
        return "fusermount3 is not installed"
    return None


def require_fuse():
    why = fuse_available()
    if why:
        raise Skip("cannot mount: " + why)


def mounted_at(path):
    """The fstype of the mount at path, or None."""
    path = os.path.realpath(path)
    with open("/proc/self/mountinfo") as f:
        for line in f:
            parts = line.split()
            sep = parts.index("-")
            mnt = parts[4].replace("\\040", " ")
            if mnt == path:
                return parts[sep + 1]
    return None


class Timeout(AssertionError):
    pass


def bounded(fn, *args, timeout=10):
    """Run fn(*args) in a thread; raise Timeout if it does not return.

    A filesystem call that hangs must fail the test, not hang it.
    """
    import threading
    box = {}

    def run():
        try:
            box["v"] = fn(*args)
        except BaseException as e:  # noqa: B902 - re-raised below
            box["e"] = e
    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise Timeout("%s%r did not return within %ss"
                      % (getattr(fn, "__name__", fn), args, timeout))
    if "e" in box:
        raise box["e"]
    return box.get("v")


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def read(path, timeout=10):
    return bounded(_read, path, timeout=timeout)


def listdir(path, timeout=10):
    return bounded(os.listdir, path, timeout=timeout)


def proc_status_kib(pid, field):
    """A size from /proc/PID/status (VmRSS, VmHWM...), in KiB; 0 if none."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def lstat(path, timeout=10):
    return bounded(os.lstat, path, timeout=timeout)


def readlink(path, timeout=10):
    return bounded(os.readlink, path, timeout=timeout)


_mounts = []


class Mount:
    """interlinkfs mounted (in the foreground, as a child) on a new
    directory, talking to sim. Unmounted and stopped when the test ends."""

    def __init__(self, sim, *options, env=None, args=(), token=None,
                 wait=True, config=None):
        import tempfile
        require_fuse()
        self.dir = tempfile.mkdtemp(prefix="interlinkfs-test-")
        self.home = tempfile.mkdtemp(prefix="interlinkfs-home-")
        self.logpath = os.path.join(self.home, "daemon.log")
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
             "HOME": self.home, "SCW_CONFIG_PATH": "/nonexistent"}
        if sim is not None:
            e["SCW_API_URL"] = sim.url
            e["SCW_SECRET_KEY"] = token if token is not None else sim.token
        if config is not None:
            e["SCW_CONFIG_PATH"] = config
        e.update(env or {})
        self.env = e
        import shlex
        wrapper = shlex.split(os.environ.get("INTERLINKFS_WRAPPER", ""))
        argv = wrapper + [os.environ["INTERLINKFS"]] + list(args) + [
            self.dir, "-f"]
        if options:
            argv += ["-o", ",".join(options)]
        self.argv = argv
        self.log_file = open(self.logpath, "wb")
        self.proc = spawn(argv, env=e, stdout=self.log_file,
                          stderr=subprocess.STDOUT)
        _mounts.append(self)
        if wait:
            self.wait_mounted()

    def wait_mounted(self, timeout=10):
        deadline = time.monotonic() + timeout
        while mounted_at(self.dir) != "fuse.interlinkfs":
            if self.proc.poll() is not None:
                raise AssertionError("interlinkfs exited with %s: %s"
                                     % (self.proc.returncode, self.log()))
            if time.monotonic() > deadline:
                raise AssertionError("not mounted within %ss: %s"
                                     % (timeout, self.log()))
            time.sleep(0.02)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def stats(self):
        """.interlinkfs/stats as a dict of strings."""
        text = read(self.path(".interlinkfs", "stats")).decode()
        return dict(l.split(": ", 1) for l in text.splitlines())

    def metrics(self):
        """.interlinkfs/metrics as {name{labels}: float}."""
        out = {}
        for line in read(self.path(".interlinkfs", "metrics")).decode() \
                .splitlines():
            if line and not line.startswith("#"):
                k, v = line.rsplit(" ", 1)
                out[k] = float(v)
        return out

    def listing_age(self, region, kind=None):
        """Age of a region's listing of connections (or of kind, by its
        list key: "links", ...)."""
        return self.metrics().get(
            'interlinkfs_%slisting_age_seconds{region="%s"}'
            % (kind + "_" if kind else "", region))

    def log(self):
        self.log_file.flush()
        with open(self.logpath, "rb") as f:
            return f.read().decode(errors="replace")

    def unmount(self, timeout=10):
        """fusermount3 -u, then the daemon must exit (status returned)."""
        if mounted_at(self.dir):
            subprocess.run(["fusermount3", "-u", self.dir], timeout=timeout,
                           check=True)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("interlinkfs did not exit within %ss of "
                                 "the unmount" % timeout)
        if rc != 0:
            # The reason (a sanitizer report, most often) is in the log,
            # which _cleanup removes: show its end first.
            tail = self.log()[-4000:]
            print("interlinkfs exited with status %d; its log ends:\n%s"
                  % (rc, tail), flush=True)
        self._cleanup()
        return rc

    def _abort(self):
        """Last resort: abort the FUSE connection so nothing stays hung."""
        # The connection's number is the mount's minor device number,
        # from mountinfo: a stat() would wait on the daemon too.
        minor = None
        with open("/proc/self/mountinfo") as f:
            for line in f:
                x = line.split()
                if x[4] == self.dir:
                    minor = int(x[2].split(":")[1])
        if minor is None:
            return
        conns = "/sys/fs/fuse/connections"
        mounted = False
        if not os.path.ismount(conns):
            # Where nothing mounted the FUSE control filesystem (a bare
            # root, a chroot): mounted for this, and unmounted after.
            mounted = subprocess.run(
                ["mount", "-t", "fusectl", "fusectl", conns],
                capture_output=True, timeout=10).returncode == 0
        try:
            with open("%s/%d/abort" % (conns, minor), "w") as f:
                f.write("1")
        except OSError:
            pass
        if mounted:
            subprocess.run(["umount", conns], capture_output=True,
                           timeout=10)

    def _cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                # Stuck in the kernel on a request nobody will answer
                # (a deadlock): only aborting the connection frees it.
                self._abort()
                self.proc.wait(10)
        if mounted_at(self.dir):
            subprocess.run(["fusermount3", "-u", "-z", self.dir],
                           timeout=10)
        for d in (self.dir, self.home):
            try:
                if d == self.home:
                    import shutil
                    shutil.rmtree(d, ignore_errors=True)
                else:
                    os.rmdir(d)
            except OSError:
                pass
        if self.proc in _children:
            _children.remove(self.proc)
        if self in _mounts:
            _mounts.remove(self)
        self.log_file.close()

    def kill(self):
        """Crash-like teardown used when a test failed."""
        if mounted_at(self.dir) and self.proc.poll() is None:
            self._abort()
        self._cleanup()


_plain_cleanup = _cleanup


def _cleanup():  # noqa: F811 - extends the process cleanup with mounts
    for m in list(_mounts):
        try:
            m.kill()
        except Exception:
            traceback.print_exc()
    _plain_cleanup()


# ---- what each file must hold, computed from the API's JSON ----------------

def expected_files(c):
    """The bytes of every file of a connection directory, from its JSON
    object (written independently of the C renderer)."""
    import json as _json

    def s(key):
        v = c.get(key)
        if v is None:
            return b""
        return v.encode() + b"\n"

    def lines(key):
        v = c.get(key) or []
        return b"".join(str(x).encode() + b"\n" for x in v)
    vr = c.get("vlan_range")
    out = {k: s(k) for k in ("id", "name", "status", "demarcation_info",
                             "pop_id", "project_id", "organization_id",
                             "created_at", "updated_at", "region")}
    out["bandwidth_mbps"] = (b"%d\n" % c["bandwidth_mbps"]
                             if c.get("bandwidth_mbps") is not None else b"")
    out["tags"] = lines("tags")
    out["available_link_bandwidths"] = lines("available_link_bandwidths")
    out["vlan_range"] = (b"%d-%d\n" % (vr["start"], vr["end"])
                         if vr else b"")
    out["connection.json"] = (_json.dumps(c, indent=2, ensure_ascii=False)
                              .encode() + b"\n")
    return out


def _value(v):
    """A scalar as a file holds it: the value and a newline; empty for
    null or missing; booleans as true/false."""
    if v is None:
        return b""
    if v is True or v is False:
        return b"true\n" if v else b"false\n"
    return str(v).encode() + b"\n"


def _lines(v):
    return b"".join(str(x).encode() + b"\n" for x in (v or []))


def _json_file(o):
    import json as _json
    return _json.dumps(o, indent=2, ensure_ascii=False).encode() + b"\n"


def expected_link_files(link):
    """The bytes of every file of a link directory, from its JSON."""
    self, partner = link.get("self"), link.get("partner")
    scw, peer = link.get("scw_bgp_config"), link.get("peer_bgp_config")
    out = {k: _value(link.get(k)) for k in (
        "id", "name", "status", "bgp_v4_status", "bgp_v6_status", "vlan",
        "bandwidth_mbps", "pop_id", "vpc_id", "enable_route_propagation",
        "routing_policy_v4_id", "routing_policy_v6_id", "project_id",
        "organization_id", "created_at", "updated_at", "region")}
    out["kind"] = (b"self_hosted\n" if self and not partner else
                   b"hosted\n" if partner and not self else b"")
    out["connection_id"] = _value((self or {}).get("connection_id"))
    for k in ("partner_id", "pairing_key", "disapproved_reason"):
        out[k] = _value((partner or {}).get(k))
    for side, cfg in (("scw", scw), ("peer", peer)):
        for k in ("asn", "ipv4", "ipv6"):
            out["%s_bgp_%s" % (side, k)] = _value((cfg or {}).get(k))
    out["tags"] = _lines(link.get("tags"))
    out["link.json"] = _json_file(link)
    return out


def expected_link_links(link):
    """A link's symbolic links and their targets (absent: not there)."""
    out = {}
    for name, target, v in (
            ("connection", "../../connections/",
             (link.get("self") or {}).get("connection_id")),
            ("partner", "../../partners/",
             (link.get("partner") or {}).get("partner_id")),
            ("pop", "../../pops/", link.get("pop_id")),
            ("routing_policy_v4", "../../routing-policies/",
             link.get("routing_policy_v4_id")),
            ("routing_policy_v6", "../../routing-policies/",
             link.get("routing_policy_v6_id"))):
        if v:
            out[name] = target + v
    return out


def expected_partner_files(p):
    out = {k: _value(p.get(k)) for k in (
        "id", "name", "contact_email", "portal_url", "logo_url",
        "created_at", "updated_at")}
    out["partner.json"] = _json_file(p)
    return out


def expected_policy_files(p):
    out = {k: _value(p.get(k)) for k in (
        "id", "name", "is_ipv6", "project_id", "organization_id",
        "created_at", "updated_at", "region")}
    for k in ("prefix_filter_in", "prefix_filter_out", "tags"):
        out[k] = _lines(p.get(k))
    out["routing_policy.json"] = _json_file(p)
    return out


def rfc3339(s):
    """Seconds since the epoch of an RFC 3339 time (float)."""
    import datetime
    s = s.replace("Z", "+00:00").replace("z", "+00:00")
    return datetime.datetime.fromisoformat(s).timestamp()


__all__ += ["Mount", "require_fuse", "fuse_available", "mounted_at", "read",
            "listdir", "lstat", "readlink", "bounded", "Timeout",
            "expected_files", "expected_link_files", "expected_link_links",
            "expected_partner_files", "expected_policy_files", "rfc3339",
            "Proxy"]
