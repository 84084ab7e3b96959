"""The client's language, for ``blUserLocale`` on registration (as the JS SDK sends it).

The JS SDK takes the browser's first preferred language and keeps its first two letters,
lower-cased (``navigator.languages[0]``: ``"en-GB"`` gives ``"en"``). A Python program has no
navigator; the person's language is in the environment, read as gettext reads it:
``LANGUAGE`` (a colon-separated list; its first entry), then ``LC_ALL``, ``LC_MESSAGES``,
``LANG``. The first set one decides; ``C`` and ``POSIX`` (no language chosen) give none, as
does anything that does not start with two letters. On Windows, where these are usually unset,
the user's default UI locale from :func:`locale.getlocale` is the fallback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


def client_locale(environ: Mapping[str, str] | None = None) -> str | None:
    """The two-letter language code of this process's user, or ``None`` when there is none."""
    env = os.environ if environ is None else environ
    for variable in _VARIABLES:
        value = env.get(variable, "")
        if variable == "LANGUAGE":
            value = value.split(":")[0]
        if value:
            return _language(value)
    if environ is None and sys.platform == "win32":  # pragma: no cover - Windows only
        import locale  # only here: a millisecond of every start elsewhere

        name = locale.getlocale()[0]
        return _language(name) if name else None
    return None


def _language(value: str) -> str | None:
    if value in ("C", "POSIX") or value.startswith(("C.", "POSIX.")):
        return None
    head = value[:2]
    if len(head) == 2 and head.isascii() and head.isalpha():
        return head.lower()
    return None
