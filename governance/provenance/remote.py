"""Fetch a C2PA manifest store that an asset references by URL, only when the operator allows it.

A remote manifest URL comes from the asset, i.e. from whoever made the file, so fetching it is
a server-side request on an attacker's behalf. Every check therefore runs before a socket
exists: policy switch, URL shape, host allow-list, then DNS with every answer vetted (no
private, link-local/metadata, multicast, reserved or unspecified address; loopback only for
local dev). The TCP connection then goes to the vetted IP itself, so a second DNS answer cannot
swap in another address, and the whole exchange runs under one total deadline and a byte cap.
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import math
import re
import socket
import ssl
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from detectors.errors import ProvenanceError
from governance.core.errors import ConfigError
from governance.core.settings import Settings

__all__ = ["RemotePolicy", "RemoteManifestError", "fetch_remote_manifest", "remote_url_from_error"]

_log = logging.getLogger(__name__)

MIB = 1024 * 1024
_CHUNK = 64 * 1024
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
# c2pa-rs words the same fact two ways: with remote fetching off, and when its own fetch failed.
_URL_IN_ERROR = re.compile(
    r"(?:must fetch remote manifests from url|error sending request for url \()\s*(https?://[^\s)]+)"
)


class RemoteManifestError(ProvenanceError):
    """A remote manifest was not fetched; ``code`` (e.g. ``remote.timeout``) says why.

    A ``ProvenanceError`` because fetching the referenced store is part of reading provenance:
    callers that already handle unreadable manifests handle this too (exit code 25)."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(f"{code}: {message}")


@dataclass(frozen=True)
class RemotePolicy:
    """What the operator allows. The default fetches nothing."""

    enabled: bool = False
    allowed_hosts: tuple[str, ...] = ()  # exact names / IP literals, or "*.example.com" (subdomains only)
    max_bytes: int = 16 * MIB
    timeout_s: float = 10.0  # total for connect + TLS + request + headers + body
    allow_loopback: bool = False  # tests and local development only
    https_only: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.max_bytes, bool) or not isinstance(self.max_bytes, int) or self.max_bytes <= 0:
            raise ConfigError(f"remote manifest max_bytes must be a positive integer, got {self.max_bytes!r}")
        if not isinstance(self.timeout_s, (int, float)) or not math.isfinite(self.timeout_s) or self.timeout_s <= 0:
            raise ConfigError(f"remote manifest timeout_s must be a positive number, got {self.timeout_s!r}")
        hosts = tuple(str(h).strip().lower().rstrip(".") for h in self.allowed_hosts)
        for pattern in hosts:
            name = pattern[2:] if pattern.startswith("*.") else pattern
            # "*.com" would allow half the internet; a wildcard needs at least a registrable-looking name.
            if not (_is_ip(name) and name == pattern) and not (_is_dns_name(name) and (name == pattern or "." in name)):
                raise ConfigError(f"remote manifest host pattern {pattern!r} is not a host name, IP or *.domain")
        object.__setattr__(self, "allowed_hosts", hosts)

    @classmethod
    def from_settings(cls, settings: Settings) -> RemotePolicy:
        """The operator's ``remote_manifest*`` settings."""
        return cls(
            settings.remote_manifests,
            tuple(settings.remote_manifest_hosts),
            settings.remote_manifest_max_bytes,
            settings.remote_manifest_timeout_s,
            settings.remote_manifest_allow_loopback,
            settings.remote_manifest_https_only,
        )

    def allows_host(self, host: str) -> bool:
        """Exact match, or a subdomain of a ``*.`` pattern (wildcards never match IP literals)."""
        return any(
            host == p or (p.startswith("*.") and not _is_ip(host) and host.endswith(p[1:])) for p in self.allowed_hosts
        )


def remote_url_from_error(message: str) -> str | None:
    """The URL in c2pa-rs's "must fetch remote manifests from url ..." error text, if any."""
    match = _URL_IN_ERROR.search(message or "")
    return match.group(1).rstrip(".,;") if match else None


