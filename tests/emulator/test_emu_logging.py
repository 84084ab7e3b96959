"""The emulator's logs hold none of the secrets of the flows it serves (issue 11, item 13).

oauthlib's server classes log authorization codes, states, request tokens and verifiers at
DEBUG. With every logger at DEBUG, a whole browser login (OAuth2 with PKCE, and Twitter's
OAuth 1.0a) leaves none of them, nor the user token, in any record.
"""

from __future__ import annotations

import logging
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from emu_helpers import Client


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _records_text(caplog: pytest.LogCaptureFixture) -> str:
    # The test's own HTTP client (urllib3) logs the URLs it fetches; that is not the emulator.
    return "\n".join(
        f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''}"
        for r in caplog.records
        if not r.name.startswith("urllib3")
    )


@pytest.mark.parametrize("provider", ["google", "github", "twitter"])
def test_a_browser_login_logs_no_code_state_or_token_at_debug(
    keyed: Client, caplog: pytest.LogCaptureFixture, provider: str
) -> None:
    emu = keyed.emu
    account = emu.accounts(provider)[0].id
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("oauthlib").setLevel(logging.DEBUG)
        url = keyed.post(f"users/oauth/{provider}/request_url", json={"redirect": False}).text
        chosen = keyed.http.post(
            url, data={"action": "choose", "account": account}, allow_redirects=False, timeout=10
        )
        assert chosen.status_code == 302, chosen.text
        callback = chosen.headers["Location"]
        done = keyed.http.get(callback, allow_redirects=False, timeout=10)
        assert done.status_code == 200, done.text
    secrets = [v for k, v in _query(callback).items() if k != "provider"]
    wanted = ("state", "oauth_token", "code_challenge")
    secrets += [v for k, v in _query(url).items() if k in wanted]
    token = re.search(r'"userToken": "([^"]+)"', unescape(done.text))
    assert token is not None, done.text
    secrets.append(token.group(1))
    assert len(secrets) >= 3
    logged = _records_text(caplog)
    # The capture is live: oauthlib's records from this flow would be here.
    assert caplog.handler.level <= logging.DEBUG
    for secret in secrets:
        assert secret not in logged, f"a flow secret was logged: {secret[:4]}..."


def test_oauthlib_still_logs_outside_the_emulator(caplog: pytest.LogCaptureFixture) -> None:
    """The filter is scoped to the emulator's request threads, not a global mute."""
    import backendless_auth.emulator  # noqa: F401 - installs the filter

    with caplog.at_level(logging.DEBUG):
        logging.getLogger("oauthlib.oauth2.rfc6749.grant_types.authorization_code").debug("seen")
    assert "seen" in caplog.text
