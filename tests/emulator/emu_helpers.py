"""Helpers for the emulator's server-level tests (plain requests against a real emulator)."""

from __future__ import annotations

from typing import Any

import requests

from backendless_auth.emulator import Emulator


class Client:
    """Plain ``requests`` against one emulator, in the app id + API key URL form."""

    def __init__(self, emu: Emulator, base: str) -> None:
        self.emu = emu
        self.base = base
        self.http = requests.Session()

    def post(self, route: str, **kw: Any) -> requests.Response:
        kw.setdefault("timeout", 10)
        kw.setdefault("allow_redirects", False)
        return self.http.post(f"{self.base}/{route}", **kw)

    def get(self, route: str, **kw: Any) -> requests.Response:
        kw.setdefault("timeout", 10)
        kw.setdefault("allow_redirects", False)
        return self.http.get(f"{self.base}/{route}", **kw)

    def admin(self, method: str, route: str, **kw: Any) -> requests.Response:
        kw.setdefault("timeout", 10)
        headers = {"X-Admin-Token": self.emu.admin_token, **kw.pop("headers", {})}
        return self.http.request(method, f"{self.emu.url}/_emulator/{route}", headers=headers, **kw)


def assert_error(resp: requests.Response, code: int, status: int = 400) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    body = resp.json()
    assert body["code"] == code, body
    assert isinstance(body["message"], str)
    assert body["message"]
    return body  # type: ignore[no-any-return]