def fetch_remote_manifest(url: str, policy: RemotePolicy) -> bytes:
    """GET ``url`` under ``policy`` and return the body; ``RemoteManifestError`` on any refusal."""
    if not policy.enabled:
        raise RemoteManifestError("remote.disabled", "remote manifest fetching is turned off")
    scheme, host, port, target = _parse(url, policy)
    if not policy.allows_host(host):
        raise RemoteManifestError("remote.not-allowed-host", f"host {host!r} is not on the remote manifest allow-list")
    addresses = _resolve_and_vet(host, port, policy)
    deadline = time.monotonic() + policy.timeout_s
    conn = _PinnedConnection(host, port, addresses, deadline, _tls_context() if scheme == "https" else None)
    try:
        conn.putrequest("GET", target)  # http.client adds Host and "Accept-Encoding: identity"
        conn.putheader("Accept", "application/c2pa, application/octet-stream")
        conn.putheader("Connection", "close")
        conn.endheaders()
        reply = conn.getresponse()
        body = _read_capped(reply, policy.max_bytes, host)
    except TimeoutError:
        raise RemoteManifestError("remote.timeout", f"{host} did not answer within {policy.timeout_s:g} s") from None
    except ssl.SSLError as exc:  # before OSError: SSLError is one
        why = getattr(exc, "verify_message", None) or exc.__class__.__name__
        raise RemoteManifestError("remote.tls", f"TLS with {host} failed: {why}") from None
    except OSError as exc:
        raise RemoteManifestError("remote.connect", f"{host}:{port} failed: {exc.__class__.__name__}") from None
    except http.client.HTTPException as exc:  # malformed status line, too many headers, short body
        raise RemoteManifestError("remote.protocol", f"{host} broke HTTP: {exc.__class__.__name__}") from None
    finally:
        conn.close()
    # Scheme/host/port only: the body is never logged, and a query string may carry tokens.
    _log.info("fetched remote manifest from %s://%s:%d (%d bytes)", scheme, host, port, len(body))
    return body


def _parse(url: str, policy: RemotePolicy) -> tuple[str, str, int, str]:
    def bad(why: str) -> RemoteManifestError:
        return RemoteManifestError("remote.bad-url", f"{why}: {url[:200]!r}")

    # Control characters, spaces and non-ASCII are refused outright rather than normalised:
    # parsers disagree about them, and that disagreement is how allow-lists get bypassed.
    if not isinstance(url, str) or not url or len(url) > 4096 or any(not (0x20 < ord(c) < 0x7F) for c in url):
        raise bad("URL must be non-empty printable ASCII without spaces")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise bad("unparseable URL or bad port") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise bad("only http(s) URLs are fetched")
    if scheme == "http" and policy.https_only:
        raise RemoteManifestError("remote.https-required", f"plain http is not allowed: {url[:200]!r}")
    if "@" in parts.netloc or "\\" in url:  # userinfo, and the backslash tricks parsers differ on
        raise bad("user information and backslashes are refused")
    host = (parts.hostname or "").rstrip(".")
    if "%" in host:  # an IPv6 zone id names a local interface: nothing remote
        raise bad("IPv6 zone ids are refused")
    if not host or not (_is_ip(host) or _is_dns_name(host)):
        raise bad("missing or malformed host")
    if port == 0 or parts.netloc.endswith(":"):
        raise bad("bad port")
    port = port or (443 if scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, host, port, target


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _is_dns_name(host: str) -> bool:
    labels = host.split(".")
    # An all-digit last label would be read by getaddrinfo as an IPv4 shorthand ("2130706433" is
    # 127.0.0.1), which the allow-list could not anticipate: such names are refused.
    return len(host) <= 253 and all(_LABEL.fullmatch(x) for x in labels) and not labels[-1].isdigit()


def _refusal(addr: ipaddress.IPv4Address | ipaddress.IPv6Address, policy: RemotePolicy) -> str | None:
    """The refusal code for one resolved address, or None when it may be connected to."""
    if isinstance(addr, ipaddress.IPv6Address):
        # Addresses that carry an IPv4 address inside are judged by what they carry.
        embedded = addr.ipv4_mapped or addr.sixtofour
        if embedded is None and addr in _NAT64:
            embedded = ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
        if embedded is not None:
            return _refusal(embedded, policy)
        if addr.teredo is not None:
            return "remote.refused.reserved"
    if addr.is_unspecified:  # 0.0.0.0 / :: reach the local host on Linux, even with allow_loopback
        return "remote.refused.unspecified"
    if addr.is_loopback:
        return None if policy.allow_loopback else "remote.refused.loopback"
    if addr.is_link_local:  # includes 169.254.169.254, the cloud metadata service
        return "remote.refused.link-local"
    if addr.is_multicast:
        return "remote.refused.multicast"
    if addr.is_reserved:
        return "remote.refused.reserved"
    # is_global is an allow-list (it also excludes 100.64/10, documentation nets, ...).
    if addr.is_private or not addr.is_global:
        return "remote.refused.private-address"
    return None


def _resolve_and_vet(host: str, port: int, policy: RemotePolicy) -> list[tuple[int, tuple[Any, ...]]]:
    infos: list[tuple[int, tuple[Any, ...]]]
    if _is_ip(host):  # literals never reach the resolver
        addr = ipaddress.ip_address(host)
        family = socket.AF_INET6 if addr.version == 6 else socket.AF_INET
        infos = [(family, (host, port) if family == socket.AF_INET else (host, port, 0, 0))]
    else:
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):
            raise RemoteManifestError("remote.unresolvable", f"cannot resolve {host!r}") from None
        infos = [(fam, sockaddr) for fam, _, _, _, sockaddr in found if fam in (socket.AF_INET, socket.AF_INET6)]
    if not infos:
        raise RemoteManifestError("remote.unresolvable", f"{host!r} has no IPv4/IPv6 address")
    for _, sockaddr in infos:  # ANY bad answer refuses: a mixed answer is a rebinding attempt
        code = _refusal(ipaddress.ip_address(str(sockaddr[0]).split("%")[0]), policy)
        if code is not None:
            raise RemoteManifestError(code, f"{host!r} resolves to {sockaddr[0]}, which is not fetched from")
    return infos


