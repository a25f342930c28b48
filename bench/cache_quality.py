"""Semantic cache quality on the labelled pairs: how often `same-answer-ok` pairs are served, and how often
`must-miss` pairs are (false hits, with the 95% Clopper-Pearson upper bound), per kind, per split and overall.

    .venv/bin/python bench/cache_quality.py [--pairs data/cache_pairs.jsonl] [--item-threshold 0.8]
                                            [--no-synonyms] [--sweep 0.6,0.7,0.8,0.9] [--show-errors 10]

Runs the shipped decision (`peptalk.cache.match.decide`, the defaults of `MatchPolicy`) with real MiniLM
item vectors. A pair is served when its canonical content is equal (an exact hit) or `decide` says hit.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from peptalk.cache.canonical import CanonicalContent  # noqa: E402
from peptalk.cache.embedder import MiniLMEmbedder  # noqa: E402
from peptalk.cache.match import Match, MatchPolicy, decide  # noqa: E402

TARGET_UPPER_BOUND = 0.01
TARGET_SERVED = 0.90


def upper_bound(failures: int, trials: int, confidence: float = 0.95) -> float:
    """One-sided Clopper-Pearson upper bound of a binomial rate."""
    from scipy.stats import beta

    if trials == 0:
        return 1.0
    if failures >= trials:
        return 1.0
    return float(beta.ppf(confidence, failures + 1, trials - failures))


class ItemVectors:
    """MiniLM vectors of canonical items, each computed once."""

    def __init__(self, items: set[str]) -> None:
        ordered = sorted(items)
        vectors = MiniLMEmbedder().embed(ordered)
        self.table = dict(zip(ordered, vectors, strict=True))

    def __call__(self, items: Any) -> Any:
        import numpy as np

        return np.stack([self.table[item] for item in items])


def served(pair: dict[str, Any], vectors: ItemVectors, policy: MatchPolicy) -> tuple[bool, Match | None]:
    stored, new = CanonicalContent.of(pair["stored"]), CanonicalContent.of(pair["new"])
    if stored.digest() == new.digest():
        return True, None
    match = decide(stored, new, vectors, policy)
    return match.hit, match


def evaluate(pairs: list[dict[str, Any]], vectors: ItemVectors, policy: MatchPolicy, *, show_errors: int = 0,
             quiet: bool = False) -> dict[str, float]:
    groups: dict[tuple[str, str, str], list[bool]] = defaultdict(list)
    errors: list[str] = []
    for pair in pairs:
        hit, match = served(pair, vectors, policy)
        for split in (pair["split"], "all"):
            groups[(split, pair["label"], pair["kind"])].append(hit)
            groups[(split, pair["label"], "ALL")].append(hit)
        wrong = hit if pair["label"] == "must-miss" else not hit
        if wrong:
            reason = "exact" if match is None else (match.reason or
                                                    ", ".join(f"{p.stored!r}~{p.new!r} {p.similarity:.2f}" for p in match.pairs))
            errors.append(f"{pair['id']} {pair['split']} {pair['kind']}: {pair['note']} [{reason}]")
    summary: dict[str, float] = {}
    if not quiet:
        print(f"policy: {policy}")
        print(f"{'split':<9} {'label':<15} {'kind':<28} {'pairs':>5} {'served':>7} {'rate':>7} {'95% UB':>7}")
    for (split, label, kind), hits in sorted(groups.items(), key=lambda item: (item[0][0] != "all", item[0])):
        count, served_count = len(hits), sum(hits)
        bound = upper_bound(served_count, count) if label == "must-miss" else float("nan")
        if kind == "ALL":
            summary[f"{split}/{label}/rate"] = served_count / count
            if label == "must-miss":
                summary[f"{split}/{label}/ub"] = bound
        if not quiet:
            bound_text = f"{100 * bound:6.2f}%" if label == "must-miss" else "      -"
            print(f"{split:<9} {label:<15} {kind:<28} {count:>5} {served_count:>7} {100 * served_count / count:6.2f}%"
                  f" {bound_text}")
    if show_errors and not quiet:
        print(f"\n{len(errors)} wrong decisions; the first {show_errors}:")
        print("\n".join(errors[:show_errors]))
    return summary


def baseline(pairs: list[dict[str, Any]], threshold: float = 0.95) -> None:
    """The rule before issue 14: every list's whole-text MiniLM cosine at least `threshold` (exact key aside)."""
    from peptalk.schema import PepTalkRequest

    sections = {side: [PepTalkRequest.model_validate(pair[side]).content_sections() for pair in pairs]
                for side in ("stored", "new")}
    texts = sorted({text for side in sections.values() for request in side for text in request})
    table = dict(zip(texts, MiniLMEmbedder().embed(texts), strict=True))
    served: dict[str, list[bool]] = defaultdict(list)
    for index, pair in enumerate(pairs):
        cosines = [float(table[old] @ table[new]) for old, new in zip(sections["stored"][index], sections["new"][index],
                                                                       strict=True)]
        served[pair["label"]].append(min(cosines) >= threshold)
    for label, hits in sorted(served.items()):
        print(f"baseline (every list >= {threshold}): {label} served {sum(hits)} of {len(hits)} "
              f"({100 * sum(hits) / len(hits):.1f}%)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, default=ROOT / "data" / "cache_pairs.jsonl")
    parser.add_argument("--item-threshold", type=float, default=MatchPolicy.item_threshold)
    parser.add_argument("--reword-threshold", type=float, default=MatchPolicy.reword_threshold)
    parser.add_argument("--max-changed-items", type=int, default=MatchPolicy.max_changed_items)
    parser.add_argument("--no-synonyms", action="store_true", help="without the synonym table (an ablation)")
    parser.add_argument("--sweep", help="item thresholds to try, e.g. 0.5,0.6,0.7 (one summary line each)")
    parser.add_argument("--sweep-reword", help="reword thresholds to try with each item threshold, e.g. 0.8,0.85,0.9")
    parser.add_argument("--split", choices=["dev", "held-out"], help="only this split")
    parser.add_argument("--show-errors", type=int, default=0)
    parser.add_argument("--baseline", action="store_true", help="the old whole-list rule (cosine >= 0.95) instead")
    args = parser.parse_args()
    pairs = [json.loads(line) for line in args.pairs.read_text(encoding="utf-8").splitlines() if line.strip()]
    if args.split:
        pairs = [pair for pair in pairs if pair["split"] == args.split]
    if args.baseline:
        baseline(pairs)
        return
    items = {item for pair in pairs for side in ("stored", "new") for item in CanonicalContent.of(pair[side]).items()}
    vectors = ItemVectors(items)
    base = MatchPolicy(item_threshold=args.item_threshold, reword_threshold=args.reword_threshold,
                       max_changed_items=args.max_changed_items, synonyms=not args.no_synonyms)
    if args.sweep:
        rewords = [float(value) for value in (args.sweep_reword or str(base.reword_threshold)).split(",")]
        for threshold, reword in ((float(value), reword) for value in args.sweep.split(",") for reword in rewords):
            policy = MatchPolicy(threshold, reword, base.max_changed_items, base.synonyms)
            result = evaluate(pairs, vectors, policy, quiet=True)
            print(f"item {threshold:.2f} reword {reword:.2f}: " + "  ".join(
                f"{split}: ok {100 * result[f'{split}/same-answer-ok/rate']:.1f}%, miss served "
                f"{100 * result[f'{split}/must-miss/rate']:.2f}% (UB {100 * result[f'{split}/must-miss/ub']:.2f}%)"
                for split in ("dev", "held-out") if f"{split}/must-miss/rate" in result))
        return
    result = evaluate(pairs, vectors, base, show_errors=args.show_errors)
    ok = result["all/same-answer-ok/rate"] >= TARGET_SERVED and result["all/must-miss/ub"] <= TARGET_UPPER_BOUND
    print(f"\noverall: same-answer-ok served {100 * result['all/same-answer-ok/rate']:.1f}% (target >= 90%), "
          f"must-miss served {100 * result['all/must-miss/rate']:.2f}%, 95% upper bound "
          f"{100 * result['all/must-miss/ub']:.2f}% (target <= 1%): {'MET' if ok else 'NOT MET'}")


if __name__ == "__main__":
    main()
