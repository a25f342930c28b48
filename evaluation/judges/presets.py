"""Judge presets: `slam` (the study's four judges, their output formats and temperature) and `hardened` (peptalk's).

Provenance, stated plainly: the SLaM paper's Section IV-B2 judge prompts could not be read word for word while
this was written (neither the paper's text nor github.com/Jaseci-Labs/slam, whose later evaluator uses other
prompts, was available with them). The `slam` templates therefore follow the method as the paper describes it
(a scorer that reasons and ends with a bare number; a comparer that sees only the reference and the candidate;
the same with a reason; a multi-choice selector over a few answers) but their wording is RECONSTRUCTED, not
verbatim. Replace the files in `evaluation/judges/slam/` with the paper's text when it is at hand; their version
hash (recorded with every score) changes with them.
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

# The study called GPT-4 with the API's defaults; OpenAI's chat API samples at temperature 1 by default.
SLAM_JUDGE_TEMPERATURE = 1.0
# How many answers the study's multi-choice selector showed at once is not in the text available here;
# 4 is this implementation's reading (a labelled assumption, overridable with `--selector-choices`).
SLAM_SELECTOR_CHOICES = 4


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
    selector_choices=SLAM_SELECTOR_CHOICES, comparer_sees_prompt=False, verbatim=False,
    provenance="SLaM Section IV-B2 method (scorer, comparer, comparer-with-reason, multi-choice selector); "
               "wording reconstructed, not verbatim: the paper's template text was not available",
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
