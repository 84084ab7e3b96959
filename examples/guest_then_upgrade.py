"""Guest first, real account later: the guest keeps its objectId (and its data) on upgrade.

A guest is an anonymous user the app can hand out at first launch. When the person later signs
in with a provider, passing the guest as ``guest_user=`` turns that same user into a real one,
instead of creating a second user. The guest session is kept between runs in the meantime.
"""

from __future__ import annotations

import sys

from _target import target

from backendless_auth import InvalidArgumentError, MemoryTokenStore


def main() -> int:
    with target() as where:
        store = MemoryTokenStore()  # a real program would use default_token_store()

        # First launch: an anonymous guest, kept for the next launches.
        with where.app(token_store=store) as app:
            guest = app.users.login_as_guest(stay_logged_in=True)
            print(f"first launch:  guest {guest.object_id}, status {guest.user_status}")

        # A later launch: still the same guest, loaded from the stored session.
        with where.app(token_store=store) as app:
            current = app.users.get_current_user()
            if current is None or not current.is_guest:
                print("expected the stored guest session", file=sys.stderr)
                return 1
            print(f"later launch:  still guest {current.object_id}")

            # The person signs in with GitHub: upgrade the guest rather than add a user.
            access_token = where.access_token("github")
            if access_token is None:
                print("Set BACKENDLESS_ACCESS_TOKEN to a GitHub access token to upgrade.")
                return 0
            user = app.users.login_with_oauth2(
                "github",
                access_token,
                guest_user=current,
                fields_mapping={"email": "email", "name": "name"},
                stay_logged_in=True,
            )
            print(f"upgraded:      {user.object_id}, status {user.user_status}, {user.email}")
            if user.object_id != guest.object_id:
                print("the upgrade should keep the objectId", file=sys.stderr)
                return 1

            # Only a guest can be upgraded; the SDK refuses anything else before sending.
            try:
                app.users.login_with_oauth2("github", access_token, guest_user=user)
            except InvalidArgumentError as exc:
                print(f"refused:       {exc}")
            app.users.logout()
    return 0


if __name__ == "__main__":
    sys.exit(main())
