"""The app's own session reads the environment once per origin, as requests would per call.

Proxies (``HTTP_PROXY``, ``NO_PROXY``) and the CA bundle (``REQUESTS_CA_BUNDLE``) are honoured;
``~/.netrc`` is not: its entry for the API host would add an Authorization header to each call.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import requests
import responses

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from instant_server import InstantServer, canned_answer

from backendless_auth import Backendless, NetworkError

GUEST = {"objectId": "G1", "user-token": "GUEST-TOKEN-1", "userStatus": "GUEST"}


def test_a_proxy_named_by_the_environment_carries_the_calls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[str] = []

    def answer(path: str) -> bytes:
        seen.append(path)
        return canned_answer(path)

    with InstantServer(answer) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        app = Backendless(
            app_id="APP",
            api_key="KEY",
            server_url="http://backendless.invalid",
            allow_insecure_http=True,
        )
        user = app.users.login_as_guest()
        assert app.users.is_valid_login() is True

    assert user.is_guest
    # A proxy is asked with the absolute URL; the server's host was never resolved.
    assert seen[0].startswith("http://backendless.invalid/APP/KEY/users/register/guest")
    assert len(seen) == 2


def test_no_proxy_sends_the_host_around_the_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    with InstantServer() as proxy, InstantServer() as server:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        app = Backendless(app_id="APP", api_key="KEY", server_url=server.url)
        app.users.login_as_guest()

        assert server.accepts == 1
        assert proxy.accepts == 0


def test_the_environment_is_read_once_per_origin(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[str] = []
    original = requests.Session.merge_environment_settings

    def counting(self: requests.Session, url: str, *args: object) -> dict[str, object]:
        reads.append(url)
        return original(self, url, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(requests.Session, "merge_environment_settings", counting)
    with InstantServer() as server:
        app = Backendless(app_id="APP", api_key="KEY", server_url=server.url)
        app.users.login_as_guest()
        for _ in range(5):
            app.users.is_valid_login()

    # One read by the transport for the origin; requests' own per-call merges see
    # trust_env off and consult nothing.
    assert [url for url in reads if url.endswith(server.url.split("//")[1] + "/")] == [
        server.url + "/"
    ]


def test_netrc_never_adds_an_authorization_header(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine api.backendless.com login someone password hunter22\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))

    with responses.RequestsMock() as mock:
        mock.post("https://api.backendless.com/APP/KEY/users/register/guest", json=GUEST)
        Backendless(app_id="APP", api_key="KEY").users.login_as_guest()
        # The same request with a bare session would carry the netrc credentials.
        mock.post("https://api.backendless.com/APP/KEY/users/register/guest", json=GUEST)
        requests.Session().post("https://api.backendless.com/APP/KEY/users/register/guest")

        ours, bare = mock.calls

    assert "Authorization" not in ours.request.headers
    assert "Authorization" in bare.request.headers


def test_a_ca_bundle_named_by_the_environment_is_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not a certificate\n")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    monkeypatch.delenv("HTTPS_PROXY", raising=False)
    monkeypatch.delenv("https_proxy", raising=False)
    app = Backendless(app_id="APP", api_key="KEY", server_url="https://127.0.0.1:9")
    seen: list[object] = []
    original = requests.Session.send

    def recording(self: requests.Session, request: object, **kwargs: object) -> object:
        seen.append(kwargs.get("verify"))
        return original(self, request, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(requests.Session, "send", recording)
    with pytest.raises(NetworkError):
        app.users.login_as_guest()

    assert seen
    assert set(seen) == {str(bundle)}
