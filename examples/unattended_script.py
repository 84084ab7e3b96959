"""An unattended script (cron, CI): work as the user who logged in once, or stop with status 1.

Log in once, interactively, keeping the session::

    backendless-auth login google --browser --stay

then let cron run this script with the same app variables::

    */15 * * * *  BACKENDLESS_APP_ID=... BACKENDLESS_API_KEY=... python unattended_script.py

The CLI and this script share the session because both use the default token store (the
keyring where one works, else a private file; ``BACKENDLESS_TOKEN_STORE_PATH`` moves the file
store's folder for both). Exit statuses: 0 done, 1 no valid session (log in again), 3 the
server could not be reached (try again later).

Without the ``BACKENDLESS_*`` variables, it shows both outcomes against an emulator.
"""

from __future__ import annotations

import os
import sys
import tempfile

from _target import real_app_configured, target

from backendless_auth import ApiError, Backendless, TransportError
from backendless_auth.stores import TokenStore, default_token_store


def job(app: Backendless) -> int:
    """One run: check the stored session, then do the work as that user."""
    try:
        if not app.users.is_valid_login():
            print(
                "no valid session: log in with 'backendless-auth login PROVIDER --browser --stay'",
                file=sys.stderr,
            )
            return 1
        user = app.users.get_current_user()
    except TransportError as exc:
        print(f"cannot reach Backendless: {exc}", file=sys.stderr)
        return 3
    except ApiError as exc:  # e.g. the session expired between the two calls
        print(f"Backendless refused: {exc}", file=sys.stderr)
        return 1
    assert user is not None
    print(f"working as {user.email or user.object_id}")
    # Your work goes here. Calls of your own to Backendless carry the session as the
    # "user-token" header: app.users.user_token.
    return 0


def store_from_env(folder: str | None = None) -> TokenStore:
    """The store the CLI uses by default, so that both see the same session."""
    return default_token_store(path=folder or os.environ.get("BACKENDLESS_TOKEN_STORE_PATH"))


def main() -> int:
    if real_app_configured():
        with Backendless.from_env(token_store=store_from_env()) as app:
            return job(app)

    with target() as where, tempfile.TemporaryDirectory() as folder:
        print("cron run before anyone logged in:")
        with where.app(token_store=store_from_env(folder)) as app:
            status = job(app)
        print(f"  -> exit status {status}")
        if status != 1:
            return 1

        # Once, interactively; this is what 'backendless-auth login ... --stay' does.
        with where.app(token_store=store_from_env(folder)) as app:
            app.users.login_with_oauth2("google", where.access_token("google"), stay_logged_in=True)

        print("cron run after a login with --stay:")
        with where.app(token_store=store_from_env(folder)) as app:
            status = job(app)
        print(f"  -> exit status {status}")
        return status


if __name__ == "__main__":
    sys.exit(main())
