"""``python -m backendless_auth``: the ``backendless-auth`` command line."""

from __future__ import annotations

from .cli import main

raise SystemExit(main())
