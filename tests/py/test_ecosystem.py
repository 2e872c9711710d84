# SPDX-License-Identifier: Apache-2.0
"""Fitting in: install, man page, one list of options, fstab and
mount -t, systemd units, Prometheus metrics, the example scripts."""
import os
import re
import shutil
import subprocess
import tempfile

from harness import listdir, read, run, Skip, wait_for
from mount import Mount, mounted_at, require_fuse
from sim import Sim
import statefiles

ROOT = os.environ["SOURCE_ROOT"]
FS = os.environ["INTERLINKFS"]
BUILD = os.environ["BUILD_ROOT"]


def test_meson_install_with_destdir():
    dest = tempfile.mkdtemp(prefix="interlinkfs-install-")
    try:
        p = subprocess.run(["meson", "install", "-C", BUILD, "--destdir",
                            dest, "--no-rebuild", "--quiet"],
                           capture_output=True, timeout=300)
        assert p.returncode == 0, p.stderr
        prefix = subprocess.run(
            ["meson", "introspect", "--buildoptions", BUILD],
            capture_output=True).stdout.decode()
        pre = re.search(r'"name": "prefix", "value": "([^"]+)"', prefix)
        base = dest + (pre.group(1) if pre else "/usr/local")
        for f in ("bin/interlinkfs", "bin/interlink-sim",
                  "share/man/man1/interlinkfs.1",
                  "share/man/man1/interlink-sim.1",
                  "share/doc/interlinkfs/README.md",
                  "share/doc/interlinkfs/docs/design.md",
                  "share/doc/interlinkfs/docs/security.md",
                  "share/doc/interlinkfs/examples/report.sh",
                  "share/doc/interlinkfs/examples/check-active.sh",
                  "share/doc/interlinkfs/examples/in-pop.sh",
                  "share/doc/interlinkfs/examples/vlans.sh",
                  "share/doc/interlinkfs/examples/links-table.sh",
                  "share/doc/interlinkfs/examples/bgp-watch.sh",
                  "share/doc/interlinkfs/examples/prometheus/"
                  "interlink.rules.yml",
                  "share/doc/interlinkfs/examples/systemd/"
                  "mnt-interlink.mount",
                  "share/doc/interlinkfs/examples/systemd/"
                  "interlinkfs.service"):
            assert os.path.isfile(os.path.join(base, f)), f
        assert os.access(os.path.join(base, "bin/interlinkfs"), os.X_OK)
        for page in ("interlinkfs.1", "interlink-sim.1"):
            path = os.path.join(base, "share/man/man1", page)
            g = subprocess.run(["groff", "-ww", "-z", "-man", path],
                               capture_output=True, timeout=30)
            assert g.returncode == 0 and g.stderr == b"", g.stderr
            m = subprocess.run(["man", "-l", path], capture_output=True,
                               env=dict(os.environ, MANWIDTH="80"),
                               timeout=30)
            assert m.returncode == 0 and b"NAME" in m.stdout, m.stderr
            # The footer carries the project's version, from meson.build.
            assert ("interlinkfs " + os.environ["INTERLINKFS_VERSION"])\
                .encode() in m.stdout, m.stdout[-300:]
    finally:
        shutil.rmtree(dest)


def option_names_help():
    out = subprocess.run([FS, "--help"], capture_output=True,
                         timeout=10).stdout.decode()
    ours = out.split("interlinkfs options:")[1].split("Unmount")[0]
    return set(re.findall(r"-o (\w+)=", ours))


def option_names_man():
    with open(os.path.join(ROOT, "fs", "interlinkfs.1")) as f:
        text = f.read()
    return set(re.findall(r'^\.BI "\\-o (\w+)=" ', text, re.M))


def option_names_readme():
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    table = text.split("## Options", 1)[1].split("\n### ")[0]
    return set(re.findall(r"^\| `(\w+)=", table, re.M))


