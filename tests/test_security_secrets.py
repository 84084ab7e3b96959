"""No secret in any log record, repr, str or exception, with every logger at DEBUG, every flow.

The emulator runs in its own process (as Backendless and the providers would), so that what is
captured here is what this process logs: the SDK, requests, urllib3, requests-oauthlib and
oauthlib. A handler on the root logger keeps every record, formatted (arguments and tracebacks
included), plus the repr of its arguments. The scripted "browser" that walks the sign-in pages
with plain requests stands for the person's browser, another program: its own records are left
out (the receiver's, which is ours, are kept).

Flows: guest login, stay logged in with a file store, restore, validity check, reload, OAuth2
and OAuth1 logins, a guest upgrade, wrong tokens, an expired session, the browser flow, the
provider flows (OAuth2 with PKCE, OAuth1), a connection reset and a server that is not there.
Every secret that went by is collected (API key, user tokens, provider access tokens and
secrets, authorization codes, PKCE verifiers, OAuth1 verifiers and request-token secrets) and
searched for in everything captured. Values that sit next to a secret-bearing key
(``access_token=...``, ``"oauth_token_secret": ...``) must be masked even when unknown.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import keyring.backend
import keyring.errors
import pytest
import requests
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from backendless_auth import (
    AutoTokenStore,
    Backendless,
    BackendlessError,
    FileTokenStore,
    KeyringTokenStore,
    NetworkError,
    SessionExpiredError,
)
from backendless_auth.testing import MemoryKeyring

LOGGERS = ("backendless_auth", "urllib3", "requests", "requests_oauthlib", "oauthlib")
BROWSER_THREAD = "scripted-browser"
# A value next to one of these keys is a secret even when this test never saw it.
_SECRET_KEYS = (
    "access_token",
    "refresh_token",
    "id_token",
    "oauth_token_secret",
    "oauth_verifier",
    "code_verifier",
    "client_secret",
    "userToken",
    "user-token",
    "accessToken",
    "accessTokenSecret",
)
_KEYS = "|".join(_SECRET_KEYS)
_KEYED_VALUE = re.compile(
    r"""(?:["']?\b(""" + _KEYS + r""")\b["']?\s*[:=]\s*|["'](""" + _KEYS + r""")["']\s*,\s*)"""
    r"""b?["']?([^"'&\s,;}{)\][]{6,})"""
)
_FIGURES: dict[str, int] = {}


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    print(f"\n[figures] secrets: {', '.join(f'{k}: {n}' for k, n in sorted(_FIGURES.items()))}")


# --- the emulator in its own process -------------------------------------------------------------


class RemoteEmulator:
    """The emulator CLI in a subprocess, driven through its admin routes."""

    def __init__(self, tmp: Path) -> None:
        self.app_id = "SECRETS-APP-" + secrets.token_hex(4).upper()
        self.api_key = "SECRETS-KEY-" + secrets.token_hex(8).upper()
        self.admin_token = secrets.token_urlsafe(24)
        self.cloud_code_key = "SECRETS-CC-" + secrets.token_hex(8).upper()
        config = tmp / "emulator.json"
        config.write_text(
            json.dumps(
                {
                    "appId": self.app_id,
                    "apiKey": self.api_key,
                    "adminToken": self.admin_token,
                    "cloudCodeKey": self.cloud_code_key,
                    "users": {
                        "emailConfirmation": True,
                        "lockout": {"attempts": 2, "seconds": 600},
                        "hashCost": 10,
                    },
                }
            )
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "backendless_auth.emulator", "--config", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        self.url = ""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            if line.strip().startswith("URL:"):
                self.url = line.split("URL:", 1)[1].strip()
                break
        if not self.url:
            self.close()
            pytest.fail("the emulator process did not start")
        self.http = requests.Session()

    def admin(self, method: str, route: str, **kwargs: Any) -> Any:
        answer = self.http.request(
            method,
            f"{self.url}/_emulator/{route}",
            headers={"X-Admin-Token": self.admin_token},
            timeout=10,
            **kwargs,
        )
        answer.raise_for_status()
        return answer.json()

    def account(self, provider: str, email: str) -> str:
        return str(self.admin("POST", f"accounts/{provider}", json={"email": email})["id"])

    def token(self, provider: str, account: str) -> dict[str, str]:
        answer: dict[str, str] = self.admin(
            "POST", "tokens", json={"provider": provider, "account": account}
        )
        return answer

    def endpoints(self, provider: str) -> dict[str, str]:
        return dict(self.admin("GET", "providers")[provider]["endpoints"])

    def app(self, **kwargs: Any) -> Backendless:
        return Backendless(
            app_id=self.app_id, api_key=self.api_key, server_url=self.url, timeout=5, **kwargs
        )

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RemoteEmulator]:
    # One emulator per test: the sweep registers the same accounts through each service.
    emulator = RemoteEmulator(tmp_path_factory.mktemp("emulator"))
    yield emulator
    emulator.close()


# --- capture -------------------------------------------------------------------------------------


class Capture(logging.Handler):
    """Keeps the formatted text of every record, and the repr of its arguments."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.texts: list[str] = []
        self.records = 0
        self.by_logger: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if record.threadName == BROWSER_THREAD:
            return
        self.records += 1
        top = record.name.split(".")[0]
        self.by_logger[top] = self.by_logger.get(top, 0) + 1
        self.texts.append(self.format(record))
        if record.args:
            self.texts.append(repr(record.args))


@pytest.fixture
def capture() -> Iterator[Capture]:
    handler = Capture()
    root = logging.getLogger()
    saved = {name: logging.getLogger(name).level for name in LOGGERS}
    saved_root = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(saved_root)
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


class Secrets:
    """Every secret that went by, and every object and error to inspect."""

    def __init__(self) -> None:
        self.values: set[str] = set()
        self.objects: list[object] = []

    def add(self, *values: object) -> None:
        for value in values:
            if isinstance(value, str) and len(value) >= 6:
                self.values.add(value)

    def keep(self, *objects: object) -> None:
        self.objects.extend(objects)


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> Secrets:
    found = Secrets()
    from backendless_auth import providers

    real = providers._pkce_pair

    def recording_pkce_pair() -> tuple[str, str]:
        verifier, challenge = real()
        found.add(verifier)
        return verifier, challenge

    monkeypatch.setattr(providers, "_pkce_pair", recording_pkce_pair)
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    return found


# --- the scripted browser ------------------------------------------------------------------------


def scripted_browser(found: Secrets, *, action: str = "choose") -> Callable[[str], None]:
    """An opener that walks the provider's sign-in page with plain requests, in its own thread.

    It posts the account chooser (or the deny button), then follows every redirect by hand,
    collecting the codes, tokens and verifiers that pass through the address bar.
    """

    def walk(url: str) -> None:
        with requests.Session() as http:
            page = http.get(url, timeout=10)
            chosen = re.search(r"name='account' value='([^']+)'", page.text)
            form = {"action": action}
            if action == "choose" and chosen:
                form["account"] = chosen.group(1)
            answer = http.post(page.url, data=form, allow_redirects=False, timeout=10)
            while answer.is_redirect:
                location = answer.headers["location"]
                for key, value in parse_qsl(urlsplit(location).query):
                    if key in ("code", "userToken", "oauth_verifier", "oauth_token"):
                        found.add(value)
                answer = http.get(location, allow_redirects=False, timeout=70)

    def opener(url: str) -> None:
        threading.Thread(target=walk, args=(url,), name=BROWSER_THREAD, daemon=True).start()

    return opener


# --- the flows -----------------------------------------------------------------------------------


def run_every_flow(remote: RemoteEmulator, store_path: Path, found: Secrets) -> None:
    from backendless_auth import providers

    found.add(remote.api_key, remote.admin_token)
    store = FileTokenStore(store_path)
    app = remote.app(token_store=store)
    found.keep(app, app.users, store)

    guest = app.users.login_as_guest(stay_logged_in=True)
    found.add(guest.user_token)
    found.keep(guest)
    assert app.users.is_valid_login() is True
    found.keep(app.users.get_current_user(reload=True))

    # A restart: the session comes back from the file store.
    again = remote.app(token_store=FileTokenStore(store_path))
    restored = again.users.get_current_user()
    found.keep(again, restored)

    google = remote.account("google", "secrets-google@example.com")
    access = remote.token("google", google)["accessToken"]
    found.add(access)
    upgraded = app.users.login_with_oauth2(
        "google", access, guest_user=guest, fields_mapping={"email": "email"}, stay_logged_in=True
    )
    found.add(upgraded.user_token)
    found.keep(upgraded)

    twitter = remote.account("twitter", "secrets-twitter@example.com")
    pair = remote.token("twitter", twitter)
    found.add(pair["accessToken"], pair["accessTokenSecret"])
    tweeter = app.users.login_with_oauth1(
        "twitter", pair["accessToken"], pair["accessTokenSecret"], stay_logged_in=True
    )
    found.add(tweeter.user_token)
    found.keep(tweeter)

    # Refusals: a wrong provider token, an expired session.
    wrong = "WRONG-ACCESS-TOKEN-" + secrets.token_hex(8)
    found.add(wrong)
    with pytest.raises(BackendlessError) as refused:
        app.users.login_with_oauth2("google", wrong)
    found.keep(refused.value)
    remote.admin("POST", "sessions/expire", json={"userToken": tweeter.user_token})
    assert app.users.is_valid_login() is False
    with pytest.raises(SessionExpiredError) as expired:
        # get_current_user() answers None to a dead session; adopting the dead token raises.
        remote.app(token_store=FileTokenStore(store_path)).users.complete_browser_login(
            f"http://localhost/?userId={tweeter.object_id}&userToken={tweeter.user_token}"
        )
    found.keep(expired.value)

    # A connection reset on a GET (retried), then a server that is not there.
    remote.admin("POST", "faults", json={"kind": "reset", "path": "isvalidusertoken", "count": 1})
    app.users.login_as_guest()
    found.add(app.users.user_token)
    assert app.users.is_valid_login() is True
    gone = Backendless(
        app_id=remote.app_id,
        api_key=remote.api_key,
        server_url="http://127.0.0.1:9",
        token_store=FileTokenStore(store_path),
        timeout=2,
    )
    with pytest.raises(NetworkError) as unreachable:
        gone.users.login_as_guest()
    found.keep(unreachable.value)

    # The browser flow: Backendless's own sign-in, ending on the loopback receiver.
    browser_user = app.users.login_with_browser(
        "google", opener=scripted_browser(found), timeout=30
    )
    found.add(browser_user.user_token)
    found.keep(browser_user)
    with pytest.raises(BackendlessError) as denied:
        app.users.login_with_browser(
            "github", opener=scripted_browser(found, action="deny"), timeout=30
        )
    found.keep(denied.value)

    # The provider flows: OAuth2 with PKCE, and OAuth1, on requests-oauthlib.
    ep = remote.endpoints("google")
    found.add(ep["client_secret"])
    google_provider = providers.GOOGLE.with_urls(
        authorize_url=ep["authorize_url"], token_url=ep["token_url"]
    )
    token = providers.fetch_provider_token(
        google_provider,
        client_id=ep["client_id"],
        client_secret=ep["client_secret"],
        opener=scripted_browser(found),
        timeout=30,
    )
    found.add(token.access_token, token.refresh_token)
    found.keep(token)
    via_provider = providers.login_with_provider(
        app.users,
        google_provider,
        client_id=ep["client_id"],
        opener=scripted_browser(found),
        timeout=30,
        stay_logged_in=True,
    )
    found.add(via_provider.user_token)
    found.keep(via_provider)

    tw = remote.endpoints("twitter")
    found.add(tw["consumer_secret"])
    twitter_provider = providers.TWITTER.with_urls(
        request_token_url=tw["request_token_url"],
        authorize_url=tw["authorize_url"],
        access_token_url=tw["access_token_url"],
    )
    tw_token = providers.fetch_provider_token(
        twitter_provider,
        client_id=tw["consumer_key"],
        client_secret=tw["consumer_secret"],
        opener=scripted_browser(found),
        timeout=30,
    )
    found.add(tw_token.access_token, tw_token.token_secret)
    found.keep(tw_token)
    via_twitter = providers.login_with_provider(
        app.users,
        twitter_provider,
        client_id=tw["consumer_key"],
        client_secret=tw["consumer_secret"],
        opener=scripted_browser(found),
        timeout=30,
    )
    found.add(via_twitter.user_token)
    found.keep(via_twitter)

    # Provider refusals: a wrong OAuth2 client secret (after the person signed in: the code
    # exchange fails), a wrong OAuth1 consumer secret (the request token is refused).
    wrong_secret = "WRONG-CLIENT-SECRET-" + secrets.token_hex(6)
    found.add(wrong_secret)
    with pytest.raises(BackendlessError) as code_refused:
        providers.fetch_provider_token(
            google_provider,
            client_id=ep["client_id"],
            client_secret=wrong_secret,
            opener=scripted_browser(found),
            timeout=30,
        )
    with pytest.raises(BackendlessError) as request_token_refused:
        providers.fetch_provider_token(
            twitter_provider,
            client_id=tw["consumer_key"],
            client_secret=wrong_secret,
            opener=scripted_browser(found),
            timeout=30,
        )
    # The token endpoint unreachable after the person signed in: requests' error holds the
    # whole token request (code, verifier, client secret); ours must not keep it.
    with pytest.raises(BackendlessError) as exchange_failed:
        providers.fetch_provider_token(
            google_provider.with_urls(
                authorize_url=ep["authorize_url"], token_url="http://127.0.0.1:9/token"
            ),
            client_id=ep["client_id"],
            client_secret=ep["client_secret"],
            opener=scripted_browser(found),
            timeout=30,
        )
    found.keep(code_refused.value, request_token_refused.value, exchange_failed.value)
    app.users.logout()
    app.close()

    # The other stores: the keyring (an in-memory backend), and the automatic choice falling
    # back to files when the keyring does not work.
    for keyring_store in (
        KeyringTokenStore("backendless-auth-test", keyring_backend=MemoryKeyring()),
        AutoTokenStore(keyring_backend=BrokenKeyring(), path=store_path / "auto"),
    ):
        keyed = remote.app(token_store=keyring_store)
        kept = keyed.users.login_as_guest(stay_logged_in=True)
        found.add(kept.user_token)
        again_keyed = remote.app(token_store=keyring_store)
        found.keep(keyring_store, again_keyed.users.get_current_user(), kept)
        again_keyed.users.logout()


def run_password_flows(remote: RemoteEmulator, found: Secrets) -> None:
    """Accounts with passwords: register, confirm, log in, wrong and locked passwords, verify,
    reset through the emailed link, update the password; every password is a secret."""
    first, second, third = (f"Pw-{n}-" + secrets.token_hex(6) for n in ("one", "two", "three"))
    wrong = "Wrong-pw-" + secrets.token_hex(6)
    found.add(first, second, third, wrong, remote.cloud_code_key)
    app = remote.app()
    server = Backendless(
        app_id=remote.app_id, api_key=remote.cloud_code_key, server_url=remote.url, timeout=5
    )
    found.keep(app, app.users, server, server.users)
    email = "secrets-password@example.com"
    made = app.users.register({"email": email, "password": first, "name": "Pw"})
    found.keep(made)
    with pytest.raises(BackendlessError) as unconfirmed:
        app.users.login(email, first)
    with pytest.raises(BackendlessError) as duplicate:
        app.users.register({"email": email, "password": wrong})
    found.keep(unconfirmed.value, duplicate.value)

    def open_link(kind: str, form: dict[str, str] | None = None) -> None:
        # The person's browser, another program: its records are left out.
        mails = remote.admin("GET", "outbox")
        link = [m for m in mails if m["to"] == email and m["kind"] == kind][-1]["link"]

        def walk() -> None:
            with requests.Session() as http:
                page = http.get(link, timeout=10)
                if form is not None:
                    csrf = re.search(r"name='csrf' value='([^']+)'", page.text)
                    assert csrf is not None
                    http.post(link, data={"csrf": csrf.group(1), **form}, timeout=10)

        thread = threading.Thread(target=walk, name=BROWSER_THREAD, daemon=True)
        thread.start()
        thread.join(30)

    open_link("confirmation")
    me = app.users.login(email, first, stay_logged_in=True)
    found.add(me.user_token)
    found.keep(me)
    server.users.set_current_user_token(me.user_token, user_id=me.object_id)
    assert server.users.verify_password(first) is True
    assert server.users.verify_password(wrong) is False
    with pytest.raises(BackendlessError) as not_server:
        app.users.verify_password(first)
    found.keep(not_server.value)
    for _ in range(2):
        with pytest.raises(BackendlessError) as bad:
            app.users.login(email, wrong)
        found.keep(bad.value)
    with pytest.raises(BackendlessError) as locked:
        app.users.login(email, first)
    found.keep(locked.value)
    app.users.restore_password(email)
    open_link("password-reset", {"password": second, "confirm": second})
    again = app.users.login(email, second)
    found.add(again.user_token)
    updated = app.users.update({"objectId": again.object_id, "password": third})
    found.keep(again, updated, app.users.current_user)
    with pytest.raises(BackendlessError) as bad_argument:
        app.users.register({"email": "x@example.com", "password": third, "when": object()})
    found.keep(bad_argument.value)
    found.keep(app.users.login(email, third))
    app.close()
    server.close()


def exception_chain(error: BaseException) -> Iterator[BaseException]:
    """The error and every exception reachable through ``__cause__`` and ``__context__``."""
    seen: set[int] = set()
    todo = [error]
    while todo:
        item = todo.pop()
        if id(item) not in seen:
            seen.add(id(item))
            yield item
            todo += [e for e in (item.__cause__, item.__context__) if e is not None]


def run_hostile_answers(found: Secrets) -> None:
    """Answers that carry a live token but cannot be used: errors of ours, tokens nowhere."""
    import responses

    from backendless_auth import HttpResponse

    api_key = "HOSTILE-KEY-" + secrets.token_hex(8)
    live = "LIVE-TOKEN-" + secrets.token_hex(12)
    found.add(api_key, live)
    user = json.dumps({"objectId": "u", "userStatus": "GUEST", "user-token": live})
    answers = [
        (200, user[: user.index(live) + len(live) + 1]),  # truncated after the token
        (200, json.dumps({"objectId": "u", "user-token": live + "\r\nX-Evil: 1"})),
        (200, json.dumps({"objectId": ["u"], "user-token": live})),
        (400, json.dumps({"code": 3064, "message": "gone", "user-token": live})),
        (400, json.dumps({"code": 8002, "message": " ", "errorData": {"userToken": live}})),
        (200, "[" * 5000 + json.dumps(live)),
        (502, "<html>" + "x" * 2040 + live + "</html>"),
    ]
    for status, body in answers:
        with responses.RequestsMock() as mock:
            mock.post(
                f"https://api.backendless.com/APP/{api_key}/users/register/guest",
                status=status,
                body=body,
                content_type="application/json",
            )
            app = Backendless(app_id="APP", api_key=api_key)
            with pytest.raises(BackendlessError) as refused:
                app.users.login_as_guest()
            found.keep(refused.value, refused.value.__dict__)
            assert isinstance(refused.value, HttpResponse) is False
            assert app.users.user_token is None


class BrokenKeyring(MemoryKeyring):
    """A keyring that refuses every call, as a locked collection does."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError("the collection is locked")


def run_the_cli(remote: RemoteEmulator, store_path: Path, found: Secrets) -> str:
    """The command line with --debug, as a person would run it: everything it printed."""
    import contextlib
    import io

    from backendless_auth import cli

    out, err = io.StringIO(), io.StringIO()
    common = [
        "--app-id",
        remote.app_id,
        "--api-key",
        remote.api_key,
        "--server-url",
        remote.url,
        "--store",
        "file",
        "--store-path",
        str(store_path / "cli"),
        "--debug",
    ]
    google = remote.account("google", "secrets-cli@example.com")
    access = remote.token("google", google)["accessToken"]
    found.add(access)
    commands = [
        ["guest", "--stay"],
        ["whoami"],
        ["valid"],
        ["login", "google", "--access-token", access, "--stay"],
        ["whoami", "--json"],
        ["login", "google", "--access-token", "WRONG-CLI-ACCESS-TOKEN-0123"],
        ["logout"],
        ["valid"],
    ]
    found.add("WRONG-CLI-ACCESS-TOKEN-0123")
    cli_password = "Cli-pw-" + secrets.token_hex(6)
    found.add(cli_password)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        statuses = [cli.main([*common, *command]) for command in commands]
        # Passwords: registered, refused unconfirmed, reset asked, from the variable only.
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("BACKENDLESS_PASSWORD", cli_password)
            cli.main([*common, "register", "--email", "secrets-cli-pw@example.com"])
            cli.main([*common, "login", "--email", "secrets-cli-pw@example.com"])
            cli.main([*common, "password-reset", "secrets-cli-pw@example.com"])
    assert statuses[:5] == [0, 0, 0, 0, 0], (statuses, err.getvalue()[-2000:])
    assert statuses[5] != 0  # the wrong access token was refused
    stored = FileTokenStore(store_path / "cli").load(f"Backendless_{remote.app_id}")
    assert stored is None  # logged out at the end
    return out.getvalue() + err.getvalue()


@pytest.mark.both_services(http="responses")
def test_no_secret_in_any_record_repr_str_or_exception(
    remote: RemoteEmulator, capture: Capture, seen: Secrets, tmp_path: Path
) -> None:
    run_every_flow(remote, tmp_path / "store", seen)
    run_password_flows(remote, seen)
    printed = run_the_cli(remote, tmp_path, seen)
    # The session file holds the token (that is its job), but no API key.
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert remote.api_key not in path.read_text(errors="replace")

    run_hostile_answers(seen)
    texts = [*capture.texts, printed]
    chains = 0
    for obj in seen.objects:
        texts += [repr(obj), str(obj)]
        if isinstance(obj, BaseException):
            chains += 1
            # What an error reporter prints, and everything it can reach: both links of every
            # exception in the chain (suppressed context included), their args and fields.
            texts.append("".join(traceback.format_exception(obj)))
            for chained in exception_chain(obj):
                texts += [
                    f"chained {type(chained).__name__}: {chained!s} {chained!r}",
                    repr(chained.args),
                    repr(getattr(chained, "__dict__", {})),
                    str(getattr(chained, "body", "")),
                    str(getattr(chained, "doc", "")),
                ]
                request = getattr(chained, "request", None)  # requests' and oauthlib's errors
                if request is not None:
                    texts += [repr(getattr(request, name, "")) for name in ("url", "body")]
                    texts.append(repr(getattr(request, "headers", "")))
    _FIGURES["error chains"] = chains
    leaks = [
        (secret[:4] + "…", text[:300]) for text in texts for secret in seen.values if secret in text
    ]
    unmasked = [
        (match.group(1) or match.group(2), text[:300])
        for text in texts
        for match in _KEYED_VALUE.finditer(text)
    ]
    _FIGURES.update(
        records=capture.records,
        secrets=len(seen.values),
        objects=len(seen.objects),
        leaks=len(leaks) + len(unmasked),
    )
    print(
        f"\n[figures] secrets: {capture.records} log records at DEBUG "
        f"({', '.join(f'{k}: {n}' for k, n in sorted(capture.by_logger.items()))}), "
        f"{len(seen.objects)} objects and errors, {len(seen.values)} distinct secrets searched; "
        f"leaks: {len(leaks) + len(unmasked)}"
    )
    assert capture.by_logger.get("urllib3", 0) > 0, "urllib3 was not logging: the test is blind"
    assert capture.by_logger.get("requests_oauthlib", 0) > 0
    assert not leaks, leaks[:5]
    assert not unmasked, unmasked[:5]


# --- the redactor's keyed patterns, over generated secrets -----------------------------------

_SHAPES = (
    '{{"{key}": "{value}", "expires_in": 3600}}',
    "{{'{key}': '{value}', 'token_type': 'Bearer'}}",
    "grant_type=authorization_code&{key}={value}&redirect_uri=x",
    'OAuth oauth_nonce="1", {key}="{value}", oauth_version="1.0"',
    "[('{key}', '{value}')]",
    "b'{key}={value}'",
)


@settings(max_examples=200, deadline=None)
@given(
    key=st.sampled_from((*_SECRET_KEYS, "oauth_token", "code")),
    value=st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=",
        min_size=6,
        max_size=80,
    ),
    shape=st.sampled_from(_SHAPES),
)
def test_values_next_to_secret_keys_are_masked_even_when_unknown(
    key: str, value: str, shape: str
) -> None:
    from backendless_auth._redact import SecretRedactor

    assume(value not in shape.format(key=key, value=""))
    text = shape.format(key=key, value=value)
    masked = SecretRedactor().redact(text)
    assert value not in masked
    assert "[redacted]" in masked
    _FIGURES["keyed shapes"] = _FIGURES.get("keyed shapes", 0) + 1


def test_short_values_and_error_codes_are_left_readable() -> None:
    from backendless_auth._redact import SecretRedactor

    text = '{"code": 3064, "message": "Not existing user token"} code_challenge=abcdefgh'
    assert SecretRedactor().redact(text) == text
