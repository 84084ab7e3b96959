"""The browser login end to end in a real headless Chromium, against the emulator.

Debian's ``/usr/bin/chromium`` driven by Playwright (never ``playwright install``). Playwright's
sync objects belong to the thread that made them, so one dedicated thread owns the browser and
runs jobs from a queue; the test thread runs the login, whose ``opener`` hands the URL to that
thread. One browser serves the whole module.
"""

from __future__ import annotations

import os
import queue
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import anyio.to_thread
import pytest

from backendless_auth import (
    Backendless,
    LoginCancelledError,
    LoginTimeoutError,
    MemoryTokenStore,
)
from backendless_auth import browser as browser_module
from backendless_auth._browser_async import AsyncLoopbackReceiver
from backendless_auth.emulator import Emulator

# Each test runs through UserService and AsyncUserService (tests/drivers.py).
pytestmark = [pytest.mark.browser, pytest.mark.both_services]

T = TypeVar("T")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STEP_MS = 15_000  # any one browser step; a hang fails the job instead of the whole suite
LOGIN_TIMEOUT = 20.0


class Chromium:
    """One headless Chromium owned by one thread; :meth:`submit` runs a job there."""

    def __init__(self, executable: str) -> None:
        self._jobs: queue.Queue[tuple[Callable[[Any], Any], Future[Any]] | None] = queue.Queue()
        self._ready: Future[str] = Future()
        self._thread = threading.Thread(
            target=self._run, args=(executable,), name="chromium-driver", daemon=True
        )
        self._thread.start()
        self.version = self._ready.result(timeout=60)

    def _run(self, executable: str) -> None:
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as playwright:
                chromium = playwright.chromium.launch(
                    executable_path=executable, headless=True, args=CHROMIUM_ARGS
                )
                self._ready.set_result(chromium.version)
                while (job := self._jobs.get()) is not None:
                    work, future = job
                    if future.set_running_or_notify_cancel():
                        try:
                            future.set_result(work(chromium))
                        except BaseException as exc:
                            future.set_exception(exc)
                chromium.close()
        except BaseException as exc:
            if not self._ready.done():
                self._ready.set_exception(exc)
            raise

    def submit(self, work: Callable[[Any], T]) -> Future[T]:
        future: Future[T] = Future()
        self._jobs.put((work, future))
        return future

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=30)


@dataclass
class Landing:
    """Where the browser ended, and what the page said."""

    url: str
    status: int | None
    title: str
    message: str
    strays: list[int] = field(default_factory=list)


@dataclass
class Person:
    """What the person does on the provider's sign-in page."""

    account: int | None = 1
    add: tuple[str, str] | None = None
    deny: bool = False
    strays: Callable[[str], list[str]] | None = None  # URLs to visit first, given the auth URL
    click: bool = True


def walk(
    url: str,
    person: Person,
    lands: Callable[[str], bool],
    ready: Future[None] | None = None,
) -> Callable[[Any], Landing]:
    """A browser job: open ``url``, act as ``person``, wait until a URL ``lands``.

    ``ready`` is resolved once the sign-in page is open and offers what ``person`` will click
    (or with the ``LookupError`` saying it does not), so that an opener can end the login at
    once instead of letting it time out.
    """

    def job(chromium: Any) -> Landing:
        try:
            return run(chromium)
        except BaseException as exc:
            if ready is not None and not ready.done():
                ready.set_exception(exc)
            raise
        finally:
            if ready is not None and not ready.done():
                ready.set_result(None)

    def run(chromium: Any) -> Landing:
        context = chromium.new_context()
        try:
            page = context.new_page()
            page.set_default_timeout(STEP_MS)
            strays = [
                page.goto(stray).status for stray in (person.strays(url) if person.strays else [])
            ]
            page.goto(url)
            if not person.click:
                return Landing(page.url, None, page.inner_text("#title"), "", strays)
            target = (
                "#deny"
                if person.deny
                else "#add"
                if person.add is not None
                else f"#account-{person.account}"
            )
            if page.locator(target).count() == 0:
                offered = page.locator("button[name=account]").count()
                raise LookupError(
                    f"the sign-in page at {page.url.split('?')[0]} has no {target} "
                    f"(it offers {offered} accounts)"
                )
            if ready is not None:
                ready.set_result(None)
            statuses: list[int] = []
            page.on(
                "response",
                lambda response: statuses.append(response.status) if lands(response.url) else None,
            )
            if person.deny:
                page.click("#deny")
            elif person.add is not None:
                page.fill("#email", person.add[0])
                page.fill("#name", person.add[1])
                page.click("#add")
            else:
                page.click(f"#account-{person.account}")
            page.wait_for_url(lands, wait_until="load")
            return Landing(
                page.url,
                statuses[0] if statuses else None,
                page.inner_text("#title"),
                page.inner_text("#message"),
                strays,
            )
        finally:
            context.close()

    return job


