# SPDX-License-Identifier: Apache-2.0
"""The house: what a newcomer relies on to find their way, checked.

- no circle of calls, of any length, among the .c files of one folder,
  nor among folders; each folder calls only the layers before it (from
  the symbols of the objects this build made), and only fs/driver/
  includes libfuse;
- every exported name carries its file's prefix (or its folder's, for a
  name of the folder's public header);
- no source or test file over 700 lines, no function of api/, cache/ or
  fs/ over 80;
- every source file starts with its license line, every header of api/,
  cache/ and fs/ says how it may be used from threads;
- the kinds of fs/model/kinds.c are the simulator's, the SDK check's, the
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
FOLDERS = ["api", "cache", "cache/base", "fs/model", "fs/views", "fs/tree",
           "fs/driver", "tests/sim"]
# The layers: each folder may call only those listed for it.
LAYERS = {
    "cache/base": set(),
    "cache": {"cache/base"},
    "api": {"cache/base"},
    "fs/model": {"api", "cache/base"},
    "fs/views": {"fs/model", "cache", "api", "cache/base"},
    "fs/tree": {"fs/views", "fs/model", "cache", "api", "cache/base"},
    "fs/driver": {"fs/tree", "fs/views", "fs/model", "cache", "api",
                  "cache/base"},
    "tests/sim": set(),
}
PRODUCT = ["api", "cache", "fs"]


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


_objects = []


def objects():
    """(folder, source file name, object path) of every C source of the
    product folders that this build compiles (asked of meson once)."""
    if _objects:
        return _objects
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
    _objects.extend(out)
    return out


_nm = {}


def symbols(o):
    """nm's lines for object o (read once)."""
    if o not in _nm:
        _nm[o] = subprocess.run(["nm", o], capture_output=True, text=True,
                                check=True).stdout.splitlines()
    return _nm[o]


def call_graph():
    """{(folder, file): {(folder, file) it calls}}, from the symbols of the
    objects this build made (defined: T D R B; used: U)."""
    defs, uses = {}, defaultdict(set)
    objs = objects()
    assert len(objs) >= 40, objs
    for folder, src, o in objs:
        for line in symbols(o):
            p = line.split()
            if len(p) == 3 and p[1] in "TDRB":
                defs[p[2]] = (folder, src)
            elif len(p) == 2 and p[0] == "U":
                uses[(folder, src)].add(p[1])
    graph = defaultdict(set)
    for a, syms in uses.items():
        for sym in syms:
            if sym in defs and defs[sym] != a:
                graph[a].add(defs[sym])
    return graph


