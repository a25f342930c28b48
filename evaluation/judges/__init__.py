"""LLM judges: scorer, comparer (with and without a reason) and multi-choice selector, over any router model."""

from evaluation.judges.base import Judge, JudgeVerdict
from evaluation.judges.cache import JudgeCache, cache_key
from evaluation.judges.client import JudgeAnswer, JudgeClient
from evaluation.judges.comparer import CompareJudge
from evaluation.judges.presets import JUDGE_PRESETS, PRESETS, JudgePreset, get_preset
from evaluation.judges.parsing import ParsedChoice, ParsedScore, parse_choice, parse_reason, parse_score
from evaluation.judges.scorer import ScoreJudge
from evaluation.judges.selector import SelectJudge, SelectorPick, SelectorResult, orders_for

JUDGES = {"scorer": ScoreJudge, "comparer": CompareJudge, "selector": SelectJudge}

__all__ = [
    "JUDGES",
    "JUDGE_PRESETS",
    "PRESETS",
    "JudgePreset",
    "get_preset",
    "CompareJudge",
    "Judge",
    "JudgeAnswer",
    "JudgeCache",
    "JudgeClient",
    "JudgeVerdict",
    "ParsedChoice",
    "ParsedScore",
    "SelectJudge",
    "ScoreJudge",
    "SelectorPick",
    "SelectorResult",
    "cache_key",
    "orders_for",
    "parse_choice",
    "parse_reason",
    "parse_score",
]
