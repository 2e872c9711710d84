# SPDX-License-Identifier: Apache-2.0
"""The house: what a newcomer relies on to find their way, checked.

- no two .c files of one folder call each other (from the symbols of the
  objects this build made);
- no source or test file over 700 lines, no function of api/, cache/ or
  fs/ over 80;
- every source file starts with its license line, every header of api/,
  cache/ and fs/ says how it may be used from threads;
- the kinds of fs/kinds.c are the simulator's, the SDK check's, the
  oracle's, the fixtures', the man page's tree's and the README's;
- every relative link of the README and docs/ leads somewhere;
- the README stays a short front door: at most 300 lines.
"""
import glob
import json
import os
import re
import subprocess
from collections import defaultdict

from harness import run
from sim import API, Sim

ROOT = os.environ["SOURCE_ROOT"]
BUILD = os.environ["BUILD_ROOT"]
FOLDERS = ["api", "cache", "fs", "tests/sim"]


def tracked(*patterns):
    """The source tree's files that match one of the patterns (a file name
    pattern, or a path pattern when it holds a '/'): build trees, hidden
    folders and npm's node_modules left out."""
    import fnmatch
    out = []
    for dirpath, dirs, files in os.walk(ROOT):
        rel = os.path.relpath(dirpath, ROOT)
        dirs[:] = [d for d in dirs if not d.startswith((".", "build")) and
                   d != "node_modules" and
                   not os.path.exists(os.path.join(dirpath, d,
                                                   "meson-private"))]
        if rel == ".":
            dirs[:] = dirs + [".ci"] if os.path.isdir(
                os.path.join(ROOT, ".ci")) else dirs
        for f in files:
            path = os.path.normpath(os.path.join(rel, f))
            if any(fnmatch.fnmatch(path if "/" in p else f, p)
                   for p in patterns):
                out.append(path)
    return sorted(set(out))


def objects():
    """(folder, source file name, object path) of every C source of the
    product folders that this build compiles."""
    targets = json.loads(subprocess.run(
        ["meson", "introspect", "--targets", BUILD], capture_output=True,
        text=True, check=True).stdout)
    out = []
    for t in targets:
        sub = os.path.relpath(os.path.dirname(t["filename"][0]), BUILD)
        if sub not in FOLDERS:
            continue
        pdir = os.path.join(BUILD, sub,
                            os.path.basename(t["filename"][0]) + ".p")
        for src in t["target_sources"]:
            for s in src.get("sources", []):
                if s.endswith(".c"):
                    o = os.path.join(pdir, os.path.basename(s) + ".o")
                    assert os.path.exists(o), o
                    out.append((sub, os.path.basename(s), o))
    return out


def test_no_two_files_of_a_folder_call_each_other():
    defs, uses = {}, defaultdict(set)
    objs = objects()
    assert len(objs) >= 40, objs
    for folder, src, o in objs:
        nm = subprocess.run(["nm", o], capture_output=True, text=True,
                            check=True).stdout
        for line in nm.splitlines():
            p = line.split()
            if len(p) == 3 and p[1] in "TDRB":
                defs[p[2]] = (folder, src)
            elif len(p) == 2 and p[0] == "U":
                uses[(folder, src)].add(p[1])
    calls = {(a, defs[s]) for a, syms in uses.items() for s in syms
             if s in defs and defs[s] != a and defs[s][0] == a[0]}
    both = sorted((a, b) for a, b in calls if (b, a) in calls and a < b)
    assert not both, both
    assert len(calls) > 20, calls          # the scan saw the calls


def test_no_file_over_700_lines():
    big = {}
    for f in tracked("*.c", "*.h", "*.py", "*.sh", "*.mjs"):
        with open(os.path.join(ROOT, f), errors="replace") as fh:
            n = sum(1 for _ in fh)
        if n > 700:
            big[f] = n
    assert not big, big


def test_readme_is_a_short_front_door():
    # What it is, install, the two commands, a tour, the common options
    # and where to read more; the rest lives in the man page and docs/.
    with open(os.path.join(ROOT, "README.md")) as fh:
        n = sum(1 for _ in fh)
    assert 50 < n <= 300, n


def functions(path):
    """(name, lines) of each function of a C file: from a line that is
    "{" alone to the next that is "}" alone (the project's style)."""
    with open(path) as fh:
        lines = fh.read().split("\n")
    out = []
    for i, line in enumerate(lines):
        if line != "{":
            continue
        j = i - 1
        while j >= 0 and "(" not in lines[j]:
            j -= 1
        name = re.search(r"(\w+)\s*\(", lines[j]).group(1)
        k = lines.index("}", i)
        out.append((name, k - i + 1))
    return out


