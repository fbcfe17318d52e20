"""Remote C2PA manifests: fetched only when enabled, only from allowed public hosts, under a
total deadline and a byte cap. Every server here is a loopback server started by the test; every
refusal is shown to happen before any socket connects (or any name is resolved)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from detectors.errors import ProvenanceError
from governance.core.errors import ANY_ERROR, ConfigError
from governance.provenance import remote
from governance.provenance.remote import RemoteManifestError, RemotePolicy, fetch_remote_manifest, remote_url_from_error
from tests.conftest import SHARED

SAMPLE = SHARED / "c2pa" / "samples" / "c2pa-rs__cloud_manifest.c2pa"
MANIFEST = SAMPLE.read_bytes() if SAMPLE.exists() else b"\x00\x00\x00\x10jumbC2PA-test" * 512
REAL_CONNECT = socket.socket.connect


# --------------------------------------------------------------------------- loopback servers


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:  # keep the test output quiet
        pass

    def _head(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def _trickle(self, data: bytes) -> None:
        for byte in data:  # a byte every 0.2 s: each recv succeeds, only a total deadline stops it
            if self.server.stop.wait(0.2):  # type: ignore[attr-defined]
                return
            self.wfile.write(bytes([byte]))
            self.wfile.flush()

    def do_GET(self) -> None:
        route = self.path.split("?")[0]
        self.close_connection = True
        if route == "/manifest":
            self._head(200, {"Content-Length": str(len(MANIFEST)), "Content-Type": "application/c2pa"})
            self.wfile.write(MANIFEST)
        elif route == "/echo-host":
            body = self.headers.get("Host", "").encode()
            self._head(200, {"Content-Length": str(len(body))})
            self.wfile.write(body)
        elif route == "/big-length":
            self._head(200, {"Content-Length": str(50 * 1024 * 1024)})
            self.wfile.write(b"x" * 1024)
        elif route == "/big-stream":  # no Content-Length: the body ends when the server closes
            self._head(200, {"Connection": "close"})
            for _ in range(64):
                self.wfile.write(b"y" * 1024)
        elif route == "/big-chunked":
            self._head(200, {"Transfer-Encoding": "chunked"})
            for _ in range(64):
                self.wfile.write(b"400\r\n" + b"z" * 1024 + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif route == "/redirect-private":
            self._head(302, {"Location": "http://10.0.0.1/manifest", "Content-Length": "0"})
        elif route == "/redirect-metadata":
            self._head(301, {"Location": "http://169.254.169.254/latest/meta-data/", "Content-Length": "0"})
        elif route == "/trickle-body":
            self._head(200, {"Content-Length": "100"})
            self.wfile.flush()
            self._trickle(b"b" * 100)
        elif route == "/trickle-headers":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            self.wfile.flush()
            self._trickle(b"s" * 100)
        elif route == "/not-http":
            self.wfile.write(b"SSH-2.0-OpenSSH\r\n\r\n")
        elif route == "/short-body":  # promises 100 bytes, sends 10, hangs up
            self._head(200, {"Content-Length": "100"})
            self.wfile.write(b"s" * 10)
        else:
            self._head(404, {"Content-Length": "0"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients hanging up mid-trickle are expected


def _serve(server: _Server) -> Iterator[_Server]:
    server.stop = threading.Event()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()  # type: ignore[attr-defined]
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="module")
def server() -> Iterator[_Server]:
    yield from _serve(_Server(("127.0.0.1", 0), _Handler))


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.05)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(5)
    for conn in held:
        conn.close()
    listener.close()


def _loopback_policy(**overrides: object) -> RemotePolicy:
    base: dict[str, object] = dict(enabled=True, allowed_hosts=("127.0.0.1",), allow_loopback=True, https_only=False)
    base.update(overrides)
    return RemotePolicy(**base)  # type: ignore[arg-type]


def _url(server: _Server, path: str) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Records every socket connect; only loopback targets are let through."""
    seen: list[object] = []

    def recording(sock: socket.socket, address: object) -> None:
        seen.append(address)
        if not ipaddress.ip_address(address[0]).is_loopback:  # type: ignore[index]
            raise AssertionError(f"connect to non-loopback {address!r}")
        REAL_CONNECT(sock, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", recording)
    return seen


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Any connect or DNS lookup fails the test (and is recorded, in case something swallowed it)."""
    calls: list[object] = []

    def forbidden(*args: object, **kwargs: object) -> None:
        calls.append(args)
        raise AssertionError(f"network use attempted: {args!r}")

    for owner, name in ((socket.socket, "connect"), (socket.socket, "connect_ex"), (socket, "create_connection"),
                        (socket, "getaddrinfo")):
        monkeypatch.setattr(owner, name, forbidden)
    yield calls
    assert calls == []


def _fake_resolver(monkeypatch: pytest.MonkeyPatch, table: dict[str, list[str]]) -> list[str]:
    asked: list[str] = []

    def getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list[tuple]:
        asked.append(host)
        out = []
        for ip in table[host]:
            if ":" in ip:
                out.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (ip, port, 0, 0)))
            else:
                out.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)))
        return out

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def _code(url: str, policy: RemotePolicy) -> str:
    with pytest.raises(RemoteManifestError) as info:
        fetch_remote_manifest(url, policy)
    return info.value.code


# --------------------------------------------------------------------------- happy path


def test_fetches_the_manifest_from_an_allowed_loopback_server(server, connects):
    assert fetch_remote_manifest(_url(server, "/manifest"), _loopback_policy()) == MANIFEST
    assert connects == [("127.0.0.1", server.server_address[1])]


def test_connects_to_the_vetted_ip_and_keeps_the_host_name(server, connects, monkeypatch):
    asked = _fake_resolver(monkeypatch, {"manifests.example.com": ["127.0.0.1"]})
    port = server.server_address[1]
    body = fetch_remote_manifest(f"http://manifests.example.com:{port}/echo-host",
                                 _loopback_policy(allowed_hosts=("*.example.com",)))
    assert body == f"manifests.example.com:{port}".encode()
    assert asked == ["manifests.example.com"]  # resolved once: nothing re-resolves before connecting
    assert connects == [("127.0.0.1", port)]


def _tls_material(name: str) -> tuple[bytes, bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.timezone.utc)
    key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ReelGuard test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(key.public_key())
          .serial_number(1).not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(hours=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False).sign(key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return ca.public_bytes(pem), leaf.public_bytes(pem), key_pem


@pytest.mark.parametrize("cert_name, expected", [("manifests.example.com", "ok"), ("other.example.com", "remote.tls")])
def test_https_verifies_the_certificate_for_the_host_name_not_the_ip(cert_name, expected, tmp_path, monkeypatch, connects):
    ca_pem, leaf_pem, key_pem = _tls_material(cert_name)
    (tmp_path / "leaf.pem").write_bytes(leaf_pem + key_pem)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(tmp_path / "leaf.pem")
    sni: list[str | None] = []
    server_ctx.sni_callback = lambda sock, name, ctx: sni.append(name)
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.socket = server_ctx.wrap_socket(httpd.socket, server_side=True)
    monkeypatch.setattr(remote, "_tls_context", lambda: ssl.create_default_context(cadata=ca_pem.decode()))
    _fake_resolver(monkeypatch, {"manifests.example.com": ["127.0.0.1"]})
    policy = _loopback_policy(allowed_hosts=("manifests.example.com",), https_only=True)
    for running in _serve(httpd):
        url = f"https://manifests.example.com:{running.server_address[1]}/manifest"
        if expected == "ok":
            assert fetch_remote_manifest(url, policy) == MANIFEST
        else:
            assert _code(url, policy) == expected
    assert sni and sni[0] == "manifests.example.com"
    assert connects == [("127.0.0.1", httpd.server_address[1])]


# --------------------------------------------------------------------------- policy refusals


def test_the_default_policy_fetches_nothing(no_network):
    assert RemotePolicy().enabled is False
    assert _code("https://cai-manifests.adobe.com/manifests/x", RemotePolicy()) == "remote.disabled"


def test_enabled_with_an_empty_allow_list_allows_nothing(no_network):
    assert _code("https://cai-manifests.adobe.com/m", RemotePolicy(enabled=True)) == "remote.not-allowed-host"


@pytest.mark.parametrize("url", ["https://evil.example.net/m", "https://example.com/m", "https://a.example.com.evil.net/m",
                                 "https://evilexample.com/m", "https://93.184.216.34/m"])
def test_hosts_off_the_allow_list_are_refused_before_dns(url, no_network):
    policy = RemotePolicy(enabled=True, allowed_hosts=("*.example.com", "cai-manifests.adobe.com"))
    assert _code(url, policy) == "remote.not-allowed-host"


def test_wildcards_match_subdomains_only():
    policy = RemotePolicy(enabled=True, allowed_hosts=("*.Example.com.", "exact.test"))
    assert policy.allowed_hosts == ("*.example.com", "exact.test")
    assert policy.allows_host("a.example.com") and policy.allows_host("a.b.example.com")
    assert not policy.allows_host("example.com") and not policy.allows_host("xexample.com")
    assert not policy.allows_host("sub.exact.test")


def test_plain_http_is_refused_when_https_only(no_network, server):
    assert _code(_url(server, "/manifest"), _loopback_policy(https_only=True)) == "remote.https-required"


# --------------------------------------------------------------------------- address vetting


@pytest.mark.parametrize("allow_loopback", [False, True])
@pytest.mark.parametrize("url, code", [
    ("http://10.0.0.1/m", "remote.refused.private-address"),
    ("http://10.255.1.2:8080/m", "remote.refused.private-address"),
    ("http://172.16.0.1/m", "remote.refused.private-address"),
    ("http://192.168.1.1/m", "remote.refused.private-address"),
    ("http://100.64.0.1/m", "remote.refused.private-address"),
    ("http://169.254.169.254/latest/meta-data/", "remote.refused.link-local"),
    ("http://[fe80::1]/m", "remote.refused.link-local"),
    ("http://[fd00::1]/m", "remote.refused.private-address"),
    ("http://[::ffff:10.0.0.1]/m", "remote.refused.private-address"),
    ("http://[::ffff:169.254.169.254]/m", "remote.refused.link-local"),
    ("http://[2002:a00:1::1]/m", "remote.refused.private-address"),
    ("http://[64:ff9b::a9fe:a9fe]/m", "remote.refused.link-local"),
    ("http://0.0.0.0/m", "remote.refused.unspecified"),
    ("http://[::]/m", "remote.refused.unspecified"),
    ("http://224.0.0.1/m", "remote.refused.multicast"),
    ("http://240.0.0.1/m", "remote.refused.reserved"),
])
def test_non_public_ip_literals_are_refused_before_connecting(url, code, allow_loopback, no_network):
    # The host is on the allow-list, so the refusal below comes from vetting the address itself.
    policy = RemotePolicy(enabled=True, allowed_hosts=(urlsplit(url).hostname,), allow_loopback=allow_loopback,
                          https_only=False)
    assert _code(url, policy) == code


@pytest.mark.parametrize("answers, code", [
    (["10.1.2.3"], "remote.refused.private-address"),
    (["93.184.216.34", "192.168.0.9"], "remote.refused.private-address"),  # ANY bad answer refuses
    (["169.254.169.254"], "remote.refused.link-local"),
    (["::ffff:10.0.0.1"], "remote.refused.private-address"),
    (["127.0.0.1"], "remote.refused.loopback"),
])
def test_names_resolving_to_non_public_addresses_are_refused_before_connecting(answers, code, monkeypatch, no_network):
    asked = _fake_resolver(monkeypatch, {"manifests.example.com": answers})
    policy = RemotePolicy(enabled=True, allowed_hosts=("manifests.example.com",))
    assert _code("https://manifests.example.com/m", policy) == code
    assert asked == ["manifests.example.com"]


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/m", "http://[::1]:9/m", "http://127.8.9.10/m"])
def test_loopback_is_refused_unless_allowed(url, no_network):
    policy = RemotePolicy(enabled=True, allowed_hosts=(urlsplit(url).hostname,), https_only=False)
    assert _code(url, policy) == "remote.refused.loopback"


# --------------------------------------------------------------------------- malformed URLs


@pytest.mark.parametrize("url", [
    "", "manifests.example.com/m", "//manifests.example.com/m", "https:///m", "https://:443/m",
    "https://user@manifests.example.com/m", "https://user:pw@manifests.example.com/m", "https://@manifests.example.com/m",
    "https://manifests.example.com:99999/m", "https://manifests.example.com:0/m", "https://manifests.example.com:x/m",
    "https://manifests.example.com:/m", "https://manifests.example.com:443:443/m",
    "file:///etc/passwd", "ftp://manifests.example.com/m", "gopher://manifests.example.com/", "javascript:alert(1)",
    "https://manifests.example.com/a b", "https://manifests.example.com/\r\nX-Injected: 1", "https://manifests.exämple.com/",
    "https://manifests.example.com\\@evil.test/", "https://2130706433/m", "https://0x7f.1/m", "https://[fe80::1%25eth0]/m",
    "https://[::1/m", "https://manifests..example.com/m", "https://-bad.example.com/m",
])
def test_malformed_urls_raise_the_typed_error(url, no_network):
    policy = RemotePolicy(enabled=True, allowed_hosts=("manifests.example.com", "*.example.com", "evil.test"))
    err = pytest.raises(RemoteManifestError, fetch_remote_manifest, url, policy).value
    assert err.code == "remote.bad-url"
    assert isinstance(err, ProvenanceError) and isinstance(err, ANY_ERROR)


# --------------------------------------------------------------------------- server behaviour


def test_redirects_are_errors_and_are_not_followed(server, connects):
    for path, target in (("/redirect-private", "10.0.0.1"), ("/redirect-metadata", "169.254.169.254")):
        with pytest.raises(RemoteManifestError) as info:
            fetch_remote_manifest(_url(server, path), _loopback_policy())
        assert info.value.code == "remote.redirect" and target in str(info.value)
    assert [a[0] for a in connects] == ["127.0.0.1", "127.0.0.1"]  # the Location was never contacted


def test_non_200_is_an_error(server, connects):
    assert _code(_url(server, "/nothing-here"), _loopback_policy()) == "remote.http-status"


@pytest.mark.parametrize("path", ["/not-http", "/short-body"])
def test_broken_http_is_a_protocol_error(path, server, connects):
    assert _code(_url(server, path), _loopback_policy()) == "remote.protocol"


@pytest.mark.parametrize("path", ["/big-length", "/big-stream", "/big-chunked"])
def test_bodies_over_the_cap_are_refused(path, server, connects, monkeypatch):
    reads: list[int | None] = []
    original = remote.http.client.HTTPResponse.read

    def counting(self, amt=None):
        reads.append(amt)
        return original(self, amt)

    monkeypatch.setattr(remote.http.client.HTTPResponse, "read", counting)
    assert _code(_url(server, path), _loopback_policy(max_bytes=8 * 1024)) == "remote.too-large"
    if path == "/big-length":
        assert reads == []  # refused on the header, before reading any of the body
    else:
        assert all(amt is not None and amt <= 8 * 1024 + 1 for amt in reads)


def test_a_body_of_exactly_the_cap_is_accepted(server, connects):
    assert fetch_remote_manifest(_url(server, "/manifest"), _loopback_policy(max_bytes=len(MANIFEST))) == MANIFEST
    assert _code(_url(server, "/manifest"), _loopback_policy(max_bytes=len(MANIFEST) - 1)) == "remote.too-large"


@pytest.mark.parametrize("path", ["/trickle-body", "/trickle-headers"])
def test_a_trickling_server_is_cut_at_the_total_deadline(path, server, connects):
    start = time.monotonic()
    assert _code(_url(server, path), _loopback_policy(timeout_s=1.0)) == "remote.timeout"
    assert 0.9 <= time.monotonic() - start < 3.0


def test_a_silent_server_is_cut_at_the_total_deadline(silent_server, connects):
    start = time.monotonic()
    assert _code(f"http://127.0.0.1:{silent_server}/m", _loopback_policy(timeout_s=1.0)) == "remote.timeout"
    assert 0.9 <= time.monotonic() - start < 3.0


def test_a_closed_port_is_a_connect_error(connects):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # bound then closed: nothing listens there
    assert _code(f"http://127.0.0.1:{port}/m", _loopback_policy()) == "remote.connect"


# --------------------------------------------------------------------------- helpers and settings


def test_remote_url_from_error_reads_c2pa_messages():
    url = "https://cai-manifests.adobe.com/manifests/adobe-urn-uuid-5f37e182-3687-462e-a7fb-573462780391"
    assert remote_url_from_error(f"Remote: must fetch remote manifests from url {url}") == url
    assert remote_url_from_error("Remote: must fetch remote manifests from url http://localhost:5000/libpng-test.c2pa") \
        == "http://localhost:5000/libpng-test.c2pa"
    sent = f"Remote: could not fetch the remote manifest ...: error sending request for url ({url})"
    assert remote_url_from_error(sent) == url
    assert remote_url_from_error("ManifestNotFound: no JUMBF data found") is None
    assert remote_url_from_error("") is None


def test_policy_from_settings(tmp_path):
    from governance.core.settings import get_settings

    assert RemotePolicy.from_settings(get_settings(home=tmp_path)) == RemotePolicy()
    policy = RemotePolicy.from_settings(get_settings(
        home=tmp_path, remote_manifests=True, remote_manifest_hosts=["cai-manifests.adobe.com", "*.example.com"],
        remote_manifest_max_bytes=1024, remote_manifest_timeout_s=2.5, remote_manifest_allow_loopback=True))
    assert policy == RemotePolicy(True, ("cai-manifests.adobe.com", "*.example.com"), 1024, 2.5, True, True)


@pytest.mark.parametrize("kwargs", [{"max_bytes": 0}, {"timeout_s": 0}, {"timeout_s": float("inf")},
                                    {"allowed_hosts": ("*",)}, {"allowed_hosts": ("*.com",)}, {"allowed_hosts": ("a b",)}])
def test_bad_policies_are_config_errors(kwargs):
    with pytest.raises(ConfigError):
        RemotePolicy(enabled=True, **kwargs)


# --------------------------------------------------------------------------- property


_HOSTS = ["127.0.0.1", "localhost", "[::1]", "10.0.0.1", "169.254.169.254", "[fe80::1]", "0.0.0.0", "8.8.8.8",
          "manifests.example.com", "a.b.example.com", "example.com", "evil.test", "[::ffff:10.0.0.1]", "2130706433"]
_RESOLVE = ["127.0.0.1", "10.0.0.7", "169.254.169.254", "::1", "fd00::1", "100.64.0.1", "::ffff:192.168.0.1"]


@settings(max_examples=250, deadline=None, database=None)
@given(data=st.data())
def test_any_url_gives_bytes_or_the_typed_error_and_never_leaves_loopback(server, data):
    port = server.server_address[1]
    sensible = [["http://", "HTTP://", "https://"], [""], _HOSTS, ["", f":{port}", f":{port}", ":80"],
                ["/manifest", "/echo-host", "/redirect-private", "/big-chunked", "", "?q=1#f"]]
    odd = [["file://", "ftp://", "", "//", "http:"], ["user@", "u:p@", "@"], ["", "[::1", "a..b"], [":0", ":99999", ":"], [" ", "\r\n"]]
    clean = st.tuples(*(st.sampled_from(p) for p in sensible))
    noisy = st.tuples(*(st.sampled_from(p + q) | st.text(max_size=12) for p, q in zip(sensible, odd)))
    shapes = {"text": st.text(max_size=60), "noisy": st.builds("".join, noisy), "clean": st.builds("".join, clean)}
    url = data.draw(shapes[data.draw(st.sampled_from(["text", "noisy", "clean", "clean", "clean"]))])
    # 8.8.8.8 is deliberately NOT allowed: with this policy no public address may ever be contacted.
    policy = RemotePolicy(enabled=True, allow_loopback=True, https_only=False, timeout_s=2.0, max_bytes=1024 * 1024,
                          allowed_hosts=("127.0.0.1", "localhost", "::1", "*.example.com", "10.0.0.1",
                                         "169.254.169.254", "fe80::1", "0.0.0.0", "::ffff:10.0.0.1"))
    targets: list[object] = []
    resolved: list[str] = []

    def recording(sock: socket.socket, address: object) -> None:
        targets.append(address)
        # Only the test's own server is really contacted (not whatever listens on loopback :80/:443).
        if not ipaddress.ip_address(address[0]).is_loopback or address[1] != port:  # type: ignore[index]
            raise ConnectionRefusedError("the test network stops here")
        REAL_CONNECT(sock, address)  # type: ignore[arg-type]

    def getaddrinfo(host: str, port_: int, *args: object, **kwargs: object) -> list[tuple]:
        resolved.append(host)
        ip = "127.0.0.1" if host in ("manifests.example.com", "localhost") else _RESOLVE[sum(map(ord, host)) % len(_RESOLVE)]
        fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
        return [(fam, socket.SOCK_STREAM, 6, "", (ip, port_, 0, 0) if fam == socket.AF_INET6 else (ip, port_))]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", recording)
        mp.setattr(socket, "getaddrinfo", getaddrinfo)
        try:
            assert isinstance(fetch_remote_manifest(url, policy), bytes)
            event("fetched")
        except RemoteManifestError as exc:
            assert exc.code.startswith("remote.")
            event(exc.code)  # --hypothesis-show-statistics shows how the inputs spread over outcomes
    assert all(ipaddress.ip_address(t[0]).is_loopback for t in targets), targets  # type: ignore[index]
    assert all(policy.allows_host(name) for name in resolved)
