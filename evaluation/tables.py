"""The ranking and agreement tables, as Markdown (`tables.md`, and what the CLI prints)."""

from __future__ import annotations

from evaluation.agreement import AgreementRow
from evaluation.rankings import EvaluatorRanking


def _number(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def rankings_table(rankings: dict[str, EvaluatorRanking]) -> str:
    """One row per (evaluator, model), best model first within each evaluator; unavailable evaluators say why."""
    lines = ["| evaluator | scale | rank | model | mean | std | n | unparsable |", "|---|---|---|---|---|---|---|---|"]
    for name, ranking in rankings.items():
        if not ranking.available:
            lines.append(f"| {name} | | | unavailable: {ranking.reason} | | | | |")
            continue
        ordered = ranking.order() + sorted(model for model, stats in ranking.models.items() if stats.mean is None)
        for model in ordered:
            stats = ranking.models[model]
            lines.append(f"| {name} | {ranking.scale} | {stats.rank or 'n/a'} | {model} | {_number(stats.mean)} | "
                         f"{_number(stats.std)} | {stats.n} | {stats.unparsed} |")
    return "\n".join(lines) + "\n"


def agreement_markdown(rows: list[AgreementRow]) -> str:
    """Evaluators sorted by agreement with the humans, with how ties and the reference were handled."""
    lines = ["| evaluator | bottom-k | Jaccard (expected over tie orders) | Jaccard (tie-aware sets) | Spearman | "
             "Kendall | candidates |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {row.evaluator} | {row.k} | {_number(row.jaccard)} | {_number(row.jaccard_tie_sets)} | "
              f"{_number(row.spearman)} | {_number(row.kendall)} | {row.n_models} |" for row in rows]
    excluded = sorted({model for row in rows for model in row.excluded})
    lines.append("")
    lines.append("Bottom-k over the candidate models only"
                 + (f" (reference left out: {', '.join(excluded)})" if excluded else "")
                 + "; ties at the boundary never decide by name.")
    return "\n".join(lines) + "\n"


def tables_markdown(rankings: dict[str, EvaluatorRanking], agreement: list[AgreementRow]) -> str:
    text = "## Rankings\n\n" + rankings_table(rankings)
    if agreement:
        text += "\n## Agreement with human ratings\n\n" + agreement_markdown(agreement)
    return text
