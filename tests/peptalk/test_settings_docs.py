"""Every setting is documented, with its variable name and its default as the code has it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from peptalk.settings import Settings
from tests.helpers import ROOT

ROW = re.compile(r"^\|\s*`(PEPTALK_[A-Z0-9_]+)`\s*\|\s*(.*?)\s*\|\s*(.*?)\s*\|\s*$")
LITERAL = re.compile(r"^`([^`]*)`$")


def _documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _rows() -> list[tuple[str, str, str, str]]:
    """(variable, default cell, description, where) for every settings-table row of the docs."""
    rows = []
    for path in _documents():
        if not path.is_file():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if match := ROW.match(line):
                rows.append((match[1], match[2], match[3], f"{path.relative_to(ROOT)}:{number}"))
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


def test_every_setting_has_a_row() -> None:
    documented = {name for name, *_ in _rows()}
    missing = sorted(f"PEPTALK_{field.upper()}" for field in Settings.model_fields
                     if f"PEPTALK_{field.upper()}" not in documented)
    assert missing == [], f"settings without a row in README.md or docs/*.md: {missing}"


def test_every_row_names_a_setting_and_describes_it() -> None:
    fields = {f"PEPTALK_{field.upper()}" for field in Settings.model_fields}
    unknown = [(name, where) for name, _, _, where in _rows() if name not in fields]
    assert unknown == [], f"rows for variables that are not settings: {unknown}"
    assert [(name, where) for name, _, description, where in _rows() if len(description) < 8] == []


def test_every_documented_default_is_the_code_default() -> None:
    wrong = []
    for name, cell, _, where in _rows():
        field = Settings.model_fields[name.removeprefix("PEPTALK_").lower()]
        code = _rendered(field.get_default(call_default_factory=True))
        literal = LITERAL.match(cell)
        if code is None:
            continue  # computed at use (the docs say from what, in words or as a pattern)
        if literal is None or not _same(literal[1], code):
            wrong.append(f"{where}: {name} documents {cell!r}, the code default is `{code}`")
    assert wrong == []


def test_the_check_sees_a_wrong_default() -> None:
    assert not _same("0.5", "0.7") and _same("2", "2.0") and _rendered(["a", "b"]) == "a,b"
    assert _rendered(False) == "false" and _rendered(None) is None
