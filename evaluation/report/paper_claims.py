"""The SLaM paper's printed figures beside ours: each quantity the paper states, its value, ours, and whether they
agree within a stated tolerance, or "not reproducible here" with the reason.

Every `quote` is the paper's own words (arXiv 2312.14972); tests/evaluation/report/test_paper_claims.py finds each
one in the paper's text. Model names in the paper's prose are matched to Table I's tags by `PAPER_NAMES` (our
reading where the prose and the table name a variant differently).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from evaluation.cost import PriceTable, TokenMix, api_cost, dau_for_budget
from evaluation.latency import Distribution, Metric, ModelLatency

NOT_REPRODUCIBLE = "not reproducible here"
# The paper's prose names -> Table I tags. "q3" and "q4" in the prose are bit widths: Table I prints
# vicuna:7b-q2_K_L and stablelm-zephyr:3b-q2_K_L as its 3-bit (K_L) rows and starling-lm:7b as the 4-bit base.
PAPER_NAMES = {"vicuna:7b-q3": "vicuna:7b-q2_K_L", "starling-lm:7b-q4": "starling-lm:7b",
               "neural-chat:7b-q2": "neural-chat:7b-v3.2-q2_K", "stablelm-zephyr:3b-q3": "stablelm-zephyr:3b-q2_K_L",
               "stablelm-zephyr:3b-q2": "stablelm-zephyr:3b-q2_K"}
ORCA2 = ("orca2:7b", "orca2:7b-q2_K", "orca2:7b-q3_K_L")
MEAN_TOLERANCE = 1.0  # points on the 0-10 human scale
COST_TOLERANCE = 0.05  # relative, for the paper's rounded dollar figures


@dataclass
class ClaimInputs:
    """What this run measured, in the shapes the claims read."""

    reference: str
    human_means: dict[str, float] = field(default_factory=dict)  # 0-10
    agreement: list[dict[str, Any]] = field(default_factory=list)
    protocol: list[ModelLatency] = field(default_factory=list)
    hourly: dict[str, dict[int, Distribution]] = field(default_factory=dict)
    slam_rows: list[dict[str, Any]] = field(default_factory=list)
    prices: PriceTable | None = None

    def model(self, tag: str, among: Iterable[str]) -> str | None:
        """This run's name for the paper's model `tag` (`ollama:starling-lm:7b` for `starling-lm:7b`)."""
        wanted = PAPER_NAMES.get(tag, tag)
        return next((name for name in among if name.split(":", 1)[-1].removesuffix(":latest") == wanted
                     or name == wanted), None)

    def metric(self, metric: Metric) -> dict[str, Distribution]:
        """Each protocol-measured model's distribution of `metric`."""
        return {profile.model: dist for profile in self.protocol if (dist := profile.get(metric)) is not None}


Outcome = tuple[str, bool | None, str | None]  # ours, agrees (None: not reproducible), reason


@dataclass(frozen=True)
class PaperClaim:
    """One quantity the paper prints, where, its value, its words, the tolerance, and how ours is computed."""

    where: str
    quantity: str
    paper: str
    quote: str
    tolerance: str
    ours: Callable[[ClaimInputs], Outcome]


def _money(value: Decimal) -> str:
    return f"${value:,.2f}"


def _within(ours: float, paper: float, relative: float) -> bool:
    return abs(ours - paper) <= relative * abs(paper)


def _gpt4_request(_: ClaimInputs) -> Outcome:
    per_request = api_cost(_gpt4_price(), TokenMix(1000, 1000)).per_request
    return _money(per_request), per_request == Decimal("0.09"), None


def _gpt4_price() -> Any:
    from peptalk.price_table import ApiPrice

    return ApiPrice("gpt-4", Decimal("0.03"), Decimal("0.06"))


def _at_rate(per_day: int, attribute: str, paper: Decimal) -> Callable[[ClaimInputs], Outcome]:
    def compute(_: ClaimInputs) -> Outcome:
        value: Decimal = getattr(api_cost(_gpt4_price(), TokenMix(1000, 1000), per_day), attribute)
        return _money(value), _within(float(value), float(paper), COST_TOLERANCE), None
    return compute


def _users(_: ClaimInputs) -> Outcome:
    users = dau_for_budget(12_000_000, api_cost(_gpt4_price(), TokenMix(1000, 1000)).per_request, 5)
    return f"{users:,}", _within(users, 71_000, COST_TOLERANCE / 2), None


