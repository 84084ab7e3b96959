"""Malformed HTTP and hostile input: always a 4xx JSON answer (or a closed socket), never a 500
and never a hang."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from emu_helpers import Client, assert_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backendless_auth.emulator import Emulator


def raw(emu: Emulator, payload: bytes, timeout: float = 5) -> bytes:
    parts = urlsplit(emu.url)
    assert parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(payload)
        chunks = []
        while True:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                break
            if not data:
                break
            chunks.append(data)
            if b"\r\n\r\n" in b"".join(chunks) and b"Connection: close" not in b"".join(chunks):
                break
        return b"".join(chunks)


def test_garbage_request_line(emu: Emulator) -> None:
    answer = raw(emu, b"THIS IS NOT HTTP\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400")
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["code"] == 400


def test_bad_and_huge_content_length(emu: Emulator) -> None:
    path = f"/{emu.app_id}/{emu.api_key}/users/oauth/google/login"
    bad = raw(emu, f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n".encode())
    assert bad.startswith(b"HTTP/1.1 400")
    huge = raw(
        emu, f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n{{".encode()
    )
    assert huge.startswith(b"HTTP/1.1 413")
    assert b'"code"' in huge


def test_chunked_body_is_read(emu: Emulator) -> None:
    token = emu.provider_token("google", emu.accounts("google")[0])

    def chunks() -> Iterator[bytes]:
        yield json.dumps({"accessToken": token}).encode()

    resp = requests.post(
        f"{emu.domain_url}/users/oauth/google/login",
        data=chunks(),
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert resp.status_code == 200, resp.text


def test_stalled_client_does_not_block_others(emu: Emulator) -> None:
    parts = urlsplit(emu.url)
    assert parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as stalled:
        stalled.sendall(
            b"POST /api/users/register/guest HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"
        )
        resp = requests.post(f"{emu.domain_url}/users/register/guest", timeout=2)
        assert resp.status_code == 200


def test_odd_paths(emu: Emulator) -> None:
    for path in ("/api", "/api/", "//", "/%00", "/api/users/isvalidusertoken/", "/a/b/"):
        resp = requests.get(emu.url + path, timeout=5)
        assert 400 <= resp.status_code < 500, (path, resp.status_code)
        assert isinstance(resp.json()["code"], int)
    assert_error(
        requests.post(f"{emu.domain_url}/users/oauth/go%2Fogle/login", timeout=5), 404, 404
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=8,
)
login_bodies = st.fixed_dictionaries(
    {},
    optional={
        "accessToken": json_values,
        "accessTokenSecret": json_values,
        "fieldsMapping": json_values,
        "guestUser": json_values,
        "redirect": json_values,
        "redirectAfterLoginUrl": json_values | st.sampled_from(["http://127.0.0.1:1/", "x:y"]),
        "callbackUrlDomain": json_values,
        "contentType": json_values,
        "permissions": json_values,
    },
)


def test_fuzzed_bodies_never_500(keyed: Client) -> None:
    @given(
        body=login_bodies | json_values,
        provider=st.sampled_from(["google", "twitter", "github", "nope", "a.b"]),
        route=st.sampled_from(["login", "request_url"]),
    )
    @settings(
        max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def check(body: object, provider: str, route: str) -> None:
        resp = keyed.post(f"users/oauth/{provider}/{route}", data=json.dumps(body))
        assert resp.status_code < 500, resp.text
        if resp.status_code >= 400:
            assert isinstance(resp.json()["code"], int)
        if resp.status_code == 302:
            assert resp.headers["Location"].startswith(keyed.emu.url)

    check()


def test_fuzzed_raw_bytes_never_500(keyed: Client) -> None:
    @given(body=st.binary(max_size=64))
    @settings(
        max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def check(body: bytes) -> None:
        resp = keyed.post("users/oauth/google/login", data=body)
        assert 400 <= resp.status_code < 500
        assert resp.json()["code"] in (8002, 8007, 3060)

    check()


def test_concurrent_logins_from_threads(keyed: Client) -> None:
    from concurrent.futures import ThreadPoolExecutor

    emu = keyed.emu
    token = emu.oauth2_token("google", emu.accounts("google")[0])

    def work(i: int) -> tuple[int, str]:
        with requests.Session() as http:
            if i % 2:
                r = http.post(f"{emu.base_url}/users/register/guest", timeout=10)
            else:
                r = http.post(
                    f"{emu.base_url}/users/oauth/google/login",
                    json={"accessToken": token},
                    timeout=10,
                )
            return r.status_code, r.json()["objectId"]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(80)))
    assert {status for status, _ in results} == {200}
    social = {oid for i, (_, oid) in enumerate(results) if i % 2 == 0}
    assert len(social) == 1  # one identity, one user, however many threads race
    assert len(emu.users()) == 41


def test_stop_closes_keep_alive_connections() -> None:
    emu = Emulator().start()
    http = requests.Session()
    url = f"{emu.domain_url}/users/register/guest"
    assert http.post(url, timeout=5).ok
    emu.stop()
    with pytest.raises(requests.ConnectionError):
        http.post(url, timeout=5)
    emu.start()  # the data survives a stop/start in the same process
    assert len(emu.users()) == 1
    emu.close()
