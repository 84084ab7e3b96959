"""A local Backendless user service with fake OAuth1/OAuth2 login providers.

Import it explicitly (it needs the ``emulator`` extra: werkzeug and oauthlib)::

    from backendless_auth.emulator import Emulator

    with Emulator() as emu:
        app = emu.app()

Modules: :mod:`.core` (the :class:`Emulator` object), :mod:`.app` (the WSGI application and
the Backendless routes), :mod:`.providers` (fake providers on oauthlib), :mod:`.pages` (sign-in
and result pages), :mod:`.db` (SQLite), :mod:`.server` (keep-alive HTTP server),
:mod:`.faults`, :mod:`.openapi`, :mod:`.config`, :mod:`.cli`.
"""

from __future__ import annotations

from .app import ERROR_CODES
from .cli import main
from .config import ConfigError, CustomProvider
from .core import Account, Emulator, OAuth1Endpoints, OAuth2Endpoints
from .faults import Fault, FaultError

__all__ = [
    "ERROR_CODES",
    "Account",
    "ConfigError",
    "CustomProvider",
    "Emulator",
    "Fault",
    "FaultError",
    "OAuth1Endpoints",
    "OAuth2Endpoints",
    "main",
]
