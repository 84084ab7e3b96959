"""docs/accounts.md is a walk-through that runs: its Python blocks, in order, in one namespace,
against the emulator the page starts (a new user follows the page alone: register, confirm,
log in, reset a password, roles, update, status)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

PAGE = Path(__file__).resolve().parent.parent / "docs" / "accounts.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def test_every_block_of_the_accounts_page_runs_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    blocks = _BLOCK.findall(PAGE.read_text(encoding="utf-8"))
    assert len(blocks) >= 12
    namespace: dict[str, Any] = {"__name__": "docs_accounts"}
    try:
        for number, block in enumerate(blocks, 1):
            try:
                exec(compile(block, f"{PAGE.name}, block {number}", "exec"), namespace)
            except Exception as exc:
                raise AssertionError(f"block {number} failed:\n{block}") from exc
    finally:
        emu = namespace.get("emu")
        if emu is not None:
            emu.stop()
    out = capsys.readouterr().out
    assert "EMAIL_CONFIRMATION_PENDING" in out
    assert "that address has an account already" in out
    assert "Ann ENABLED" in out
    assert "'Pro'" in out
    assert namespace["me"].user_status == "ENABLED"


def test_the_accounts_page_is_in_the_navigation() -> None:
    mkdocs = (PAGE.parent.parent / "mkdocs.yml").read_text(encoding="utf-8")
    assert "accounts.md" in mkdocs
