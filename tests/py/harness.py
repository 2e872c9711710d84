# SPDX-License-Identifier: Apache-2.0
"""Running the integration tests: processes started and stopped by PID,
waits with a deadline, filesystem calls that cannot hang a test, and the
runner of a module's test_* functions.

Every process started here is stopped by PID when the test ends (and the
mounts of mount.py unmounted); every wait has a deadline so a bug fails a
test instead of hanging CI. Network traffic goes to 127.0.0.1 only. The
simulator is sim.py's, mounts mount.py's, expected file contents
oracle.py's.
"""
import os
import select
import signal
import subprocess
import sys
import time
import traceback

SKIP = 77

_children = []
_hooks = []


class Skip(Exception):
    """Raised by a test that cannot run here; the reason is printed."""


def on_cleanup(fn):
    """fn() runs at the end of each test, before the processes are
    stopped (mount.py unmounts its mounts this way)."""
    _hooks.append(fn)


def cleanup():
    """The end of a test: the processes of tests run apart stopped first
    (by SIGTERM, so that they clean up after themselves), then every hook,
    then every process still running stopped by PID."""
    _stop_workers(list(_workers))
    for fn in _hooks:
        try:
            fn()
        except Exception:
            traceback.print_exc()
    for p in list(_children):
        if p.poll() is None:
            p.kill()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass


def _on_signal(signum, frame):
    cleanup()
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
    forget_process(p)
    return p.returncode


def forget_process(p):
    """p is stopped and waited for by its owner."""
    if p in _children:
        _children.remove(p)


def read_line(stream, timeout):
    """Read one line from a pipe within timeout seconds (or fail)."""
    fd = stream.fileno()
    buf = b""
    deadline = time.monotonic() + timeout
    while not buf.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("no line within %ss (got %r)"
                                 % (timeout, buf))
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            continue
        ch = os.read(fd, 1)
        if not ch:
            raise AssertionError("stream closed (got %r)" % buf)
        buf += ch
    return buf.decode()


def wait_for(pred, timeout, what, interval=0.05):
    """Poll pred() until it holds; the seconds that took. Fails (with
    what) after timeout seconds."""
    t0 = time.monotonic()
    deadline = t0 + timeout
    while True:
        if pred():
            return time.monotonic() - t0
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %ss waiting for %s"
                                 % (timeout, what))
        time.sleep(interval)


def concurrent(fn):
    """Mark a test that may run beside the other marked tests of its
    module (see run()): it needs nothing but what it starts itself, and it
    mostly waits or keeps one core busy; it bounds no duration tightly."""
    fn.concurrent = True
    return fn


def run(module_globals, jobs=1):
    """Run every test_* function of the calling module.

    With jobs > 1, the tests marked @concurrent run first, up to jobs at
    a time, each in a process of its own (this file run with its name):
    what each one starts and mounts is its own and is cleaned up when it
    ends, and its output is printed whole when it ends. The others run
    after them, one after the other. TEST_JOBS=1 in the environment runs
    every test here, in file order. The argument --unmarked runs only the
    tests that are not marked (meson's way: the marked ones run in the
    pool of tests/py/runpool.py, beside those of other modules).

    Exit status: 0 all passed, 1 something failed, 77 everything skipped.
    """
    names = [n for n, f in module_globals.items()
             if n.startswith("test_") and callable(f)]
    only = sys.argv[1:]
    if "--unmarked" in only:
        only.remove("--unmarked")
        names = [n for n in names
                 if not getattr(module_globals[n], "concurrent", False)]
    if only:
        names = [n for n in names if n in only]
    child = os.environ.get("HARNESS_CHILD") == "1"
    jobs = 1 if child else _jobs(jobs)
    counts = {"failed": 0, "skipped": 0}
    apart = [n for n in names
             if getattr(module_globals[n], "concurrent", False)]
    if jobs > 1 and len(apart) > 1:
        _run_apart([(module_globals["__file__"], n) for n in apart], jobs,
                   counts)
    else:
        apart = []
    for n in names:
        if n not in apart:
            _run_here(n, module_globals[n], counts)
    _end(len(names), counts, say=not child)


def run_pool(paths, jobs):
    """Run the tests marked @concurrent of the modules at paths, all in
    one pool of up to jobs at a time (as run() runs one module's): a
    module's tests that wait beside another's. Exit status as run()'s."""
    import importlib.util
    pairs = []
    for path in paths:
        name = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        pairs += [(path, n) for n, f in vars(mod).items()
                  if n.startswith("test_") and callable(f)
                  and getattr(f, "concurrent", False)]
    counts = {"failed": 0, "skipped": 0}
    _run_apart(pairs, max(1, _jobs(jobs)), counts)
    _end(len(pairs), counts)