def _fig16_price(inputs: ClaimInputs) -> Outcome:
    if inputs.prices is None or not inputs.prices.has(inputs.reference):
        return NOT_REPRODUCIBLE, None, f"no API price for {inputs.reference} in the price table"
    price = inputs.prices.price(inputs.reference)
    total = price.input_per_1k + price.output_per_1k
    shown = f"{_money(price.input_per_1k)} + {_money(price.output_per_1k)} = {_money(total)}"
    return shown, total == Decimal("0.09"), None


def _reduction(low: float, high: float) -> Callable[[ClaimInputs], Outcome]:
    def compute(inputs: ClaimInputs) -> Outcome:
        factors = [float(row["reduction_factor"]) for row in inputs.slam_rows if row.get("reduction_factor")]
        if not factors:
            return NOT_REPRODUCIBLE, None, "no self-hosted model's decode throughput was measured in this run"
        ours = (min(factors), max(factors))
        agrees = _within(ours[0], low, 0.2) and _within(ours[1], high, 0.2)
        return f"{ours[0]:.1f}x-{ours[1]:.1f}x", agrees, None
    return compute


def _missing(tags: Iterable[str], what: str) -> Outcome:
    names = ", ".join(PAPER_NAMES.get(tag, tag) for tag in tags)
    return NOT_REPRODUCIBLE, None, f"{names} not among the models of {what}: this run did not measure them"


def _human_mean(tag: str, paper: float) -> Callable[[ClaimInputs], Outcome]:
    def compute(inputs: ClaimInputs) -> Outcome:
        name = inputs.reference if tag == "gpt-4" else inputs.model(tag, inputs.human_means)
        if name is None or name not in inputs.human_means:
            return _missing([tag], "the human ratings")
        mean = inputs.human_means[name]
        return f"{mean:.1f} ({name})", abs(mean - paper) <= MEAN_TOLERANCE, None
    return compute


def _gpt4_highest(inputs: ClaimInputs) -> Outcome:
    means = inputs.human_means
    if inputs.reference not in means or len(means) < 2:
        return NOT_REPRODUCIBLE, None, "no human ratings of the reference and at least one other model"
    best = max(means, key=lambda name: means[name])
    return f"{best} ({means[best]:.1f})", best == inputs.reference, None


def _bottom_set(inputs: ClaimInputs) -> Outcome:
    tags = ORCA2 + ("stablelm-zephyr:3b-q3",)
    named = [inputs.model(tag, inputs.human_means) for tag in tags]
    if None in named:
        return _missing([tag for tag, name in zip(tags, named, strict=True) if name is None], "the human ratings")
    ranked = sorted(inputs.human_means, key=lambda name: inputs.human_means[name])[:len(tags)]
    return ", ".join(ranked), set(ranked) == set(named), None


def _best_jaccard(prefix: str, paper_best: str | None) -> Callable[[ClaimInputs], Outcome]:
    def compute(inputs: ClaimInputs) -> Outcome:
        rows = [row for row in inputs.agreement if row.get("jaccard") is not None]
        if not rows:
            return NOT_REPRODUCIBLE, None, "no agreement with human ratings was measured (no human ratings)"
        if paper_best is None:  # the scorer's own Jaccard
            mine = [row for row in rows if str(row["evaluator"]).startswith(prefix)]
            if not mine:
                return NOT_REPRODUCIBLE, None, "no GPT-Scorer (judge-scorer) scores in this run"
            value = float(mine[0]["jaccard"])
            return f"{value:.2f} ({mine[0]['evaluator']})", value >= 0.5, None
        best = max(rows, key=lambda row: float(row["jaccard"]))
        return f"{best['evaluator']} ({float(best['jaccard']):.2f})", str(best["evaluator"]).startswith(prefix), None
    return compute


def _reference_extreme(metric: Metric, statistic: str, lowest: bool) -> Callable[[ClaimInputs], Outcome]:
    def compute(inputs: ClaimInputs) -> Outcome:
        values = {model: float(getattr(dist, statistic)) for model, dist in inputs.metric(metric).items()}
        if inputs.reference not in values or len(values) < 2:
            return NOT_REPRODUCIBLE, None, f"no same-input protocol calls of {inputs.reference} and another model"
        pick = min(values, key=lambda model: values[model])
        return f"{pick} ({values[pick]:.3g})", (pick == inputs.reference) == lowest, None
    return compute


