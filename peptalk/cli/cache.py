"""`peptalk cache audit`: what the online audit of semantic hits logged (both requests, cached and fresh answer)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import typer

from peptalk.cli.shadow import DB_HELP, parse_since

if TYPE_CHECKING:
    from peptalk.cache.audit import AuditCase

app = typer.Typer(name="cache", help="The semantic cache: the audit log of semantic hits.", no_args_is_help=True)
SINCE_HELP = "Only cases logged at or after this: an ISO date or time (2026-11-01, 2026-11-01T08:00Z) or 7d, 24h, 30m."


def _changes(case: AuditCase) -> str:
    return "; ".join(f"{item['list']}: {item['stored']!r} -> {item['new']!r} ({item['similarity']:.2f})"
                     for item in case.evidence.get("changed_items", [])) or "-"


def _short(text: str | None, width: int = 60) -> str:
    if text is None:
        return "-"
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


@app.command()
def audit(since: str | None = typer.Option(None, help=SINCE_HELP),
          limit: int = typer.Option(20, min=0, help="How many of the latest cases to list (0: the summary only)."),
          as_json: bool = typer.Option(False, "--json", help="Print every case as one JSON object per line instead."),
          database_url: str | None = typer.Option(None, help=DB_HELP)) -> None:
    """Summarise the audited semantic hits: how many, how similar, how often the fresh answer failed, the latest."""
    from rich.console import Console
    from rich.table import Table

    from peptalk.cache.audit import AuditLog
    from peptalk.cache.sql_store import SqlCacheStore
    from peptalk.settings import get_settings

    start = parse_since(since)
    url = database_url or get_settings().resolved_database_url()
    try:
        store = SqlCacheStore.from_url(url)
        store.migrate()
        cases = list(AuditLog(store.engine).read(since=start.timestamp() if start else None))
    except Exception as exc:  # a wrong URL or an unreachable server: say so, no traceback
        typer.echo(f"error: cannot read the cache audit log at {url}: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(1) from exc
    store.close()
    if as_json:
        for case in cases:
            typer.echo(json.dumps(vars(case), default=str))
        return
    console = Console(width=None if sys.stdout.isatty() else 200)
    errors = sum(case.error is not None for case in cases)
    same = sum(case.fresh_text is not None and case.fresh_text.strip() == case.cached_text.strip() for case in cases)
    window = f" since {start.isoformat()}" if start else ""
    console.print(f"{len(cases)} audited semantic hits{window}: {errors} could not be regenerated, "
                  f"{same} fresh answers identical to the cached one")
    if cases:
        similarities = sorted(case.similarity for case in cases)
        console.print(f"similarity of the changed items: min {similarities[0]:.3f}, "
                      f"median {similarities[len(similarities) // 2]:.3f}")
        by_list: dict[str, int] = {}
        for case in cases:
            for item in case.evidence.get("changed_items", []):
                by_list[item["list"]] = by_list.get(item["list"], 0) + 1
        console.print("changed items by list: " + ", ".join(f"{name} {count}" for name, count in sorted(by_list.items())))
    if not cases or limit == 0:
        return
    table = Table("id", "scope", "similarity", "changed items", "cached answer", "fresh answer")
    for case in cases[:limit]:
        table.add_row(str(case.id), case.scope, f"{case.similarity:.3f}", _changes(case), _short(case.cached_text),
                      _short(case.error or case.fresh_text))
    console.print(table)


__all__ = ["app"]