def test_no_function_over_80_lines():
    long = {}
    for d in ("api", "cache", "fs"):
        for f in glob.glob(os.path.join(ROOT, d, "*.c")):
            fns = functions(f)
            assert fns, f
            for name, n in fns:
                if n > 80:
                    long["%s:%s" % (os.path.relpath(f, ROOT), name)] = n
    assert not long, long


def test_every_source_file_starts_with_its_license():
    files = tracked("*.c", "*.h", "*.py", "*.sh", "*.mjs", "meson.build",
                    "*/meson.build", "meson_options.txt", ".ci/run",
                    "debian/rules", "*.1")
    assert len(files) > 100, len(files)
    bad = []
    for f in files:
        with open(os.path.join(ROOT, f)) as fh:
            head = [fh.readline(), fh.readline()]
        first = head[1] if head[0].startswith("#!") else head[0]
        if "SPDX-License-Identifier: Apache-2.0" not in first:
            bad.append(f)
    assert not bad, bad
    with open(os.path.join(ROOT, "LICENSE")) as fh:
        assert "Apache License" in fh.read(300)


def test_every_header_says_how_it_may_be_used_from_threads():
    bad = []
    for d in ("api", "cache", "fs"):
        for h in glob.glob(os.path.join(ROOT, d, "*.h")):
            with open(h) as fh:
                text = fh.read().lower()
            if "thread-safe" not in text and "thread-safety" not in text:
                bad.append(os.path.relpath(h, ROOT))
    assert not bad, bad


def kinds():
    out = subprocess.run([os.environ["KINDS"]], capture_output=True,
                         text=True, check=True).stdout
    return [json.loads(l) for l in out.splitlines()]


def test_the_kinds_agree_everywhere():
    ks = kinds()
    assert len(ks) >= 5, ks
    # The simulator serves each kind's path, its list under the key.
    sim = Sim("--regions", "fr-par", connections=2)
    for k in ks:
        status, body = sim.api("/fr-par/%s?page_size=1" % k["path"])
        assert status == 200 and k["key"] in body, (k["path"], body)
    assert set(sim.data()["fr-par"]) == {k["key"] for k in ks}
    sim.stop()
    # The SDK check holds the simulator to the SDK for each of them.
    with open(os.path.join(ROOT, "tests", "sdk", "check.mjs")) as fh:
        mjs = fh.read()
    block = mjs.split("const collections = {", 1)[1].split("\n}\n", 1)[0]
    assert set(re.findall(r"^  (\w+): \{", block, re.M)) == \
        {k["key"] for k in ks}
    # The man page's tree names every directory, file and link.
    with open(os.path.join(ROOT, "fs", "interlinkfs.1")) as fh:
        man = fh.read()
    tree = man.split(".SS The tree", 1)[1].split(".SS ", 1)[0]
    tree = tree.replace("\\-", "-").replace("\\&", "")
    for k in ks:
        for name in [k["dir"]] + k["files"] + k["links"] + k["subdirs"]:
            assert re.search(r"(^|[\s/])%s([\s/]|$)" % re.escape(name),
                             tree, re.M), (k["dir"], name)
    # The Python oracle renders each, the fixtures hold cases of each,
    # and the fixture test sends each through a mount.
    import fixtures
    import oracle
    dirs = {k["dir"] for k in ks}
    assert set(oracle.EXPECTED) == dirs
    assert {d for d in os.listdir(fixtures.DIR) if d not in ("answers",
            "README.md")} == dirs
    assert {kind for kind, _, _ in fixtures.LISTS} == dirs
    # The README's tree names every kind's directory.
    with open(os.path.join(ROOT, "README.md")) as fh:
        readme = fh.read()
    for k in ks:
        assert re.search(r"^\s+%s/" % re.escape(k["dir"]), readme, re.M), \
            k["dir"]


def anchors(path):
    """The anchors of a Markdown file's headings, as GitHub makes them."""
    with open(path) as fh:
        text = fh.read()
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
            for h in re.findall(r"^#+ (.*)$", text, re.M)}


def test_every_relative_link_leads_somewhere():
    docs = ["README.md"] + [os.path.relpath(p, ROOT) for p in
                            glob.glob(os.path.join(ROOT, "docs", "*.md"))]
    assert len(docs) >= 4, docs
    seen = 0
    for d in docs:
        with open(os.path.join(ROOT, d)) as fh:
            text = fh.read()
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            seen += 1
            path, _, anchor = target.partition("#")
            f = os.path.normpath(os.path.join(ROOT, os.path.dirname(d),
                                              path)) if path else \
                os.path.join(ROOT, d)
            assert os.path.exists(f), (d, target)
            if anchor:
                assert anchor in anchors(f), (d, target)
    assert seen >= 10, seen

if __name__ == "__main__":
    run(globals())