def _faster_than_reference(metric: Metric, tags: tuple[str, ...],
                           within_s: float | None) -> Callable[[ClaimInputs], Outcome]:
    def compute(inputs: ClaimInputs) -> Outcome:
        means = {model: dist.mean for model, dist in inputs.metric(metric).items()}
        named = [inputs.model(tag, means) for tag in tags]
        if inputs.reference not in means or None in named:
            return _missing([tag for tag, name in zip(tags, named, strict=True) if name is None] or [inputs.reference],
                            "the same-input protocol calls")
        gaps = {str(name): means[str(name)] - means[inputs.reference] for name in named}
        shown = ", ".join(f"{name} {gap:+.3g}" for name, gap in gaps.items())
        agrees = all(gap <= within_s for gap in gaps.values()) if within_s is not None else all(
            gap < 0 for gap in gaps.values())
        return shown, agrees, None
    return compute


def _hourly_range(inputs: ClaimInputs) -> Outcome:
    hours = inputs.hourly.get(inputs.reference, {})
    if len(hours) < 24:
        return NOT_REPRODUCIBLE, None, (f"{len(hours)} of the 24 hours of {inputs.reference} were measured "
                                        "(probe it for a day: peptalk probe --duration 24h)")
    medians = [dist.p50 for dist in hours.values()]
    low, high = min(medians), max(medians)
    return f"{low:.1f}-{high:.1f} s", _within(low, 3.4, 0.25) and _within(high, 8.6, 0.25), None


def _hourly_consistency(inputs: ClaimInputs) -> Outcome:
    full = {model: hours for model, hours in inputs.hourly.items() if len(hours) >= 24}
    if inputs.reference not in full or len(full) < 2:
        return NOT_REPRODUCIBLE, None, "fewer than 24 measured hours for the reference and a self-hosted model"
    spread = {model: float(np.ptp([dist.p50 for dist in hours.values()])) for model, hours in full.items()}
    others = {model: value for model, value in spread.items() if model != inputs.reference}
    shown = ", ".join(f"{model} {value:.2f} s" for model, value in spread.items())
    return shown, all(value < spread[inputs.reference] for value in others.values()), None


