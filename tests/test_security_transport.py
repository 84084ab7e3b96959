"""Transport security: TLS verification, plain HTTP, and the session token on redirects.

* TLS verification stays on: a server whose certificate is not trusted is refused, unless the
  caller's own ``requests.Session`` trusts it (its own CA bundle) or turns verification off.
* Plain ``http://`` is refused for any host other than this machine, unless
  ``allow_insecure_http=True``.
* The ``user-token`` header never follows a redirect to another host: two real loopback servers,
  the first redirecting every request to the second (another port, another host name); the
  second must never see a request, let alone the header.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from backendless_auth import (
    Backendless,
    ConfigurationError,
    MemoryTokenStore,
    NetworkError,
    StoredSession,
    UnexpectedResponseError,
    UserService,
)

# Each test runs through UserService and AsyncUserService (tests/drivers.py).
pytestmark = pytest.mark.both_services

TOKEN = "SESSION-TOKEN-THAT-MUST-STAY-HOME-0123"
_FIGURES = {"hosts tried": 0, "redirects tried": 0, "requests at the second server": 0}


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    detail = ", ".join(f"{name}: {n}" for name, n in _FIGURES.items())
    print(f"\n[figures] transport: {detail}")


# --- a tiny recording HTTP(S) server ------------------------------------------------------------


class _Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, answer: Callable[[BaseHTTPRequestHandler], None]) -> None:
        self.seen: list[dict[str, str]] = []
        self.answer = answer
        super().__init__((host, 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Recorder
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.seen.append({k.lower(): v for k, v in self.headers.items()})
        self.server.answer(self)

    do_GET = do_POST = _any


def _reply(handler: BaseHTTPRequestHandler, status: int, body: bytes, **headers: str) -> None:
    handler.send_response(status)
    for name, value in headers.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def _json_answer(handler: BaseHTTPRequestHandler) -> None:
    path = handler.path
    user = {"___class": "Users", "objectId": "U1", "userStatus": "ENABLED"}
    if path.endswith(("/login", "/register/guest")):
        body = json.dumps({**user, "user-token": "NEW-TOKEN-0123456789"})
    elif "isvalidusertoken" in path:
        body = "true"
    elif path.endswith("/logout"):
        body = ""
    elif path.endswith("/request_url"):
        body = json.dumps({"url": "https://provider.test/authorize"})
    else:
        body = json.dumps(user)
    _reply(handler, 200, body.encode(), Content_Type="application/json")


@pytest.fixture
def serve() -> Iterator[Callable[..., _Recorder]]:
    servers: list[_Recorder] = []

    def start(
        host: str = "127.0.0.1",
        answer: Callable[[BaseHTTPRequestHandler], None] = _json_answer,
        tls: ssl.SSLContext | None = None,
    ) -> _Recorder:
        server = _Recorder(host, answer)
        if tls is not None:
            server.socket = tls.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _url(server: _Recorder, scheme: str = "http", host: str | None = None) -> str:
    address, port = server.server_address[:2]
    return f"{scheme}://{host or str(address)}:{port}"


def _app_with_session(url: str, **kwargs: Any) -> Backendless:
    store = MemoryTokenStore()
    app = Backendless(app_id="APP", api_key="KEY", server_url=url, token_store=store, **kwargs)
    store.save(app.namespace, StoredSession(user_token=TOKEN, user_id="U1"))
    return app


# --- TLS ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A private CA and a certificate it signed for 127.0.0.1: (ca, cert, key) files."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder = tmp_path_factory.mktemp("tls")
    now = dt.datetime.now(dt.timezone.utc)

    def name(common: str) -> Any:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("test CA"))
        .issuer_name(name("test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        # What a CA certificate needs for strict X.509 verification (Python 3.13's default,
        # VERIFY_X509_STRICT): basic constraints and key usage, both critical, and a subject
        # key identifier for the leaf to point at.
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(pem))
    paths[1].write_bytes(cert.public_bytes(pem))
    paths[2].write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


@pytest.fixture
def tls_server(serve: Callable[..., _Recorder], certificates: tuple[Path, Path, Path]) -> _Recorder:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificates[1], certificates[2])
    return serve(tls=context)


def test_untrusted_certificate_is_refused_by_default(tls_server: _Recorder) -> None:
    app = _app_with_session(_url(tls_server, "https"), timeout=3)
    with pytest.raises(NetworkError) as caught:
        app.users.is_valid_login()
    assert "TLS failed" in str(caught.value)
    assert TOKEN not in str(caught.value)
    # No request line reached the server: the handshake failed first.
    assert tls_server.seen == []
    assert app.users.user_token == TOKEN


def test_callers_session_with_its_own_ca_is_trusted(
    tls_server: _Recorder, certificates: tuple[Path, Path, Path]
) -> None:
    session = requests.Session()
    session.verify = str(certificates[0])
    app = _app_with_session(_url(tls_server, "https"), session=session, timeout=3)
    assert app.users.is_valid_login() is True
    assert tls_server.seen[-1]["user-token"] == TOKEN


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_only_the_callers_own_session_turns_verification_off(tls_server: _Recorder) -> None:
    session = requests.Session()
    session.verify = False
    app = _app_with_session(_url(tls_server, "https"), session=session, timeout=3)
    assert app.users.is_valid_login() is True
    # The SDK did not change the caller's session, and its own sessions verify.
    assert session.verify is False
    with pytest.raises(NetworkError):
        _app_with_session(_url(tls_server, "https"), timeout=3).users.is_valid_login()


def test_environment_cannot_switch_verification_off(
    tls_server: _Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    # requests reads CURL_CA_BUNDLE/REQUESTS_CA_BUNDLE; an empty value must not mean "no check".
    monkeypatch.setenv("CURL_CA_BUNDLE", "")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "")
    app = _app_with_session(_url(tls_server, "https"), timeout=3)
    with pytest.raises(NetworkError):
        app.users.is_valid_login()


# --- plain http:// -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "example.com",
        "api.backendless.com",
        "10.0.0.1",
        "192.168.1.10",
        "0.0.0.0",
        "127.0.0.1.example.com",
        "localhost.example.com",
        "example.com#@127.0.0.1",
        "[::ffff:8.8.8.8]",
        "[fe80::1]",
        "2130706433",
    ],
)
@pytest.mark.parametrize("form", ["server_url", "domain"])
def test_plain_http_refused_for_other_hosts(host: str, form: str) -> None:
    _FIGURES["hosts tried"] += 1
    url = f"http://{host}"
    kwargs: dict[str, Any] = (
        {"app_id": "APP", "api_key": "KEY", "server_url": url}
        if form == "server_url"
        else {"domain": url}
    )
    with pytest.raises(ConfigurationError) as caught:
        Backendless(**kwargs, transport=_NoTransport())
    assert caught.value.argument == form


class _NoTransport:
    def send(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("no request may be sent")

    def close(self) -> None:
        pass


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "localhost", "LOCALHOST", "[::1]"])
def test_plain_http_allowed_for_this_machine(host: str) -> None:
    _FIGURES["hosts tried"] += 1
    app = Backendless(app_id="APP", api_key="KEY", server_url=f"http://{host}:8080")
    assert app.server_url == f"http://{host}:8080"


def test_plain_http_elsewhere_needs_the_explicit_opt_in() -> None:
    app = Backendless(
        app_id="APP", api_key="KEY", server_url="http://example.com", allow_insecure_http=True
    )
    assert app.server_url == "http://example.com"
    with pytest.raises(ConfigurationError):
        Backendless(
            app_id="APP",
            api_key="KEY",
            server_url="http://example.com",
            allow_insecure_http=1,  # type: ignore[arg-type]
        )


_LABEL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=10)


@settings(max_examples=200, deadline=None)
@given(
    host=st.one_of(
        st.lists(_LABEL, min_size=1, max_size=4).map(".".join),
        st.ip_addresses().map(lambda ip: str(ip) if ip.version == 4 else f"[{ip}]"),
        st.sampled_from(["localhost", "a.localhost", "127.0.0.1", "[::1]"]),
    )
)
def test_plain_http_accepted_only_for_loopback_hosts(host: str) -> None:
    _FIGURES["hosts tried"] += 1
    try:
        Backendless(app_id="APP", api_key="KEY", server_url=f"http://{host}")
    except ConfigurationError:
        return
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return
    assert ipaddress.ip_address(name).is_loopback


# --- redirects ---------------------------------------------------------------------------------

CALLS: dict[str, Callable[[UserService], object]] = {
    "is_valid_login": lambda s: s.is_valid_login(),
    "logout": lambda s: s.logout(),
    "get_current_user": lambda s: s.get_current_user(reload=True),
    "login_as_guest": lambda s: s.login_as_guest(),
    "login_with_oauth2": lambda s: s.login_with_oauth2("google", "provider-token-0123"),
    "get_authorization_url": lambda s: s.get_authorization_url("google"),
}


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("call", list(CALLS))
@pytest.mark.parametrize("target_host", ["localhost", "127.0.0.2"])
@pytest.mark.parametrize("own_session", [False, True], ids=["sdk-session", "callers-session"])
def test_user_token_never_follows_a_redirect(
    serve: Callable[..., _Recorder],
    status: int,
    call: str,
    target_host: str,
    own_session: bool,
) -> None:
    try:
        second = serve(host=target_host)
    except OSError:
        pytest.skip(f"cannot bind {target_host} here")
    target = _url(second, host=target_host)

    def redirect(handler: BaseHTTPRequestHandler) -> None:
        _reply(handler, status, b"", Location=target + handler.path)

    first = serve(answer=redirect)
    extra: dict[str, Any] = {"session": requests.Session()} if own_session else {}
    app = _app_with_session(_url(first), timeout=3, **extra)
    _FIGURES["redirects tried"] += 1
    with pytest.raises(UnexpectedResponseError) as caught:
        CALLS[call](app.users)
    assert f"HTTP {status}" in str(caught.value)
    assert first.seen, "the first server got the request"
    assert first.seen[0]["user-token"] == TOKEN
    _FIGURES["requests at the second server"] += len(second.seen)
    assert second.seen == []
    # The session is kept: a redirect says nothing about the session.
    assert app.users.user_token == TOKEN
