"""The documentation: the site builds with ``mkdocs build --strict``, and the reference pages
cover every exception, every Backendless code, every CLI command and every exit status."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from backendless_auth import exceptions
from backendless_auth.cli import EXIT_STATUSES, _build_parser

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
