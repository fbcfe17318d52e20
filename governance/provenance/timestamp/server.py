"""A minimal RFC 3161 time-stamp authority ReelGuard can run itself, on loopback.

Its certificate (EKU timeStamping, critical) is issued by the project CA, so the trust bundle
that verifies manifests also verifies their timestamps. With a timestamp, a manifest stays
valid after the signer certificate expires: the signature is checked against the time the
TSA vouched for, not against today.

    with LoopbackTSA.from_settings(settings) as tsa:
        identity = load_or_create_identity(settings).with_tsa(tsa.url)
        sign_video(..., identity=identity)
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography import x509

from governance.core.errors import KeyMaterialError
from governance.core.settings import Settings
from governance.provenance.keys import certs
from governance.provenance.keys.backend import load_private_key, save_private_key
from governance.provenance.keys.folder import c2pa_dir, install_id, locked_folder, write_public
from governance.provenance.keys.identity import load_or_create_identity
from governance.provenance.timestamp.protocol import MAX_MESSAGE_BYTES, issue_response

__all__ = ["LoopbackTSA", "load_or_create_tsa"]

TSA_DAYS = 3650


def load_or_create_tsa(settings: Settings) -> tuple[Any, x509.Certificate, tuple[x509.Certificate, ...]]:
    """The home's TSA key, certificate and chain (created from the project CA on first use)."""
    load_or_create_identity(settings)
    folder = c2pa_dir(settings)
    with locked_folder(settings):
        if not (folder / "tsa.cert.pem").exists():
            if not (folder / "root.key.pem").exists():
                raise KeyMaterialError(f"{folder} has no project CA key to issue a TSA certificate")
            root = certs.load_cert_chain((folder / "root.cert.pem").read_bytes(), source="root.cert.pem")[0]
            root_key = load_private_key(folder / "root.key.pem", settings.key_passphrase)
            key = certs.generate_key("es256")
            cert = certs.issue_certificate(
                key,
                common_name=f"{settings.organisation} Time-Stamp Authority {install_id(folder)}",
                organisation=settings.organisation,
                profile="tsa",
                issuer=(root, root_key),
                days=TSA_DAYS,
            )
            save_private_key(folder / "tsa.key.pem", key, settings.key_passphrase)
            write_public(folder / "tsa.cert.pem", certs.cert_pem(cert))
    cert = certs.load_cert_chain((folder / "tsa.cert.pem").read_bytes(), source="tsa.cert.pem")[0]
    key = load_private_key(folder / "tsa.key.pem", settings.key_passphrase)
    certs.check_key_matches(key, cert, source=str(folder / "tsa.key.pem"))
    return key, cert, ()


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/timestamp-query":
            self._reply(415, b"", "text/plain")
            return
        if length <= 0 or length > MAX_MESSAGE_BYTES:
            self._reply(413, b"", "text/plain")
            return
        body = self.rfile.read(length)
        tsa = self.server.tsa
        reply = issue_response(body, key=tsa._key, cert=tsa.cert, chain=tsa.chain, now=tsa.clock())
        tsa.issued += 1
        self._reply(200, reply, "application/timestamp-reply")

    def _reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # keep request noise out of logs
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    tsa: LoopbackTSA


class _Server6(_Server):
    address_family = socket.AF_INET6  # the class default (IPv4) cannot bind ::1


class LoopbackTSA:
    """An RFC 3161 TSA on 127.0.0.1 (ephemeral port by default); a context manager."""

    def __init__(
        self,
        key: Any,
        cert: x509.Certificate,
        chain: tuple[x509.Certificate, ...] = (),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError(f"LoopbackTSA binds loopback only, not {host!r}")
        self._key = key
        self.cert = cert
        self.chain = chain
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.issued = 0
        self._server = (_Server6 if host == "::1" else _Server)((host, port), _Handler)
        self._server.tsa = self
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> LoopbackTSA:
        key, cert, chain = load_or_create_tsa(settings)
        return cls(key, cert, chain, **kwargs)

    @property
    def url(self) -> str:
        host, port = self._server.socket.getsockname()[:2]
        return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"

    def start(self) -> LoopbackTSA:
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever, name="reelguard-tsa", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> LoopbackTSA:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"LoopbackTSA(url={self.url!r}, subject={certs.common_name(self.cert)!r})"