def test_help_man_page_and_readme_list_the_same_options():
    h, m, r = option_names_help(), option_names_man(), option_names_readme()
    assert len(h) >= 12, h
    assert h == m, ("--help vs man page", h ^ m)
    assert h == r, ("--help vs README", h ^ r)


def test_mount_t_and_fstab_through_mount_fuse3():
    require_fuse()
    # mount(8) runs helpers without the caller's PATH: mount.fuse3 finds
    # interlinkfs in the default one, so put this build there for the
    # test (unless another interlinkfs is installed).
    link = "/usr/local/bin/interlinkfs"
    if os.geteuid() != 0:
        raise Skip("mount(8) needs root here")
    made = False
    if not os.path.lexists(link):
        os.symlink(FS, link)
        made = True
    elif os.path.realpath(link) != os.path.realpath(FS):
        raise Skip("%s is another interlinkfs" % link)
    try:
        mount_t_and_fstab()
    finally:
        if made:
            os.unlink(link)


def mount_t_and_fstab():
    sim = Sim("--regions", "fr-par", connections=3)
    d = tempfile.mkdtemp(prefix="interlinkfs-mount-t-")
    # Its state in a directory of its own, not the machine's.
    env = dict(os.environ, PATH=os.path.dirname(FS) + ":" +
               os.environ["PATH"], SCW_SECRET_KEY=sim.token,
               SCW_API_URL=sim.url, SCW_CONFIG_PATH="/nonexistent",
               STATE_DIRECTORY=d + ".state")
    try:
        p = subprocess.run(["mount", "-t", "fuse.interlinkfs", "none", d,
                            "-o", "regions=fr-par"], env=env,
                           capture_output=True, timeout=30)
        assert p.returncode == 0, p.stderr
        assert mounted_at(d) == "fuse.interlinkfs"
        assert listdir(os.path.join(d, "regions")) == ["fr-par"]
        assert len(listdir(os.path.join(d, "regions", "fr-par",
                                        "connections"))) == 3
        subprocess.run(["umount", d], check=True, timeout=30)
        wait_for(lambda: mounted_at(d) is None, 10, "the unmount")
        # An fstab line (in a file of our own, not /etc/fstab).
        fstab = d + ".fstab"
        with open(fstab, "w") as f:
            f.write("none %s fuse.interlinkfs "
                    "regions=fr-par,allow_other,_netdev,nofail 0 0\n" % d)
        p = subprocess.run(["mount", "--fstab", fstab, d], env=env,
                           capture_output=True, timeout=30)
        os.unlink(fstab)
        assert p.returncode == 0, p.stderr
        assert mounted_at(d) == "fuse.interlinkfs"
        with open("/proc/mounts") as f:
            line = [l for l in f if l.split()[1] == d][0].split()
        assert line[0] == "interlinkfs" and line[2] == "fuse.interlinkfs"
        assert "allow_other" in line[3]
        assert len(listdir(os.path.join(d, "regions", "fr-par",
                                        "connections"))) == 3
    finally:
        if mounted_at(d):
            subprocess.run(["umount", d], timeout=30)
        wait_for(lambda: mounted_at(d) is None, 10, "the unmount")
        os.rmdir(d)
        shutil.rmtree(d + ".state", ignore_errors=True)


def test_systemd_units_are_valid():
    if not shutil.which("systemd-analyze"):
        return
    work = tempfile.mkdtemp(prefix="interlinkfs-units-")
    try:
        for u in ("mnt-interlink.mount", "interlinkfs.service"):
            with open(os.path.join(ROOT, "examples", "systemd", u)) as f:
                text = f.read()
            assert "EnvironmentFile=/etc/interlinkfs/credentials" in text
            assert "SCW_SECRET_KEY=" not in text.replace(
                "echo SCW_SECRET_KEY=", "").replace(
                "(SCW_SECRET_KEY=...)", "")
            with open(os.path.join(work, u), "w") as f:
                f.write(text.replace("ExecStart=interlinkfs", "ExecStart=" + FS))
        p = subprocess.run(["systemd-analyze", "verify",
                            "./mnt-interlink.mount", "./interlinkfs.service"],
                           cwd=work, capture_output=True, timeout=60)
        assert p.returncode == 0, p.stderr
        assert b"Unknown" not in p.stderr and b"rror" not in p.stderr, \
            p.stderr
    finally:
        shutil.rmtree(work)


