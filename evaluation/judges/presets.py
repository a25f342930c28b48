"""Judge presets: `slam` (the study's four judges, their output formats and temperature) and `hardened` (peptalk's).

The `slam` templates in `evaluation/judges/slam/` are Section IV-B2 of the SLaM paper (arXiv 2312.14972) word for
word: the GPT-Scorer, GPT-Comparer and Multi-Choice Selector templates as printed, with only their placeholders
(`prompt`, `response`, `reference_response`, `target_response`, `responses`, `num_responses`) written as
`{...}` fields. The paper prints no template of its own for "GPT-Comparer with Reasoning"; see `SLAM_REASON_DERIVATION`.
tests/evaluation/judges/test_slam_templates.py compares every file with the paper's text.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal

PresetName = Literal["slam", "hardened"]
PRESETS: tuple[PresetName, ...] = ("slam", "hardened")
TEMPLATE_NAMES = ("scorer", "comparer", "comparer_reason", "selector")

# Section V-A: "For OpenAI APIs, we set the temperature parameter as 0.7 and use the default for the rest
# configurations." The judge is GPT-4 through the same API, so its calls take the same temperature.
SLAM_JUDGE_TEMPERATURE = 0.7
# Section IV-B2: "GPT-4 is provided with multiple responses (e.g., four responses from 4 different models)";
# the paper's example, overridable with `--selector-choices`.
SLAM_SELECTOR_CHOICES = 4
SLAM_REASON_DERIVATION = (
    "The paper prints one GPT-Comparer template and it already asks for `Reason: Reasoning...` then "
    "`Score: Rating`; GPT-Comparer with Reasoning is described only as asking GPT-4 for a rationale behind each "
    "score. Both comparers therefore send that printed template unchanged: GPT-Comparer keeps the score alone, "
    "GPT-Comparer with Reasoning keeps the score and stores the `Reason:` text with it, and its answers are "
    "sampled separately (their own judge-cache key), so the two evaluators are independent samples, as two "
    "separate runs of the study's would be.")


@dataclass(frozen=True)
class JudgePreset:
    """A judge family: where its templates live, whether judged text is escaped, its temperature and selector size."""

    name: PresetName
    escape_judged_text: bool  # hardened: `<`, `>` and `&` in a judged answer cannot close the template's tags
    temperature: float | None  # None: PEPTALK_EVAL_JUDGE_TEMPERATURE
    selector_choices: int | None  # None: the selector sees every answer of a prompt at once
    comparer_sees_prompt: bool
    verbatim: bool  # are the templates the source's exact words?
    provenance: str
    score_label: str | None = None  # the comparer's output format: its `Score:` line decides
    choice_label: str | None = None  # the selector's output format: its `Choice:` line decides

    def template(self, name: str) -> str:
        """The template `name` (scorer, comparer, comparer_reason, selector) of this preset."""
        return _template_text(self.name, name)

    @property
    def version(self) -> str:
        """`<preset>@<12 hex of the SHA-256 of all four templates>`, recorded with every score."""
        digest = hashlib.sha256("\0".join(self.template(name) for name in TEMPLATE_NAMES).encode("utf-8"))
        return f"{self.name}@{digest.hexdigest()[:12]}"


@lru_cache(maxsize=None)
def _template_text(preset: str, name: str) -> str:
    folder = resources.files("evaluation.judges")
    path = folder.joinpath(f"slam/{name}.txt") if preset == "slam" else folder.joinpath(f"{name}.txt")
    return path.read_text(encoding="utf-8")


SLAM = JudgePreset(
    name="slam", escape_judged_text=False, temperature=SLAM_JUDGE_TEMPERATURE,
    selector_choices=SLAM_SELECTOR_CHOICES, comparer_sees_prompt=False, verbatim=True,
    provenance="SLaM paper (arXiv 2312.14972) Section IV-B2, verbatim: GPT-Scorer, GPT-Comparer and Multi-Choice "
               "Selector as printed, placeholders filled; GPT-Comparer with Reasoning sends the printed "
               "GPT-Comparer template and keeps its Reason (the paper prints no separate template)",
    score_label="Score", choice_label="Choice",
)
HARDENED = JudgePreset(
    name="hardened", escape_judged_text=True, temperature=None, selector_choices=None, comparer_sees_prompt=True,
    verbatim=True, provenance="peptalk's own judge templates (evaluation/judges/*.txt), judged text escaped",
)
JUDGE_PRESETS: dict[str, JudgePreset] = {"slam": SLAM, "hardened": HARDENED}


def get_preset(name: str) -> JudgePreset:
    """The preset `name`; an unknown name raises ValueError."""
    if name not in JUDGE_PRESETS:
        raise ValueError(f"unknown judge preset {name!r}; known: {', '.join(PRESETS)}")
    return JUDGE_PRESETS[name]


def escape(text: str) -> str:
    """Judged text made inert inside the hardened templates' `<response>`-style tags."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
