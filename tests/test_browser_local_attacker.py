"""Another user on the same machine races to log this program in as *their* account.

The attack (login CSRF by a local user): opening a browser puts its URL in a command line, and
every local user can read ``/proc/<pid>/cmdline``. A second OS user (uid 1001, started with
``setpriv``) polls the processes' command lines (this test's only, on a shared machine) for
loopback URLs and, for each one it sees, completes the sign-in with its *own* account at the
emulator's fake provider, as fast as a script can, keeping cookies as a browser does. The
person's browser is a real process started by ``webbrowser`` (through ``BROWSER``), which waits
a second, and then until the attacker has tried, before loading its URL: the attacker always
gets there first.

For the Backendless browser flow and both provider flows (OAuth2 with PKCE, Twitter's
OAuth 1.0a), the SDK logs in the person's own account: the attacker saw the start URL and was
refused. A control run without the defences (the authorization URL in the command line, as
before, and no check of who connects) shows that the same attacker does take the login over.

Needs root (to become another user) and ``setpriv``: skipped elsewhere, except under
``CI=true``, where CI runs as root.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import webbrowser
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from backendless_auth import Backendless, BackendlessUser, MemoryTokenStore, providers
from backendless_auth import browser as browser_module
from backendless_auth.emulator import Emulator, OAuth1Endpoints, OAuth2Endpoints

# Each test runs through UserService and AsyncUserService (tests/drivers.py).
pytestmark = pytest.mark.both_services

ATTACKER_UID = 1001
ATTACKER_EMAIL = "mallory@example.com"

# The attacker: standard library only (it runs as another user, maybe on another Python).
ATTACKER = r"""
import html, http.cookiejar, json, os, re, sys, time, urllib.error, urllib.parse, urllib.request

email, out, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
# Only the command lines of this test's person (its scripts live in this folder): on a shared
# machine (CI runs the suite three times side by side) others hold loopback URLs too, another
# run's login or an emulator's address, and the test would count them as this login's.
HERE = os.path.dirname(os.path.abspath(out)).encode()
URL = re.compile(rb"http://(?:127\.0\.0\.1|localhost):\d+/[^\s\x00]*")
BUTTON = re.compile(r"<button[^>]*\bname=['\"]account['\"][^>]*>", re.I)
VALUE = re.compile(r"\bvalue=['\"]([^'\"]*)['\"]", re.I)
EMAIL = re.compile(r"\bdata-email=['\"]([^'\"]*)['\"]", re.I)
log = {"uid": os.getuid(), "ready": False, "attacks": []}


def save():
    with open(out + ".tmp", "w") as fh:
        json.dump(log, fh)
    os.replace(out + ".tmp", out)


class Stay(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # follow by hand, to see every step


def attack(url):
    jar = http.cookiejar.CookieJar()
    client = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), Stay)
    steps = []

    def fetch(target, data=None):
        try:
            answer = client.open(target, data=data, timeout=10)
            status, headers, body = answer.status, answer.headers, answer.read()
        except urllib.error.HTTPError as exc:
            status, headers, body = exc.code, exc.headers, exc.read()
        steps.append([status, target.split("?")[0]])
        return status, headers, body.decode("utf-8", "replace")

    status, headers, body = fetch(url)
    while status in (301, 302, 303, 307):
        url = urllib.parse.urljoin(url, headers["Location"])
        status, headers, body = fetch(url)
    mine = None
    for button in BUTTON.findall(body):
        value, mail = VALUE.search(button), EMAIL.search(button)
        if value and mail and html.unescape(mail.group(1)) == email:
            mine = html.unescape(value.group(1))
    if mine is None:
        return {"steps": steps, "signed_in": False}
    form = urllib.parse.urlencode({"action": "choose", "account": mine}).encode()
    status, headers, body = fetch(url, form)
    while status in (301, 302, 303, 307):
        url = urllib.parse.urljoin(url, headers["Location"])
        status, headers, body = fetch(url)
    return {"steps": steps, "signed_in": True, "final": status}


deadline = time.time() + seconds
seen = set()
while time.time() < deadline:
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                raw = fh.read()
        except OSError:
            continue
        if HERE not in raw:
            continue
        for found in URL.finditer(raw):
            url = found.group().decode()
            if url in seen:
                continue
            seen.add(url)
            entry = {"url_path": urllib.parse.urlsplit(url).path[:7]}
            log["attacks"].append(entry)
            try:
                entry.update(attack(url))
            except Exception as exc:
                entry["error"] = f"{type(exc).__name__}: {exc}"
            save()
    if not log["ready"]:
        log["ready"] = True
        save()
    time.sleep(0.005)
