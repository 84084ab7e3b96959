"""The documentation: the site builds with ``mkdocs build --strict``, and the reference pages
cover every exception, every Backendless code, every CLI command and every exit status."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from backendless_auth import exceptions
from backendless_auth.cli import EXIT_STATUSES, _build_parser
from backendless_auth.emulator import Emulator

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def test_errors_page_names_every_exception_class() -> None:
    page = (DOCS / "errors.md").read_text(encoding="utf-8")
    classes = [
        name
        for name in exceptions.__all__
        if isinstance(getattr(exceptions, name), type)
        and issubclass(getattr(exceptions, name), BaseException)
    ]
    assert len(classes) >= 15
    for name in classes:
        assert f"`{name}`\n:   " in page, f"{name} has no entry on docs/errors.md"


def test_errors_page_maps_every_code_to_its_class() -> None:
    page = (DOCS / "errors.md").read_text(encoding="utf-8")
    for code, cls in exceptions.ERROR_CODES.items():
        row = re.search(rf"^\| {code} \| `(\w+)` \|", page, re.MULTILINE)
        assert row is not None, f"code {code} is missing from docs/errors.md"
        assert row.group(1) == cls.__name__, f"code {code} is documented as {row.group(1)}"


def test_cli_page_documents_every_command_and_exit_status() -> None:
    page = (DOCS / "cli.md").read_text(encoding="utf-8")
    parser = _build_parser()
    commands = next(
        action.choices
        for action in parser._actions
        if getattr(action, "choices", None) and "login" in action.choices
    )
    for command in commands:
        assert re.search(rf"^### `{command}( |`)", page, re.MULTILINE), command
    for status in EXIT_STATUSES:
        assert f"\n| {status} | " in page, f"exit status {status} is not in docs/cli.md"
    login = commands["login"]
    for action in login._actions:
        for option in action.option_strings:
            if option.startswith("--") and option not in {"--help"}:
                assert option in page, f"{option} is not in docs/cli.md"


# A Sphinx role as Markdown renders it (``:meth:`close``` gives ":meth:<code>close</code>"), or
# left as typed.
RAW_ROLE = re.compile(
    r":(?:py:)?(?:attr|meth|class|func|mod|data|exc|obj|const|type):(?:<code>|`|&#96;)[^<`]{0,60}"
)


def _load_extension() -> Any:
    spec = importlib.util.spec_from_file_location("sphinx_roles", DOCS / "_ext" / "sphinx_roles.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_griffe_extension_resolves_roles_against_the_parents(tmp_path: Path) -> None:
    griffe = pytest.importorskip("griffe")
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text(
        '"""Top: :class:`Thing`, :mod:`.sub`, :func:`missing`."""\nfrom .sub import Thing\n',
        encoding="utf-8",
    )
    (package / "sub.py").write_text(
        "class Thing:\n"
        '    """Uses :meth:`close`, :attr:`~pkg.sub.Thing.size` and :meth:`Thing.close`,\n'
        '    :class:`the other <Other>`."""\n'
        "    size = 1\n"
        "    def close(self):\n"
        '        """Undo :meth:`open`; see :class:`Thing`."""\n'
        "    def open(self):\n"
        "        pass\n"
        "class Other:\n"
        "    pass\n",
        encoding="utf-8",
    )
    ext = _load_extension()
    loaded = griffe.load(
        "pkg", search_paths=[str(tmp_path)], extensions=griffe.load_extensions(ext.SphinxRoles)
    )
    thing = loaded["sub"]["Thing"]
    doc = thing.docstring.value
    assert '<autoref identifier="pkg.sub.Thing.close" optional><code>close()</code>' in doc
    assert '<autoref identifier="pkg.sub.Thing.size" optional><code>size</code>' in doc
    assert doc.count('identifier="pkg.sub.Thing.close"') == 2
    assert '<autoref identifier="pkg.sub.Other" optional><code>the other</code>' in doc
    close = thing["close"].docstring.value
    assert 'identifier="pkg.sub.Thing.open"' in close
    assert 'identifier="pkg.sub.Thing"' in close
    top = loaded.docstring.value
    assert 'identifier="pkg.sub.Thing"' in top, "an imported name resolves where it is defined"
    assert 'identifier="pkg.sub"' in top
    assert "<code>missing()</code>" in top, "a name that resolves to nothing is plain code"
    assert not RAW_ROLE.search(doc + close + top)