class Driver:
    """Per test: hands URLs to the browser thread and keeps the jobs' futures."""

    def __init__(self, chromium: Chromium, emu: Emulator) -> None:
        self.chromium = chromium
        self.emu = emu
        self.jobs: list[Future[Landing]] = []

    def loopback(self, url: str) -> bool:
        return url.startswith("http://127.0.0.1:") and not url.startswith(self.emu.url)

    def opener(self, person: Person | None = None) -> Callable[[str], None]:
        """An ``opener=``: returns once the sign-in page is open, or raises ``LookupError``."""

        def open_url(url: str) -> None:
            ready: Future[None] = Future()
            job = walk(url, person or Person(), self.loopback, ready)
            self.jobs.append(self.chromium.submit(job))
            ready.result(timeout=60)

        return open_url

    def landing(self) -> Landing:
        return self.jobs[-1].result(timeout=60)


@pytest.fixture(scope="module")
def chromium_holder() -> Iterator[dict[str, Chromium]]:
    """Started lazily by :func:`chromium`, after the executable check; closed once."""
    holder: dict[str, Chromium] = {}
    yield holder
    if "browser" in holder:
        holder["browser"].close()


@pytest.fixture
def chromium(
    require_executable: Callable[[str], str], chromium_holder: dict[str, Chromium]
) -> Chromium:
    found = require_executable("chromium")
    if "browser" not in chromium_holder:
        # Debian's build, at the path Playwright is told to use; elsewhere, the one on PATH.
        debian = "/usr/bin/chromium"
        chromium_holder["browser"] = Chromium(debian if os.path.exists(debian) else found)
    return chromium_holder["browser"]


@pytest.fixture
def store() -> MemoryTokenStore:
    return MemoryTokenStore()


@pytest.fixture
def app(emu: Emulator, store: MemoryTokenStore) -> Iterator[Backendless]:
    with emu.app(token_store=store) as application:
        yield application


@pytest.fixture
def driver(chromium: Chromium, emu: Emulator) -> Driver:
    return Driver(chromium, emu)


# --- every built-in provider -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "person"),
    [
        ("google", Person(account=1)),
        ("facebook", Person(account=2)),
        ("github", Person(add=("gil@example.com", "Gil Hub"))),
        ("linkedin", Person(account=1)),
        ("twitter", Person(add=("tess@example.com", "Tess <T>"))),
    ],
)
def test_each_provider_in_chromium(
    emu: Emulator, app: Backendless, driver: Driver, provider: str, person: Person
) -> None:
    user = app.users.login_with_browser(
        provider, opener=driver.opener(person), stay_logged_in=True, timeout=LOGIN_TIMEOUT
    )
    if person.add is not None:
        assert (user.email, user.name) == person.add
    else:
        assert user.email == emu.accounts(provider)[(person.account or 1) - 1].email
    assert app.users.current_user == user
    assert app.users.is_valid_login()
    landing = driver.landing()
    assert driver.loopback(landing.url)
    assert landing.status == 200
    assert landing.title == "Signed in"
    assert landing.message == f"You are signed in as {user.name}."


def test_deny_in_chromium(app: Backendless, driver: Driver) -> None:
    with pytest.raises(LoginCancelledError) as caught:
        app.users.login_with_browser("google", opener=driver.opener(Person(deny=True)), timeout=20)
    assert caught.value.code == 3060
    landing = driver.landing()
    assert landing.status == 400
    assert landing.title == "Sign-in failed"
    assert "denied" in landing.message
    assert app.users.current_user is None


def test_timeout_in_chromium_then_the_port_is_gone(
    app: Backendless, driver: Driver, monkeypatch: pytest.MonkeyPatch, service_driver: str
) -> None:
    ports: list[int] = []
    if service_driver == "sync":
        original = browser_module.LoopbackReceiver.wait

        def spy(self: browser_module.LoopbackReceiver, timeout: float, **kw: Any) -> Any:
            ports.append(self.port)
            driver.landing()  # the sign-in page is open, and nobody clicks
            return original(self, timeout, **kw)

        monkeypatch.setattr(browser_module.LoopbackReceiver, "wait", spy)
    else:
        original_async = AsyncLoopbackReceiver.wait

        async def spy_async(self: AsyncLoopbackReceiver, timeout: float, **kw: Any) -> Any:
            ports.append(self.port)
            await anyio.to_thread.run_sync(driver.landing)  # the page is open; nobody clicks
            return await original_async(self, timeout, **kw)

        monkeypatch.setattr(AsyncLoopbackReceiver, "wait", spy_async)
    with pytest.raises(LoginTimeoutError):
        app.users.login_with_browser("github", opener=driver.opener(Person(click=False)), timeout=1)
    assert driver.landing().title.startswith("Sign in with Github")

    def late_visit(chromium: Any) -> str:
        page = chromium.new_page()
        try:
            page.goto(f"http://127.0.0.1:{ports[0]}/")
        except Exception as exc:  # refused: nobody listens any more
            return str(exc)
        finally:
            page.close()
        return "answered"

    assert "ERR_CONNECTION_REFUSED" in driver.chromium.submit(late_visit).result(timeout=30)


