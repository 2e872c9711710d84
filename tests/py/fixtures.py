# SPDX-License-Identifier: Apache-2.0
"""tests/fixtures as the mount tests use them: each kind's awkward
objects, served by the simulator as that kind's list, and what each of
their files must hold."""
import os

DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                   "fixtures")
# Each kind's directory, list key and the fault match of its list.
LISTS = [("connections", "connections", "list"), ("pops", "pops", "pops_list"),
         ("links", "links", "links_list"),
         ("partners", "partners", "partners_list"),
         ("routing-policies", "routing_policies", "routing_policies_list")]


def serve(sim, work):
    """Make sim answer each kind's list with that kind's fixtures, as one
    page. The objects are sent as their files' text (some hold what no
    JSON library writes); the pages are written under work, a directory.
    Returns [(kind, case directory, object text)], kinds in LISTS order,
    cases sorted. sim.clear_faults() ends it."""
    cases = []
    for kind, key, match in LISTS:
        texts = []
        for case in sorted(os.listdir(os.path.join(DIR, kind))):
            d = os.path.join(DIR, kind, case)
            with open(os.path.join(d, "object.json")) as f:
                texts.append(f.read())
            cases.append((kind, d, texts[-1]))
        page = os.path.join(work, kind)
        with open(page, "w") as f:
            f.write('{"%s": [%s], "total_count": %d}'
                    % (key, ", ".join(texts), len(texts)))
        sim.fault("body", body_file=page, match=match,
                  content_type="application/json")
    return cases


def files(d):
    """What each file of case d holds: {name: bytes}, or None for a file
    that must read as EIO."""
    out = {}
    for name in os.listdir(os.path.join(d, "files")):
        if name.endswith(".eio"):
            out[name[:-4]] = None
        else:
            with open(os.path.join(d, "files", name), "rb") as f:
                out[name] = f.read()
    return out


def links(d):
    """Where each symbolic link of case d points: {name: target}."""
    ld = os.path.join(d, "links")
    if not os.path.isdir(ld):
        return {}
    out = {}
    for n in os.listdir(ld):
        with open(os.path.join(ld, n)) as f:
            out[n] = f.read()
    return out
