"""`peptalk shadow stats|export|prune`: read, export and trim the shadow comparison log."""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from peptalk.shadow import SqlShadowStore

app = typer.Typer(name="shadow", help="The shadow comparison log: stats, export for evaluation/, retention.",
                  no_args_is_help=True)

_RELATIVE = re.compile(r"^(\d+)\s*([dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}

SINCE_HELP = "Only pairs created at or after this: an ISO date or time (2026-11-01, 2026-11-01T08:00Z) or 7d, 24h, 30m."
DB_HELP = "SQLAlchemy URL of the log (default: PEPTALK_DATABASE_URL, or the SQLite file in PEPTALK_DATA_DIR)."


def parse_since(text: str | None, *, now: dt.datetime | None = None) -> dt.datetime | None:
    """`--since` as an aware UTC time; `typer.BadParameter` (exit 2) when it is neither ISO nor relative."""
    if text is None:
        return None
    text = text.strip()
    relative = _RELATIVE.match(text)
    if relative:
        now = now or dt.datetime.now(dt.timezone.utc)
        return now - dt.timedelta(**{_UNITS[relative.group(2)]: int(relative.group(1))})
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an ISO date/time or a span like 7d, 24h, 30m",
                                 param_hint="--since") from None
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment.astimezone(dt.timezone.utc)


def _open_store(database_url: str | None) -> SqlShadowStore:
    from peptalk.settings import get_settings
    from peptalk.shadow import SqlShadowStore

    url = database_url or get_settings().resolved_database_url()
    try:
        store = SqlShadowStore.from_url(url)
        store.migrate()
    except Exception as exc:  # a wrong URL or an unreachable server: say so, no traceback
        typer.echo(f"error: cannot open the shadow log at {url}: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(1) from exc
    return store


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{1000 * value:.0f}"


@app.command()
def stats(since: str | None = typer.Option(None, help=SINCE_HELP),
          database_url: str | None = typer.Option(None, help=DB_HELP)) -> None:
    """Pairs per model, error rates and latency percentiles (milliseconds)."""
    from rich.console import Console
    from rich.table import Table

    start = parse_since(since)
    store = _open_store(database_url)
    try:
        pairs = store.count(since=start)
        entries = store.stats(since=start)
    finally:
        store.close()
    console = Console(width=None if sys.stdout.isatty() else 200)  # piped output keeps whole model names
    window = f" since {start.isoformat()}" if start else ""
    console.print(f"{pairs} shadow pairs{window}")
    if not entries:
        return
    table = Table("role", "model", "calls", "errors", "error rate", "p50 ms", "p95 ms", "p99 ms", "TTFT p50 ms",
                  "mean out tokens")
    for entry in entries:
        tokens = "-" if entry.mean_output_tokens is None else f"{entry.mean_output_tokens:.1f}"
        table.add_row(entry.role, entry.model, str(entry.calls), str(entry.errors), f"{entry.error_rate:.1%}",
                      _ms(entry.latency_p50_s), _ms(entry.latency_p95_s), _ms(entry.latency_p99_s),
                      _ms(entry.ttft_p50_s), tokens)
    console.print(table)


@app.command()
def export(
    output: Path | None = typer.Option(None, "--output", "-o", help="File to write (default shadow-export.<format>)."),
    export_format: str | None = typer.Option(None, "--format", help="jsonl, csv or parquet (default: from --output)."),
    since: str | None = typer.Option(None, help=SINCE_HELP),
    database_url: str | None = typer.Option(None, help=DB_HELP),
) -> None:
    """Write the pairs as ShadowExportRow records, the file evaluation/ reads (load_shadow_export)."""
    from rich.progress import Progress

    from evaluation.shadow_export import EXPORT_FORMATS, ShadowExportError, format_of, write_shadow_export

    if export_format is not None and export_format not in EXPORT_FORMATS:
        raise typer.BadParameter(f"{export_format!r}; use one of {', '.join(EXPORT_FORMATS)}", param_hint="--format")
    if output is None:
        output = Path(f"shadow-export.{export_format or 'jsonl'}")
    try:
        suffix_format = format_of(output)
    except ShadowExportError as exc:
        raise typer.BadParameter(str(exc), param_hint="--output") from None
    if export_format is not None and export_format != suffix_format:
        raise typer.BadParameter(f"{output} ends in .{suffix_format} but --format is {export_format}; "
                                 "the loader reads the format from the suffix", param_hint="--output")
    start = parse_since(since)
    store = _open_store(database_url)
    try:
        total = store.count(since=start)
        with Progress(transient=True) as progress:
            task = progress.add_task("exporting", total=total)
            written = write_shadow_export(store.read(since=start), output, suffix_format,
                                          on_row=lambda: progress.advance(task))
    finally:
        store.close()
    typer.echo(f"wrote {written} pairs to {output}")


@app.command()
def prune(older_than_days: int | None = typer.Option(
              None, min=1, help="Delete pairs older than this many days (default PEPTALK_SHADOW_RETENTION_DAYS)."),
          database_url: str | None = typer.Option(None, help=DB_HELP)) -> None:
    """Delete pairs older than the retention period (the app also does this on a schedule)."""
    from peptalk.settings import get_settings

    days = older_than_days or get_settings().shadow_retention_days
    if not days:
        typer.echo("error: retention is off (PEPTALK_SHADOW_RETENTION_DAYS=0); pass --older-than-days N", err=True)
        raise typer.Exit(2)
    cutoff = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days)
    store = _open_store(database_url)
    try:
        removed = store.prune(cutoff)
    finally:
        store.close()
    typer.echo(f"deleted {removed} pairs older than {days} days (before {cutoff.isoformat(timespec='seconds')})")
