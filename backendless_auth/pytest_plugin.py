"""The pytest plugin of backendless-auth: fixtures for testing an app against the emulator.

pytest loads it by itself (the ``pytest11`` entry point) wherever backendless-auth is installed.
It is active only with the ``emulator`` extra (werkzeug and oauthlib importable): without them
importing this module defines nothing, adds no option and imports nothing else, so a project
that has the SDK but not the extra sees no difference. See docs/testing.md.

Fixtures (from :mod:`backendless_auth._pytest_fixtures`):

* ``backendless_emulator`` — the emulator, reset before each test (every user, session,
  provider account, token, fault and every other record gone; the app id and keys kept); one
  per test session (one per xdist worker);
* ``backendless_emulator_session`` — the same object without the reset, for session fixtures;
* ``backendless_app`` — a ``Backendless`` app on it with a fresh ``MemoryTokenStore``;
* ``backendless_async_app`` — the ``AsyncBackendless`` twin, where this version has it.

Options: ``--backendless-emulator-url URL`` (use an emulator that is already running; its admin
token comes from ``BACKENDLESS_EMULATOR_ADMIN_TOKEN``) and ``--backendless-emulator-db FILE``.
"""

from __future__ import annotations

import importlib.util


def _emulator_extra_installed() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("werkzeug", "oauthlib"))


if _emulator_extra_installed():
    from backendless_auth._pytest_fixtures import *  # noqa: F403 - hooks and fixtures
