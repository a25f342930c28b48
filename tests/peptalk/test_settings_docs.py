"""Every setting of every package is documented, with its variable name, its default as the code has it, and the
settings class that owns it."""

from __future__ import annotations

import importlib
import inspect
import re
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from evaluation.settings import EvalSettings
from peptalk.settings import Settings
from tests.helpers import ROOT

ROW = re.compile(r"^\|\s*`(PEPTALK_[A-Z0-9_]+)`\s*\|\s*(.*?)\s*\|\s*(.*?)\s*\|\s*$")
LITERAL = re.compile(r"^`([^`]*)`$")
OWNER = re.compile(r"^Defined by `(\w+)` in ")
PACKAGES = ("router", "peptalk", "evaluation")


@cache
def settings_classes() -> tuple[type[BaseSettings], ...]:
    """Every `BaseSettings` class defined in a `settings.py` module of the packages (found, not listed)."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("settings.py")):
            module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
            found += [value for value in vars(module).values() if inspect.isclass(value)
                      and issubclass(value, BaseSettings) and value.__module__ == module.__name__]
    return tuple(found)


def owners() -> dict[str, type[BaseSettings]]:
    """Each field's name, mapped to the one class that declares it."""
    owned: dict[str, type[BaseSettings]] = {}
    for settings_class in settings_classes():
        for name in inspect.get_annotations(settings_class):
            if name in settings_class.model_fields:
                assert name not in owned, f"{name} is declared by {owned[name].__name__} and {settings_class.__name__}"
                owned[name] = settings_class
    return owned


def fields() -> dict[str, FieldInfo]:
    """`PEPTALK_*` variable -> its field, over every settings class."""
    return {f"PEPTALK_{name.upper()}": owner.model_fields[name] for name, owner in owners().items()}


def _documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _rows(documents: list[Path] | None = None) -> list[tuple[str, str, str, str, str | None]]:
    """(variable, default cell, description, where, owner named above it) for every settings-table row."""
    rows = []
    for path in documents or _documents():
        if not path.is_file():
            continue
        owner = None
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.startswith("#"):
                owner = None
            elif named := OWNER.match(line):
                owner = named[1]
            elif match := ROW.match(line):
                where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                rows.append((match[1], match[2], match[3], f"{where}:{number}", owner))
    return rows


def _rendered(value: Any) -> str | None:
    """The code default as the docs write it, or None when it is computed at use (unset, empty)."""
    if value is None or value == [] or value == {}:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(str(item.get_secret_value() if isinstance(item, SecretStr) else item) for item in value)
    return str(value)


def _same(documented: str, code: str) -> bool:
    try:
        return float(documented) == float(code)
    except ValueError:
        return documented == code


def test_every_settings_class_is_found_and_read_by_the_one_composite() -> None:
    names = {settings_class.__name__ for settings_class in settings_classes()}
    assert {"RouterSettings", "RolloutSettings", "CacheSettings", "ShadowSettings", "SecuritySettings", "Settings",
            "EvalSettings"} <= names
    # Evaluation's settings extend the serving ones, which inherit every package's: one reading of the variables.
    assert [cls.__name__ for cls in settings_classes() if not issubclass(EvalSettings, cls)] == []
    assert set(owners()) == set(EvalSettings.model_fields)
    assert not set(Settings.model_fields) & {name for name, owner in owners().items() if owner is EvalSettings}


def test_every_setting_has_a_row() -> None:
    documented = {name for name, *_ in _rows()}
    missing = sorted(name for name in fields() if name not in documented)
    assert missing == [], f"settings without a row in README.md or docs/*.md: {missing}"


def _unknown(rows: list[tuple[str, str, str, str, str | None]]) -> list[tuple[str, str]]:
    known = fields()
    return [(name, where) for name, _, _, where, _ in rows if name not in known]


def _misplaced(rows: list[tuple[str, str, str, str, str | None]]) -> list[str]:
    owned = {f"PEPTALK_{name.upper()}": owner.__name__ for name, owner in owners().items()}
    return [f"{where}: {name} is under {owner}, but {owned[name]} defines it"
            for name, _, _, where, owner in rows if name in owned and owner != owned[name]]


def test_every_row_names_a_setting_and_describes_it() -> None:
    unknown = _unknown(_rows())
    assert unknown == [], f"rows for variables that are not settings: {unknown}"
    assert [(name, where) for name, _, description, where, _ in _rows() if len(description) < 8] == []


def test_every_row_of_the_settings_page_sits_under_the_class_that_owns_it() -> None:
    assert _misplaced(_rows([ROOT / "docs" / "settings.md"])) == []


def test_every_documented_default_is_the_code_default() -> None:
    wrong = []
    known = fields()
    for name, cell, _, where, _ in _rows():
        code = _rendered(known[name].get_default(call_default_factory=True))
        literal = LITERAL.match(cell)
        if code is None:
            continue  # computed at use (the docs say from what, in words or as a pattern)
        if literal is None or not _same(literal[1], code):
            wrong.append(f"{where}: {name} documents {cell!r}, the code default is `{code}`")
    assert wrong == []


def test_the_check_sees_a_wrong_default_a_stray_row_and_a_misplaced_row(tmp_path: Path) -> None:
    assert not _same("0.5", "0.7") and _same("2", "2.0") and _rendered(["a", "b"]) == "a,b"
    assert _rendered(False) == "false" and _rendered(None) is None
    page = tmp_path / "page.md"
    page.write_text("## Cache\n\nDefined by `ShadowSettings` in peptalk/shadow/settings.py.\n\n|---|---|---|\n"
                    "| `PEPTALK_CACHE_TTL_S` | `86400` | Lifetime of an entry. |\n"
                    "| `PEPTALK_NOT_A_SETTING` | none | Nothing at all here. |\n## Next\n"
                    "| `PEPTALK_CACHE_CAPACITY` | `1` | Most entries kept. |\n")
    rows = _rows([page])
    assert [(name, owner) for name, *_, owner in rows] == [
        ("PEPTALK_CACHE_TTL_S", "ShadowSettings"), ("PEPTALK_NOT_A_SETTING", "ShadowSettings"),
        ("PEPTALK_CACHE_CAPACITY", None)]
    assert [name for name, _ in _unknown(rows)] == ["PEPTALK_NOT_A_SETTING"]
    assert [line.split(": ")[1] for line in _misplaced(rows)] == [
        "PEPTALK_CACHE_TTL_S is under ShadowSettings, but CacheSettings defines it",
        "PEPTALK_CACHE_CAPACITY is under None, but CacheSettings defines it"]
