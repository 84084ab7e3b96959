"""Self-contained HTML pages of the fake providers and the Backendless callback.

No external assets: the pages work offline. Their forms are stable so that a plain HTTP
client (``requests``) or Playwright can drive them.

Provider sign-in page (``GET`` the provider's authorize URL; every form ``POST``s back to the
same URL, query string included):

* ``<form id="accounts">`` – one button per seeded account:
  ``<button type="submit" name="account" value="ACCOUNT_ID" id="account-N">`` (N counts from
  1 in seed order; ``data-email`` holds the account's email), next to a hidden
  ``<input name="action" value="choose">``.
* ``<form id="add-account">`` – ``<input name="email" id="email">``,
  ``<input name="name" id="name">`` and ``<button name="action" value="add" id="add">``: the
  account is created and chosen at once.
* ``<form id="deny-form">`` – ``<button name="action" value="deny" id="deny">``: the provider
  answers ``error=access_denied`` (OAuth2) or ``denied=<request token>`` (Twitter).

So a scripted client posts ``action=choose&account=ID``, ``action=add&email=..&name=..`` or
``action=deny`` and reads the ``Location`` header of the 302 answer.

The callback result page (no ``redirectAfterLoginUrl``) shows the outcome in
``<pre id="result">`` as JSON: ``{"userId", "userToken"}`` or ``{"error", "code"}``.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#222}
h1{font-size:1.3rem} .acct{display:block;width:100%;margin:.3rem 0;padding:.6rem;text-align:left;
background:#f4f6fb;border:1px solid #ccd;border-radius:6px;cursor:pointer}
.acct small{color:#667} form{margin:1rem 0} label{display:block;margin:.4rem 0}
input{width:100%;padding:.4rem;box-sizing:border-box} .deny{background:#fee;border:1px solid #d99}
button{padding:.5rem 1rem;border-radius:6px;cursor:pointer} .note{color:#667;font-size:.85rem}
"""


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width'><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body>{body}</body></html>\n"
    )


def sign_in_page(provider: str, client_id: str, accounts: list[dict[str, Any]], scope: str) -> str:
    """The provider's account chooser."""
    buttons = []
    for n, acct in enumerate(accounts, 1):
        buttons.append(
            f"<button class='acct' type='submit' name='account' value='{escape(acct['id'])}'"
            f" id='account-{n}' data-email='{escape(acct.get('email') or '')}'>"
            f"{escape(acct.get('name') or '')}<br><small>{escape(acct.get('email') or '')}"
            "</small></button>"
        )
    accounts_html = (
        "<form id='accounts' method='post'><input type='hidden' name='action' value='choose'>"
        + "".join(buttons)
        + "</form>"
        if buttons
        else "<p class='note' id='no-accounts'>No accounts yet.</p>"
    )
    body = (
        f"<h1 id='title'>Sign in with {escape(provider.capitalize())} (emulator)</h1>"
        f"<p class='note'>Application <code id='client-id'>{escape(client_id)}</code> asks for"
        f" <code id='scope'>{escape(scope or '(default)')}</code>.</p>"
        f"{accounts_html}"
        "<form id='add-account' method='post'>"
        "<label>Email <input type='email' name='email' id='email' required></label>"
        "<label>Name <input type='text' name='name' id='name'></label>"
        "<button type='submit' name='action' value='add' id='add'>Add account and continue"
        "</button></form>"
        "<form id='deny-form' method='post'>"
        "<button class='deny' type='submit' name='action' value='deny' id='deny'>Deny</button>"
        "</form>"
    )
    return _page(f"{provider} sign-in", body)


def result_page(outcome: dict[str, Any], ok: bool) -> str:
    """What the Backendless callback shows when no redirectAfterLoginUrl was given."""
    title = "Signed in" if ok else "Sign-in failed"
    body = (
        f"<h1 id='title'>{title}</h1>"
        f"<pre id='result'>{escape(json.dumps(outcome, indent=2))}</pre>"
        "<p class='note'>You can close this window.</p>"
    )
    return _page(title, body)


def error_page(message: str) -> str:
    """A provider-side error that cannot be sent back to the client (bad client or redirect)."""
    return _page("Error", f"<h1 id='title'>Error</h1><p id='error'>{escape(message)}</p>")


# --- accounts with passwords: the pages behind the outbox's links (see .accounts) ------------
#
# * message page: ``<h1 id='title'>`` and ``<p id='message'>``;
# * reset page: ``<form id='reset-form' method='post'>`` with ``<input type='password'
#   name='password' id='password'>``, ``<input type='password' name='confirm' id='confirm'>``,
#   a hidden ``csrf`` field and ``<button type='submit' id='submit'>``; an error above the form
#   in ``<p id='error'>``.


def message_page(title: str, message: str) -> str:
    """A one-message page (email confirmed, link expired, password changed...)."""
    return _page(title, f"<h1 id='title'>{escape(title)}</h1><p id='message'>{escape(message)}</p>")


def reset_password_page(identity: str, csrf: str, policy: str, error: str | None = None) -> str:
    """The form that sets a new password; it posts back to its own URL."""
    problem = f"<p id='error' class='deny'>{escape(error)}</p>" if error else ""
    body = (
        "<h1 id='title'>Choose a new password</h1>"
        f"<p class='note'>For <code id='identity'>{escape(identity)}</code>. "
        f"<span id='policy'>{escape(policy)}</span></p>{problem}"
        "<form id='reset-form' method='post'>"
        f"<input type='hidden' name='csrf' value='{escape(csrf)}'>"
        "<label>New password <input type='password' name='password' id='password' required"
        " autocomplete='new-password'></label>"
        "<label>Repeat it <input type='password' name='confirm' id='confirm' required"
        " autocomplete='new-password'></label>"
        "<button type='submit' id='submit'>Set the new password</button></form>"
    )
    return _page("Reset your password", body)


def popup_page(payload: dict[str, Any], origin: str) -> str:
    """The legacy popup flow's callback page: posts ``payload`` (the user with its
    ``user-token``, or ``{"fault": message}``) as a JSON string to ``window.opener`` at
    ``origin`` only, then closes. Without an allowed origin nothing is posted and the page only
    says what happened (without the token)."""
    ok = "fault" not in payload
    title = "Signed in" if ok else "Sign-in failed"
    shown = {"objectId": payload.get("objectId"), "email": payload.get("email")} if ok else payload
    script = ""
    if origin:
        # JSON inside a <script>: escape what could end the element or the string.
        data = json.dumps(json.dumps(payload, separators=(",", ":")))
        for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
            data = data.replace(char, escaped)
        data = data.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
        script = (
            "<script>(function(){var w=window.opener;if(w){"
            f"w.postMessage({data},{json.dumps(origin)});window.close();}}}})();</script>"
        )
    body = (
        f"<h1 id='title'>{title}</h1>"
        f"<pre id='result'>{escape(json.dumps(shown, indent=2))}</pre>"
        "<p class='note'>You can close this window.</p>"
        f"{script}"
    )
    return _page(title, body)
