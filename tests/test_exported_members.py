"""``__all__`` tells the truth: sorted, complete, importable; the public API type-checks."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
import types
from pathlib import Path

import pytest

import backendless_auth
import backendless_auth.exceptions
import backendless_auth.stores

HERE = Path(__file__).parent


def public_names(module: types.ModuleType) -> set[str]:
    """Names a ``from module import *`` reader would see, submodules aside."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }


def isort_key(name: str) -> tuple[int, str]:
    """The order ruff's RUF022 keeps: CONSTANTS, then Classes, then functions."""
    if name.isupper():
        return (0, name)
    return (1 if name[:1].isupper() else 2, name)


def test_root_all_is_sorted_and_complete() -> None:
    exported = list(backendless_auth.__all__)
    for name in exported:  # names imported on first use join the namespace once asked for
        getattr(backendless_auth, name)

    assert exported == sorted(exported)
    assert len(exported) == len(set(exported))
    assert set(exported) - {"__version__"} == public_names(backendless_auth)


@pytest.mark.parametrize("module", [backendless_auth.exceptions, backendless_auth.stores])
def test_submodule_all_is_sorted_and_complete(module: types.ModuleType) -> None:
    exported = list(module.__all__)
    defined = {
        name
        for name in public_names(module)
        if (inspect.isclass(getattr(module, name)) or inspect.isfunction(getattr(module, name)))
        and getattr(module, name).__module__ == module.__name__
    }

    assert exported in (sorted(exported), sorted(exported, key=isort_key))
    assert len(exported) == len(set(exported))
    assert set(exported) <= public_names(module)
    assert defined <= set(exported)


def test_every_exported_name_is_importable() -> None:
    for name in backendless_auth.__all__:
        namespace: dict[str, object] = {}
        exec(f"from backendless_auth import {name}", namespace)
        assert namespace[name] == getattr(backendless_auth, name)


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from backendless_auth import *", namespace)

    assert set(namespace) - {"__builtins__"} == set(backendless_auth.__all__)


def test_exported_objects_claim_the_package() -> None:
    for name in backendless_auth.__all__:
        value = getattr(backendless_auth, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__.startswith("backendless_auth"), name


def test_dir_lists_every_exported_name_before_first_use() -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import backendless_auth as b; "
            "print(sorted(set(b.__all__) - set(dir(b))), 'requests' in __import__('sys').modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )

    assert completed.stdout.split() == ["[]", "False"]


def test_every_error_is_reexported_at_the_root() -> None:
    for name in backendless_auth.exceptions.__all__:
        value = getattr(backendless_auth.exceptions, name)
        if inspect.isclass(value):
            assert getattr(backendless_auth, name) is value


def test_version_is_the_installed_one() -> None:
    from importlib.metadata import version

    assert backendless_auth.__version__ == version("backendless-auth")
    with pytest.raises(AttributeError):
        backendless_auth.no_such_name  # type: ignore[attr-defined]  # noqa: B018


def test_import_is_quiet_and_fresh() -> None:
    """Importing the package in a new interpreter succeeds and writes nothing."""
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import backendless_auth, sys; print(len(backendless_auth.__all__))",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    assert int(completed.stdout) == len(backendless_auth.__all__)


def test_public_api_type_checks_under_mypy_strict() -> None:
    pytest.importorskip("mypy")
    typing_file = HERE / "typing_public_api.py"
    importlib.import_module("typing_extensions")
    completed = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", str(typing_file)],
        capture_output=True,
        text=True,
        check=False,
        cwd=HERE.parent,
        timeout=300,
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr
