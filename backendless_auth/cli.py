"""The ``backendless-auth`` command line (also ``python -m backendless_auth``).

Commands: ``login``, ``guest``, ``whoami``, ``token``, ``valid``, ``logout``, ``url``,
``register``, ``password-reset``, ``confirm-email``, ``roles``, ``update``, ``emulator`` and
``demo``. Passwords come from a prompt, ``--password-stdin`` or ``BACKENDLESS_PASSWORD``; never
from the command line. The app comes from ``--app-id``/``--api-key``/``--server-url`` or
``--domain``, else from the ``BACKENDLESS_*`` environment variables. Sessions are kept between
invocations in a token store (``--store``, ``auto`` by default) when a login is given ``--stay``.

Exit statuses (see :data:`EXIT_STATUSES`)::

    0   done (for ``valid``: the session is valid)
    1   rejected: Backendless refused, the login flow failed, or nobody is logged in
    2   usage: a bad command line, option or app address; nothing was sent
    3   network: the server could not be reached, timed out, or answered something that is
        not Backendless
    4   the token store failed, or an internal error (run again with --debug)
    130 interrupted (Ctrl-C)

Errors are one line on stderr (a JSON object with ``--json``); ``--debug`` adds the traceback
and the SDK's (redacted) log. Nothing but ``token`` prints a user token, and no command prints
an access token, a secret or the API key.

The SDK is imported only once the command line is parsed, so that ``--help`` and usage errors
answer at once.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

if TYPE_CHECKING:
    from . import Backendless, BackendlessUser
    from .stores import TokenStore

__all__ = ["EXIT_STATUSES", "main"]

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2
EXIT_NETWORK = 3
EXIT_LOCAL = 4
EXIT_INTERRUPTED = 130

EXIT_STATUSES: Mapping[int, str] = {
    EXIT_OK: "done (for 'valid': the session is valid)",
    EXIT_REJECTED: "rejected: Backendless refused, the login flow failed, or nobody is logged in",
    EXIT_USAGE: "usage: a bad command line, option or app address; nothing was sent",
    EXIT_NETWORK: "network: the server could not be reached, timed out, or is not Backendless",
    EXIT_LOCAL: "the token store failed, or an internal error (run again with --debug)",
    EXIT_INTERRUPTED: "interrupted",
}
"""Every exit status of the command line, and what it means."""

ENV_ACCESS_TOKEN = "BACKENDLESS_ACCESS_TOKEN"
ENV_ACCESS_TOKEN_SECRET = "BACKENDLESS_ACCESS_TOKEN_SECRET"
ENV_STORE = "BACKENDLESS_TOKEN_STORE"
ENV_STORE_PATH = "BACKENDLESS_TOKEN_STORE_PATH"

STORE_CHOICES = ("auto", "file", "keyring", "memory")

_PROG = "backendless-auth"

_EPILOG = """\
exit statuses:
  0    done (for 'valid': the session is valid)
  1    rejected: Backendless refused, the login flow failed, or nobody is logged in
  2    usage: a bad command line, option or app address; nothing was sent
  3    network: the server could not be reached, timed out, or is not Backendless
  4    the token store failed, or an internal error (run again with --debug)

the app comes from the options or from BACKENDLESS_APP_ID and BACKENDLESS_API_KEY (with
BACKENDLESS_SERVER_URL), or BACKENDLESS_DOMAIN. A session survives between runs only when the
login is given --stay. Typical use in a script:

  backendless-auth valid || exit 1
  curl -H "user-token: $(backendless-auth token)" ...
