"""The study's cost baseline (`slam` preset): a g4dn node (NVIDIA T4) at 80% utilisation against GPT-4 at $0.09/1K.

Fig. 16's arithmetic: an SLM's cost per 1K tokens is the node's hourly price over the tokens it generates in an
hour while busy 80% of the time; GPT-4 costs a flat $0.09 per 1K tokens (the sum of its $0.03 input and $0.06
output prices of December 2023); the reduction factor is the ratio of the two. Fig. 17's budget question is the
inverse: how many users, at the paper's example of 5 queries a user a day, a yearly budget serves.

Node prices are AWS EC2 on-demand, Linux, us-east-1, with the date they were read. They are not from the paper
(it names the instances, not their price): they are the published list prices, unchanged from the g4dn launch
(2019) through December 2023, as this project's maintainers know them; check them against the AWS page before
relying on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from evaluation.cost import DAYS_PER_YEAR, THOUSAND, _decimal
from evaluation.errors import CostInputError


@dataclass(frozen=True)
class NodePrice:
    """One cloud instance type: its GPU, on-demand price, region and the date of that price."""

    instance: str
    gpu: str
    usd_per_hour: Decimal
    region: str
    as_of: str
    source: str


G4DN_XLARGE = NodePrice("g4dn.xlarge", "1x NVIDIA T4 (16 GB)", Decimal("0.526"), "us-east-1", "2023-12",
                        "AWS EC2 on-demand price list, Linux (not stated in the paper)")
G4DN_2XLARGE = NodePrice("g4dn.2xlarge", "1x NVIDIA T4 (16 GB)", Decimal("0.752"), "us-east-1", "2023-12",
                         "AWS EC2 on-demand price list, Linux (not stated in the paper)")
NODES = {node.instance: node for node in (G4DN_XLARGE, G4DN_2XLARGE)}


@dataclass(frozen=True)
class Reading:
    """One place where the paper contradicts itself, and which reading this project takes."""

    topic: str
    paper_says: str
    reading: str


READINGS = (
    Reading("number of variants", "29 variants (abstract, text) against 28 rows in Table I",
            "28: the variants Table I lists are the ones priced, run and reported (router/catalog/slam.yaml); the "
            "29th is not identifiable from the paper"),
    Reading("cost reduction range", "5x-29x (abstract) against 5x-23x (elsewhere in the paper)",
            "neither is copied: the report computes each model's factor from measured throughput with Fig. 16's "
            "formula and prints the range it gets, next to both of the paper's claims"),
    Reading("users for the budget", "about 71,000 users, where the paper's own arithmetic gives about 73-74k",
            "the arithmetic wins: `users_for_budget` prints what the inputs give, rounded down, never ~71k"),
    Reading("instance type", "g4dn.2xlarge (Section V-B) against g4dn.xlarge (Fig. 17)",
            "g4dn.xlarge for Fig. 16/17 (the figures' instance, `--instance g4dn.2xlarge` for Section V-B's)"),
    Reading("GPT-4 price", "$0.09 per 1K tokens in Fig. 16; OpenAI priced GPT-4 at $0.03 input + $0.06 output",
            "$0.09 per 1K tokens flat in the slam preset (Fig. 16); the measured token mix at $0.03/$0.06 is "
            "kept as a second, labelled view"),
)


@dataclass(frozen=True)
class CostPreset:
    """A cost baseline: the node, its utilisation, the API's flat price per 1K tokens, queries per user."""

    name: str
    node: NodePrice
    utilisation: Decimal
    api_model: str
    api_per_1k_tokens: Decimal
    queries_per_user_per_day: Decimal


SLAM = CostPreset("slam", G4DN_XLARGE, Decimal("0.8"), "gpt-4", Decimal("0.09"), Decimal(5))
COST_PRESETS = {"slam": SLAM}


def with_node(preset: CostPreset, instance: str) -> CostPreset:
    """`preset` on another of the study's instances (g4dn.xlarge or g4dn.2xlarge)."""
    if instance not in NODES:
        raise CostInputError(f"unknown instance {instance!r}; the study's are {', '.join(NODES)}")
    return CostPreset(preset.name, NODES[instance], preset.utilisation, preset.api_model, preset.api_per_1k_tokens,
                      preset.queries_per_user_per_day)


def per_1k_tokens(preset: CostPreset, throughput_tok_s: float | Decimal) -> Decimal:
    """Fig. 16: the node's cost of 1K generated tokens at `throughput_tok_s` while busy `utilisation` of the time."""
    throughput = _decimal(throughput_tok_s, "throughput (tokens/s)", positive=True)
    return preset.node.usd_per_hour * THOUSAND / (throughput * 3600 * preset.utilisation)


def reduction(preset: CostPreset, throughput_tok_s: float | Decimal) -> Decimal:
    """Fig. 16: how many times cheaper 1K tokens are on the node than on GPT-4 at $0.09."""
    return preset.api_per_1k_tokens / per_1k_tokens(preset, throughput_tok_s)


def api_yearly_per_user(preset: CostPreset, tokens_per_query: int) -> Decimal:
    """What one user costs a year on the API: queries a day x tokens x $0.09/1K x 360 days."""
    if tokens_per_query <= 0:
        raise CostInputError(f"tokens per query must be positive, got {tokens_per_query}")
    return preset.queries_per_user_per_day * tokens_per_query * preset.api_per_1k_tokens / THOUSAND * DAYS_PER_YEAR


def users_for_budget(preset: CostPreset, yearly_budget: float | Decimal, *, tokens_per_query: int,
                     throughput_tok_s: float | Decimal | None = None) -> int:
    """Fig. 17: users a yearly budget serves at the preset's queries per user, on the API or (with a
    throughput) on nodes priced per token as in Fig. 16; rounded down."""
    budget = _decimal(yearly_budget, "yearly budget")
    per_user = api_yearly_per_user(preset, tokens_per_query)
    if throughput_tok_s is not None:
        per_user = per_user / reduction(preset, throughput_tok_s)
    return int(budget / per_user)
