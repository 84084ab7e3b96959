"""A local Backendless user service with fake OAuth1/OAuth2 login providers.

Import it explicitly (it needs the ``emulator`` extra: werkzeug and oauthlib)::

    from backendless_auth.emulator import Emulator

    with Emulator() as emu:                      # 127.0.0.1, a free port, a background thread
        app = emu.app()                          # or emu.domain_app()
        token = emu.oauth2_token("google", emu.accounts("google")[0])
        user = app.users.login_with_oauth2("google", token)

Routes (see ``GET /_emulator/openapi.json``):

* Backendless side, under ``/<APP_ID>/<API_KEY>/`` and ``/api/``: ``POST users/register/guest``,
  ``POST users/{oauth|social}/<p>/login``, ``POST users/{oauth|social}/<p>/request_url``,
  ``GET users/{oauth|social}/<p>/callback``, ``GET users/logout``,
  ``GET users/isvalidusertoken/<t>``, ``GET data/Users/<id>``; accounts with passwords
  (register, login, verifypassowrd, restorepassword, resendconfirmation,
  createEmailConfirmationURL, ``PUT users/<id>``, userroles, role, assignRole, unassignRole,
  userclassprops, ``PUT users/<id>/status``; see :mod:`.accounts`); ``GET info`` (what the JS SDK
  loads at ``initApp``), and the legacy ``POST users/social/<p>/sdk/login`` and
  ``POST users/social/oauth/<p>/request_url`` (the popup flow). CORS for loopback web origins
  (configurable, see :mod:`.cors`).
* Fake providers under ``/_providers/`` (see :mod:`.providers`; sign-in page forms in
  :mod:`.pages`).
* Admin, with ``X-Admin-Token: <token>`` (or ``Authorization: Bearer <token>``):
  ``POST /_emulator/reset``, ``GET /_emulator/users``,
  ``GET|POST /_emulator/accounts/<p>`` (``{"email", "name"}``),
  ``POST /_emulator/tokens`` (``{"provider", "account"}`` → ``{"accessToken"[,
  "accessTokenSecret"]}``), ``POST /_emulator/sessions/expire`` (``{"userToken"?}``),
  ``GET|POST|DELETE /_emulator/faults`` (see :mod:`.faults`), ``GET /_emulator/providers``,
  ``PATCH /_emulator/providers/<p>`` (``{"enabled": bool}``),
  ``GET|DELETE /_emulator/outbox`` (see :mod:`.outbox`),
  ``GET|PATCH /_emulator/settings/users`` (see :class:`AccountSettings`). Public:
  ``GET /_emulator/health``, ``GET /_emulator/openapi.json``.

Errors are ``{"code": int, "message": str}``, HTTP 400 unless noted (see :data:`ERROR_CODES`),
never a 500 for anything a client sends:
2002 wrong app id or API key; 3064 unknown or expired user token (logout, ``data/Users`` with
a bad ``user-token``); 3060 provider disabled, token rejected, or user denied; 3080 redirect
URL not allowed; 8002 malformed JSON (also nested deeper than 32, or holding a lone
surrogate); 8007 missing or invalid parameter, unknown provider, or a ``guestUser`` that is not
a current guest; 1000 (HTTP 404) no such user. Unknown routes are
404 and wrong methods 405, with ``code`` equal to the status; the admin token guard is 401.

Modules: :mod:`.core` (the :class:`Emulator` object), :mod:`.app` (the WSGI application and
the Backendless routes), :mod:`.providers` (fake providers on oauthlib), :mod:`.pages` (sign-in
and result pages), :mod:`.db` (SQLite), :mod:`.server` (keep-alive HTTP server),
:mod:`.faults`, :mod:`.openapi`, :mod:`.config`, :mod:`.cli`, :mod:`.cors`, :mod:`.recording`
(a request log for tests), :mod:`.remote` (:class:`RemoteEmulator`, an emulator elsewhere driven
over its admin routes).
"""

from __future__ import annotations

from .app import ERROR_CODES
from .cli import main
from .config import AccountSettings, ConfigError, CustomProvider, PasswordPolicy, UserColumn
from .core import Account, Emulator, OAuth1Endpoints, OAuth2Endpoints
from .faults import Fault, FaultError
from .outbox import Email
from .recording import RecordedRequest
from .remote import RemoteEmulator, RemoteEmulatorError

__all__ = [
    "ERROR_CODES",
    "Account",
    "AccountSettings",
    "ConfigError",
    "CustomProvider",
    "Email",
    "Emulator",
    "Fault",
    "FaultError",
    "OAuth1Endpoints",
    "OAuth2Endpoints",
    "PasswordPolicy",
    "RecordedRequest",
    "RemoteEmulator",
    "RemoteEmulatorError",
    "UserColumn",
    "main",
]