"""


class _Failure(Exception):
    """A command's own refusal: print ``message`` and exit with ``status``."""

    def __init__(self, message: str, status: int, *, kind: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.kind = kind or ("UsageError" if status == EXIT_USAGE else "Rejected")


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors honour ``--json``."""

    json_errors = False
    secret_values: tuple[str, ...] = ()

    def error(self, message: str) -> NoReturn:
        message = _hide_quoted_values(_mask_values(message, _Parser.secret_values))
        if self.json_errors:
            _print_json_error(sys.stderr, "UsageError", message, None, EXIT_USAGE)
            raise SystemExit(EXIT_USAGE)
        super().error(message)


def _common_options(*, top: bool) -> _Parser:
    # The options are accepted before and after the command. Sub-command copies default to
    # SUPPRESS so that they never overwrite a value given before the command.
    def default(value: Any) -> Any:
        return value if top else argparse.SUPPRESS

    parser = _Parser(add_help=False)
    app = parser.add_argument_group("app (default: the BACKENDLESS_* environment variables)")
    app.add_argument("--app-id", metavar="ID", default=default(None), help="application id")
    app.add_argument(
        "--api-key",
        metavar="KEY",
        default=default(None),
        help="REST API key (prefer BACKENDLESS_API_KEY: the command line is visible in ps)",
    )
    app.add_argument(
        "--domain", metavar="URL", default=default(None), help="app domain, instead of the two"
    )
    app.add_argument(
        "--server-url",
        metavar="URL",
        default=default(None),
        help="API host for --app-id (e.g. https://eu-api.backendless.com)",
    )
    app.add_argument(
        "--timeout", metavar="SECONDS", type=float, default=default(None), help="request timeout"
    )
    out = parser.add_argument_group("output and session")
    out.add_argument(
        "--store",
        choices=STORE_CHOICES,
        default=default(None),
        help=f"where sessions are kept (default: ${ENV_STORE} or auto; memory lasts one command)",
    )
    out.add_argument(
        "--store-path",
        metavar="DIR",
        default=default(None),
        help=f"the file store's folder (default: ${ENV_STORE_PATH} or the user data folder)",
    )
    out.add_argument(
        "--json", action="store_true", default=default(False), help="machine-readable output"
    )
    out.add_argument(
        "--debug",
        action="store_true",
        default=default(False),
        help="show tracebacks and the SDK's (redacted) log",
    )
    return parser


class _Unused:
    """Takes a command's options and defaults and keeps nothing: a command that is not in the
    arguments cannot be chosen, and building its options would cost every start (each copies
    the common ones), ``token`` and ``valid`` in shell loops included."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: self


def _build_parser(arguments: Sequence[str] | None = None) -> _Parser:
    """The whole parser; with ``arguments``, the options only of the commands named in them
    (every command is still listed, with its help, in ``--help`` and its errors)."""
    named = None if arguments is None else set(arguments)
    top = _common_options(top=True)
    sub_common = _common_options(top=False)
    parser = _Parser(
        prog=_PROG,
        description="Social, OAuth and guest logins for Backendless from the command line.",
        parents=[top],
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, help_text: str, *, common: bool = True) -> Any:
        if named is not None and name not in named:
            commands.add_parser(name, help=help_text, add_help=False)
            return _Unused()
        return commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            parents=[sub_common] if common else [],
            add_help=common,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    login = command(
        "login",
        "log in with a provider (in a browser, or with its access token), or with a password",
    )
    login.add_argument(
        "provider",
        metavar="PROVIDER",
        nargs="?",
        help="provider code, e.g. google, twitter (none with --email or --identity)",
    )
    _password_login_options(login)
    how = login.add_mutually_exclusive_group()
    how.add_argument(
        "--browser", action="store_true", help="sign in in a browser (loopback redirect)"
    )
    how.add_argument(
        "--access-token",
        metavar="TOKEN",
        help=f"the provider's access token; '-' reads it from stdin (default: ${ENV_ACCESS_TOKEN})",
    )
    login.add_argument(
        "--access-token-secret",
        metavar="SECRET",
        help="OAuth1 (twitter) token secret; '-' reads it from stdin "
        f"(default: ${ENV_ACCESS_TOKEN_SECRET})",
    )
    login.add_argument("--scope", metavar="SCOPE", help="permissions, passed as given")
    login.add_argument(
        "--map",
        metavar="PROVIDER_FIELD=COLUMN",
        action="append",
        default=[],
        help="store a provider field in a Users column (repeatable)",
    )
    login.add_argument("--stay", action="store_true", help="keep the session for later commands")
    login.add_argument(
        "--no-open", action="store_true", help="print the sign-in URL instead of opening it"
    )
    login.add_argument(
        "--paste",
        action="store_true",
        help="with --browser: also accept the address the browser ended on, pasted on stdin "
        "(for a browser on another machine; offered at a terminal without --paste)",
    )
    login.add_argument(
        "--upgrade-guest",
        action="store_true",
        help="turn the current guest session into this user (same objectId)",
    )
    login.add_argument(
        "--wait",
        metavar="SECONDS",
        type=float,
        default=None,
        help="with --browser: how long to wait for the sign-in",
    )
    login.set_defaults(handler=_cmd_login)

    guest = command("guest", "log in as a new anonymous guest user")
    guest.add_argument("--stay", action="store_true", help="keep the session for later commands")
    guest.set_defaults(handler=_cmd_guest)

    command("whoami", "show the logged-in user (loaded from the server)").set_defaults(
        handler=_cmd_whoami
    )
    token = command("token", "print the session's user token, and nothing else")
    token.add_argument(
        "--check", action="store_true", help="ask the server first; exit 1 if it is not valid"
    )
    token.set_defaults(handler=_cmd_token)
    command("valid", "exit 0 when the session is valid, 1 when not").set_defaults(
        handler=_cmd_valid
    )
    command("logout", "end the session on the server and forget it here").set_defaults(
        handler=_cmd_logout
    )
    url = command("url", "print the authorization URL that starts a browser login")
    url.add_argument("provider", metavar="PROVIDER", help="provider code, e.g. google")
    url.add_argument("--scope", metavar="SCOPE", help="permissions, passed as given")
    url.add_argument(
        "--map", metavar="PROVIDER_FIELD=COLUMN", action="append", default=[], help="repeatable"
    )
    url.add_argument(
        "--redirect", metavar="URL", help="where Backendless sends the browser after the login"
    )
    url.set_defaults(handler=_cmd_url)

    _account_commands(command)

    command(
        "emulator", "run the local Backendless emulator (see: emulator --help)", common=False
    ).set_defaults(handler=None, delegate="emulator")
    command(
        "demo", "walk every login flow against an in-process emulator", common=False
    ).set_defaults(handler=None, delegate="demo")
    return parser


# --- output ------------------------------------------------------------------------------------


def _print_json_error(
    stream: TextIO, kind: str, message: str, code: int | None, status: int
) -> None:
    error: dict[str, Any] = {"type": kind, "message": message, "exitStatus": status}
    if code is not None:
        error["code"] = code
    stream.write(json.dumps({"error": error}, sort_keys=True) + "\n")


def _user_columns(user: BackendlessUser) -> dict[str, Any]:
    """The user as JSON-ready columns, without its session token."""
    columns = {key: value for key, value in user.to_wire().items() if key != "user-token"}
    columns.pop("___class", None)
    return columns


def _emit_user(args: argparse.Namespace, user: BackendlessUser, *, stored: bool | None) -> None:
    if args.json:
        document: dict[str, Any] = {"user": _user_columns(user)}
        if stored is not None:
            document["stored"] = stored
        _out(json.dumps(document, sort_keys=True, default=str))
        return
    rows = [
        ("objectId", user.object_id),
        ("email", user.email),
        ("name", user.name),
        ("userStatus", user.user_status),
        ("socialAccount", user.social_account),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        if value is not None:
            _out(f"{label:<{width}}  {value}")
    if stored is True:
        _out(f"{'session':<{width}}  kept for later commands")
    elif stored is False:
        _out(f"{'session':<{width}}  not kept (add --stay to keep it)")


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _note(args: argparse.Namespace, line: str) -> None:
    """Progress for people: on stderr, so that stdout stays clean for the result."""
    if not args.json:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


# --- the app -----------------------------------------------------------------------------------


def _make_store(kind: str, path: str | None) -> TokenStore:
    # The file and memory stores come from their own modules: ``token`` in a shell loop
    # should not pay for the keyring's.
    if kind == "memory":
        from ._stores_memory import MemoryTokenStore

        return MemoryTokenStore()
    if kind == "file":
        from ._stores_file import FileTokenStore

        return FileTokenStore(path)
    from . import stores

    if kind == "keyring":
        return stores.KeyringTokenStore()
    return stores.default_token_store(path=path)


def _app_parts(args: argparse.Namespace) -> tuple[dict[str, Any], TokenStore]:
    """The app's keyword arguments and its token store, from the options and the environment."""
    from ._config import settings_from_env
    from .exceptions import ConfigurationError

    kind = args.store or os.environ.get(ENV_STORE) or "auto"
    if kind not in STORE_CHOICES:
        raise ConfigurationError(
            f"${ENV_STORE} must be one of {', '.join(STORE_CHOICES)}, not {kind!r}",
            argument="store",
        )
    flags = {
        "app_id": args.app_id,
        "api_key": args.api_key,
        "domain": args.domain,
        "server_url": args.server_url,
    }
    given = {name: value for name, value in flags.items() if value is not None}
    # The options complete (or replace) what the variables say; a domain set beside an app id
    # in the environment alone is refused by the variables' own checks, which name them.
    settings: dict[str, str] = settings_from_env(
        complete=not given and bool(os.environ.get("BACKENDLESS_DOMAIN"))
    )
    # A form named on the command line replaces the other form found in the environment.
    if "domain" in given:
        settings = {}
    elif given.keys() & {"app_id", "api_key", "server_url"}:
        settings.pop("domain", None)
    settings.update(given)
    if not settings.keys() & {"app_id", "api_key", "domain"}:
        raise _Failure(
            "no app given: pass --app-id and --api-key (from the Backendless console), or "
            "--domain, or set BACKENDLESS_APP_ID and BACKENDLESS_API_KEY, or BACKENDLESS_DOMAIN",
            EXIT_USAGE,
        )
    if "domain" not in settings:
        for name, option, variable in (
            ("app_id", "--app-id", "BACKENDLESS_APP_ID"),
            ("api_key", "--api-key", "BACKENDLESS_API_KEY"),
        ):
            if name not in settings:
                raise _Failure(
                    f"the app id and the API key go together: {option} or ${variable} is "
                    "missing (both are in the Backendless console: Backend, Overview)",
                    EXIT_USAGE,
                )
    options: dict[str, Any] = dict(settings)
    if args.timeout is not None:
        options["timeout"] = args.timeout
    path = args.store_path or os.environ.get(ENV_STORE_PATH) or None
    return options, _make_store(kind, path)


def _make_app(args: argparse.Namespace) -> Backendless:
    from . import Backendless

    options, store = _app_parts(args)
    return Backendless(token_store=store, **options)


def _stored_token(args: argparse.Namespace) -> str | None:
    """The kept session's token, read from the store alone: no app, no HTTP client.

    ``token`` runs in shell loops (``$(backendless-auth token)``); building the app would
    import requests for nothing. The namespace and the store are the app's own, so this is
    the token ``Backendless(...).users.user_token`` gives.
    """
    from ._config import AppConfig

    options, store = _app_parts(args)
    config = AppConfig.create(
        app_id=options.get("app_id"),
        api_key=options.get("api_key"),
        domain=options.get("domain"),
        server_url=options.get("server_url"),
        allow_insecure_http=False,
    )
    if "timeout" in options:
        from ._config import Timeout

        Timeout.coerce(options["timeout"])  # refused here as the app would refuse it
    stored = store.load(config.namespace)
    return stored.user_token if stored is not None else None


# --- commands ----------------------------------------------------------------------------------


def _fields_mapping(pairs: Sequence[str]) -> dict[str, str] | None:
    mapping: dict[str, str] = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise _Failure(f"--map wants PROVIDER_FIELD=COLUMN, got {pair!r}", EXIT_USAGE)
        mapping[field.strip()] = column.strip()
    return mapping or None


def _secret_from(value: str | None, variable: str, option: str, stdin_lines: list[str]) -> str:
    """An option's secret: given, '-' for the next line of stdin, else from ``variable``."""
    if value == "-":
        if not stdin_lines:
            stdin_lines.extend(sys.stdin.read().splitlines())
        if not stdin_lines:
            raise _Failure(f"{option} -: nothing on stdin", EXIT_USAGE)
        value = stdin_lines.pop(0).strip()
    elif value is None:
        value = os.environ.get(variable)
    if not value:
        raise _Failure(f"{option} is empty", EXIT_USAGE)
    return value


def _current_guest(app: Backendless) -> BackendlessUser:
    from .exceptions import SessionExpiredError

    had_session = app.users.user_token is not None
    try:
        user = app.users.get_current_user()
    except SessionExpiredError:
        user = None
    if user is None:
        why = "the guest session has expired" if had_session else "nobody is logged in"
        raise _Failure(
            f"--upgrade-guest: {why} (start one with 'backendless-auth guest --stay')",
            EXIT_REJECTED,
        )
    if not user.is_guest:
        raise _Failure(
            f"--upgrade-guest: the current user is not a guest ({user.user_status})",
            EXIT_USAGE,
        )
    return user


def _cmd_login(args: argparse.Namespace, app: Backendless) -> int:
    if args.email is not None or args.identity is not None or args.provider is None:
        return _password_login(args, app)
    if args.password_stdin:
        raise _Failure("--password-stdin goes with --email or --identity", EXIT_USAGE)
    mapping = _fields_mapping(args.map)
    if args.browser:
        return _browser_login(args, app, mapping)
    if args.no_open or args.wait is not None or args.paste:
        raise _Failure("--no-open, --paste and --wait go with --browser", EXIT_USAGE)
    if args.scope is not None:
        raise _Failure("--scope goes with --browser (an access token has its scope)", EXIT_USAGE)
    if args.access_token is None and ENV_ACCESS_TOKEN not in os.environ:
        raise _Failure(
            "login needs --browser, --access-token TOKEN (or '-' for stdin) "
            f"or ${ENV_ACCESS_TOKEN}",
            EXIT_USAGE,
        )
    oauth1 = args.access_token_secret is not None or args.provider.lower() == "twitter"
    if oauth1 and args.access_token_secret is None and ENV_ACCESS_TOKEN_SECRET not in os.environ:
        raise _Failure(
            f"twitter is OAuth1: give --access-token-secret too (or ${ENV_ACCESS_TOKEN_SECRET})",
            EXIT_USAGE,
        )
    stdin_lines: list[str] = []
    token = _secret_from(args.access_token, ENV_ACCESS_TOKEN, "--access-token", stdin_lines)
    secret = None
    if oauth1:
        secret = _secret_from(
            args.access_token_secret, ENV_ACCESS_TOKEN_SECRET, "--access-token-secret", stdin_lines
        )
    from ._redact import REDACTOR

    REDACTOR.add(token, secret)
    _probe_store(args, app)
    guest = _current_guest(app) if args.upgrade_guest else None
    if secret is None:
        user = app.users.login_with_oauth2(
            args.provider,
            token,
            guest_user=guest,
            fields_mapping=mapping,
            stay_logged_in=args.stay,
        )
    else:
        user = app.users.login_with_oauth1(
            args.provider,
            token,
            secret,
            guest_user=guest,
            fields_mapping=mapping,
            stay_logged_in=args.stay,
        )
    _emit_user(args, user, stored=args.stay)
    return EXIT_OK


def _browser_login(
    args: argparse.Namespace, app: Backendless, mapping: dict[str, str] | None
) -> int:
    if args.access_token is not None or args.access_token_secret is not None:
        raise _Failure("--browser does not take an access token", EXIT_USAGE)
    if args.upgrade_guest:
        raise _Failure(
            "--upgrade-guest goes with --access-token: the browser login cannot carry a guest",
            EXIT_USAGE,
        )
    _probe_store(args, app)
    interactive = _stdin_is_a_tty()
    presented = _Presented()

    def present(url: str) -> bool:
        # Everything for the person goes to stderr, so that stdout holds only the result.
        from .browser import _can_open_browser

        opened = False
        if not args.no_open and _can_open_browser():
            import webbrowser

            try:
                opened = webbrowser.open(url, new=2)
            except webbrowser.Error:
                opened = False
        if opened:
            sys.stderr.write(f"Opened the {args.provider} sign-in page in your browser.\n")
        else:
            # The browser may be on another machine: show the authorization URL, not the
            # loopback start URL (the SDK then accepts the redirect on its state alone).
            sys.stderr.write(f"Open this URL in a browser to sign in with {args.provider}:\n")
            sys.stderr.write(f"{getattr(url, 'authorization_url', url)}\n")
        paste = args.paste or (interactive and not opened)
        if paste and interactive:
            sys.stderr.write(
                "Waiting for the sign-in to finish (Ctrl+C to stop). If the browser ends on a "
                "page that does not load\n(it runs on another machine), copy that page's "
                "address and paste it here.\n"
            )
        elif paste:
            sys.stderr.write("Waiting for the sign-in, or the redirected address on stdin...\n")
        else:
            sys.stderr.write("Waiting for the sign-in to finish (Ctrl+C to stop)...\n")
        sys.stderr.flush()
        presented.set(paste=paste)
        return opened

    options: dict[str, Any] = {}
    if args.wait is not None:
        options["timeout"] = args.wait

    def through_the_browser() -> BackendlessUser:
        return app.users.login_with_browser(
            args.provider,
            fields_mapping=mapping,
            scope=args.scope,
            stay_logged_in=args.stay,
            opener=present,
            **options,
        )

    if not args.paste and not interactive:
        user = through_the_browser()
    else:
        user = _browser_or_paste(args, app, through_the_browser, presented, interactive)
    _emit_user(args, user, stored=args.stay)
    return EXIT_OK


def _stdin_is_a_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError, OSError):
        return False


class _Presented:
    """Set once the sign-in URL has been shown; says whether a pasted address is read."""

    def __init__(self) -> None:
        import threading

        self.event = threading.Event()
        self.paste = False

    def set(self, *, paste: bool) -> None:
        self.paste = paste
        self.event.set()


def _browser_or_paste(
    args: argparse.Namespace,
    app: Backendless,
    through_the_browser: Any,
    presented: _Presented,
    interactive: bool,
) -> BackendlessUser:
    """Whichever comes first: the loopback redirect, or the redirected address pasted on stdin.

    The loopback flow runs in a worker thread; this (main) thread reads stdin, so that Ctrl+C
    stops the command at once. A pasted address is finished with ``complete_browser_login``.
    """
    import queue
    import threading

    outcome: queue.Queue[tuple[BackendlessUser | None, BaseException | None]] = queue.Queue()

    def worker() -> None:
        try:
            outcome.put((through_the_browser(), None))
        except BaseException as exc:  # handed to the main thread, raised there
            outcome.put((None, exc))
        finally:
            presented.event.set()

    threading.Thread(target=worker, name="backendless-auth-browser-login", daemon=True).start()
    presented.event.wait()
    reading = presented.paste
    while True:
        if reading:
            line = _read_line(outcome)
            if line is None:  # end of input
                if args.paste and not interactive:
                    raise _Failure(
                        "--paste: nothing on stdin (give the address the browser ended on)",
                        EXIT_USAGE,
                    )
                reading = False
                continue
            if line == "":  # the loopback flow finished first
                reading = False
                continue
            try:
                return app.users.complete_browser_login(line, stay_logged_in=args.stay)
            except Exception as exc:
                from .exceptions import InvalidArgumentError

                if interactive and isinstance(exc, InvalidArgumentError):
                    sys.stderr.write(f"That is not the address: {exc}. Paste it again:\n")
                    sys.stderr.flush()
                    continue
                raise
        user, error = outcome.get()
        if error is not None:
            raise error
        assert user is not None
        return user


def _read_line(outcome: Any) -> str | None:
    """The next non-blank line of stdin; ``""`` once ``outcome`` holds a result; ``None`` at EOF.

    Polls with ``select`` where stdin supports it, so that a browser login finished through
    the loopback ends the wait for a paste.
    """
    import select

    while True:
        if not outcome.empty():
            return ""
        try:
            ready, _, _ = select.select([sys.stdin], [], [], 0.2)
        except (OSError, ValueError, TypeError):
            ready = [sys.stdin]  # no select on this stream (Windows): block on the read
        if not ready:
            continue
        line = sys.stdin.readline()
        if not line:
            return None
        if line.strip():
            return line.strip()


def _probe_store(args: argparse.Namespace, app: Backendless) -> None:
    """With ``--stay``: prove the token store can save before anything is sent.

    Otherwise a login would succeed on the server (a guest created, a session opened) and then
    fail to be kept: a session nobody can use again.

    Raises:
        TokenStoreError: The store cannot save here.
    """
    if not getattr(args, "stay", False):
        return
    from .exceptions import TokenStoreError
    from .stores import FileTokenStore, KeyringTokenStore

    store: object = app.users.token_store
    store = getattr(store, "store", store)  # an AutoTokenStore wraps the store it chose
    if isinstance(store, KeyringTokenStore):
        store.check()
    elif isinstance(store, FileTokenStore):
        import tempfile

        try:
            store.path.mkdir(mode=0o700, parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=store.path, prefix=".probe-"):
                pass
        except OSError as exc:
            raise TokenStoreError(
                f"the file store cannot save in {store.path}: {exc.strerror or exc}; "
                "choose another folder with --store-path or $BACKENDLESS_TOKEN_STORE_PATH"
            ) from None


def _cmd_guest(args: argparse.Namespace, app: Backendless) -> int:
    _probe_store(args, app)
    user = app.users.login_as_guest(stay_logged_in=args.stay)
    _emit_user(args, user, stored=args.stay)
    return EXIT_OK


def _not_logged_in(*, expired: bool = False) -> _Failure:
    if expired:
        return _Failure(
            "the session has expired or was ended on the server: log in again the way you did, "
            "with --stay (e.g. 'backendless-auth login PROVIDER --browser --stay')",
            EXIT_REJECTED,
            kind="SessionExpired",
        )
    return _Failure(
        "not logged in: log in with --stay first ('backendless-auth login PROVIDER --browser "
        "--stay', or 'backendless-auth guest --stay' for an anonymous guest)",
        EXIT_REJECTED,
        kind="NotLoggedIn",
    )


def _store_description(app: Backendless) -> tuple[str, str | None]:
    """Which store holds the session, and its folder for the file store."""
    store: object = app.users.token_store
    store = getattr(store, "store", store)  # an AutoTokenStore wraps the store it chose
    kinds = {
        "FileTokenStore": "file",
        "KeyringTokenStore": "keyring",
        "MemoryTokenStore": "memory",
    }
    kind = kinds.get(type(store).__name__, type(store).__name__)
    path = getattr(store, "path", None)
    return kind, (str(path) if path is not None else None)


def _cmd_whoami(args: argparse.Namespace, app: Backendless) -> int:
    from .exceptions import SessionExpiredError

    had_session = app.users.user_token is not None
    try:
        user = app.users.get_current_user()
    except SessionExpiredError:
        user = None
    if user is None:
        raise _not_logged_in(expired=had_session)
    kind, path = _store_description(app)
    if args.json:
        document = {"user": _user_columns(user), "store": {"kind": kind, "path": path}}
        _out(json.dumps(document, sort_keys=True, default=str))
        return EXIT_OK
    _emit_user(args, user, stored=None)
    _out(f"{'store':<13}  {kind}" + (f" ({path})" if path else ""))
    return EXIT_OK


def _cmd_token(args: argparse.Namespace, app: Backendless) -> int:
    if args.check and not app.users.is_valid_login():
        raise _Failure("the session is not valid any more: log in again", EXIT_REJECTED)
    token = app.users.user_token
    if token is None:
        raise _not_logged_in()
    _out(json.dumps({"userToken": token}) if args.json else token)
    return EXIT_OK


def _cmd_token_offline(args: argparse.Namespace) -> int:
    token = _stored_token(args)
    if token is None:
        raise _not_logged_in()
    _out(json.dumps({"userToken": token}) if args.json else token)
    return EXIT_OK


def _cmd_valid(args: argparse.Namespace, app: Backendless) -> int:
    known = app.users.user_token is not None
    valid = known and app.users.is_valid_login()
    if args.json:
        _out(json.dumps({"valid": valid, "loggedIn": known}))
    elif valid:
        _out("valid")
    else:
        _out("not valid" if known else "not logged in")
    return EXIT_OK if valid else EXIT_REJECTED


def _cmd_logout(args: argparse.Namespace, app: Backendless) -> int:
    known = app.users.user_token is not None
    app.users.logout()
    if args.json:
        _out(json.dumps({"loggedOut": known}))
    else:
        _out("logged out" if known else "nobody was logged in")
    return EXIT_OK


def _cmd_url(args: argparse.Namespace, app: Backendless) -> int:
    url = app.users.get_authorization_url(
        args.provider,
        fields_mapping=_fields_mapping(args.map),
        scope=args.scope,
        redirect_after_login_url=args.redirect,
    )
    _out(json.dumps({"url": url}) if args.json else url)
    return EXIT_OK


# --- accounts with passwords: register, login --email, password-reset, confirm-email, roles,
# update ------------------------------------------------------------------------------------------

ENV_PASSWORD = "BACKENDLESS_PASSWORD"


def _password_login_options(login: argparse.ArgumentParser) -> None:
    who = login.add_mutually_exclusive_group()
    who.add_argument("--email", metavar="EMAIL", help="log in with this email and a password")
    who.add_argument(
        "--identity",
        metavar="VALUE",
        help="log in with the identity column's value (when it is not email) and a password",
    )
    login.add_argument(
        "--password-stdin",
        action="store_true",
        help=f"read the password from the first line of stdin (default: ${ENV_PASSWORD}, "
        "else a prompt)",
    )


def _account_commands(command: Any) -> None:
    register = command("register", "register a user with a password (it is not logged in)")
    register.add_argument("--email", metavar="EMAIL", required=True, help="the user's email")
    _prop_option(register)
    register.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    register.set_defaults(handler=_cmd_register)

    reset = command("password-reset", "email the user a link to set a new password")
    reset.add_argument("email", metavar="EMAIL", help="the account's email (its identity)")
    reset.set_defaults(handler=_cmd_password_reset)

    confirm = command("confirm-email", "send the email that confirms the address again")
    confirm.add_argument("identity", metavar="IDENTITY", help="the account's email (identity)")
    confirm.set_defaults(handler=_cmd_confirm_email)

    roles = command("roles", "list the roles of the logged-in user, or of USER_ID")
    roles.add_argument("user_id", metavar="USER_ID", nargs="?", help="another user's objectId")
    roles.set_defaults(handler=_cmd_roles)

    update = command("update", "change columns of the logged-in user")
    _prop_option(update, required=True)
    update.set_defaults(handler=_cmd_update)


def _prop_option(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    parser.add_argument(
        "--prop",
        metavar="COLUMN=VALUE",
        action="append",
        default=[],
        required=required,
        help="a Users column (repeatable); VALUE is JSON when it parses (37, true, null), "
        "else text",
    )


def _props(pairs: Sequence[str]) -> dict[str, Any]:
    columns: dict[str, Any] = {}
    for pair in pairs:
        column, sep, raw = pair.partition("=")
        column = column.strip()
        if not sep or not column:
            raise _Failure(f"--prop wants COLUMN=VALUE, got {pair!r}", EXIT_USAGE)
        if column.lower() == "password":
            # The command line is visible to every local user (ps, /proc): never a password.
            raise _Failure(
                "--prop password=... would put the password on the command line: give it at "
                f"the prompt, with --password-stdin or in ${ENV_PASSWORD}",
                EXIT_USAGE,
            )
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        columns[column] = value
    return columns


def _read_password(args: argparse.Namespace, *, confirm: bool) -> str:
    """The password: stdin with ``--password-stdin``, else the variable, else a prompt."""
    if args.password_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        password = password[:-1] if password.endswith("\r") else password
        if not password:
            raise _Failure("--password-stdin: no password on stdin", EXIT_USAGE)
        return password
    from_env = os.environ.get(ENV_PASSWORD)
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        raise _Failure(
            f"no password: give --password-stdin, set ${ENV_PASSWORD}, or run in a terminal "
            "to be asked",
            EXIT_USAGE,
        )
    import getpass

    password = getpass.getpass("Password: ")
    if confirm and getpass.getpass("Password again: ") != password:
        raise _Failure("the two passwords differ", EXIT_USAGE)
    if not password:
        raise _Failure("the password is empty", EXIT_USAGE)
    return password


def _password_login(args: argparse.Namespace, app: Backendless) -> int:
    identity = args.email if args.email is not None else args.identity
    if identity is None:
        raise _Failure(
            "login needs a PROVIDER (google, twitter, ...) or --email/--identity", EXIT_USAGE
        )
    if args.provider is not None:
        raise _Failure("--email and --identity log in with a password, not a provider", EXIT_USAGE)
    provider_only = {
        "--browser": args.browser,
        "--access-token": args.access_token is not None,
        "--access-token-secret": args.access_token_secret is not None,
        "--scope": args.scope is not None,
        "--map": bool(args.map),
        "--no-open": args.no_open,
        "--upgrade-guest": args.upgrade_guest,
        "--wait": args.wait is not None,
    }
    given = [option for option, present in provider_only.items() if present]
    if given:
        raise _Failure(f"{', '.join(given)} go with a provider login", EXIT_USAGE)
    password = _read_password(args, confirm=False)
    user = app.users.login(identity, password, stay_logged_in=args.stay)
    _emit_user(args, user, stored=args.stay)
    return EXIT_OK


def _cmd_register(args: argparse.Namespace, app: Backendless) -> int:
    columns = _props(args.prop)
    columns["email"] = args.email
    columns["password"] = _read_password(args, confirm=True)
    user = app.users.register(columns)
    _emit_user(args, user, stored=None)
    if user.user_status == "EMAIL_CONFIRMATION_PENDING":
        _note(args, "Check the mailbox: the address must be confirmed before the first login.")
    return EXIT_OK


def _cmd_password_reset(args: argparse.Namespace, app: Backendless) -> int:
    app.users.restore_password(args.email)
    return _sent(args, "a password reset email", args.email)


def _cmd_confirm_email(args: argparse.Namespace, app: Backendless) -> int:
    app.users.resend_email_confirmation(args.identity)
    return _sent(args, "a confirmation email", args.identity)


def _sent(args: argparse.Namespace, what: str, to: str) -> int:
    _out(json.dumps({"sent": True, "to": to}) if args.json else f"{what} is on its way to {to}")
    return EXIT_OK


def _cmd_roles(args: argparse.Namespace, app: Backendless) -> int:
    roles = app.users.get_user_roles(args.user_id)
    if args.json:
        _out(json.dumps({"roles": roles}))
    else:
        for role in roles:
            _out(role)
    return EXIT_OK


def _cmd_update(args: argparse.Namespace, app: Backendless) -> int:
    columns = _props(args.prop)
    user = app.users.get_current_user()
    if user is None:
        raise _not_logged_in()
    saved = app.users.update({**columns, "objectId": user.object_id})
    _emit_user(args, saved, stored=None)
    return EXIT_OK


# --- end of accounts ---------------------------------------------------------------------------


# --- errors ------------------------------------------------------------------------------------


def _status_for(exc: BaseException) -> int:
    from .exceptions import (
        ApiError,
        InvalidArgumentError,
        LoginFlowError,
        NotLoggedInError,
        TokenStoreError,
        TransportError,
        UnexpectedResponseError,
    )

    if isinstance(exc, InvalidArgumentError):
        return EXIT_USAGE
    if isinstance(exc, (TransportError, UnexpectedResponseError)):
        return EXIT_NETWORK
    if isinstance(exc, (ApiError, LoginFlowError, NotLoggedInError)):
        return EXIT_REJECTED
    if isinstance(exc, TokenStoreError):
        return EXIT_LOCAL
    return EXIT_LOCAL


def _report(args: argparse.Namespace, exc: BaseException, status: int) -> None:
    from ._redact import REDACTOR

    if isinstance(exc, _Failure):
        kind, message, code = exc.kind, exc.message, None
    else:
        kind = type(exc).__name__
        message = str(exc) or kind
        raw_code = getattr(exc, "code", None)
        code = raw_code if isinstance(raw_code, int) else None
        if status == EXIT_LOCAL and not _is_ours(exc):
            message = f"internal error: {kind}: {message} (run again with --debug)"
    message = " ".join(REDACTOR.redact(_mask_values(message, _Parser.secret_values)).split())
    if args.debug and not isinstance(exc, _Failure):
        import traceback

        # The whole chain (causes and contexts), every line through the redactor: an error
        # deep in the chain may quote a token (a keyring value, a request body).
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        sys.stderr.write(REDACTOR.redact(_mask_values(text, _Parser.secret_values)))
    if args.json:
        _print_json_error(sys.stderr, kind, message, code, status)
    else:
        label = "" if isinstance(exc, _Failure) else f"{kind}: "
        sys.stderr.write(f"{_PROG}: error: {label}{message}\n")
    sys.stderr.flush()


def _is_ours(exc: BaseException) -> bool:
    from .exceptions import BackendlessError

    return isinstance(exc, BackendlessError)


def _setup_logging() -> None:
    import logging

    from ._redact import REDACTOR

    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(REDACTOR)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    for name in ("backendless_auth", "urllib3"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    REDACTOR.install()


def _delegate(name: str, argv: Sequence[str]) -> int:
    if name == "demo":
        from .demo import main as demo_main

        return demo_main(list(argv))
    try:
        from .emulator import main as emulator_main
    except ImportError as exc:
        sys.stderr.write(
            f"{_PROG}: error: the emulator is not installed ({exc}); "
            "install it with: python -m pip install 'backendless-auth[emulator]'\n"
        )
        return EXIT_USAGE
    status = emulator_main(list(argv), prog=f"{_PROG} emulator")
    return int(status or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: The arguments, without the program name; ``sys.argv[1:]`` by default.

    Returns:
        The exit status (see :data:`EXIT_STATUSES`).
    """
    try:
        return _main(argv)
    except BrokenPipeError:
        # The reader went away (``| head``): say nothing more, and keep Python from
        # complaining about the flush at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_REJECTED


_SECRET_OPTIONS = ("--access-token", "--access-token-secret")
# Options whose value is a secret; argparse also accepts any unambiguous prefix of them.
_SECRET_VALUED = ("--access-token", "--access-token-secret", "--api-key")
_HIDDEN = "•••"


def _may_name_a_secret_option(option: str) -> bool:
    """Whether argparse could read ``option`` (a prefix, maybe ambiguous) as a secret option."""
    return len(option) > 2 and any(name.startswith(option) for name in _SECRET_VALUED)


def _secret_values(arguments: Sequence[str]) -> tuple[str, ...]:
    """The values of the secret options in ``arguments``, in any spelling argparse accepts."""
    found: list[str] = []
    for index, argument in enumerate(arguments):
        if argument == "--":
            break
        option, sep, value = argument.partition("=")
        if not option.startswith("--") or not _may_name_a_secret_option(option):
            continue
        if sep:
            found.append(value)
        elif index + 1 < len(arguments):
            found.append(arguments[index + 1])
    return tuple(value for value in found if value and value != "-")


def _mask_values(message: str, values: Sequence[str]) -> str:
    """``message`` with each of ``values`` hidden where argparse quoted an argument."""
    import re

    for value in sorted(set(values), key=len, reverse=True):
        message = re.sub(
            r"(?<![^\s'\"=:,\[(])" + re.escape(value) + r"(?![^\s'\",\])])", _HIDDEN, message
        )
    return message


def _hide_quoted_values(message: str) -> str:
    """Hide the value argparse quotes in "invalid choice: 'X'" or "invalid float value: 'X'".

    A short lowercase word is shown (a typo of a command or store name helps to see); anything
    else may be a token typed in the wrong place.
    """
    import re

    def hide(match: re.Match[str]) -> str:
        value = match.group(2)
        if re.fullmatch(r"[a-z][a-z-]{0,15}", value):
            return match.group(0)
        return f"{match.group(1)}'{_HIDDEN}'"

    return re.sub(r"(invalid (?:[\w ]+ )?(?:choice|value): )'((?:[^'\\]|\\.)*)'", hide, message)


def _shown(extra: Sequence[str]) -> str:
    """Unrecognized arguments as a usage error shows them: option names, never their values.

    A stray value may be a secret put in the wrong place (``url google --access-token X``, or a
    token given as a positional argument).
    """
    shown = []
    hidden = 0
    for argument in extra:
        if argument.startswith("-") and argument != "-":
            option, sep, _ = argument.partition("=")
            shown.append(option + ("=" + _HIDDEN if sep else ""))
        else:
            hidden += 1
    if hidden:
        words = f"{hidden} value{'s' if hidden > 1 else ''} (not shown)"
        shown.append(f"and {words}" if shown else words)
    return " ".join(shown)


def _join_secret_values(arguments: list[str]) -> list[str]:
    """Glue a secret option to its value, so that a token starting with '-' is not an option.

    Provider tokens are often URL-safe base64, which may start with '-'; argparse would read
    ``--access-token -Xy…`` as a missing value followed by an unknown option.
    """
    joined: list[str] = []
    index = 0
    while index < len(arguments):
        argument = arguments[index]
        if argument in _SECRET_OPTIONS and index + 1 < len(arguments):
            joined.append(f"{argument}={arguments[index + 1]}")
            index += 2
            continue
        joined.append(argument)
        index += 1
    return joined


def _main(argv: Sequence[str] | None) -> int:
    arguments = _join_secret_values(list(sys.argv[1:] if argv is None else argv))
    parser = _build_parser(arguments)
    _Parser.json_errors = "--json" in arguments
    _Parser.secret_values = _secret_values(arguments)
    args, extra = parser.parse_known_args(arguments)
    if args.version:
        from . import __version__

        _out(__version__)
        return EXIT_OK
    if args.command is None:
        parser.print_usage(sys.stderr)
        sys.stderr.write(f"{_PROG}: error: a command is required (see --help)\n")
        return EXIT_USAGE
    delegate = getattr(args, "delegate", None)
    if delegate is not None:
        # Everything after the command belongs to it, options that look like ours included.
        rest = arguments[arguments.index(args.command) + 1 :]
        try:
            return _delegate(delegate, rest)
        except KeyboardInterrupt:
            sys.stderr.write(f"{_PROG}: interrupted\n")
            return EXIT_INTERRUPTED
    if extra:
        parser.error(f"unrecognized arguments: {_shown(extra)}")
    if args.debug:
        _setup_logging()
    try:
        if args.handler is _cmd_token and not args.check:
            return _cmd_token_offline(args)
        app = _make_app(args)
        with app:
            status: int = args.handler(args, app)
            return status
    except KeyboardInterrupt:
        sys.stderr.write(f"{_PROG}: interrupted\n")
        return EXIT_INTERRUPTED
    except _Failure as exc:
        _report(args, exc, exc.status)
        return exc.status
    except Exception as exc:
        status = _status_for(exc)
        _report(args, exc, status)
        return status


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
