"""Online pairwise judging of the rollout's shadow pairs (`peptalk rollout judge`)."""

from evaluation.rollout.judge import PROMPT_VERSION, JudgeBudget, JudgeRun, PairwiseJudgeWorker, combine, pairwise_prompt

__all__ = ["PROMPT_VERSION", "JudgeBudget", "JudgeRun", "PairwiseJudgeWorker", "combine", "pairwise_prompt"]