def _jobs(jobs):
    """How many tests side by side. Sanitized daemons are several times
    slower: half as many (rounded up: 3 runs 2) keep the tests' time
    bounds (grace, timeout) as far from the machine's load as in a plain
    build. TEST_JOBS in the environment says how many, whatever the
    build."""
    if os.environ.get("SANITIZED"):
        jobs = (jobs + 1) // 2
    return int(os.environ.get("TEST_JOBS", jobs))


def _end(n, counts, say=True):
    """Exits with the status of n tests' counts, said unless say is
    false (a test run apart: its runner says them)."""
    failed, skipped = counts["failed"], counts["skipped"]
    if say:
        print("%d passed, %d failed, %d skipped"
              % (n - failed - skipped, failed, skipped))
    if failed:
        sys.exit(1)
    if n and skipped == n:
        sys.exit(SKIP)
    sys.exit(0)


def daemon_path(build):
    """The interlinkfs binary of a build directory: fs/driver/ since fs/
    has layer folders, fs/ before (a benchmark's base may be older)."""
    for sub in (("fs", "driver"), ("fs",)):
        p = os.path.join(build, *sub, "interlinkfs")
        if os.path.exists(p):
            return p
    return os.path.join(build, "fs", "driver", "interlinkfs")


def _run_here(n, fn, counts):
    """Run one test in this process."""
    t0 = time.monotonic()
    try:
        fn()
    except Skip as e:
        counts["skipped"] += 1
        print("SKIP %s: %s" % (n, e), flush=True)
        return
    except Exception:
        counts["failed"] += 1
        print("FAIL %s (%.2fs)" % (n, time.monotonic() - t0), flush=True)
        traceback.print_exc()
        sys.stdout.flush()
        sys.stderr.flush()
        return
    finally:
        cleanup()
    print("ok   %s (%.2fs)" % (n, time.monotonic() - t0), flush=True)


_workers = []


def _run_apart(pairs, jobs, counts, limit=600):
    """Run each test (path of its module, its name) in a process of its
    own, up to jobs at a time; each is stopped (SIGTERM, so that it cleans
    up, then SIGKILL) if it takes longer than limit seconds."""
    import tempfile
    env = dict(os.environ, HARNESS_CHILD="1")
    pending, running = list(pairs), []
    while pending or running:
        while pending and len(running) < jobs:
            path, n = pending.pop(0)
            out = tempfile.TemporaryFile()
            p = subprocess.Popen([sys.executable, path, n], env=env,
                                 stdout=out, stderr=subprocess.STDOUT)
            _workers.append(p)
            running.append((n, p, out, time.monotonic()))
        time.sleep(0.05)
        for w in list(running):
            n, p, out, t0 = w
            late = time.monotonic() - t0 > limit
            if p.poll() is None and not late:
                continue
            running.remove(w)
            _stop_workers([p])
            out.seek(0)
            sys.stdout.write(out.read().decode(errors="replace"))
            out.close()
            if p.returncode == SKIP:
                counts["skipped"] += 1
            elif p.returncode != 0 or late:
                counts["failed"] += 1
                if p.returncode != 1 or late:
                    print("FAIL %s (%s after %.2fs)" % (
                        n, "stopped" if late else "exit status %d"
                        % p.returncode, time.monotonic() - t0))
            sys.stdout.flush()


def _stop_workers(procs):
    """Tests' processes stopped, if they still run: SIGTERM runs their
    cleanup (unmounts, stops what they started); SIGKILL if that takes
    more than 20 s."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + 20
    for p in procs:
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)
        if p in _workers:
            _workers.remove(p)


def errno_of(fn, *args):
    """Call fn(*args); return the errno it raised (0 if none)."""
    try:
        fn(*args)
    except OSError as e:
        return e.errno
    return 0


# ---- filesystem calls that cannot hang a test ------------------------------

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


def _read_on(fd, size):
    chunks = []
    while True:
        b = os.read(fd, size)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


def read_on(fd, size=65536, timeout=10):
    """Read an open file from its offset to its end, size bytes per
    read(), as cat does."""
    return bounded(_read_on, fd, size, timeout=timeout)


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
