"""A running emulator elsewhere (another process, another machine), driven over its admin API.

:class:`RemoteEmulator` has the test-facing methods of :class:`~.core.Emulator` (``app``,
``reset``, ``add_account``, ``provider_token``, ``users``, ``expire_sessions``, ``set_fault``,
...), each one HTTP call to ``/_emulator/...`` with the admin token (or to the public
Backendless routes), so that a test suite can drive an emulator it did not start.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from .core import Account, _object_id
from .faults import Fault, FaultKind
from .outbox import Email

if TYPE_CHECKING:
    from backendless_auth import Backendless


class RemoteEmulatorError(RuntimeError):
    """The emulator answered an admin call with an error, or could not be reached."""


class RemoteEmulator:
    """An emulator at ``url``, reached with its admin token.

    Args:
        url: the emulator's root, ``http://HOST:PORT``.
        admin_token: its admin token (printed at its start, or ``adminToken`` in its config).
        timeout: seconds for each admin call.
    """

    def __init__(self, url: str, admin_token: str, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.admin_token = admin_token
        self.timeout = timeout
        info = self._call("GET", "/api/info", admin=False)
        self.app_id: str = info["appId"]
        self.api_key: str = info["apiKey"]

    def __repr__(self) -> str:
        return f"RemoteEmulator({self.url!r})"

    # --- HTTP --------------------------------------------------------------------------------
    def _call(self, method: str, path: str, body: Any = None, *, admin: bool = True) -> Any:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if admin:
            headers["X-Admin-Token"] = self.admin_token
        request = urllib.request.Request(  # noqa: S310 - the caller's emulator URL
            self.url + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                raw = answer.read()
        except urllib.error.HTTPError as exc:
            try:
                detail = json.loads(exc.read()).get("message", "")
            except (ValueError, AttributeError):
                detail = ""
            raise RemoteEmulatorError(
                f"{method} {path}: HTTP {exc.code} {detail}".rstrip()
            ) from None
        except OSError as exc:
            raise RemoteEmulatorError(
                f"the emulator at {self.url} cannot be reached: {exc}"
            ) from None
        return json.loads(raw) if raw.strip() else None

    # --- like Emulator -----------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"{self.url}/{self.app_id}/{self.api_key}"

    @property
    def domain_url(self) -> str:
        return f"{self.url}/api"

    def app(self, **kwargs: Any) -> Backendless:
        from backendless_auth import Backendless

        return Backendless(app_id=self.app_id, api_key=self.api_key, server_url=self.url, **kwargs)

    def domain_app(self, **kwargs: Any) -> Backendless:
        from backendless_auth import Backendless

        return Backendless(domain=self.url, **kwargs)

    def reset(self) -> None:
        self._call("POST", "/_emulator/reset")

    def users(self) -> list[dict[str, Any]]:
        users: list[dict[str, Any]] = self._call("GET", "/_emulator/users")
        return users

    def user(self, object_id: str) -> dict[str, Any] | None:
        return next((u for u in self.users() if u.get("objectId") == object_id), None)

    def add_account(
        self, provider: str, *, email: str | None = None, name: str | None = None, **extra: Any
    ) -> Account:
        body = {k: v for k, v in {"email": email, "name": name, **extra}.items() if v is not None}
        a = self._call("POST", f"/_emulator/accounts/{quote(provider, safe='')}", body)
        return Account(provider, a["id"], a.get("email"), a.get("name"))

    def accounts(self, provider: str) -> list[Account]:
        found = self._call("GET", f"/_emulator/accounts/{quote(provider, safe='')}")
        return [Account(provider, a["id"], a.get("email"), a.get("name")) for a in found]

    def provider_token(self, provider: str, account: Account | str) -> Any:
        account_id = account.id if isinstance(account, Account) else str(account)
        answer = self._call(
            "POST", "/_emulator/tokens", {"provider": provider, "account": account_id}
        )
        if "accessTokenSecret" in answer:
            return (answer["accessToken"], answer["accessTokenSecret"])
        return answer["accessToken"]

    def oauth2_token(self, provider: str, account: Account | str) -> str:
        token = self.provider_token(provider, account)
        if not isinstance(token, str):
            raise ValueError(f"{provider!r} is an OAuth1 provider; use oauth1_token()")
        return token

    def oauth1_token(self, provider: str, account: Account | str) -> tuple[str, str]:
        pair = self.provider_token(provider, account)
        if not isinstance(pair, tuple):
            raise ValueError(f"{provider!r} is not an OAuth1 provider; use oauth2_token()")
        return pair

    def seed_guest(self) -> dict[str, Any]:
        guest: dict[str, Any] = self._call("POST", "/api/users/register/guest", admin=False)
        return guest

    def seed_user(
        self,
        provider: str = "google",
        *,
        email: str | None = None,
        name: str | None = None,
        guest: Any = None,
        **extra: Any,
    ) -> dict[str, Any]:
        account = self.add_account(provider, email=email, name=name, **extra)
        token = self.provider_token(provider, account)
        body: dict[str, Any] = {"accessToken": token}
        if isinstance(token, tuple):
            body = {"accessToken": token[0], "accessTokenSecret": token[1]}
        guest_id = _object_id(guest)
        if guest_id is not None:
            body["guestUser"] = {"objectId": guest_id}
        user: dict[str, Any] = self._call(
            "POST", f"/api/users/oauth/{quote(provider, safe='')}/login", body, admin=False
        )
        return user

    def expire_sessions(self, user_token: str | None = None) -> int:
        body = {} if user_token is None else {"userToken": user_token}
        return int(self._call("POST", "/_emulator/sessions/expire", body)["expired"])

    def set_fault(
        self,
        kind: FaultKind,
        *,
        path: str | None = None,
        method: str | None = None,
        count: int | None = 1,
        delay: float = 1.0,
        status: int = 503,
    ) -> Fault:
        body = {
            "kind": kind,
            "path": path,
            "method": method,
            "count": count,
            "delay": delay,
            "status": status,
        }
        return _fault(self._call("POST", "/_emulator/faults", body))

    def clear_faults(self) -> None:
        self._call("DELETE", "/_emulator/faults")

    def faults(self) -> list[Fault]:
        return [_fault(f) for f in self._call("GET", "/_emulator/faults")]

    def disable_provider(self, provider: str) -> None:
        self._call("PATCH", f"/_emulator/providers/{quote(provider, safe='')}", {"enabled": False})

    def enable_provider(self, provider: str) -> None:
        self._call("PATCH", f"/_emulator/providers/{quote(provider, safe='')}", {"enabled": True})

    def outbox(self, to: str | None = None, kind: str | None = None) -> list[Email]:
        """The emails the emulator would have sent, oldest first (``GET /_emulator/outbox``,
        filtered by recipient and kind)."""
        query = urlencode({k: v for k, v in (("to", to), ("kind", kind)) if v is not None})
        mails: list[dict[str, Any]] = self._call(
            "GET", "/_emulator/outbox" + (f"?{query}" if query else "")
        )
        return [Email.from_wire(mail) for mail in mails]


def _fault(data: dict[str, Any]) -> Fault:
    fault = Fault(
        data["kind"],
        path=data.get("path"),
        method=data.get("method"),
        count=data.get("count"),
        delay=float(data.get("delay", 1.0)),
        status=int(data.get("status", 503)),
        id=int(data["id"]),
    )
    fault.fired = int(data.get("fired", 0))
    return fault
