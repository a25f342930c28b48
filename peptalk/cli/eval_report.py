"""`peptalk eval report`: one HTML page (and a Markdown twin) with the study's figures, tables and verdict."""

from __future__ import annotations

from pathlib import Path

import typer


def report(
    out: Path = typer.Option(..., "--out", help="Folder to write index.html, report.md, figures/ and data/ into."),
    eval_dir: Path | None = typer.Option(None, "--eval-dir", help="Output folder of `peptalk eval run` (scores.jsonl, "
                                                                  "agreement.jsonl, calls.jsonl)."),
    scores: Path | None = typer.Option(None, help="scores.jsonl (default: in --eval-dir)."),
    agreement: Path | None = typer.Option(None, help="agreement.jsonl (default: in --eval-dir)."),
    humans: Path | None = typer.Option(None, help="Human ratings, CSV or JSONL (prompt_id, model, rater, score)."),
    calls: list[Path] | None = typer.Option(None, "--calls", help="calls.jsonl of timed calls; repeat it."),
    shadow: list[Path] | None = typer.Option(
        None, "--shadow", help="A `peptalk shadow export` (JSONL, CSV or Parquet); repeat it."),
    probes: bool = typer.Option(False, "--probes", help="Read the probe runs from the database."),
    database_url: str | None = typer.Option(None, help="Database with the probe runs (default PEPTALK_DATABASE_URL)."),
    prices: Path | None = typer.Option(None, help="API price table YAML (default PEPTALK_PRICE_TABLE, or the shipped "
                                                  "December 2023 table)."),
    hosting: Path | None = typer.Option(None, help="YAML {backend:model: USD per hour} of self-hosted node prices."),
    reference: str | None = typer.Option(None, help="The API model to compare with (default "
                                                    "PEPTALK_REPORT_REFERENCE_MODEL)."),
    tolerance: float = typer.Option(0.1, min=0.0, max=1.0, help="Quality gap (0-1 scale) a candidate may have."),
    bottom_k: int | None = typer.Option(None, min=1, help="k of the bottom-k agreement computed when agreement.jsonl "
                                                          "is absent (default PEPTALK_EVAL_BOTTOM_K)."),
) -> None:
    """Builds the report from whatever inputs are given; a section without data says so."""
    from pydantic import ValidationError
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from evaluation.errors import PriceTableError
    from evaluation.report import REPORT_STEPS, ReportOptions, ReportSources, build_report
    from evaluation.settings import get_eval_settings

    try:
        settings = get_eval_settings()
    except ValidationError as exc:
        typer.echo(f"error: invalid configuration: {exc}", err=True)
        raise typer.Exit(2) from exc
    for path in [eval_dir, scores, agreement, humans, prices, hosting, *(calls or []), *(shadow or [])]:
        if path is not None and not path.exists():
            typer.echo(f"error: {path} does not exist", err=True)
            raise typer.Exit(2)
    sources = ReportSources(eval_dir=eval_dir, scores=scores, agreement=agreement, humans=humans,
                            calls=list(calls or []), shadow=list(shadow or []),
                            probe_db=(database_url or settings.resolved_database_url()) if probes else None,
                            prices=prices or settings.price_table, hosting=hosting)
    options = ReportOptions(reference=reference or settings.report_reference_model, tolerance=tolerance,
                            bottom_k=bottom_k or settings.eval_bottom_k, selfhosted_usd_per_hour=settings.selfhosted_usd_per_hour,
                            utilisation=settings.selfhosted_utilisation,
                            output_cv_threshold=settings.output_cv_threshold,
                            min_scored=settings.report_min_scored_per_model,
                            max_unparsed_share=settings.report_max_unparsed_share)
    with Progress(TextColumn("report: {task.description}"), BarColumn(), MofNCompleteColumn()) as progress:
        task = progress.add_task("reading inputs", total=len(REPORT_STEPS))
        try:
            result = build_report(sources, out, options=options,
                                  step=lambda name: progress.update(task, advance=1, description=name))
        except PriceTableError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
    typer.echo(f"report: {result.html} ({len(result.figures)} figure(s); markdown {result.markdown})")
    if result.empty_sections:
        typer.echo(f"sections without data: {', '.join(result.empty_sections)}")