METRIC = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)"
                    r"(\{([a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\n]|\\.)*\""
                    r"(,[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\n]|\\.)*\")*)?\})?"
                    r" (-?[0-9.eE+-]+|NaN|[+-]Inf)( -?[0-9]+)?$")


def check_exposition(text):
    """A strict reading of the Prometheus text format: every sample's
    family has one HELP and one TYPE before it, names and labels are
    well formed, counters end in _total, values are numbers, no sample
    twice, the text ends with a newline."""
    assert text.endswith("\n")
    helped, typed, seen, samples = set(), {}, set(), 0
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name = line.split()[2]
            assert name not in helped, "HELP twice: " + name
            helped.add(name)
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert kind in ("counter", "gauge", "histogram", "summary",
                            "untyped"), kind
            assert name not in typed, "TYPE twice: " + name
            assert name not in {s.split("{")[0] for s in seen}, \
                "TYPE after samples: " + name
            typed[name] = kind
        elif line.startswith("#") or not line:
            raise AssertionError("unexpected line: %r" % line)
        else:
            m = METRIC.match(line)
            assert m, "bad sample line: %r" % line
            name = m.group(1)
            assert name in typed and name in helped, "no TYPE/HELP: " + name
            if typed[name] == "counter":
                assert name.endswith("_total"), name
                assert float(m.group(5)) >= 0
            key = line.rsplit(" ", 1)[0]
            assert key not in seen, "sample twice: " + key
            seen.add(key)
            samples += 1
    return samples


def test_metrics_are_valid_prometheus_text():
    sim = Sim("--regions", "fr-par,nl-ams", connections=4)
    m = Mount(sim, "regions=fr-par:nl-ams")
    listdir(m.path("regions", "fr-par", "connections"))
    # The listings saved (the state's thread counts as it writes): the
    # counters hold still.
    wait_for(lambda: len(statefiles.listings(m.state)) == 2, 10,
             "the listings saved")
    text = read(m.path(".interlinkfs", "metrics")).decode()
    n = check_exposition(text)
    assert n >= 14, text
    assert 'interlinkfs_listing_age_seconds{region="fr-par"}' in text
    # The listing, and the region's PoP list (read when it is entered).
    assert "interlinkfs_api_requests_total 2" in text
    # stats and metrics: the same counters, under the same names.
    stats = m.stats()
    for name, value in stats.items():
        if "listing_age" in name:
            continue
        assert ("interlinkfs_%s_total %s\n" % (name, value) in text or
                "interlinkfs_%s %s\n" % (name, value) in text), name
    assert len([l for l in text.splitlines() if l.startswith("# TYPE")]) \
        == len([k for k in stats if "listing_age" not in k]) + \
        len({k.rsplit("_", 2)[0] for k in stats if "listing_age" in k})
    # The checker is strict enough to fail on broken text.
    for broken in ("x_total 1\n", "# TYPE a counter\na 1\n",
                   text.replace("# TYPE", "# TYPO", 1), text + text,
                   text.rstrip("\n")):
        try:
            check_exposition(broken)
        except AssertionError:
            continue
        raise AssertionError("accepted: %r" % broken[:60])
    if shutil.which("promtool"):
        p = subprocess.run(["promtool", "check", "metrics"],
                           input=text.encode(), capture_output=True,
                           timeout=30)
        assert p.returncode == 0, p.stdout + p.stderr


def example(name, *args):
    return subprocess.run([os.path.join(ROOT, "examples", name)] +
                          list(args), capture_output=True, timeout=120)