@pytest.mark.slow
def test_the_site_builds_strictly(tmp_path: Path) -> None:
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None:
        pytest.skip("mkdocs-material is not installed (pip install -e '.[docs]')")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    api = (tmp_path / "api" / "index.html").read_text(encoding="utf-8")
    for name in ("login_with_browser", "default_token_store", "LoginTimeoutError", "Emulator"):
        assert name in api, f"{name} is missing from the API reference"
    raw: list[str] = []
    for page in sorted(tmp_path.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        for match in RAW_ROLE.finditer(text):
            raw.append(f"{page.relative_to(tmp_path)}: {match.group(0)}")
    assert raw == [], f"{len(raw)} raw Sphinx roles on the site, e.g. {raw[:5]}"
    # Docstring roles became links: Backendless's ":meth:`close`" points at Backendless.close.
    assert re.search(
        r'<a class="autorefs[^"]*"[^>]*href="#backendless_auth\.Backendless\.close"', api
    )
    # No private name as a signature's default value (`Backendless(timeout=...)`).
    assert "_DEFAULT_TIMEOUT" not in api, "a private default shows in a signature"


# --- every code block runs ----------------------------------------------------------------------
#
# Each page's ```python blocks run in order, in one fresh Python process per page (a shared
# namespace, as a reader pasting them into one session would have), with the ``BACKENDLESS_*``
# variables naming an emulator started by the test. A block that must not run here (it needs a
# real browser at a real provider, or a real Backendless account) is preceded by the line
#
#     <!-- docs-test: skip: <why> -->
#
# visible in the Markdown source, invisible on the site; the tests below check each such mark
# has a reason and sits right before a python block, and keep their number small. The system
# browser is a script (``BROWSER``) that plays the person at the emulator's sign-in page, so the
# documented ``login_with_browser`` calls run for real.

PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
SKIP_MARK = re.compile(r"^<!-- docs-test: skip: (?P<why>[^>]*\S)\s*-->\s*$")
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>```+|~~~+)\s*(?P<lang>[\w+-]*)")
MAX_SKIPPED = 8


@dataclass(frozen=True)
class Block:
    page: str
    line: int  # of the first line of code
    code: str
    skip: str | None


def _blocks(path: Path) -> list[Block]:
    """Every fenced block of ``path`` in the ``python`` language, with its skip mark if any."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    previous = ""
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            if lines[index].strip():
                previous = lines[index]
            index += 1
            continue
        indent, fence, lang = opening.group("indent", "fence", "lang")
        body: list[str] = []
        index += 1
        while index < len(lines) and not lines[index].strip().startswith(fence):
            body.append(lines[index][len(indent) :] if lines[index].startswith(indent) else "")
            index += 1
        if lang in ("python", "py"):
            mark = SKIP_MARK.match(previous.strip())
            found.append(
                Block(
                    page=str(path.relative_to(ROOT)),
                    line=index - len(body) + 1,
                    code="\n".join(body) + "\n",
                    skip=mark.group("why") if mark else None,
                )
            )
        previous = ""
        index += 1
    return found


RUNNER = r"""
import json, sys
plan = json.load(open(sys.argv[1], encoding="utf-8"))
namespace = {"__name__": "__main__"}
for step in plan:
    if step["kind"] == "expire":
        import requests
        answer = requests.post(
            step["url"] + "/_emulator/sessions/expire",
            json={}, headers={"X-Admin-Token": step["admin"]}, timeout=30,
        )
        answer.raise_for_status()
        print(f"--- expired {answer.json()} ---", flush=True)
        continue
    print(f"--- {step['page']}:{step['line']} ---", flush=True)
    code = "\n" * (step["line"] - 1) + step["code"]
    exec(compile(code, step["page"], "exec"), namespace)
"""

# The "system browser" of the doc runs: signs in at the emulator's page as its first account,
# in the background (webbrowser waits for the browser command to exit).
FAKE_BROWSER = r"""
import os, re, subprocess, sys
url = sys.argv[-1]
if url.startswith("file://"):  # a page that forwards to the flow
    text = open(url[len("file://"):], encoding="utf-8").read()
    url = re.search(r"https?://[^\s\"'<>]+", text).group(0).replace("&amp;", "&")
if os.environ.get("DOCS_BROWSER_CHILD") != "1":
    subprocess.Popen(
        [sys.executable, __file__, url], env={**os.environ, "DOCS_BROWSER_CHILD": "1"},
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    raise SystemExit(0)
from backendless_auth.demo import sign_in_with_requests
sign_in_with_requests(url)
"""


def _docs_env(emu: Emulator, tmp_path: Path) -> dict[str, str]:
    browser = tmp_path / "browser.py"
    browser.write_text(FAKE_BROWSER, encoding="utf-8")
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("BACKENDLESS_")
        and key not in ("DISPLAY", "WAYLAND_DISPLAY", "OAUTHLIB_INSECURE_TRANSPORT")
    }
    account = emu.add_account("google", email="reader@example.com", name="Docs Reader")
    twitter = emu.add_account("twitter", email="tweeter@example.com", name="Docs Tweeter")
    token, secret = emu.provider_token("twitter", twitter)
    environ.update(
        TWITTER_TOKEN=token,
        TWITTER_TOKEN_SECRET=secret,
        XDG_DATA_HOME=str(tmp_path / "data"),  # the file store's default folder
        BACKENDLESS_APP_ID=emu.app_id,
        BACKENDLESS_API_KEY=emu.api_key,
        BACKENDLESS_SERVER_URL=emu.url,
        BACKENDLESS_ACCESS_TOKEN=emu.provider_token("google", account),
        BACKENDLESS_TOKEN_STORE_PATH=str(tmp_path / "sessions"),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        BROWSER=f"{sys.executable} {browser} %s",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    return environ


def _run_plan(
    plan: list[dict[str, Any]], env: dict[str, str], tmp_path: Path, name: str
) -> subprocess.CompletedProcess[str]:
    plan_file = tmp_path / f"{name}.json"
    plan_file.write_text(json.dumps(plan), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-c", RUNNER, str(plan_file)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _steps(blocks: list[Block]) -> list[dict[str, Any]]:
    return [
        {"kind": "block", "page": block.page, "line": block.line, "code": block.code}
        for block in blocks
        if block.skip is None
    ]


@pytest.fixture
def docs_emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


PAGES_WITH_CODE = [path for path in PAGES if _blocks(path)]


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=lambda path: path.name)
def test_every_code_block_on_the_page_runs(page: Path, docs_emu: Emulator, tmp_path: Path) -> None:
    steps = _steps(_blocks(page))
    result = _run_plan(steps, _docs_env(docs_emu, tmp_path), tmp_path, "page")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]


def test_skip_marks_have_reasons_and_are_few() -> None:
    skipped: list[Block] = []
    for path in PAGES:
        text = path.read_text(encoding="utf-8")
        marks = [line for line in text.splitlines() if "docs-test:" in line]
        blocks = _blocks(path)
        skipped += [block for block in blocks if block.skip is not None]
        marked = sum(1 for block in blocks if block.skip is not None)
        for line in marks:
            assert SKIP_MARK.match(line.strip()), f"{path.name}: malformed mark {line!r}"
        assert marked == len(marks), f"{path.name}: a skip mark that is not before a python block"
    assert len(skipped) <= MAX_SKIPPED, [f"{block.page}:{block.line}" for block in skipped]


def test_the_block_reader_finds_blocks_marks_and_indented_fences(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "text\n\n```python\na = 1\n```\n\n<!-- docs-test: skip: needs a real provider -->\n"
        "```python\nb = 2\n```\n\n1. step\n\n    ```python\n    c = 3\n    ```\n\n"
        "```bash\necho no\n```\n",
        encoding="utf-8",
    )
    blocks = [
        Block(page="page.md", line=block.line, code=block.code, skip=block.skip)
        for block in _blocks_for_test(page, tmp_path)
    ]
    assert [(block.code, block.skip) for block in blocks] == [
        ("a = 1\n", None),
        ("b = 2\n", "needs a real provider"),
        ("c = 3\n", None),
    ]
    assert [block.line for block in blocks] == [4, 9, 15]


def _blocks_for_test(page: Path, root: Path) -> list[Block]:
    global ROOT
    saved, ROOT = ROOT, root
    try:
        return _blocks(page)
    finally:
        ROOT = saved


def _is_the_pattern(block: Block) -> bool:
    return "get_current_user()" in block.code and " is None" in block.code


PATTERN_PAGES = [path for path in PAGES if any(_is_the_pattern(block) for block in _blocks(path))]

CHECK_VALID = r"""
from backendless_auth import Backendless
from backendless_auth.stores import default_token_store

app = Backendless.from_env(token_store=default_token_store())
assert app.users.is_valid_login(), "the stored session is not valid"
print("stored session valid")
"""


def test_the_documented_pattern_is_on_the_pages_that_promise_it() -> None:
    names = {path.name for path in PATTERN_PAGES}
    assert {"README.md", "index.md", "guest-login.md", "notebooks.md"} <= names, names


@pytest.mark.slow
@pytest.mark.parametrize("page", PATTERN_PAGES, ids=lambda path: path.name)
def test_the_pattern_logs_in_again_after_the_session_expired(
    page: Path, docs_emu: Emulator, tmp_path: Path
) -> None:
    """ "Am I still logged in?": a later run of the program, after the server expired the kept
    session, must take the "log in" branch (``get_current_user()`` gives ``None``), not crash
    and not go on with the dead session."""
    blocks = [block for block in _blocks(page) if block.skip is None]
    at = next(index for index, block in enumerate(blocks) if _is_the_pattern(block))
    env = _docs_env(docs_emu, tmp_path)
    first = _run_plan(_steps(blocks[: at + 1]), env, tmp_path, "first")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-6000:]
    check = [{"kind": "block", "page": "check", "line": 1, "code": CHECK_VALID}]
    kept = _run_plan(check, env, tmp_path, "kept")
    assert kept.returncode == 0, "the pattern did not keep a session: " + kept.stderr[-3000:]

    assert docs_emu.expire_sessions() >= 1

    # The block is a whole program's start ("the next run"): it runs on its own.
    again = _run_plan(_steps([blocks[at]]), env, tmp_path, "again")
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-6000:]
    after = _run_plan(check, env, tmp_path, "after")
    assert after.returncode == 0, "the pattern went on with the dead session: " + after.stderr


def test_the_site_links_no_repository_but_the_projects_own() -> None:
    """A "repository" link on every page must name the repository pyproject.toml names."""
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    found = re.search(r"^repo_url:\s*(\S+)", config, re.MULTILINE)
    if found is None:
        return  # no link at all: nothing can point at a repository that does not exist
    project = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    urls = re.findall(r'^\w+ = "(https://[^"]+)"', project.split("[project.urls]", 1)[-1], re.M)
    assert any(url.startswith(found.group(1).rstrip("/") + "/") for url in urls), found.group(1)
