"""One convention for every package's surface (`__init__.py`), checked here rather than kept in sync by hand.

`__all__` names the package's public names: every name its `__init__` imports eagerly from the package's own
modules (light ones only) or defines, then
`*_EXPORTS`, the names loaded on first use by `peptalk.lazy.lazy_exports` (name -> the module defining it), each
also imported under `if TYPE_CHECKING:` from that same module, for type checkers. Every name in `__all__` resolves.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from tests.helpers import ROOT

PACKAGES = sorted(path.parent for root in ("peptalk", "router", "evaluation", "loadtest")
                  for path in (ROOT / root).rglob("__init__.py") if "migrations" not in path.parts)
SCRIPTS = {"peptalk.cli"}  # the command line's `__init__` builds its Typer app: not a library surface


def _name(package: Path) -> str:
    return ".".join(package.relative_to(ROOT).parts)


def _surface(tree: ast.Module) -> tuple[dict[str, str], dict[str, str], dict[str, str], list[str] | None, bool]:
    """(eager imports, TYPE_CHECKING imports, _EXPORTS, the literal part of __all__, whether it adds *_EXPORTS)."""
    eager: dict[str, str] = {}
    typing_only: dict[str, str] = {}
    exports: dict[str, str] = {}
    listed: list[str] | None = None
    spreads = False
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module != "__future__":
            eager.update({alias.asname or alias.name: node.module for alias in node.names})
        elif isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for inner in node.body:
                if isinstance(inner, ast.ImportFrom) and inner.module:
                    typing_only.update({alias.asname or alias.name: inner.module for alias in inner.names})
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            target = node.targets[0].id
            if target == "_EXPORTS" and isinstance(node.value, ast.Dict):
                exports = {ast.literal_eval(key): ast.literal_eval(value)  # type: ignore[arg-type]
                           for key, value in zip(node.value.keys, node.value.values, strict=True)}
            elif target == "__all__" and isinstance(node.value, ast.List | ast.Tuple):
                listed = [ast.literal_eval(item) for item in node.value.elts if not isinstance(item, ast.Starred)]
                spreads = any(isinstance(item, ast.Starred) for item in node.value.elts)
    return eager, typing_only, exports, listed, spreads


@pytest.mark.parametrize("package", [package for package in PACKAGES if _name(package) not in SCRIPTS], ids=_name)
def test_the_package_surface_follows_the_one_convention(package: Path) -> None:
    name = _name(package)
    tree = ast.parse((package / "__init__.py").read_text())
    eager, typing_only, exports, listed, spreads = _surface(tree)
    internal = {"TYPE_CHECKING", "lazy_exports", "annotations"}
    if listed is None:  # a package with no surface of its own: it must import nothing to re-export either
        assert {key for key in eager if key not in internal} == set() and not exports, f"{name} needs an __all__"
        return
    assert spreads == bool(exports), f"{name}: __all__ ends with *_EXPORTS exactly when there are lazy exports"
    assert len(listed) == len(set(listed)) and set(listed).isdisjoint(exports), f"{name}: a name listed twice"
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.ClassDef)}
    defined |= {target.id for node in tree.body if isinstance(node, ast.Assign) for target in node.targets
                if isinstance(target, ast.Name)}
    defined |= {node.target.id for node in tree.body if isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)}
    assert set(listed) <= set(eager) | defined, f"{name}: __all__ names what its __init__ neither imports nor defines"
    own = {key for key, module in eager.items() if module.startswith(name + ".") and key not in internal}
    assert own <= set(listed), f"{name}: imported from its own modules, not in __all__: {sorted(own - set(listed))}"
    assert typing_only == exports, f"{name}: each lazy name is imported under TYPE_CHECKING from its _EXPORTS module"
    module = importlib.import_module(name)
    missing = [public for public in module.__all__ if not hasattr(module, public)]
    assert missing == [], f"{name} does not resolve {missing}"
