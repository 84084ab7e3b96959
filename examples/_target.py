"""Where the examples run: your Backendless app, or an emulator started in this process.

With ``BACKENDLESS_APP_ID`` and ``BACKENDLESS_API_KEY`` (or ``BACKENDLESS_DOMAIN``) set, an
example talks to that app, and the provider tokens it needs come from
``BACKENDLESS_ACCESS_TOKEN`` (and ``BACKENDLESS_ACCESS_TOKEN_SECRET`` for Twitter). Otherwise it
starts the emulator (``pip install 'backendless-auth[emulator]'``), which makes up tokens for
its fake providers. Nothing else in the examples depends on which one it is.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from backendless_auth import Backendless


def real_app_configured() -> bool:
    """Whether the ``BACKENDLESS_*`` variables name an app."""
    return bool(
        os.environ.get("BACKENDLESS_DOMAIN")
        or (os.environ.get("BACKENDLESS_APP_ID") and os.environ.get("BACKENDLESS_API_KEY"))
    )


class Target:
    """How to reach the app, and where provider tokens come from."""

    def __init__(self, emulator: Any = None) -> None:
        self.emulator = emulator

    @property
    def name(self) -> str:
        return "the emulator" if self.emulator is not None else "your Backendless app"

    def app(self, **kwargs: Any) -> Backendless:
        """A new app object (``token_store=`` and other options passed on)."""
        if self.emulator is not None:
            app: Backendless = self.emulator.app(**kwargs)
            return app
        return Backendless.from_env(**kwargs)

    def access_token(self, provider: str, *, email: str | None = None) -> Any:
        """A provider access token: for Twitter a ``(token, secret)`` pair; ``None`` if unknown.

        The emulator issues one for the account with ``email`` (the first account by default);
        for a real app it is read from ``BACKENDLESS_ACCESS_TOKEN`` (and ``..._SECRET``).
        """
        if self.emulator is None:
            token = os.environ.get("BACKENDLESS_ACCESS_TOKEN")
            secret = os.environ.get("BACKENDLESS_ACCESS_TOKEN_SECRET")
            if not token or (provider == "twitter" and not secret):
                return None
            return (token, secret) if provider == "twitter" else token
        accounts = self.emulator.accounts(provider)
        chosen = next((a for a in accounts if email is None or a.email == email), None)
        if chosen is None:
            chosen = self.emulator.add_account(provider, email=email, name=email)
        return self.emulator.provider_token(provider, chosen)


@contextmanager
def target() -> Iterator[Target]:
    """Your app when the ``BACKENDLESS_*`` variables are set, else a running emulator."""
    if real_app_configured():
        yield Target()
        return
    from backendless_auth.emulator import Emulator

    with Emulator() as emu:
        yield Target(emu)