def test_wrong_state_and_stray_requests_in_chromium(
    emu: Emulator,
    app: Backendless,
    driver: Driver,
    monkeypatch: pytest.MonkeyPatch,
    service_driver: str,
) -> None:
    receivers: list[Any] = []
    if service_driver == "sync":
        original = browser_module.LoopbackReceiver.start

        def spy(self: browser_module.LoopbackReceiver) -> browser_module.LoopbackReceiver:
            receivers.append(self)
            return original(self)

        monkeypatch.setattr(browser_module.LoopbackReceiver, "start", spy)
    else:
        original_async = AsyncLoopbackReceiver.__aenter__

        async def spy_async(self: AsyncLoopbackReceiver) -> AsyncLoopbackReceiver:
            receivers.append(self)
            return await original_async(self)

        monkeypatch.setattr(AsyncLoopbackReceiver, "__aenter__", spy_async)

    def strays(_: str) -> list[str]:
        base = receivers[0].redirect_uri
        origin = base.rsplit("/", 1)[0]
        return [
            f"{origin}/favicon.ico",
            f"{origin}/",
            f"{base}?state=not-the-state-of-this-login&userId=x&userToken=forged",
            f"{base}/not-the-state-of-this-login?userId=x&userToken=forged",
        ]

    user = app.users.login_with_browser(
        "linkedin", opener=driver.opener(Person(account=2, strays=strays)), timeout=LOGIN_TIMEOUT
    )
    landing = driver.landing()
    assert landing.strays == [404, 404, 400, 404]
    assert receivers[0].rejected == 1
    assert landing.title == "Signed in"
    assert user.email == emu.accounts("linkedin")[1].email


def test_pasted_url_fallback_in_chromium(
    emu: Emulator, app: Backendless, driver: Driver, store: MemoryTokenStore
) -> None:
    # A remote kernel: the browser's machine does not serve the loopback address.
    after = "http://127.0.0.1:9/after-login?state=remote-kernel-flow"
    url = app.users.get_authorization_url("facebook", redirect_after_login_url=after)

    def job(chromium: Any) -> str:
        page = chromium.new_page()
        try:
            page.set_default_timeout(STEP_MS)
            failed: list[str] = []
            page.on("requestfailed", lambda request: failed.append(request.url))
            page.goto(url)
            page.click("#account-1")
            page.wait_for_timeout(0)
            deadline = 100
            while not failed and deadline:
                page.wait_for_timeout(50)
                deadline -= 1
            # What the address bar shows: the page that did not load.
            return page.url if page.url.startswith(after) else failed[0]
        finally:
            page.close()

    ended_on = driver.chromium.submit(job).result(timeout=60)
    assert ended_on.startswith(after)
    assert "userToken=" in ended_on
    user = app.users.complete_browser_login(ended_on, stay_logged_in=True)
    assert user.email == emu.accounts("facebook")[0].email
    assert store.load(app.namespace) is not None
    params = parse_qs(urlsplit(ended_on).query)
    assert params["userId"] == [user.object_id]


def test_a_person_the_page_does_not_offer_ends_the_login_at_once(
    app: Backendless, driver: Driver
) -> None:
    with pytest.raises(LookupError, match="#account-9"):
        app.users.login_with_browser("google", opener=driver.opener(Person(account=9)), timeout=60)
    assert app.users.current_user is None


def test_the_browser_page_hides_the_token(app: Backendless, driver: Driver) -> None:
    user = app.users.login_with_browser(
        "google", opener=driver.opener(Person(account=2)), timeout=20
    )
    landing = driver.landing()
    assert user.user_token is not None
    assert user.user_token in landing.url  # Backendless puts it in the query ...
    assert user.user_token not in landing.message  # ... the page never repeats it
    assert re.fullmatch(r"You are signed in as .+\.", landing.message)
