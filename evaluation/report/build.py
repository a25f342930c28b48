"""`build_report`: inputs -> numbers -> CSVs and figures -> one HTML page with a Markdown twin."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evaluation.cost import load_price_table
from evaluation.latency import METRIC_LABELS, latency_by_hour, latency_by_model, latency_rows
from evaluation.cost_presets import READINGS, SLAM
from evaluation.report import analysis, figures, paper_claims, paper_figures
from evaluation.report.inputs import HUMAN, ReportData, ReportSources, load_report_data
from evaluation.report.render import FIGURES_DIR, render_pages, write_csv
from evaluation.settings import eval_default

FIGURE_FILES = {
    "quality": "quality.png",  # Fig. 8
    "human_vs_scorer": "fig09_human_vs_scorer.png",
    "agreement": "agreement_jaccard.png",  # Fig. 10
    "protocol_latency": "fig11_protocol_latency.png",
    "protocol_per_token": "fig12_protocol_per_token.png",
    "protocol_output_tokens": "fig13_protocol_output_tokens.png",
    "reference_by_hour": "fig14_reference_by_hour.png",
    "latency_by_hour": "latency_by_hour.png",  # Fig. 15
    "slam_cost_per_1k": "fig16_cost_per_1k_slam.png",
    "slam_reduction": "fig17_reduction_slam.png",
    # Second views, labelled as such: length against latency, every call pooled, and the measured token mix.
    "length_latency": "length_latency.png",
    "latency_request": "latency_request.png",
    "latency_per_token": "latency_per_token.png",
    "output_tokens": "output_tokens.png",
    "cost_per_1k": "cost_per_1k_tokens.png",
    "cost_reduction": "cost_reduction.png",
}

LABELS = paper_figures.FIGURE_LABELS  # each reproduced figure is captioned `Fig. N: <the paper's caption>`


@dataclass(frozen=True, kw_only=True)
class ReportOptions:
    """How the report judges: the reference API model, the quality tolerance, node prices, thresholds."""

    reference: str = eval_default("report_reference_model")
    tolerance: float = analysis.DEFAULT_TOLERANCE
    bottom_k: int = eval_default("eval_bottom_k")
    selfhosted_usd_per_hour: float = eval_default("selfhosted_usd_per_hour")  # the study's g4dn.xlarge
    utilisation: float = eval_default("selfhosted_utilisation")
    output_cv_threshold: float = eval_default("output_cv_threshold")
    min_scored: int = eval_default("report_min_scored_per_model")  # no verdict below this many scored responses
    max_unparsed_share: float = eval_default("report_max_unparsed_share")  # ... or above this unparsable share


@dataclass
class ReportResult:
    """Where the report went and what it contains."""

    html: Path
    markdown: Path
    figures: dict[str, Path] = field(default_factory=dict)
    csvs: dict[str, Path] = field(default_factory=dict)
    empty_sections: list[str] = field(default_factory=list)


def _figure(out_dir: Path, key: str) -> Path:
    return out_dir / FIGURES_DIR / FIGURE_FILES[key]


def _section(data: ReportData, name: str, **values: Any) -> dict[str, Any]:
    return {"notes": data.notes.get(name, []), "sources": data.sources.get(name, []), "figures": [],
            "csv": {}, **values}


def _add_figure(section: dict[str, Any], out_dir: Path, path: Path | None, alt: str,
                result: ReportResult, key: str) -> None:
    if path is not None:
        section["figures"].append({"src": path.relative_to(out_dir).as_posix(), "alt": alt})
        result.figures[key] = path


def _add_csv(section: dict[str, Any], out_dir: Path, name: str, rows: list[dict[str, Any]],
             result: ReportResult) -> None:
    link = write_csv(out_dir, name, rows)
    if link is not None:
        section["csv"][name] = link
        result.csvs[name] = out_dir / link


def build_report(sources: ReportSources, out_dir: Path, *, options: ReportOptions | None = None,
                 step: Callable[[str], None] | None = None) -> ReportResult:
    """Builds the whole report into `out_dir`; `step(name)` is called as each part finishes (progress)."""
    options = options or ReportOptions()
    advance = step or (lambda _: None)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = ReportResult(out_dir / "index.html", out_dir / "report.md")

    data = load_report_data(sources)
    prices = load_price_table(sources.prices)
    advance("inputs")

    quality_rows = analysis.quality_rows(data.scores)
    quality = _section(data, "quality", rows=quality_rows, evaluators=data.evaluators)
    _add_figure(quality, out_dir, figures.quality_figure(data.scores, data.evaluators, _figure(out_dir, "quality")),
                LABELS["quality"], result, "quality")
    _add_csv(quality, out_dir, "quality", quality_rows, result)
    _add_csv(quality, out_dir, "scores", [{**score.__dict__, "normalised": score.normalised}
                                          for score in data.scores], result)
    advance("quality")

    scorer, fig9_rows = paper_figures.human_vs_scorer_means(data.scores)
    _add_figure(quality, out_dir, paper_figures.human_vs_scorer_figure(
                    fig9_rows, scorer, _figure(out_dir, "human_vs_scorer"),
                    paper_figures.scorer_samples(data.scores, scorer)),
                LABELS["human_vs_scorer"], result, "human_vs_scorer")
    _add_csv(quality, out_dir, "human_vs_scorer", fig9_rows, result)

    agreement_rows = analysis.agreement_rows(data, quality_rows, options.bottom_k, reference=options.reference)
    agreement = _section(data, "agreement", rows=sorted(agreement_rows, key=lambda row: -float(row["jaccard"])),
                         computed=not data.agreement and bool(agreement_rows))
    if not agreement_rows and not any(score.evaluator == HUMAN for score in data.scores):
        agreement["notes"] = agreement["notes"] + ["no human ratings and no agreement.jsonl"]
    _add_figure(agreement, out_dir, figures.agreement_figure(agreement_rows, _figure(out_dir, "agreement")),
                LABELS["agreement"], result, "agreement")
    _add_csv(agreement, out_dir, "agreement", agreement["rows"], result)
    advance("agreement")

    protocol, protocol_notes = paper_figures.protocol_calls(data.calls)
    protocol_section = _section(data, "latency", profiles=latency_by_model(
        protocol, output_cv_threshold=options.output_cv_threshold), metrics=METRIC_LABELS,
        requests=paper_figures.PROTOCOL_REQUESTS)
    protocol_section["notes"] = protocol_section["notes"] + protocol_notes
    for key, metric, title in (("protocol_latency", "latency_s", "Fig. 11: request latency"),
                               ("protocol_per_token", "per_token_s", "Fig. 12: per-token latency"),
                               ("protocol_output_tokens", "output_tokens", "Fig. 13: output tokens per response")):
        _add_figure(protocol_section, out_dir,
                    figures.metric_figure(protocol, metric, _figure(out_dir, key), title),  # type: ignore[arg-type]
                    LABELS[key], result, key)
    _add_figure(protocol_section, out_dir,
                paper_figures.length_latency_figure(protocol, _figure(out_dir, "length_latency")),
                "Second view: output length against request latency (same-input protocol calls)", result,
                "length_latency")
    _add_csv(protocol_section, out_dir, "protocol_calls", [record.model_dump(exclude={"response"})
                                                           for record in protocol], result)
    advance("latency protocol")

    profiles = latency_by_model(data.calls, output_cv_threshold=options.output_cv_threshold)
    latency = _section(data, "latency", profiles=profiles, metrics=METRIC_LABELS,
                       threshold=options.output_cv_threshold,
                       flagged=[profile for profile in profiles if profile.output_length_varies])
    for key, metric, title in (("latency_request", "latency_s", "Pooled calls: per-request latency"),
                               ("latency_per_token", "per_token_s", "Pooled calls: per-token latency"),
                               ("output_tokens", "output_tokens", "Pooled calls: output tokens per response")):
        _add_figure(latency, out_dir, figures.metric_figure(data.calls, metric, _figure(out_dir, key), title),  # type: ignore[arg-type]
                    f"{title} per model (every call, not the paper's protocol)", result, key)
    _add_csv(latency, out_dir, "latency", latency_rows(profiles), result)
    _add_csv(latency, out_dir, "calls", [{**record.model_dump(exclude={"response"}),
                                          "per_token_s": record.per_token_s} for record in data.calls], result)
    advance("latency")

    hourly_stats = latency_by_hour(data.calls)
    hourly_rows = [{"model": model, "hour": hour, **summary.as_dict()}
                   for model, hours in hourly_stats.items() for hour, summary in hours.items()]
    hourly = _section(data, "latency", rows=hourly_rows)
    reference_hours = {options.reference: hourly_stats[options.reference]} if options.reference in hourly_stats else {}
    _add_figure(hourly, out_dir, figures.hourly_figure(reference_hours, _figure(out_dir, "reference_by_hour")),
                LABELS["reference_by_hour"], result, "reference_by_hour")
    _add_figure(hourly, out_dir, figures.hourly_figure(hourly_stats, _figure(out_dir, "latency_by_hour")),
                LABELS["latency_by_hour"], result, "latency_by_hour")
    _add_csv(hourly, out_dir, "latency_by_hour", hourly_rows, result)
    advance("latency by hour")

    models = sorted({profile.model for profile in profiles} | ({options.reference} if data.calls else set()))
    cost_rows = analysis.cost_rows(data.calls, models, prices, reference=options.reference, hosting=data.hosting,
                                   default_usd_per_hour=options.selfhosted_usd_per_hour,
                                   utilisation=options.utilisation)
    slam_rows = paper_figures.slam_cost_rows(protocol or data.calls, models, reference=options.reference)
    slam = _section(data, "cost", rows=slam_rows, preset=SLAM, readings=READINGS,
                    range=paper_figures.reduction_range(slam_rows))
    drawn = figures.cost_figures(slam_rows, _figure(out_dir, "slam_cost_per_1k"), _figure(out_dir, "slam_reduction"),
                                 titles=("Fig. 16: cost per 1K tokens (g4dn.xlarge at 80% vs GPT-4 at $0.09)",
                                         "Fig. 17: times cheaper than GPT-4 on a g4dn.xlarge (slam preset)"))
    _add_figure(slam, out_dir, drawn["cost_per_1k"], LABELS["slam_cost_per_1k"], result, "slam_cost_per_1k")
    _add_figure(slam, out_dir, drawn["cost_reduction"], LABELS["slam_reduction"], result, "slam_reduction")
    _add_csv(slam, out_dir, "cost_slam", slam_rows, result)

    cost = _section(data, "cost", rows=cost_rows, prices=prices, options=options)
    drawn = figures.cost_figures(cost_rows, _figure(out_dir, "cost_per_1k"), _figure(out_dir, "cost_reduction"))
    _add_figure(cost, out_dir, drawn["cost_per_1k"], "Measured token mix: cost per 1K generated tokens per model",
                result, "cost_per_1k")
    _add_figure(cost, out_dir, drawn["cost_reduction"], "Measured token mix: cost reduction against the reference "
                "per request", result, "cost_reduction")
    _add_csv(cost, out_dir, "cost", cost_rows, result)
    advance("cost")

    verdict = analysis.summarize_models(quality_rows, agreement_rows, profiles, cost_rows,
                                        reference=options.reference, tolerance=options.tolerance,
                                        evidence=analysis.Evidence(options.min_scored, options.max_unparsed_share))
    summary = {"verdict": verdict, "csv": {}, "notes": [], "figures": []}
    _add_csv(summary, out_dir, "summary", verdict.rows, result)
    claim_rows = paper_claims.claim_rows(paper_claims.ClaimInputs(
        reference=options.reference, human_means={model: 10 * mean for model, mean in
                                                  analysis.model_means(quality_rows, HUMAN).items()},
        agreement=agreement_rows, protocol=protocol_section["profiles"], hourly=hourly_stats, slam_rows=slam_rows,
        prices=prices))
    claims: dict[str, Any] = {"rows": claim_rows, "csv": {}}
    _add_csv(claims, out_dir, "paper_vs_ours", claim_rows, result)

    sections = {"quality": quality, "agreement": agreement, "protocol": protocol_section, "latency": latency,
                "hourly": hourly, "slam": slam, "cost": cost}
    result.empty_sections = [name for name, section in sections.items() if not section["figures"]]
    render_pages(out_dir, {"generated_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
                           "summary": summary, "claims": claims, "options": options, "human": HUMAN,
                           "paper_figures": paper_figures.PAPER_FIGURES, "figure_files": FIGURE_FILES,
                           "drawn": set(result.figures),
                           "judge_presets": _judge_presets(data), **sections})
    advance("pages")
    return result


def _judge_presets(data: ReportData) -> list[str]:
    """The judge presets (with their templates' version) the scores came from."""
    return sorted({score.judge_preset for score in data.scores if score.judge_preset})


REPORT_STEPS = ("inputs", "quality", "agreement", "latency protocol", "latency", "latency by hour", "cost", "pages")
