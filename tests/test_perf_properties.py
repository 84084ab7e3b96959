"""Correctness properties behind the performance figures: keep-alive and lazy imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from instant_server import InstantServer

from backendless_auth import Backendless


def test_sequential_calls_share_one_connection() -> None:
    with InstantServer() as server:
        app = Backendless(app_id="APP", api_key="KEY", server_url=server.url)
        app.users.login_as_guest()
        for _ in range(25):
            assert app.users.is_valid_login() is True
            app.users.login_with_oauth2("google", "provider-token")
        app.close()
        assert server.accepts == 1


def test_apps_do_not_share_connections_with_each_other() -> None:
    with InstantServer() as server:
        first = Backendless(app_id="APP", api_key="KEY", server_url=server.url)
        second = Backendless(app_id="APP", api_key="KEY", server_url=server.url)
        first.users.login_as_guest()
        second.users.login_as_guest()
        first.users.login_as_guest()
        assert server.accepts == 2


@pytest.mark.parametrize(
    "module",
    ["keyring", "oauthlib", "requests_oauthlib", "werkzeug", "platformdirs", "filelock"],
)
def test_import_does_not_load_optional_heavy_modules(module: str) -> None:
    code = "import json, sys, backendless_auth; print(json.dumps(sorted(m for m in sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    loaded = json.loads(out)
    assert not [name for name in loaded if name == module or name.startswith(module + ".")]
