"""The layers hold: import contracts (import-linter), what importing the app loads, and mypy on every package."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tokenize
from pathlib import Path

from tests.helpers import ROOT

# Packages only the offline evaluation, the rating UI or the load tests need (the `eval`/`loadtest` extras).
NOT_SERVING = ("evaluation", "loadtest", "locust", "sacrebleu", "sklearn", "matplotlib", "pyarrow", "scipy.stats")


def _tool(name: str) -> str:
    """The console script `name` of this interpreter's environment."""
    path = Path(sys.executable).parent / name
    found = str(path) if path.exists() else shutil.which(name)
    assert found, f"{name} is not installed; `make test` installs it (the `test` extra)"
    return found


def _run(cmd: list[str], *, timeout_s: float = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout_s, check=False)


def test_import_contracts_hold() -> None:
    result = _run([_tool("lint-imports"), "--no-cache"])
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def _loaded_after(statement: str) -> set[str]:
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    result = _run([sys.executable, "-c", code], timeout_s=120)
    assert result.returncode == 0, result.stderr[-4000:]
    return set(json.loads(result.stdout.splitlines()[-1]))


def _offending(modules: set[str]) -> list[str]:
    return sorted(name for name in modules if any(name == bad or name.startswith(bad + ".") for bad in NOT_SERVING))


def test_importing_the_app_loads_no_evaluation_or_load_test_module() -> None:
    modules = _loaded_after("import langserve_app\nlangserve_app.create_app")
    assert "langserve_app" in modules and "peptalk.settings" in modules
    assert _offending(modules) == []


def test_building_the_app_loads_no_evaluation_or_load_test_module() -> None:
    modules = _loaded_after("from langserve_app import create_app\nfrom peptalk.settings import Settings\n"
                            "create_app(Settings(_env_file=None, cache_enabled=False))")
    assert "langserve" in modules
    assert _offending(modules) == []


def test_importing_the_router_loads_nothing_of_the_app() -> None:
    modules = _loaded_after("import router\nimport router.registry")
    assert "router.router" in modules
    assert sorted(name for name in modules if name.split(".")[0] in {"peptalk", "evaluation", "langserve_app"}) == []


# The upper layers' vocabulary: the router passes their options and facts on as typed extensions, never naming them.
UPPER_WORDS = ("cache", "rollout", "shadow")
UPPER_WIRE_KEYS = frozenset({"cache_hit", "similarity", "cache", "cache_evidence", "cache_miss_reason",
                             "shared_flight", "rollout"})
NOT_UPPER = frozenset({"lru_cache"})  # functools'


def upper_vocabulary(source: str) -> list[str]:
    """The names and string literals in `source` (comments and docstrings aside) that belong to upper layers."""
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        named = token.type == tokenize.NAME and token.string not in NOT_UPPER and any(
            word in token.string.lower() for word in UPPER_WORDS)
        keyed = token.type == tokenize.STRING and token.string.strip("\"'") in UPPER_WIRE_KEYS
        if named or keyed:
            found.append(token.string)
    return found


def test_the_router_names_no_cache_rollout_or_shadow_vocabulary() -> None:
    named = {str(path.relative_to(ROOT)): words for path in sorted((ROOT / "router").rglob("*.py"))
             if (words := upper_vocabulary(path.read_text()))}
    assert named == {}


def test_the_vocabulary_check_finds_names_and_wire_keys_but_not_prose() -> None:
    source = ('"""Docstring: the cache and the rollout."""\n# a cache comment\nfrom functools import lru_cache\n'
              'class CallOptions:\n    cache: CacheMode = "use"\n\nfacts = {"cache_hit": True, "model": "m"}\n')
    assert upper_vocabulary(source) == ["cache", "CacheMode", '"cache_hit"']


def test_mypy_is_clean_on_every_package() -> None:
    result = _run([sys.executable, "-m", "mypy", "--no-error-summary", "peptalk", "router", "evaluation"],
                  timeout_s=900)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]


def _contracts() -> list[dict[str, object]]:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return list(config["tool"]["importlinter"]["contracts"])


def _serving_modules() -> set[str]:
    """Every module and package directly under peptalk/ but the CLI (the serving code)."""
    found = {f"peptalk.{path.stem}" for path in (ROOT / "peptalk").glob("*.py") if path.stem != "__init__"}
    found |= {f"peptalk.{path.parent.name}" for path in (ROOT / "peptalk").glob("*/__init__.py")}
    return found - {"peptalk.cli"}


def test_every_peptalk_module_has_its_place_in_the_layers_and_the_cli_contract() -> None:
    """A new package or module must be given a layer (and is covered by "serving never imports the CLI")."""
    contracts = _contracts()
    layers = next(contract for contract in contracts if contract["type"] == "layers")
    layered = {name.strip() for layer in layers["layers"]  # type: ignore[attr-defined]
               for name in str(layer).replace("|", ":").split(":")}
    no_cli = next(contract for contract in contracts
                  if str(contract["name"]).startswith("serving never imports the CLI"))
    assert sorted(_serving_modules() - layered) == []
    assert sorted(_serving_modules() ^ set(no_cli["source_modules"])) == []  # type: ignore[arg-type, call-overload]