def _tls_context() -> ssl.SSLContext:
    """System trust, certificate and host-name verification (tests substitute their own CA)."""
    return ssl.create_default_context()


# The mixin only ever sits before a socket class; the type checker is told so.
if TYPE_CHECKING:
    _SocketBase = socket.socket
else:
    _SocketBase = object


class _DeadlineMixin(_SocketBase):
    """Bounds every blocking send/recv by the time left to one shared deadline.

    A per-call timeout alone lets a server trickle a byte just inside it forever; re-arming the
    timeout with the *remaining* time before each call makes the limit a total one."""

    deadline: float = math.inf

    def _arm(self) -> None:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("remote manifest deadline passed")
        self.settimeout(left)

    def recv_into(self, *args: Any, **kwargs: Any) -> int:  # what http.client's reader calls
        self._arm()
        return super().recv_into(*args, **kwargs)

    def sendall(self, *args: Any, **kwargs: Any) -> None:
        self._arm()
        super().sendall(*args, **kwargs)


class _DeadlineSocket(_DeadlineMixin, socket.socket):
    """The TCP socket of a fetch."""


class _DeadlineSSLSocket(_DeadlineMixin, ssl.SSLSocket):
    """The TLS socket over it (``SSLContext.sslsocket_class``)."""


class _PinnedConnection(http.client.HTTPConnection):
    """http.client with ``connect`` replaced: TCP to the vetted sockaddr, TLS to the host name.

    Chosen over httpx because the pinning seam is one small method here; httpx resolves inside
    its transport (httpcore), where pinning means replacing the network backend. ``self.host``
    stays the name, so the Host header, SNI and certificate checks all use it, while no second
    DNS lookup ever happens (the connect goes to an address we already vetted)."""

    def __init__(
        self,
        host: str,
        port: int,
        addresses: list[tuple[int, tuple[Any, ...]]],
        deadline: float,
        tls: ssl.SSLContext | None,
    ) -> None:
        super().__init__(host, port)
        self._addresses, self._deadline, self._tls = addresses, deadline, tls

    def connect(self) -> None:
        last: OSError | None = None
        for family, sockaddr in self._addresses:
            sock = _DeadlineSocket(family, socket.SOCK_STREAM)
            sock.deadline = self._deadline
            try:
                sock._arm()
                sock.connect(sockaddr)
                sock._arm()  # the TLS handshake gets only the time that is left
                if self._tls is not None:
                    self._tls.sslsocket_class = _DeadlineSSLSocket
                    # sslsocket_class (just set) makes wrap_socket return a _DeadlineSSLSocket
                    tls_sock = cast(_DeadlineSSLSocket, self._tls.wrap_socket(sock, server_hostname=self.host))
                    tls_sock.deadline = self._deadline
                    self.sock = tls_sock
                else:
                    self.sock = sock
                return
            except (TimeoutError, ssl.SSLError):
                sock.close()
                raise  # no second address after the deadline or a failed certificate
            except OSError as exc:
                sock.close()
                last = exc
        raise last if last is not None else OSError("no address to connect to")


def _read_capped(reply: http.client.HTTPResponse, max_bytes: int, host: str) -> bytes:
    if 300 <= reply.status < 400:
        location = (reply.getheader("Location") or "")[:200]
        raise RemoteManifestError("remote.redirect", f"{host} redirects to {location!r}; redirects are not followed")
    if reply.status != 200:
        raise RemoteManifestError("remote.http-status", f"{host} answered HTTP {reply.status}")
    declared = reply.getheader("Content-Length")
    if declared is not None and declared.strip().isdigit() and int(declared) > max_bytes:
        raise RemoteManifestError("remote.too-large", f"{host} declares {declared.strip()} bytes; limit is {max_bytes}")
    chunks: list[bytes] = []
    size = 0
    while True:
        # Ask for at most one byte past the cap: enough to know it was exceeded, never more.
        chunk = reply.read(min(_CHUNK, max_bytes + 1 - size))
        if not chunk:
            # read(amt) reports a hang-up as a short read, not an error: check what is owed.
            if reply.length:
                raise RemoteManifestError(
                    "remote.protocol", f"{host} closed {reply.length} bytes short of its Content-Length"
                )
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise RemoteManifestError("remote.too-large", f"{host} sent more than {max_bytes} bytes")
        chunks.append(chunk)