save()
"""

# The person's browser, as xdg-open and a browser behave: the launcher hands the URL to a
# longer-lived process (whose command line holds it) and returns at once.
PERSON = r"""
import json, os, subprocess, sys, time

if sys.argv[1] != "--child":
    child = subprocess.Popen([sys.executable, __file__, "--child", *sys.argv[1:]])
    with open(os.path.join(os.path.dirname(__file__), "person.pids"), "a") as fh:
        fh.write(f"{child.pid}\n")
    sys.exit(0)
email, delay, report, url = sys.argv[2], float(sys.argv[3]), sys.argv[4], sys.argv[5]
time.sleep(delay)
# However loaded the machine, the attacker goes first: wait until it has tried (30 s at most).
deadline = time.time() + 30
while time.time() < deadline:
    try:
        with open(report) as fh:
            if any("steps" in a or "error" in a for a in json.load(fh)["attacks"]):
                break
    except (OSError, ValueError):
        pass
    time.sleep(0.05)
from backendless_auth.demo import sign_in_with_requests

sign_in_with_requests(url, email=email)
"""


def _runs_as_attacker(python: str) -> bool:
    try:
        done = subprocess.run(
            [*_as_attacker(), python, "-c", "import os; print(os.getuid())"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and done.stdout.strip() == str(ATTACKER_UID)


def _as_attacker() -> list[str]:
    return ["setpriv", f"--reuid={ATTACKER_UID}", f"--regid={ATTACKER_UID}", "--clear-groups"]


@pytest.fixture
def attacker_python(as_root: None) -> str:
    """A Python the second user can run (ours may live in root's home)."""
    candidates = [sys.executable, "/usr/bin/python3", shutil.which("python3") or ""]
    for python in candidates:
        if python and _runs_as_attacker(python):
            return python
    pytest.fail("no Python interpreter can be run by the second user")


@pytest.fixture
def workdir() -> Iterator[Path]:
    # Not pytest's tmp_path: it lives under root's private folders, where uid 1001 cannot go.
    folder = Path(tempfile.mkdtemp(prefix="bl-attacker-"))
    folder.chmod(0o777)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def as_root(require_system: Callable[[bool, str], None]) -> None:
    require_system(os.geteuid() == 0, "root (to run a second OS user with setpriv)")
    require_system(shutil.which("setpriv") is not None, "setpriv (util-linux)")


class Attacker:
    """The second user's process, polling command lines until stopped."""

    def __init__(self, python: str, folder: Path, email: str) -> None:
        script = folder / "attacker.py"
        script.write_text(ATTACKER)
        script.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        self.out = folder / "attacker.json"
        self.process = subprocess.Popen(
            [*_as_attacker(), python, str(script), email, str(self.out), "60"],
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            cwd=folder,
        )
        deadline = time.monotonic() + 60
        while not self.report().get("ready"):
            assert self.process.poll() is None, "the attacker exited early"
            assert time.monotonic() < deadline, "the attacker never became ready"
            time.sleep(0.02)

    def report(self) -> dict[str, Any]:
        try:
            return dict(json.loads(self.out.read_text()))
        except (OSError, ValueError):
            return {}

    def wait_for(self, done: Callable[[dict[str, Any]], bool], seconds: float = 30) -> None:
        """Wait until the report says ``done`` (the attacker writes it after its last step)."""
        deadline = time.monotonic() + seconds
        while not done(self.report()) and time.monotonic() < deadline:
            if self.process.poll() is not None:
                return
            time.sleep(0.02)

    def stop(self) -> dict[str, Any]:
        self.process.terminate()
        self.process.wait(timeout=30)
        return self.report()


@pytest.fixture
def person_browser(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str, float], None]]:
    """Make ``webbrowser`` start the person's browser: ``configure(email, delay)``."""

    def configure(email: str, delay: float) -> None:
        script = workdir / "person.py"
        script.write_text(PERSON)
        report = workdir / "attacker.json"
        monkeypatch.setenv("BROWSER", f"{sys.executable} {script} {email} {delay} {report} %s")
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join(sys.path))
        # webbrowser reads BROWSER once, on first use: make it read it again.
        monkeypatch.setattr(webbrowser, "_tryorder", None)
        monkeypatch.setattr(webbrowser, "_browsers", {})

    yield configure
    pids = workdir / "person.pids"
    for line in pids.read_text().split() if pids.exists() else []:
        with contextlib.suppress(ProcessLookupError):  # only those this test started, by id
            os.kill(int(line), 15)


