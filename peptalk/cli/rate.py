"""`peptalk rate serve|export|raters`: the human blind rating app, its export, and rater tokens."""

from __future__ import annotations

import secrets
from pathlib import Path

import typer

app = typer.Typer(help="Human blind rating of logged responses (0-10 scores or pairwise A/B).",
                  no_args_is_help=True)
raters_app = typer.Typer(help="Register raters and issue their sign-in tokens.", no_args_is_help=True)
app.add_typer(raters_app, name="raters")

MODES = ("score", "pairwise")
FORMATS = ("csv", "jsonl")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _settings():  # noqa: ANN202 - EvalSettings, imported lazily
    from pydantic import ValidationError

    from evaluation.settings import get_eval_settings

    try:
        return get_eval_settings()
    except ValidationError as exc:
        raise _fail(f"invalid configuration: {exc}") from exc


def _store():  # noqa: ANN202 - RatingStore, imported lazily
    from evaluation.rating.store import RatingStore
    from peptalk.db import make_engine

    store = RatingStore(make_engine(_settings().resolved_database_url()))
    store.migrate()
    return store


@app.command()
def serve(
    dataset: Path = typer.Argument(..., help="Dataset JSONL (DatasetItem) or shadow export JSONL (ShadowExportRow)."),
    mode: str | None = typer.Option(None, help="score or pairwise (default PEPTALK_RATING_MODE)."),
    raters_per_item: int | None = typer.Option(None, min=1, help="Default PEPTALK_RATING_RATERS_PER_ITEM."),
    items_per_rater: int | None = typer.Option(None, min=1, help="Default PEPTALK_RATING_ITEMS_PER_RATER."),
    host: str | None = typer.Option(None, help="Interface to bind (default PEPTALK_HOST)."),
    port: int | None = typer.Option(None, min=1, max=65535, help="Port to bind (default PEPTALK_RATING_PORT)."),
) -> None:
    """Serve the rating pages over DATASET; raters sign in at /signin, the admin reads /admin."""
    import uvicorn
    from pydantic import SecretStr

    from evaluation.rating import RatingDataError, build_units, create_rating_app, load_items

    settings = _settings()
    if mode is not None and mode not in MODES:
        raise _fail(f"--mode must be one of {', '.join(MODES)}, got {mode!r}")
    try:
        items = load_items(dataset)
    except RatingDataError as exc:
        raise _fail(str(exc)) from exc
    updates: dict[str, object] = {}
    if mode is not None:
        updates["rating_mode"] = mode
    if raters_per_item is not None:
        updates["rating_raters_per_item"] = raters_per_item
    if items_per_rater is not None:
        updates["rating_items_per_rater"] = items_per_rater
    admin_token = None
    if settings.rating_admin_token is None:
        admin_token = secrets.token_urlsafe(18)
        updates["rating_admin_token"] = SecretStr(admin_token)
    settings = settings.model_copy(update=updates)
    units = build_units(items, settings.rating_mode)
    if not units:
        raise _fail(f"{dataset} has no item with enough responses for {settings.rating_mode} mode")
    bind_host, bind_port = host or settings.host, port or settings.rating_port
    typer.echo(f"rating {len(units)} units from {len(items)} items in {settings.rating_mode} mode "
               f"at http://{bind_host}:{bind_port}/signin")
    if settings.rating_signin == "token" and not _store().raters():
        typer.echo("no raters yet: issue sign-in tokens with `peptalk rate raters add NAME ...`", err=True)
    if admin_token is not None:
        typer.echo(f"admin page: http://{bind_host}:{bind_port}/admin  (admin token for this run: {admin_token})")
    uvicorn.run(create_rating_app(settings, items), host=bind_host, port=bind_port)


@app.command()
def export(
    out: Path = typer.Argument(..., help="Where to write: .csv or .jsonl."),
    fmt: str | None = typer.Option(None, "--format", help="csv or jsonl (default: from the file's suffix)."),
) -> None:
    """Write every rating as rows (prompt_id, model, rater, score, comment, ..., criteria)."""
    from evaluation.rating.export import export_rows, write_export

    chosen = fmt or out.suffix.lstrip(".").lower()
    if chosen not in FORMATS:
        raise _fail(f"--format must be csv or jsonl (or OUT must end in .csv or .jsonl), got {chosen!r}")
    settings = _settings()
    rows = _store().score_rows()
    criteria = list(settings.rating_criteria)
    criteria += sorted({name for row in rows for name in row.criteria} - set(criteria))
    records = export_rows(rows, criteria)
    write_export(records, out, chosen, criteria)  # type: ignore[arg-type]
    typer.echo(f"wrote {len(records)} rows to {out}")


@raters_app.command("add")
def add_raters(names: list[str] = typer.Argument(..., help="Rater names; an existing name gets a new token.")) -> None:
    """Register raters and print each one's sign-in token (shown once; only a hash is stored)."""
    from evaluation.rating.auth import check_rater_name
    from evaluation.rating.errors import SignInError

    try:
        checked = [check_rater_name(name) for name in names]
    except SignInError as exc:
        raise _fail(str(exc)) from exc
    store = _store()
    for name in checked:
        typer.echo(f"{name}\t{store.issue_token(name)}")


@raters_app.command("list")
def list_raters() -> None:
    """List registered raters and whether each has a token."""
    for name, has_token in _store().raters():
        typer.echo(f"{name}\t{'token' if has_token else 'name sign-in'}")
