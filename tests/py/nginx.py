# SPDX-License-Identifier: Apache-2.0
"""Debian's nginx running examples/fleet/ as shipped, for the length of a
test: on 127.0.0.1, with a prefix of its own (a new temporary directory)
and its own main config, never the system's service; stopped by PID and
its directories removed when the test ends.

The shipped files are copied into the prefix's conf/interlink/ with the
few changes a deployment makes too, done with sed: the upstream block's
server line points at the simulator, the API's trusted CA at the test
CA, the cache and log paths into the prefix, the listen lines at free
ports of 127.0.0.1, the placeholders of the two secret files at test
values and, where a test needs a short one, the cache's lifetime. No
other copy of the config exists.
"""
import os
import shutil
import socket
import ssl
import subprocess
import tempfile

from harness import Skip, on_cleanup, spawn, stop_process, wait_for

ROOT = os.environ["SOURCE_ROOT"]
FLEET = os.path.join(ROOT, "examples", "fleet")
MODULE = "/usr/lib/nginx/modules/ngx_http_js_module.so"
CACHE_SECRET = "5ec7e7" + "0" * 58           # 64 hex digits, for HMAC


def available():
    """Why nginx with njs cannot run here, or None if it can."""
    if not shutil.which("nginx") and not os.path.exists("/usr/sbin/nginx"):
        return "nginx is not installed (tests/deps.sh installs it)"
    if not os.path.exists(MODULE):
        return ("njs is not installed (%s; tests/deps.sh installs "
                "libnginx-mod-http-js)" % MODULE)
    return None


def require():
    why = available()
    if why:
        raise Skip(why)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


MAIN = """load_module %(module)s;
daemon off;
master_process on;
worker_processes 1;
%(user)s
pid %(prefix)s/nginx.pid;
error_log %(prefix)s/logs/error.log info;
events { worker_connections 4096; }
http {
    client_body_temp_path %(prefix)s/tmp/body;
    proxy_temp_path %(prefix)s/tmp/proxy;
    fastcgi_temp_path %(prefix)s/tmp/fastcgi;
    uwsgi_temp_path %(prefix)s/tmp/uwsgi;
    scgi_temp_path %(prefix)s/tmp/scgi;
    access_log %(prefix)s/logs/access.log;
    include interlink.conf;
}
"""