@pytest.fixture
def app(emu: Emulator) -> Iterator[Backendless]:
    with emu.app(token_store=MemoryTokenStore()) as application:
        yield application


def _attacker_account(emu: Emulator, provider: str) -> None:
    if not any(a.email == ATTACKER_EMAIL for a in emu.accounts(provider)):
        emu.add_account(provider, email=ATTACKER_EMAIL, name="Mallory")


def _login(emu: Emulator, app: Backendless, flow: str) -> BackendlessUser:
    if flow == "backendless":
        return app.users.login_with_browser("google", timeout=60)
    name = "github" if flow == "oauth2" else "twitter"
    ep = emu.provider_endpoints(name)
    if isinstance(ep, OAuth1Endpoints):
        twitter = providers.TWITTER.with_urls(
            request_token_url=ep.request_token_url,
            authorize_url=ep.authorize_url,
            access_token_url=ep.access_token_url,
        )
        return providers.login_with_provider(
            app.users,
            twitter,
            client_id=ep.consumer_key,
            client_secret=ep.consumer_secret,
            timeout=60,
        )
    assert isinstance(ep, OAuth2Endpoints)
    github = providers.GITHUB.with_urls(authorize_url=ep.authorize_url, token_url=ep.token_url)
    return providers.login_with_provider(app.users, github, client_id=ep.client_id, timeout=60)


PROVIDER_OF = {"backendless": "google", "oauth2": "github", "oauth1": "twitter"}


@pytest.mark.usefixtures("as_root")
@pytest.mark.parametrize("flow", ["backendless", "oauth2", "oauth1"])
def test_another_user_cannot_take_over_the_login(
    emu: Emulator,
    app: Backendless,
    attacker_python: str,
    workdir: Path,
    person_browser: Callable[[str, float], None],
    monkeypatch: pytest.MonkeyPatch,
    flow: str,
) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    provider = PROVIDER_OF[flow]
    _attacker_account(emu, provider)
    person = emu.accounts(provider)[0].email
    person_browser(person, 1.0)  # the attacker goes first: a second, and until it has tried
    attacker = Attacker(attacker_python, workdir, ATTACKER_EMAIL)
    try:
        user = _login(emu, app, flow)
    finally:
        report = attacker.stop()
    assert user.email == person
    assert app.users.current_user == user
    # The attack did happen: the second user saw the URL and was turned away at once.
    assert report["uid"] == ATTACKER_UID
    attacks = report["attacks"]
    assert attacks, "the attacker never saw the URL"
    assert all(a["url_path"] == "/start/" for a in attacks), attacks  # never the authorization URL
    for attempt in attacks:
        # Turned away at the first request: a 403 page, or (a loaded machine, the receiver
        # already closed) no answer at all. Never a step further.
        if "error" in attempt:
            assert "steps" not in attempt, attempt
        else:
            assert attempt["steps"][0][0] == 403, attempt
        assert not attempt.get("signed_in")
    assert any("steps" in a for a in attacks), "no attempt reached the receiver"


@pytest.mark.usefixtures("as_root")
def test_control_without_the_defences_the_attacker_wins(
    emu: Emulator,
    app: Backendless,
    attacker_python: str,
    workdir: Path,
    person_browser: Callable[[str, float], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # What the SDK did before: the authorization URL itself in the browser's command line,
    # the redirect accepted on its state alone, whoever connects. The person never clicks.
    # On the base class: the threaded receiver and its async twin share bind().
    monkeypatch.setattr(browser_module.ReceiverBase, "bind", lambda self, url: url)
    monkeypatch.setattr(browser_module, "_same_user", lambda client, server: True)
    _attacker_account(emu, "google")
    person_browser(emu.accounts("google")[0].email, 3600.0)
    attacker = Attacker(attacker_python, workdir, ATTACKER_EMAIL)
    try:
        user = _login(emu, app, "backendless")
        # The login ends when the redirect reaches the receiver, a step before the attacker
        # has written down that it signed in.
        attacker.wait_for(lambda r: any(a.get("signed_in") for a in r.get("attacks", [])))
    finally:
        report = attacker.stop()
    assert user.email == ATTACKER_EMAIL  # login CSRF: the harness is a real attacker
    assert any(a.get("signed_in") for a in report["attacks"])