PAPER_CLAIMS: tuple[PaperClaim, ...] = (
    PaperClaim("Section III-B", "GPT-4 cost of one request (1000 input + 1000 output tokens)", "$0.09",
               "Assuming each request consists of 1000 input tokens and 1000 output tokens, one request costs $0.09",
               "exact, to the cent", _gpt4_request),
    PaperClaim("Section III-B", "GPT-4 monthly cost at 1000 requests/day", "$2,700",
               "An average traffic of 1000 requests per day would lead to the cost of $2700 per month",
               "within 5%", _at_rate(1000, "monthly", Decimal(2700))),
    PaperClaim("Section III-B", "GPT-4 yearly cost at 1000 requests/day", "$32,400", "or $32,400 per year",
               "within 5%", _at_rate(1000, "yearly", Decimal(32400))),
    PaperClaim("Section III-B", "GPT-4 monthly cost at 360,000 requests/day", "$1,000,000",
               "This can easily scale up to $1,000,000/month when the request load goes above 360,000 requests/day",
               "within 5%", _at_rate(360_000, "monthly", Decimal(1_000_000))),
    PaperClaim("Section III-B", "users a $12,000,000/year budget serves at 5 queries/day", "about 71,000",
               "spending $12,000,000/year for openAI API can only support around 71,000 active users",
               "within 2.5%", _users),
    PaperClaim("Fig. 8", "mean human score of GPT-4", "5.9", "GPT-4 (1st box on the left) has the highest mean "
               "score (5.9)", f"within {MEAN_TOLERANCE} point", _human_mean("gpt-4", 5.9)),
    PaperClaim("Fig. 8", "model with the highest mean human score", "GPT-4", "has the highest mean score (5.9)",
               "the same model", _gpt4_highest),
    PaperClaim("Fig. 8", "mean human score of vicuna:7b-q3", "5.6", "Vicuna:7b-q3 (5.6)",
               f"within {MEAN_TOLERANCE} point", _human_mean("vicuna:7b-q3", 5.6)),
    PaperClaim("Fig. 8", "mean human score of starling-lm:7b (q4)", "5.1", "Starling-lm:7b-q4 (5.1)",
               f"within {MEAN_TOLERANCE} point", _human_mean("starling-lm:7b-q4", 5.1)),
    PaperClaim("Fig. 8", "mean human score of neural-chat:7b-q2", "5.3", "neural-chat:7b-q2 (5.3)",
               f"within {MEAN_TOLERANCE} point", _human_mean("neural-chat:7b-q2", 5.3)),
    PaperClaim("Fig. 8", "the clearly worse SLMs (lowest human means)",
               "orca2:7b (base and quantized), stablelm-zephyr:3b-q3",
               "the orca2:7b models (base and quantized) and stablelm-zephyr:3b-q3 scored significantly worse than "
               "the rest", "the same set", _bottom_set),
    PaperClaim("Fig. 9", "GPT-Scorer finds the humans' inferior models (bottom-k Jaccard)", "the same subset",
               "it is able to identify the same subset of inferior models as the human evaluation",
               "Jaccard at least 0.5", _best_jaccard("judge-scorer", None)),
    PaperClaim("Fig. 10", "evaluator closest to the humans (highest bottom-10 Jaccard)", "sem-bleu",
               "sem-bleu has the highest Jaccard index", "the same evaluator", _best_jaccard("sem-bleu", "sem-bleu")),
    PaperClaim("Fig. 11", "lowest mean per-request latency", "GPT-4",
               "While GPT-4 (1st row) has the lowest per-request latency", "the same model",
               _reference_extreme("latency_s", "mean", lowest=True)),
    PaperClaim("Fig. 11", "mean request latency of mistral:7b-instruct, orca-mini:3b, stablelm-zephyr:3b minus "
               "GPT-4's (s)", "under 1 s each", "the mean request latency of mistral:7b-instruct, orca-mini:3b and "
               "stablelm-zephyr:3b are within sub 1 second of GPT-4's performance", "every gap at most 1 s",
               _faster_than_reference("latency_s", ("mistral:7b-instruct", "orca-mini:3b", "stablelm-zephyr:3b"),
                                      1.0)),
    PaperClaim("Fig. 12", "mean per-token latency of stablelm-zephyr:3b, mistral:7b-instruct, starling-lm:7b minus "
               "GPT-4's (s)", "below GPT-4", "Figure 12 shows that many SLMs, such as StableLM-zephyr-3b, "
               "mistral-7b, and starlingLM, outperform OpenAI GPT-4 on per-token latency", "every gap below 0",
               _faster_than_reference("per_token_s", ("stablelm-zephyr:3b", "mistral:7b-instruct", "starling-lm:7b"),
                                      None)),
    PaperClaim("Fig. 13", "model with the least spread of output tokens (std)", "GPT-4",
               "GPT-4\u2019s response length has a much lower variance than the SLMs", "the same model",
               _reference_extreme("output_tokens", "std", lowest=True)),
    PaperClaim("Fig. 14", "range of GPT-4's hourly median request latency over 24 hours", "3.4-8.6 s",
               "per request latency ranges from 3.4 seconds to 8.6 seconds", "each end within 25%", _hourly_range),
    PaperClaim("Fig. 15", "spread of hourly median latency over 24 hours (max - min)", "SLMs below GPT-4",
               "self-hosted SLMs have a significantly more consistent request latency over the course of the 24 "
               "hours", "every SLM's spread below GPT-4's", _hourly_consistency),
    PaperClaim("Fig. 16", "GPT-4 price per 1K tokens (input + output)", "$0.09",
               "The corresponding OpenAI cost is $0.09", "exact, to the cent", _fig16_price),
    PaperClaim("Section VI-E, Fig. 17", "cost reduction range of the SLMs against GPT-4", "5x-23x",
               "Overall, we see a cost reduction of 5x to 23x, depending on the model used", "each end within 20%",
               _reduction(5, 23)),
    PaperClaim("Abstract", "cost reduction range of the SLMs against GPT-4", "5x-29x",
               "a cost reduction of 5x–29x when compared to OpenAI GPT-4", "each end within 20%", _reduction(5, 29)),
)


def claim_rows(inputs: ClaimInputs, claims: Iterable[PaperClaim] = PAPER_CLAIMS) -> list[dict[str, Any]]:
    """The "paper vs ours" table: one row per claim."""
    rows = []
    for claim in claims:
        ours, agrees, reason = claim.ours(inputs)
        rows.append({"where": claim.where, "quantity": claim.quantity, "paper": claim.paper, "ours": ours,
                     "tolerance": claim.tolerance,
                     "agrees": NOT_REPRODUCIBLE if agrees is None else ("yes" if agrees else "no"),
                     "reason": reason})
    return rows