class Nginx:
    """nginx serving examples/fleet/ in front of sim (an HTTPS Sim).

    certs: the test PKI (pki.make): the cache's certificate is "server"
    (for 127.0.0.1), the API's CA "ca". fleet: pki.fleet's, for the
    gateway. gateway_token: the key the gateway adds. lifetime: seconds
    of proxy_cache_valid, if not the shipped one."""

    def __init__(self, sim, certs, fleet=None, gateway_token=None,
                 lifetime=None):
        require()
        self.prefix = tempfile.mkdtemp(prefix="interlinkfs-nginx-")
        on_cleanup(self._remove)
        # nginx's workers (www-data) walk down to the cache directory.
        os.chmod(self.prefix, 0o755)
        for d in ("conf/interlink", "logs", "tmp", "cache"):
            os.makedirs(os.path.join(self.prefix, d), mode=0o755)
        self.conf = os.path.join(self.prefix, "conf")
        self.cache_dir = os.path.join(self.prefix, "cache")
        self.cache_port, self.gateway_port = free_port(), free_port()
        self.cache_url = "https://127.0.0.1:%d" % self.cache_port
        self.gateway_url = "https://127.0.0.1:%d" % self.gateway_port
        self.gateway_token = gateway_token
        self._install(sim, certs, fleet, gateway_token, lifetime)
        self._start()

    def _sed(self, sim, certs, lifetime):
        """The changes a deployment makes, as sed expressions."""
        e = ["s|server api.scaleway.com:443;|server 127.0.0.1:%d;|"
             % sim.port,
             "s|/etc/ssl/certs/ca-certificates.crt|%s|" % certs["ca"],
             "s|/var/cache/nginx/interlink|%s|" % self.cache_dir,
             "s|/var/log/nginx/|%s/logs/|" % self.prefix,
             "s|listen 8443 ssl;|listen 127.0.0.1:%d ssl;|"
             % self.cache_port,
             "s|listen 8444 ssl;|listen 127.0.0.1:%d ssl;|"
             % self.gateway_port,
             "s|REPLACE-WITH-openssl-rand-hex-32|%s|" % CACHE_SECRET,
             "s|^#include interlink/gateway.conf;|include "
             "interlink/gateway.conf;|"]
        if self.gateway_token:
            e.append("s|REPLACE-WITH-THE-SECRET-KEY|%s|"
                     % self.gateway_token)
        if lifetime is not None:
            e.append("s|proxy_cache_valid 200 28s;|proxy_cache_valid 200 "
                     "%ds;|" % lifetime)
        return e

    def _install(self, sim, certs, fleet, gateway_token, lifetime):
        sed = ["sed"]
        for e in self._sed(sim, certs, lifetime):
            sed += ["-e", e]
        inter = os.path.join(self.conf, "interlink")
        for f in sorted(os.listdir(FLEET)):
            dest = inter if f != "interlink.conf" else self.conf
            with open(os.path.join(dest, f), "wb") as out:
                subprocess.run(sed + [os.path.join(FLEET, f)], stdout=out,
                               check=True, timeout=30)
        for f in ("cache-secret.conf", "scaleway-secret.conf"):
            os.chmod(os.path.join(inter, f), 0o600)
        cert, key = certs["server"]
        shutil.copy(cert, os.path.join(inter, "cache.pem"))
        shutil.copy(key, os.path.join(inter, "cache.key"))
        if fleet:
            shutil.copy(fleet["fleet-ca"], os.path.join(inter,
                                                        "fleet-ca.pem"))
            shutil.copy(fleet["fleet-crl"], os.path.join(inter,
                                                         "fleet-crl.pem"))
        elif not gateway_token:
            # The gateway is not wanted: its server is left out.
            path = os.path.join(self.conf, "interlink.conf")
            with open(path) as f:
                text = f.read()
            with open(path, "w") as f:
                f.write(text.replace("include interlink/gateway.conf;",
                                     "#include interlink/gateway.conf;"))
        user = "user www-data;" if os.geteuid() == 0 else ""
        with open(os.path.join(self.conf, "nginx.conf"), "w") as f:
            f.write(MAIN % {"module": MODULE, "prefix": self.prefix,
                            "user": user})

    def _argv(self, *extra):
        return ([shutil.which("nginx") or "/usr/sbin/nginx", "-p",
                 self.prefix + "/", "-c",
                 os.path.join(self.conf, "nginx.conf"), "-e",
                 os.path.join(self.prefix, "logs", "error.log")] +
                list(extra))

    def _start(self):
        t = subprocess.run(self._argv("-t", "-q"), capture_output=True,
                           timeout=30)
        assert t.returncode == 0, ("nginx -t: " + t.stderr.decode() +
                                   self.error_log())
        self.proc = spawn(self._argv(), stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
        wait_for(self._listening, 15, "nginx listening on 127.0.0.1:%d"
                 % self.cache_port)

    def _listening(self):
        assert self.proc.poll() is None, "nginx exited: " + self.error_log()
        try:
            socket.create_connection(("127.0.0.1", self.cache_port),
                                     timeout=1).close()
            return True
        except OSError:
            return False

    def stop(self):
        """A fast stop (SIGTERM) by PID, waited for."""
        if self.proc.poll() is None:
            stop_process(self.proc, timeout=15)

    def _remove(self):
        if getattr(self, "proc", None) is not None:
            try:
                self.stop()
            except AssertionError:
                pass
        shutil.rmtree(self.prefix, ignore_errors=True)

    def error_log(self):
        try:
            with open(os.path.join(self.prefix, "logs", "error.log"),
                      errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def logs(self):
        """Every byte of nginx's logs."""
        out = b""
        logs = os.path.join(self.prefix, "logs")
        for f in sorted(os.listdir(logs)):
            with open(os.path.join(logs, f), "rb") as fh:
                out += fh.read()
        return out

    def access(self, which="cache"):
        """The lines of a mode's access log (format "interlink")."""
        try:
            with open(os.path.join(self.prefix, "logs",
                                   "interlink-%s.log" % which)) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def cache_bytes(self):
        """Every byte under the cache directory."""
        out = b""
        for d, _, files in os.walk(self.cache_dir):
            for f in files:
                with open(os.path.join(d, f), "rb") as fh:
                    out += fh.read()
        return out

    def get(self, path, token=None, port=None, ca=None, cert=None,
            timeout=10, method="GET"):
        """A request (GET) through nginx: (status, headers, body)."""
        import http.client
        ctx = ssl.create_default_context(cafile=ca)
        if cert:
            ctx.load_cert_chain(*cert)
        conn = http.client.HTTPSConnection(
            "127.0.0.1", port or self.cache_port, timeout=timeout,
            context=ctx)
        h = {"X-Auth-Token": token} if token else {}
        try:
            conn.request(method, path, headers=h)
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            conn.close()
