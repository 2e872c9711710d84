# SPDX-License-Identifier: Apache-2.0
"""The files of a state directory (fs/views/statefile.h), read apart from
the C code: a header of "name value" lines after the magic line, an empty
line, then a body whose SHA-256 the header holds."""
import hashlib
import os


class Bad(Exception):
    """Not a whole state file: torn, cut or garbled."""


def header(data):
    """(magic fields, {name: value}, body) of a state file's bytes."""
    end = data.find(b"\n\n")
    if end < 0:
        raise Bad("no end of header")
    lines = data[:end].decode().split("\n")
    first = lines[0].split(" ")
    if len(first) != 3 or first[0] != "interlinkfs-state":
        raise Bad("not a state file: %r" % lines[0])
    fields = dict(l.split(" ", 1) for l in lines[1:])
    return first, fields, data[end + 2:]


def whole(data):
    """The header's fields and the body of a file that must be whole (not
    the journal): its length and its sum checked."""
    first, f, body = header(data)
    if len(body) != int(f["body"]):
        raise Bad("body of %d bytes, header says %s" % (len(body), f["body"]))
    if hashlib.sha256(body).hexdigest() != f["sum"]:
        raise Bad("sum does not match")
    return first, f, body


def listing(data):
    """A listing file: {region, kind, born, off, batch, objects, key}."""
    first, f, body = whole(data)
    assert first[2] == "listing", first
    off, blen = (int(x) for x in f["batch"].split())
    batch, rest, objects = body[:blen], body[blen:], []
    while rest:
        n, rest = rest.split(b"\n", 1)
        objects.append(rest[:int(n)])
        rest = rest[int(n):]
    assert len(objects) == int(f["objects"]), f
    return {"region": f["region"], "kind": f["kind"], "key": f["key"],
            "born": float(f["born"]), "off": off, "batch": batch,
            "objects": objects}


def journal(data):
    """The journal file: (base, dropped, lines)."""
    first, f, body = header(data)
    assert first[2] == "journal", first
    return int(f["base"]), int(f["dropped"]), body


def files(d):
    """{name: bytes} of the regular files of directory d. A file gone
    between the listing and its reading (a temporary file a running
    mount renamed) is left out."""
    out = {}
    for n in os.listdir(d):
        p = os.path.join(d, n)
        if os.path.isfile(p) and not os.path.islink(p):
            try:
                with open(p, "rb") as fh:
                    out[n] = fh.read()
            except FileNotFoundError:
                pass
    return out


def listings(d):
    """{(region, kind): listing} of the listing files in d."""
    return {(l["region"], l["kind"]): l for l in
            (listing(b) for n, b in files(d).items()
             if n.endswith(".listing"))}


def journal_of(d):
    """The journal file of d: (base, dropped, lines), or None."""
    for n, b in files(d).items():
        if n.endswith(".journal"):
            return journal(b)
    return None
