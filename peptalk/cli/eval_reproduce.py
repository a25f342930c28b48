"""`peptalk eval reproduce`: the whole SLaM study in one command, with the paper's settings.

Generation (N prompts x M models x 10 repeats, the production prompt as Section III-A prints it), the `slam` judges
(all four kinds), the similarity metrics, agreement with human ratings when given, the probe runs already in the
database when asked, and the report with the paper's figure set. Every setting it used is written to `reproduce.json`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import typer

from peptalk.cli.eval import (
    ALL_JUDGES, ALL_METRICS, BOTTOM_K, CHOICES, HUMANS, JUDGE, ORDERS, SEED, _evaluate_and_write, _fail, _generate,
    _load_humans, _names, _settings,
)

STUDY_REPEATS = 10


def reproduce(
    out: Path = typer.Option(..., "--out", help="Folder for the dataset, calls, scores, agreement and report/."),
    models: str = typer.Option(..., "--models", help="Comma-separated `backend:model`s: the reference (GPT-4) and "
                                                     "the candidate SLMs."),
    reference: str | None = typer.Option(None, "--reference", help="Reference model (default "
                                                                   "PEPTALK_REPORT_REFERENCE_MODEL if listed, "
                                                                   "else the first of --models)."),
    prompts: int | None = typer.Option(None, "--prompts", help="The first N contexts (default: all)."),
    contexts: Path | None = typer.Option(None, "--contexts", help="Contexts JSONL (default data/contexts.jsonl)."),
    repeats: int = typer.Option(STUDY_REPEATS, "--repeats", help="Calls per prompt and model (the study: 10)."),
    judge: str | None = JUDGE,
    judges: str = typer.Option(ALL_JUDGES, "--judges", help="Judge kinds (default: all four of the study)."),
    metrics: str = typer.Option(ALL_METRICS, "--metrics", help="Similarity metrics; empty for none."),
    orders: int | None = ORDERS, seed: int = SEED, humans: Path | None = HUMANS, bottom_k: int | None = BOTTOM_K,
    selector_choices: int | None = CHOICES,
    probes: bool = typer.Option(False, "--probes", help="Also put the probe runs in the database into the report "
                                                        "(run `peptalk probe --duration 24h` first, as the study)."),
) -> None:
    """Run the SLaM study end to end with the paper's settings: slam prompt, slam judges, 10 repeats, report."""
    from evaluation.judging import JUDGE_KINDS
    from evaluation.metrics import METRICS

    kinds = _names(judges, known=JUDGE_KINDS, what="judge")
    names = _names(metrics, known=list(METRICS), what="metric")
    listed = [part.strip() for part in models.split(",") if part.strip()]
    if len(listed) < 2:
        raise _fail("--models needs the reference and at least one candidate")
    settings = _settings()
    chosen_reference = reference or (settings.report_reference_model if settings.report_reference_model in listed
                                     else listed[0])
    if humans is not None and not humans.exists():
        raise _fail(f"{humans}: no such file")
    ratings = _load_humans(humans)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    items = _generate(models=models, reference=chosen_reference, contexts=contexts, prompts=prompts, repeats=repeats,
                      keep_repeat=0, dataset_out=out / "dataset.jsonl", calls_out=out / "calls.jsonl",
                      template="slam")
    timings["generate_s"] = time.perf_counter() - started
    started = time.perf_counter()
    result = _evaluate_and_write(items, out=out, judge=judge, judges=kinds, metrics=names, humans=ratings,
                                 bottom_k=bottom_k, orders=orders, seed=seed, preset="slam",
                                 selector_choices=selector_choices)
    timings["evaluate_s"] = time.perf_counter() - started
    started = time.perf_counter()
    report = _report(out, humans=humans, reference=chosen_reference, probes=probes, bottom_k=bottom_k)
    timings["report_s"] = time.perf_counter() - started
    record = _settings_used(settings, items, listed, chosen_reference, repeats, kinds, names, result, timings,
                            report)
    (out / "reproduce.json").write_text(json.dumps(record, indent=2, default=str) + "\n", encoding="utf-8")
    typer.echo(f"reproduced: {report.html} ({len(report.figures)} figure(s)); settings in {out / 'reproduce.json'}")


def _report(out: Path, *, humans: Path | None, reference: str, probes: bool, bottom_k: int | None) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from evaluation.report import REPORT_STEPS, ReportOptions, ReportSources, build_report

    settings = _settings()
    sources = ReportSources(eval_dir=out, humans=humans, prices=settings.price_table,
                            probe_db=settings.resolved_database_url() if probes else None)
    options = ReportOptions(reference=reference, bottom_k=bottom_k or settings.eval_bottom_k,
                            selfhosted_usd_per_hour=settings.selfhosted_usd_per_hour,
                            utilisation=settings.selfhosted_utilisation,
                            output_cv_threshold=settings.output_cv_threshold,
                            min_scored=settings.report_min_scored_per_model,
                            max_unparsed_share=settings.report_max_unparsed_share)
    with Progress(TextColumn("report: {task.description}"), BarColumn(), MofNCompleteColumn()) as progress:
        task = progress.add_task("reading inputs", total=len(REPORT_STEPS))
        return build_report(sources, out / "report", options=options,
                            step=lambda name: progress.update(task, advance=1, description=name))


def _settings_used(settings: Any, items: list[Any], models: list[str], reference: str, repeats: int,
                   kinds: list[str], metrics: list[str], result: Any, timings: dict[str, float],
                   report: Any) -> dict[str, Any]:
    from evaluation.cost_presets import READINGS, SLAM
    from peptalk.prompt import get_template

    judge = result.summary.get("judge", {})
    return {
        "prompt_template": get_template("slam").version,
        "generation": {"prompts": len(items), "models": models, "reference": reference, "repeats": repeats,
                       "temperature": settings.temperature, "max_tokens": settings.max_tokens},
        "judges": {"kinds": kinds, **judge},
        "metrics": metrics,
        "agreement": result.summary.get("humans"),
        "cost_preset": {"instance": SLAM.node.instance, "usd_per_hour": str(SLAM.node.usd_per_hour),
                        "price_as_of": SLAM.node.as_of, "utilisation": str(SLAM.utilisation),
                        "api_per_1k_tokens": str(SLAM.api_per_1k_tokens)},
        "readings": [reading.__dict__ for reading in READINGS],
        "timings_s": timings,
        "report": str(report.html),
        "report_figures": sorted(report.figures),
    }