def circles(graph):
    """The circles of a directed graph {node: {nodes}}: its strongly
    connected components of more than one node (Tarjan), each sorted."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))
    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def test_the_circle_finder_finds_circles_of_any_length():
    # The circle of five files issue 29 found, and a pair: both found.
    five = {"attr": {"fs"}, "fs": {"keeper", "metadir", "tabledir"},
            "keeper": {"metadir"}, "metadir": {"attr"},
            "tabledir": {"attr"}, "ops": {"attr"}}
    assert circles(five) == [["attr", "fs", "keeper", "metadir",
                              "tabledir"]], circles(five)
    assert circles({"a": {"b"}, "b": {"a"}}) == [["a", "b"]]
    assert circles({"a": {"b"}, "b": {"c"}}) == []


def test_no_circle_of_calls_among_the_files_of_a_folder():
    graph = call_graph()
    calls = 0
    for folder in FOLDERS:
        sub = {a: {b for b in bs if b[0] == folder}
               for a, bs in graph.items() if a[0] == folder}
        calls += sum(len(b) for b in sub.values())
        assert not circles(sub), (folder, circles(sub))
    assert calls > 40, calls               # the scan saw the calls


def test_each_folder_calls_only_the_layers_before_it():
    graph = call_graph()
    folders = defaultdict(set)
    for a, bs in graph.items():
        for b in bs:
            if b[0] != a[0]:
                folders[a[0]].add(b[0])
                assert b[0] in LAYERS[a[0]], ("%s/%s calls into %s/%s" %
                                              (a[0], a[1], b[0], b[1]))
    assert not circles(folders), circles(folders)
    assert folders["fs/driver"] >= {"fs/tree", "fs/views", "fs/model"}


def test_only_the_driver_includes_libfuse():
    bad = [f for f in tracked("*.c", "*.h")
           if f.split("/")[0] in PRODUCT and not f.startswith("fs/driver/")
           and re.search(r"^#include <fuse", open(os.path.join(ROOT, f))
                         .read(), re.M)]
    assert not bad, bad


def prefixes(path):
    """The prefixes a file's exported names may carry: its name (or its
    first word, or that less a plural s), and its folder's (the
    module's public names, declared in the folder's header)."""
    base = os.path.basename(path)[:-2]
    out = {base, base.split("_")[0], base.rstrip("s")}
    return out


def public_names(folder):
    """The functions a folder's public header (api/api.h, cache/cache.h)
    declares."""
    h = os.path.join(ROOT, folder, os.path.basename(folder) + ".h")
    if not os.path.exists(h):
        return set()
    with open(h) as fh:
        return set(re.findall(r"\b(\w+)\s*\(", fh.read()))


def test_every_exported_name_carries_its_prefix():
    bad = []
    for folder, src, o in objects():
        if folder == "tests/sim":
            continue
        public = public_names(folder)
        for line in symbols(o):
            p = line.split()
            # main, and what a compiler or sanitizer adds (__odr_asan...).
            if len(p) != 3 or p[1] not in "TDRB" or p[2] == "main" or \
                    p[2].startswith("__"):
                continue
            name = p[2]
            if any(name.startswith(x + "_") for x in prefixes(src)):
                continue
            if name in public and name.startswith(
                    os.path.basename(folder) + "_"):
                continue
            bad.append("%s/%s: %s" % (folder, src, name))
    assert not bad, bad


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
    for d in ("api", "cache", "cache/base", "fs/model", "fs/views",
              "fs/tree", "fs/driver"):
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
    for d in ("api", "cache", "cache/base", "fs/model", "fs/views",
              "fs/tree", "fs/driver"):
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


def table_files(text, heading):
    """The files a table of development.md names, under heading: a name
    without a folder is in the folder of the one before it in its cell."""
    sec = text.split("## " + heading + "\n", 1)[1].split("\n## ", 1)[0]
    out = set()
    for row in re.findall(r"^\| (.+?) \|", sec, re.M):
        folder = None
        for name in re.findall(r"`([^`]+)`", row):
            if "/" in name:
                folder = os.path.dirname(name)
                out.add(name)
            elif folder:
                out.add(folder + "/" + name)
    return out


def files_naming_a_kind():
    """The files of the product that name a kind (K_CONN, ...)."""
    out = []
    for f in tracked("*.c", "*.h"):
        if f.split("/")[0] not in PRODUCT:
            continue
        with open(os.path.join(ROOT, f)) as fh:
            if re.search(r"\bK_(CONN|POP|LINK|PARTNER|RP)\b", fh.read()):
                out.append(f)
    return out


def missing_from_the_kind_table(text):
    table = table_files(text, "Adding a kind")
    return [f for f in files_naming_a_kind() if f not in table]


def test_the_kind_table_names_every_file_that_names_a_kind():
    with open(os.path.join(ROOT, "docs", "development.md")) as fh:
        text = fh.read()
    assert len(files_naming_a_kind()) >= 3
    assert not missing_from_the_kind_table(text)
    # The check can fail: without its row, prom.c is missed (as it was
    # before the check).
    broken = re.sub(r"^\| `fs/views/prom.c`.*\n", "", text, flags=re.M)
    assert missing_from_the_kind_table(broken) == ["fs/views/prom.c"]
    # Every file the tables name exists.
    for heading in ("Adding a kind", "Adding a table column",
                    "Adding a Prometheus series", "Adding a daemon counter"):
        for f in table_files(text, heading):
            if "<" not in f:
                assert os.path.exists(os.path.join(ROOT, f)), (heading, f)


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
