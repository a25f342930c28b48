"""Package surfaces that import a member's module on first use, so importing a package's settings stays light.

The one convention of every package's `__init__.py` (checked by tests/test_package_surfaces.py): `__all__` lists
the names it imports eagerly from its own modules (light ones) or defines, then `*_EXPORTS`, the names loaded on
first use (`_EXPORTS` maps each to its module; the same import sits under `if TYPE_CHECKING:` for type checkers),
with `__getattr__ = lazy_exports(__name__, _EXPORTS)`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` for `package`: `exports` maps each public name to the module that defines it."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    return __getattr__
