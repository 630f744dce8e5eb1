"""A local RFC 3161 timestamp authority for the tests: OpenSSL's `openssl ts -reply` behind a small HTTP server on
127.0.0.1, with its own test CA (a root, and a TSA certificate with extendedKeyUsage critical,timeStamping).

Two kinds: the token carries the TSA's certificate only; or (chain=True) root → intermediate CA → TSA, and the token
carries the TSA's certificate, the intermediate and the root, in that (chain) order as OpenSSL and most real
authorities write them: not the sorted order DER asks of a SET OF."""

from __future__ import annotations

import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CONFIG = """\
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = {cn}
[ root_ext ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ int_ext ]
basicConstraints = critical,CA:true,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ tsa_ext ]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
{certs}"""


def _openssl(folder: Path, *args: str, data: bytes | None = None) -> bytes:
    return subprocess.run(["openssl", *args], cwd=folder, input=data, capture_output=True, check=True).stdout


def _issue(folder: Path, stem: str, issuer: str, extensions: str) -> None:
    _openssl(folder, "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{stem}.key", "-out", f"{stem}.csr",
             "-config", f"{stem}.cnf")
    _openssl(folder, "x509", "-req", "-in", f"{stem}.csr", "-CA", f"{issuer}.pem", "-CAkey", f"{issuer}.key",
             "-CAcreateserial", "-out", f"{stem}.pem", "-days", "3650", "-extfile", f"{stem}.cnf",
             "-extensions", extensions)


def make_ca(folder: Path, name: str = "Policy Test", chain: bool = False) -> Path:
    """A root CA and a TSA certificate it signed, in folder: ca.pem, tsa.pem, tsa.key, tsa.cnf; returns folder.
    chain: an intermediate CA (int.pem) signs the TSA's certificate, and tokens carry TSA, intermediate and root."""
    folder.mkdir(parents=True, exist_ok=True)
    certs = "certs = $dir/chain.pem\n" if chain else ""
    stems = ("ca", "int", "tsa") if chain else ("ca", "tsa")
    for cn, stem in zip((f"{name} Root CA", f"{name} Intermediate CA", f"{name} TSA")[-len(stems):], stems,
                        strict=True):
        (folder / f"{stem}.cnf").write_text(CONFIG.format(cn=cn, dir=folder, certs=certs), encoding="utf-8")
    _openssl(folder, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
             "-days", "3650", "-config", "ca.cnf", "-extensions", "root_ext")
    if chain:
        _issue(folder, "int", "ca", "int_ext")
        _issue(folder, "tsa", "int", "tsa_ext")
        pems = [(folder / f"{stem}.pem").read_text(encoding="utf-8") for stem in ("int", "ca")]
        (folder / "chain.pem").write_text("".join(pems), encoding="utf-8")
    else:
        _issue(folder, "tsa", "ca", "tsa_ext")
    (folder / "serial").write_text("01\n", encoding="utf-8")
    return folder


class Authority:
    """`openssl ts -reply` over HTTP (POST application/timestamp-query); counts and keeps its answers; can be turned
    off."""

    def __init__(self, folder: Path, chain: bool = False) -> None:
        self.folder = make_ca(folder, chain=chain)
        self.requests = 0
        self.replies: list[bytes] = []
        self.down = False
        self.lock = threading.Lock()
        authority = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if authority.down or self.headers.get("Content-Type") != "application/timestamp-query":
                    self.send_response(503 if authority.down else 415)
                    self.end_headers()
                    return
                with authority.lock:
                    authority.requests += 1
                    (authority.folder / "request.tsq").write_bytes(body)
                    reply = _openssl(authority.folder, "ts", "-reply", "-config", "tsa.cnf", "-queryfile",
                                     "request.tsq")
                    authority.replies.append(reply)
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tsa"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def ca(self) -> Path:
        return self.folder / "ca.pem"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
