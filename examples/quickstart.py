"""Quickstart: log in as a guest, upgrade the guest with Google, stay logged in, log out.

Run it as is (an emulator starts in this process), or against your app::

    BACKENDLESS_APP_ID=... BACKENDLESS_API_KEY=... BACKENDLESS_ACCESS_TOKEN=<a Google token> \\
        python examples/quickstart.py
"""

from __future__ import annotations

import sys
import tempfile

from _target import target

from backendless_auth.stores import default_token_store


def main() -> int:
    with target() as where, tempfile.TemporaryDirectory() as folder:
        # The keyring when this machine has a working one, else private files (here in a
        # temporary folder, so that the example leaves nothing behind).
        store = default_token_store(path=folder)
        print(f"Talking to {where.name}; sessions go to the {store.backend_name} store.")

        # Checked before anything is sent: no guest is made for a run that cannot finish.
        access_token = where.access_token("google")
        if access_token is None:
            print(
                "quickstart: set BACKENDLESS_ACCESS_TOKEN to a Google access token for your app "
                "(or unset the BACKENDLESS_* variables to run against an emulator)",
                file=sys.stderr,
            )
            return 2

        with where.app(token_store=store) as app:
            guest = app.users.login_as_guest()
            print(f"guest:    {guest.object_id} (is_guest={guest.is_guest})")

            user = app.users.login_with_oauth2(
                "google",
                access_token,
                guest_user=guest,  # the guest becomes this user: same objectId
                fields_mapping={"email": "email", "name": "name"},
                stay_logged_in=True,  # kept in the token store for the next run
            )
            same = user.object_id == guest.object_id
            print(f"upgraded: {user.object_id} {user.email} (same objectId: {same})")

        # Next run of the program: a new app object over the same store is still logged in.
        with where.app(token_store=store) as app:
            restored = app.users.get_current_user()
            if restored is None:
                print("no stored session", file=sys.stderr)
                return 1
            print(f"restored: {restored.email}, valid: {app.users.is_valid_login()}")
            app.users.logout()
            print(f"logged out, valid: {app.users.is_valid_login()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
