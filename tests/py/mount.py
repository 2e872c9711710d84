# SPDX-License-Identifier: Apache-2.0
"""interlinkfs mounted for real, for the length of a test: on a new
directory, in the foreground, as a child process; unmounted (or, when it
hangs, its FUSE connection aborted) and stopped by PID when the test
ends."""
import os
import re
import subprocess
import time
import traceback

from harness import Skip, forget_process, on_cleanup, read, spawn


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


def libfuse_leaks_only(log):
    """Whether a sanitized daemon's report holds nothing but leaks whose
    every frame (past the allocator's) is inside libfuse: libfuse 3.14 to
    3.17 keep a FUSE_INTERRUPT that comes after its request was answered
    (a reader killed while its read was in flight) on a list of the
    session that fuse_session_destroy() does not free. Our code is in no
    frame of it, and nothing of ours can free it; any leak with one frame
    of ours, or any other report, still counts."""
    if "runtime error:" in log or re.search(
            r"ERROR: AddressSanitizer: (?!.*leak)", log):
        return False
    m = re.search(r"ERROR: LeakSanitizer: detected memory leaks\n(.*?)"
                  r"\nSUMMARY: ", log, re.S)
    if not m:
        return False
    leaks = re.split(r"\n(?=(?:Direct|Indirect) leak of )", m.group(1))
    leaks = [x for x in leaks if x.strip()]
    for leak in leaks:
        frames = re.findall(r"^\s*#(\d+) (.*)$", leak, re.M)
        if not frames or any(int(n) > 0 and "libfuse3.so" not in f
                             for n, f in frames):
            return False
    return bool(leaks)


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


_mounts = []


class Mount:
    """interlinkfs mounted (in the foreground, as a child) on a new
    directory, talking to sim. Unmounted and stopped when the test ends.

    Its state directory is state (kept by the caller), else one of its
    own, removed with it: a mount never reads what another test saved,
    nor the machine's (/var/lib/interlinkfs for root)."""

    def __init__(self, sim, *options, env=None, args=(), token=None,
                 wait=True, config=None, state=None):
        import tempfile
        require_fuse()
        self.dir = tempfile.mkdtemp(prefix="interlinkfs-test-")
        self.home = tempfile.mkdtemp(prefix="interlinkfs-home-")
        self.logpath = os.path.join(self.home, "daemon.log")
        self.state = state or os.path.join(self.home, "state")
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
             "HOME": self.home, "SCW_CONFIG_PATH": "/nonexistent",
             "STATE_DIRECTORY": self.state}
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

    def health(self):
        """.interlinkfs/health as {(region, kind): (state, age, objects,
        detail)}, its header checked."""
        lines = read(self.path(".interlinkfs", "health")).decode() \
            .splitlines()
        assert lines[0] == "region\tkind\tstate\tage\tobjects\tdetail", \
            lines
        out = {}
        for line in lines[1:]:
            f = line.split("\t")
            assert len(f) == 6, line
            out[(f[0], f[1])] = tuple(f[2:])
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
            log = self.log()
            print("interlinkfs exited with status %d; its log ends:\n%s"
                  % (rc, log[-4000:]), flush=True)
            if libfuse_leaks_only(log):
                print("(only libfuse's own leak, allocated and lost inside "
                      "libfuse: not counted)", flush=True)
                rc = 0
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
        forget_process(self.proc)
        if self in _mounts:
            _mounts.remove(self)
        self.log_file.close()

    def kill(self):
        """Crash-like teardown used when a test failed."""
        if mounted_at(self.dir) and self.proc.poll() is None:
            self._abort()
        self._cleanup()


def _unmount_all():
    for m in list(_mounts):
        try:
            m.kill()
        except Exception:
            traceback.print_exc()


on_cleanup(_unmount_all)
