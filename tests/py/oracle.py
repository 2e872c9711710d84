# SPDX-License-Identifier: Apache-2.0
"""What each file of the tree must hold, computed from the API's JSON
objects here, independently of the C renderer (fs/model/render.c): the oracle
the mount tests compare the mounted files with."""
import datetime
import json as _json

# The documented fields of a dedicated connection.
DOCUMENTED_FIELDS = [
    "id", "project_id", "organization_id", "status", "name", "tags",
    "pop_id", "bandwidth_mbps", "available_link_bandwidths", "created_at",
    "updated_at", "demarcation_info", "vlan_range", "region",
]


def expected_files(c):
    """The bytes of every file of a connection directory, from its JSON
    object (written independently of the C renderer)."""
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


def expected_pop_files(p):
    out = {k: _value(p.get(k)) for k in (
        "id", "name", "display_name", "city", "address",
        "hosting_provider_name", "region")}
    out["available_link_bandwidths_mbps"] = _lines(
        p.get("available_link_bandwidths_mbps"))
    out["pop.json"] = _json_file(p)
    return out


# The oracle of each kind, by the name of its directory.
EXPECTED = {
    "connections": expected_files,
    "links": expected_link_files,
    "pops": expected_pop_files,
    "partners": expected_partner_files,
    "routing-policies": expected_policy_files,
}


def tsv_field(content):
    """A file's content as a field of a table or of the journal: less its
    final newline, with backslash, tab, newline and carriage return
    escaped (PostgreSQL's text COPY); None (unreadable) is \\N."""
    if content is None:
        return b"\\N"
    if content.endswith(b"\n"):
        content = content[:-1]
    return (content.replace(b"\\", b"\\\\").replace(b"\t", b"\\t")
            .replace(b"\n", b"\\n").replace(b"\r", b"\\r"))


def tsv_unescape(field):
    """The bytes a field stands for (its file's content less the final
    newline)."""
    out, i = bytearray(), 0
    while i < len(field):
        c = field[i:i + 1]
        if c == b"\\":
            out += {b"\\": b"\\", b"t": b"\t", b"n": b"\n",
                    b"r": b"\r"}[field[i + 1:i + 2]]
            i += 2
        else:
            out += c
            i += 1
    return bytes(out)


def rfc3339(s):
    """Seconds since the epoch of an RFC 3339 time (float)."""
    s = s.replace("Z", "+00:00").replace("z", "+00:00")
    return datetime.datetime.fromisoformat(s).timestamp()
