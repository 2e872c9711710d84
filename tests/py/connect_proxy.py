# SPDX-License-Identifier: Apache-2.0
"""A small HTTP proxy for tests: CONNECT tunnels only, to 127.0.0.1 only.

    python3 connect_proxy.py --log FILE [--map HOST:PORT=127.0.0.1:PORT]...
        [--auth USER:PASS] [--answer 403|407] [--port N]

Prints "proxy listening on 127.0.0.1:PORT" first. Each CONNECT is logged
as one line: "CONNECT HOST:PORT -> TARGET status N auth yes|no". Every byte
a client sends through the proxy (request lines, headers and tunnelled
bytes) is appended to FILE.bytes, so a test can check what a proxy sees.
A target not in --map must be 127.0.0.1 itself: nothing leaves the
machine, and names are resolved here, by the map, as a real proxy would.
Stops on SIGTERM.
"""
import argparse
import base64
import select
import signal
import socket
import socketserver
import sys
import threading

LOCK = threading.Lock()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log", required=True)
    ap.add_argument("--map", action="append", default=[])
    ap.add_argument("--auth", default=None)
    ap.add_argument("--answer", type=int, default=0)
    a = ap.parse_args()
    targets = {}
    for m in a.map:
        src, dst = m.split("=", 1)
        host, port = dst.rsplit(":", 1)
        assert host == "127.0.0.1", "targets stay on this machine"
        targets[src] = (host, int(port))

    def record(line=None, data=None):
        with LOCK:
            if line is not None:
                with open(a.log, "a") as f:
                    f.write(line + "\n")
            if data:
                with open(a.log + ".bytes", "ab") as f:
                    f.write(data)

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            c = self.request
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 65536:
                chunk = c.recv(4096)
                if not chunk:
                    return
                head += chunk
            record(data=head)
            lines = head.split(b"\r\n\r\n", 1)[0].decode(
                "latin-1").split("\r\n")
            method, target = (lines[0].split() + ["", ""])[:2]
            headers = {}
            for l in lines[1:]:
                k, _, v = l.partition(":")
                headers[k.strip().lower()] = v.strip()
            auth_ok = True
            if a.auth:
                want = "Basic " + base64.b64encode(a.auth.encode()).decode()
                auth_ok = headers.get("proxy-authorization") == want
            if method != "CONNECT":
                self.answer(c, 405, "Method Not Allowed", target, auth_ok)
                return
            if a.answer:
                self.answer(c, a.answer, {403: "Forbidden",
                                          407: "Proxy Authentication "
                                               "Required"}[a.answer],
                            target, auth_ok)
                return
            if not auth_ok:
                self.answer(c, 407, "Proxy Authentication Required", target,
                            auth_ok)
                return
            dst = targets.get(target)
            if dst is None:
                host, _, port = target.rpartition(":")
                if host != "127.0.0.1":
                    self.answer(c, 502, "Bad Gateway", target, auth_ok)
                    return
                dst = (host, int(port))
            try:
                s = socket.create_connection(dst, timeout=10)
            except OSError:
                self.answer(c, 502, "Bad Gateway", target, auth_ok)
                return
            record("CONNECT %s -> %s:%d status 200 auth %s"
                   % (target, dst[0], dst[1], "yes" if a.auth else "no"))
            c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self.pipe(c, s)

        def answer(self, c, code, reason, target, auth_ok):
            record("CONNECT %s -> - status %d auth %s"
                   % (target, code, "yes" if auth_ok and a.auth else "no"))
            extra = ("Proxy-Authenticate: Basic realm=\"test\"\r\n"
                     if code == 407 else "")
            c.sendall(("HTTP/1.1 %d %s\r\n%sContent-Length: 0\r\n"
                       "Connection: close\r\n\r\n"
                       % (code, reason, extra)).encode())

        def pipe(self, c, s):
            socks = [c, s]
            try:
                while True:
                    r, _, _ = select.select(socks, [], [], 60)
                    if not r:
                        return
                    for x in r:
                        data = x.recv(65536)
                        if not data:
                            return
                        if x is c:
                            record(data=data)
                            s.sendall(data)
                        else:
                            c.sendall(data)
            except OSError:
                return
            finally:
                s.close()

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    srv = Server(("127.0.0.1", a.port), Handler)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(
        target=srv.shutdown).start())
    print("proxy listening on 127.0.0.1:%d" % srv.server_address[1],
          flush=True)
    srv.serve_forever()
    srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