def test_example_scripts_solve_their_tasks():
    sim = Sim("--regions", "fr-par,nl-ams", connections=12, seed=2)
    m = Mount(sim, "regions=fr-par:nl-ams")
    every = {r: sim.list_all(r) for r in ("fr-par", "nl-ams")}
    # report.sh: one aligned row per connection, sorted by region
    p = example("report.sh", m.dir)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.decode().splitlines()
    assert lines[0].split() == ["REGION", "NAME", "STATUS", "MBPS", "ID"]
    assert len(lines) == 1 + 24
    col = lines[0].index("STATUS")
    statuses = {"unknown_status", "created", "configuring", "failed",
                "active", "disabled", "deleted", "locked"}
    for line in lines[1:]:
        if line.isascii():           # aligned columns (ASCII: 1 char wide)
            assert line[col - 1] == " "
            assert line[col:].split()[0] in statuses, line
    ids = {l.split()[-1] for l in lines[1:]}
    assert ids == {c["id"] for r in every for c in every[r]}
    # check-active.sh: non-zero and the culprits
    p = example("check-active.sh", m.dir)
    culprits = {c["id"] for r in every for c in every[r]
                if c["status"] != "active"}
    assert p.returncode == 1 and culprits
    assert {l.split()[1] for l in p.stdout.decode().splitlines()} == \
        culprits
    for r in every:
        for c in every[r]:
            sim.patch(r, c["id"], {"status": "active"})
    m.proc.send_signal(1)           # SIGHUP: see the change now
    wait_for(lambda: example("check-active.sh", m.dir).returncode == 0, 10,
             "every connection active")
    # in-pop.sh: the connections in one PoP
    pops = sim.api("/fr-par/pops")[1]["pops"]
    th2 = [p_ for p_ in pops if p_["name"] == "TH2"][0]
    p = example("in-pop.sh", "TH2", m.dir)
    assert p.returncode == 0, p.stderr
    assert {l.split("\t")[0] for l in p.stdout.decode().splitlines()} == \
        {c["id"] for c in every["fr-par"] if c["pop_id"] == th2["id"]}
    assert example("in-pop.sh", "NOWHERE", m.dir).returncode == 1
    # vlans.sh: connection.json with jq
    p = example("vlans.sh", m.dir)
    assert p.returncode == 0, p.stderr
    want = sorted("%s\t%s\t%d\t%d" % (r, c["id"], c["vlan_range"]["start"],
                                      c["vlan_range"]["end"])
                  for r in every for c in every[r] if c["vlan_range"])
    assert sorted(p.stdout.decode().splitlines()) == want


def test_tar_of_the_mount_as_the_readme_says():
    # The README: tar of the whole mount works with .interlinkfs left out
    # (live counters, which change while they are read); regions/ alone
    # needs nothing. On a fresh mount: directories are first listed while
    # tar reads them, and their times must not move.
    sim = Sim("--regions", "fr-par,nl-ams", connections=8, seed=3)
    work = tempfile.mkdtemp(prefix="interlinkfs-tar-")
    try:
        for what in (["--exclude=./.interlinkfs", "."], ["regions"]):
            m = Mount(sim, "regions=fr-par:nl-ams")
            ar = os.path.join(work, "a.tar")
            p = subprocess.run(["tar", "-C", m.dir, "-cf", ar] + what,
                               capture_output=True, timeout=120)
            assert p.returncode == 0, (what, p.stderr)
            out = os.path.join(work, "x")
            os.mkdir(out)
            subprocess.run(["tar", "-C", out, "-xf", ar], check=True,
                           timeout=120)
            # Every object's files, byte for byte.
            for r in ("fr-par", "nl-ams"):
                for c in sim.list_all(r):
                    d = os.path.join("regions", r, "connections", c["id"])
                    for f in ("status", "name", "connection.json"):
                        with open(os.path.join(out, d, f), "rb") as fh:
                            assert fh.read() == read(m.path(d, f)), (d, f)
            assert not os.path.exists(os.path.join(out, ".interlinkfs"))
            shutil.rmtree(out)
            m.unmount()
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    run(globals())
