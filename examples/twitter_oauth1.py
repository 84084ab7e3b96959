"""Twitter (OAuth 1.0a): log in with a token and secret, or run Twitter's flow in a browser.

Backendless's Twitter login takes the OAuth1 access token *and* its secret
(``login_with_oauth1``). A Python program gets them in one of two ways:

1. it already has them (another part of your system did the OAuth1 dance): log in with them;
2. it runs Twitter's OAuth1 flow itself in a browser with :func:`providers.login_with_provider`
   (a request token, the person authorizes it, the verifier comes back to a loopback address,
   the access token and secret are fetched), which then logs in to Backendless.

Against your app, set ``BACKENDLESS_ACCESS_TOKEN`` and ``BACKENDLESS_ACCESS_TOKEN_SECRET`` for
the first way, and ``TWITTER_CONSUMER_KEY`` and ``TWITTER_CONSUMER_SECRET`` (a desktop app's)
for the second. Against the emulator, its fake Twitter plays along, and a script plays the
person at the sign-in page.
"""

from __future__ import annotations

import os
import sys

from _target import target

from backendless_auth import providers


def main() -> int:
    with target() as where, where.app() as app:
        # 1. With a token and secret in hand.
        pair = where.access_token("twitter")
        if pair is not None:
            token, secret = pair
            user = app.users.login_with_oauth1(
                "twitter", token, secret, fields_mapping={"email": "email", "name": "name"}
            )
            print(f"token login:   {user.name} <{user.email}>, {user.social_account}")
        else:
            print("token login:   skipped (set BACKENDLESS_ACCESS_TOKEN and ..._SECRET)")

        # 2. Twitter's own OAuth1 flow in a browser, then the Backendless login.
        if where.emulator is not None:
            from backendless_auth.demo import scripted_opener

            ends = where.emulator.provider_endpoints("twitter")
            twitter = providers.TWITTER.with_urls(
                request_token_url=ends.request_token_url,
                authorize_url=ends.authorize_url,
                access_token_url=ends.access_token_url,
            )
            consumer_key, consumer_secret = ends.consumer_key, ends.consumer_secret
            opener = scripted_opener(email="bob@example.com")
        else:
            twitter = providers.TWITTER
            consumer_key = os.environ.get("TWITTER_CONSUMER_KEY", "")
            consumer_secret = os.environ.get("TWITTER_CONSUMER_SECRET", "")
            opener = None  # the system browser; the URL is printed when none can open
            if not consumer_key or not consumer_secret:
                print("browser flow:  skipped (set TWITTER_CONSUMER_KEY and ..._SECRET)")
                return 0
        user = providers.login_with_provider(
            app.users,
            twitter,
            client_id=consumer_key,
            client_secret=consumer_secret,
            fields_mapping={"email": "email", "name": "name"},
            opener=opener,
            timeout=120,
        )
        print(f"browser flow:  {user.name} <{user.email}>, {user.social_account}")
        app.users.logout()
    return 0


if __name__ == "__main__":
    sys.exit(main())
