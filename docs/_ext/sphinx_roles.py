"""A griffe extension: Sphinx roles in docstrings become mkdocstrings cross-references.

The docstrings are written for readers of the source and of ``help()``, with Sphinx roles
(``:class:`Timeout```, ``:meth:`close```, ``:attr:`~backendless_auth.StoredSession.user_token```).
Markdown has no such roles, so the site would show them raw. At build time, after the package
is loaded, every docstring's roles are rewritten into autorefs: a name is resolved the way
Sphinx's Python domain does it, against the object, then its parents up to the module (so
``:meth:`close``` in ``Backendless``'s docstring is ``Backendless.close``), then the package.
The reference is *optional*: a target that is not on the site (a private helper) renders as
plain code instead of failing the strict build.

Configured in ``mkdocs.yml`` (``handlers.python.options.extensions``); no docstring is edited.
"""

from __future__ import annotations

import html
import re
from typing import Any

import griffe

# :role:`target`, :role:`~target`, :role:`title <target>`, :py:role:`target`
ROLE = re.compile(
    r":(?:py:)?(?P<role>attr|meth|class|func|mod|data|exc|obj|const|type):"
    r"`(?P<body>[^`]+)`"
)
CALLABLE_ROLES = frozenset({"meth", "func"})


def _split(body: str) -> tuple[str | None, str]:
    """``(explicit title or None, target)`` of a role's body."""
    titled = re.fullmatch(r"(?P<title>.*\S)\s*<(?P<target>[^<>]+)>", body)
    if titled:
        return titled.group("title"), titled.group("target").strip()
    return None, body.strip()


def _lookup(package: griffe.Module, path: str) -> griffe.Object | griffe.Alias | None:
    """The object at the dotted ``path`` (absolute, from the package), or ``None``."""
    parts = path.split(".")
    if parts[0] != package.name:
        return None
    node: Any = package
    for part in parts[1:]:
        try:
            node = node.members[part]
        except (KeyError, griffe.AliasResolutionError, griffe.CyclicAliasError):
            return None
    return node  # type: ignore[no-any-return]


def _scopes(obj: griffe.Object) -> list[griffe.Object]:
    """The object, then each parent up to its module, then the package's top module."""
    chain: list[griffe.Object] = []
    node: Any = obj
    while node is not None:
        chain.append(node)
        node = node.parent
    return chain


def resolve(obj: griffe.Object, target: str, package: griffe.Module) -> str | None:
    """The full path of ``target`` as seen from ``obj``, or ``None`` when it names nothing."""
    target = target.lstrip("~").rstrip("()")
    if target.startswith("."):  # relative to the object's module's package (:mod:`.core`)
        module: Any = obj if obj.is_module else obj.module
        base = module.path if module.is_package else module.path.rpartition(".")[0]
        found = _lookup(package, f"{base}{target}")
        return _canonical(found) if found is not None else None
    head, _, rest = target.partition(".")
    for scope in _scopes(obj):
        members: Any = scope.members
        if head in members:
            found = _lookup(package, f"{scope.path}.{target}")
            if found is not None:
                return _canonical(found)
        if scope.is_class and head == scope.name and rest:
            found = _lookup(package, f"{scope.path}.{rest}")
            if found is not None:
                return _canonical(found)
    for candidate in (target, f"{package.name}.{target}"):
        found = _lookup(package, candidate)
        if found is not None:
            return _canonical(found)
    return None


def _canonical(found: griffe.Object | griffe.Alias) -> str:
    """The object's own path: for a name imported into a module, where it is defined (the
    site registers every rendered object under that path as well as its public one)."""
    if found.is_alias:
        try:
            return str(found.final_target.path)  # type: ignore[union-attr]
        except (griffe.AliasResolutionError, griffe.CyclicAliasError):
            return str(found.target_path)  # type: ignore[union-attr]
    return found.path


def rewrite(text: str, obj: griffe.Object, package: griffe.Module) -> str:
    """``text`` with each Sphinx role replaced by an optional autoref (or plain code)."""

    def replace(match: re.Match[str]) -> str:
        role = match.group("role")
        title, target = _split(match.group("body"))
        shown = title
        if shown is None:
            bare = target.rstrip("()")
            shown = bare.rsplit(".", 1)[-1] if target.startswith("~") else bare.lstrip(".")
            shown = shown.lstrip("~")
            if role in CALLABLE_ROLES:
                shown += "()"
        code = f"<code>{html.escape(shown)}</code>"
        path = resolve(obj, target, package)
        if path is None:
            return code
        return f'<autoref identifier="{html.escape(path)}" optional>{code}</autoref>'

    return ROLE.sub(replace, text)


class SphinxRoles(griffe.Extension):
    """Rewrite the Sphinx roles of every docstring in the loaded package."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        seen: set[int] = set()
        self._walk(pkg, pkg, seen)

    def _walk(self, obj: griffe.Object, package: griffe.Module, seen: set[int]) -> None:
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if obj.docstring is not None and ":" in obj.docstring.value:
            obj.docstring.value = rewrite(obj.docstring.value, obj, package)
        for member in list(obj.members.values()):
            if member.is_alias:
                continue
            self._walk(member, package, seen)  # type: ignore[arg-type]
