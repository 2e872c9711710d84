# SPDX-License-Identifier: Apache-2.0
"""A throwaway PKI for TLS tests, made with the openssl command in a
temporary directory (nothing is written anywhere else, and the system's
trust store is never touched):

  ca.pem                 the test CA
  server.pem/.key        for 127.0.0.1, localhost and api.scaleway.com
  expired.pem/.key       the same names, valid in January 2020 only
  otherhost.pem/.key     for other.example only
  selfsigned.pem/.key    self-signed, for 127.0.0.1 and api.scaleway.com
  untrusted.pem/.key     for 127.0.0.1, from a CA nobody is given
  dir/                   ca.pem under its hash name (for SSL_CERT_DIR)
"""
import os
import shutil
import subprocess

NAMES = "IP:127.0.0.1,DNS:localhost,DNS:api.scaleway.com"

CA_CONF = """[ca]
default_ca = test
[test]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
copy_extensions = none
unique_subject = no
[any]
commonName = supplied
[server]
subjectAltName = %s
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
[otherhost]
subjectAltName = DNS:other.example
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
""" % NAMES


def openssl_available():
    return shutil.which("openssl") is not None


def _run(args, cwd):
    p = subprocess.run(["openssl"] + args, cwd=cwd, capture_output=True,
                       timeout=60)
    assert p.returncode == 0, (args, p.stderr.decode())


def _key_and_csr(d, name, cn):
    _run(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
          "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
          "-subj", "/CN=" + cn], d)


def _ca(d, name, cn):
    _run(["req", "-x509", "-newkey", "ec", "-pkeyopt",
          "ec_paramgen_curve:P-256", "-nodes", "-keyout", name + ".key",
          "-out", name + ".pem", "-days", "2", "-subj", "/CN=" + cn,
          "-addext", "basicConstraints=critical,CA:TRUE",
          "-addext", "keyUsage=critical,keyCertSign,cRLSign"], d)


def _sign(d, ca, name, section, start, end):
    _run(["ca", "-config", "ca.cnf", "-batch", "-notext", "-keyfile",
          ca + ".key", "-cert", ca + ".pem", "-in", name + ".csr", "-out",
          name + ".pem", "-extensions", section, "-startdate", start,
          "-enddate", end], d)


def make(d):
    """Makes the PKI in directory d (created); returns {name: path}."""
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "ca.cnf"), "w") as f:
        f.write(CA_CONF)
    open(os.path.join(d, "index.txt"), "w").close()
    with open(os.path.join(d, "serial"), "w") as f:
        f.write("1000\n")
    _ca(d, "ca", "interlinkfs test CA")
    _ca(d, "otherca", "a CA nobody trusts")
    now, later = "20250101000000Z", "20991231000000Z"
    for name, ca, section, start, end in (
            ("server", "ca", "server", now, later),
            ("expired", "ca", "server", "20200101000000Z",
             "20200131000000Z"),
            ("otherhost", "ca", "otherhost", now, later),
            ("untrusted", "otherca", "server", now, later)):
        _key_and_csr(d, name, "127.0.0.1")
        _sign(d, ca, name, section, start, end)
    _run(["req", "-x509", "-newkey", "ec", "-pkeyopt",
          "ec_paramgen_curve:P-256", "-nodes", "-keyout", "selfsigned.key",
          "-out", "selfsigned.pem", "-days", "2", "-subj", "/CN=127.0.0.1",
          "-addext", "subjectAltName=" + NAMES], d)
    h = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in",
                        os.path.join(d, "ca.pem")], capture_output=True,
                       check=True, timeout=30).stdout.decode().strip()
    os.makedirs(os.path.join(d, "dir"), exist_ok=True)
    shutil.copy(os.path.join(d, "ca.pem"), os.path.join(d, "dir",
                                                       h + ".0"))
    out = {"ca": os.path.join(d, "ca.pem"), "dir": os.path.join(d, "dir")}
    for name in ("server", "expired", "otherhost", "selfsigned",
                 "untrusted"):
        out[name] = (os.path.join(d, name + ".pem"),
                     os.path.join(d, name + ".key"))
    return out


FLEET_CONF = """[ca]
default_ca = fleet
[fleet]
database = index.txt
new_certs_dir = .
serial = serial
crlnumber = crlnumber
default_md = sha256
default_crl_days = 2
policy = any
copy_extensions = none
unique_subject = no
[any]
commonName = supplied
[host]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
keyUsage = digitalSignature
"""


def fleet(d):
    """A fleet's PKI in directory d (created), for the gateway's tests:

      fleet-ca.pem         the fleet CA (hosts' certificates)
      host1.pem/.key       a host's certificate
      host2.pem/.key       another, revoked
      stranger.pem/.key    a client certificate of a CA the gateway does
                           not trust
      fleet-crl.pem        the fleet CA's CRL, revoking host2

    Returns {name: path} ((cert, key) for the certificates)."""
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "fleet.cnf"), "w") as f:
        f.write(FLEET_CONF)
    open(os.path.join(d, "index.txt"), "w").close()
    for name in ("serial", "crlnumber"):
        with open(os.path.join(d, name), "w") as f:
            f.write("1000\n")
    _ca(d, "fleet-ca", "interlinkfs test fleet CA")
    _ca(d, "stranger-ca", "a fleet CA nobody trusts")
    now, later = "20250101000000Z", "20991231000000Z"
    for name, ca in (("host1", "fleet-ca"), ("host2", "fleet-ca"),
                     ("stranger", "stranger-ca")):
        _key_and_csr(d, name, name + ".fleet.example")
        _run(["ca", "-config", "fleet.cnf", "-batch", "-notext",
              "-keyfile", ca + ".key", "-cert", ca + ".pem", "-in",
              name + ".csr", "-out", name + ".pem", "-extensions", "host",
              "-startdate", now, "-enddate", later], d)
    _run(["ca", "-config", "fleet.cnf", "-keyfile", "fleet-ca.key", "-cert",
          "fleet-ca.pem", "-revoke", "host2.pem"], d)
    _run(["ca", "-config", "fleet.cnf", "-keyfile", "fleet-ca.key", "-cert",
          "fleet-ca.pem", "-gencrl", "-out", "fleet-crl.pem"], d)
    out = {n: os.path.join(d, n + ".pem") for n in ("fleet-ca",
                                                      "fleet-crl")}
    for n in ("host1", "host2", "stranger"):
        out[n] = (os.path.join(d, n + ".pem"), os.path.join(d, n + ".key"))
    return out
