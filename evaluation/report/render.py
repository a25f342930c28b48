"""Writes the report's files: per-section CSVs, and the HTML page with its Markdown twin from Jinja2 templates."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any

from evaluation.cost import money

DATA_DIR = "data"
FIGURES_DIR = "figures"


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float):
        return round(value, 6)
    return value


def write_csv(out_dir: Path, name: str, rows: list[dict[str, Any]]) -> str | None:
    """`data/<name>.csv` with the union of the rows' keys as columns; the relative link, or None when empty."""
    if not rows:
        return None
    columns: list[str] = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    path = out_dir / DATA_DIR / f"{name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({key: _plain(row.get(key)) for key in columns})
    return f"{DATA_DIR}/{name}.csv"


def fmt_number(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    number = float(value)
    if abs(number) < 1e-12:  # float noise in a spread that is really zero
        number = 0.0
    if number != 0 and abs(number) < 10 ** -digits:
        return f"{number:.{digits}g}"
    return f"{number:,.{digits}f}"


def fmt_money(value: Any) -> str:
    if value is None:
        return "–"
    return money(value if isinstance(value, Decimal) else Decimal(str(value)), 4)


def fmt_factor(value: Any) -> str:
    return "–" if value is None else f"{float(value):,.1f}x"


def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(loader=PackageLoader("evaluation.report", "templates"),
                      autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=False),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(num=fmt_number, money=fmt_money, factor=fmt_factor)
    return env


def render_pages(out_dir: Path, context: dict[str, Any]) -> tuple[Path, Path]:
    """`index.html` and `report.md` in `out_dir`."""
    env = _environment()
    html = out_dir / "index.html"
    markdown = out_dir / "report.md"
    html.write_text(env.get_template("report.html.j2").render(**context), encoding="utf-8")
    markdown.write_text(env.get_template("report.md.j2").render(**context), encoding="utf-8")
    return html, markdown
