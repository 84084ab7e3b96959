"""The built site in a real browser: Debian's Chromium (headless, Playwright) at 1280 px and
390 px wide. Names in tables stay whole, every table column has a header, and at 1280 px the
install commands and the error tree fit the text column instead of scrolling sideways."""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]

MEASURE = """() => {
  const scrolls = (el) => el.scrollWidth > el.clientWidth + 1;
  return {
    blocks: [...document.querySelectorAll('.md-content pre > code')]
      .map(c => ({first: c.innerText.split('\\n')[0], scrolls: scrolls(c)})),
    broken: [...document.querySelectorAll('.md-content td code')]
      .filter(c => c.getClientRects().length > 1 && !c.innerText.includes(' '))
      .map(c => c.innerText),
    headless: [...document.querySelectorAll('.md-content table thead')]
      .filter(h => [...h.querySelectorAll('th')].some(th => !th.innerText.trim())).length,
  };
}"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if importlib.util.find_spec("material") is None:
        pytest.skip("mkdocs-material is not installed (pip install -e '.[docs]')")
    folder = tmp_path_factory.mktemp("site")
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert built.returncode == 0, built.stderr
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


PAGES = sorted(
    [""] + [f"{path.stem}/" for path in (ROOT / "docs").glob("*.md") if path.stem != "index"]
)


@pytest.fixture(scope="module")
def measured(site: str, require_executable_module: Callable[[str], str]) -> dict[Any, Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    chromium = require_executable_module("chromium")
    results: dict[Any, Any] = {}
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        try:
            for width in (1280, 390):
                page = browser.new_page(viewport={"width": width, "height": 900})
                for name in PAGES:
                    page.goto(site + name)
                    page.wait_for_load_state("load")
                    results[(name, width)] = page.evaluate(MEASURE)
                page.close()
        finally:
            browser.close()
    return results


@pytest.fixture(scope="module")
def require_executable_module() -> Callable[[str], str]:
    import shutil

    def require(name: str) -> str:
        path = shutil.which(name)
        if path is None:
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(f"the executable {name!r} is missing, and CI=true")
            pytest.skip(f"the executable {name!r} is not installed")
        return path

    return require


@pytest.mark.parametrize("width", [1280, 390])
def test_names_in_tables_are_never_broken_mid_word(measured: dict[Any, Any], width: int) -> None:
    broken = {name: found["broken"] for (name, w), found in measured.items() if w == width}
    assert {name: names for name, names in broken.items() if names} == {}


def test_every_table_column_has_a_header(measured: dict[Any, Any]) -> None:
    assert {
        name: found["headless"] for (name, _), found in measured.items() if found["headless"]
    } == {}


@pytest.mark.parametrize(
    ("page", "first_line"),
    [
        ("", "python -m pip install backendless-auth"),
        ("", "backendless-auth valid || exit 1"),
        ("errors/", "BackendlessError"),
        ("cli/", "backendless-auth login google --browser --stay"),
    ],
)
def test_at_1280_px_the_commands_and_the_error_tree_fit(
    measured: dict[Any, Any], page: str, first_line: str
) -> None:
    blocks = [b for b in measured[(page, 1280)]["blocks"] if b["first"].startswith(first_line)]
    assert blocks, f"no block starting {first_line!r} on {page or 'index'}"
    assert not any(block["scrolls"] for block in blocks), f"{first_line!r} scrolls sideways"
