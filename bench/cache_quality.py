"""Semantic cache quality per source: how often `must-miss` pairs are served (with the one-sided 95%
Clopper-Pearson upper bound) and how often `same-answer-ok` pairs are, per pair and per request.

    .venv/bin/python bench/cache_quality.py [--pairs data/cache_pairs.jsonl data/cache_pairs_external.jsonl]
                                            [--limit 0] [--no-synonyms] [--show-errors 10]

Runs the shipped decision (`peptalk.cache.match`, `MatchPolicy()`). **Per pair**: served when the two canonical
contents are equal (an exact hit) or the decision serves the stored request's answer. **Per request**: a lookup
tries up to 8 candidates, so each new request is also tried against the 8 stored requests of its scope nearest to
it by MiniLM (the normalised mean of its item vectors, as the cache ranks them; real MiniLM): served when any of
them is served; for a `must-miss` request a candidate that is the same request up to case, punctuation, order
and articles (docs/cache-labelling.md; compared here by its own rule, not the matcher's) does not count: its
answer was written for that very request. The scope is the user for the generated set, the source for external sets.

A pairs file whose name ends in `.local.jsonl` holds pairs that may not be committed (SICK, CC BY-NC-SA:
`scripts/make_external_cache_pairs.py --sick-git`); the default run adds `data/cache_pairs_external_sick.local.jsonl`
when it exists. Each of its sources is reported as its own row and kept out of the `external` and `ALL` rows, so
those always describe the committed pairs.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from peptalk.cache.canonical import CanonicalContent  # noqa: E402
from peptalk.cache.match import MatchPolicy, lexical_match  # noqa: E402
from peptalk.schema import LIST_FIELDS  # noqa: E402

CANDIDATES = 8
PAIRS = [ROOT / "data" / "cache_pairs.jsonl", ROOT / "data" / "cache_pairs_external.jsonl"]
LOCAL_PAIRS = ROOT / "data" / "cache_pairs_external_sick.local.jsonl"  # git-ignored; made only on request
LOCAL_SUFFIX = ".local.jsonl"
VARIATIONS = ("case-punctuation", "case-whitespace-punctuation", "reordered", "order-of-items", "article",
              "typo-non-word")
TARGET_UB, TARGET_OK, MIN_EXTERNAL_MISS = 0.01, 0.80, 300


def upper_bound(failures: int, trials: int, confidence: float = 0.95) -> float:
    """One-sided Clopper-Pearson upper bound of a binomial rate."""
    from scipy.stats import beta

    if trials == 0 or failures >= trials:
        return 1.0
    return float(beta.ppf(confidence, failures + 1, trials - failures))


def load(paths: Iterable[Path], limit: int = 0) -> list[dict[str, Any]]:
    """The pairs of every file (`source` "generated" where a pair names none; `local` when the file's name ends in
    `.local.jsonl`); `limit` per source and kind."""
    pairs: list[dict[str, Any]] = []
    taken: dict[tuple[str, str], int] = defaultdict(int)
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                pair = json.loads(line)
                pair.setdefault("source", "generated")
                pair["local"] = path.name.endswith(LOCAL_SUFFIX)
                group = (pair["source"], pair["kind"])
                if not limit or taken[group] < limit:
                    taken[group] += 1
                    pairs.append(pair)
    return pairs


WORDS = re.compile(r"[^\W_]+")


def bare(request: dict[str, Any]) -> tuple[tuple[tuple[str, ...], ...], ...]:
    """A request's lists, each item's words lower-cased without articles, each list sorted: what the labelling
    rules count as the same request."""
    return tuple(tuple(sorted(tuple(word for word in WORDS.findall(str(item).lower()) if word not in ("a", "an", "the"))
                              for item in request.get(name) or [])) for name in LIST_FIELDS) + (
        ((str(request["today"]), str(request["last_login"])),),)


def rows(pair: dict[str, Any]) -> tuple[str, ...]:
    """The table rows a pair counts in: its source, then (unless it is local) `external` for a corpus source, and
    `ALL`."""
    if pair["local"]:
        return (pair["source"],)
    return (pair["source"], "ALL") if pair["source"] == "generated" else (pair["source"], "external", "ALL")


def default_pairs() -> list[Path]:
    """The committed pairs, and the local SICK pairs when a user has made them."""
    return PAIRS + ([LOCAL_PAIRS] if LOCAL_PAIRS.exists() else [])


def scope(pair: dict[str, Any]) -> str:
    return str(pair["stored"]["user_id"]) if pair["source"] == "generated" else pair["source"]


def served(stored: CanonicalContent, new: CanonicalContent, policy: MatchPolicy) -> tuple[bool, str | None]:
    if stored == new:
        return True, "exact"
    found = lexical_match(stored, new, policy)
    return found.pairs is not None, found.reason


@dataclass
class Outcome:
    pair: list[bool] = field(default_factory=list)
    request: list[bool] = field(default_factory=list)


class Candidates:
    """For each new request, the stored requests of its scope and dates nearest by MiniLM (at most 8)."""

    def __init__(self, pairs: list[dict[str, Any]]) -> None:
        from peptalk.cache.cache import summary_vector
        from peptalk.cache.embedder import MiniLMEmbedder

        contents = [(CanonicalContent.of(pair["stored"]), CanonicalContent.of(pair["new"])) for pair in pairs]
        items = sorted({item for both in contents for side in both for item in side.items()})
        embedder = MiniLMEmbedder()
        table = dict(zip(items, embedder.embed(items), strict=True))

        def summary(content: CanonicalContent) -> np.ndarray:
            found = content.items()
            return summary_vector(np.stack([table[item] for item in found]) if found else np.empty((0, 0)),
                                  embedder.dim)

        self.stored: dict[tuple[str, str, str], list[CanonicalContent]] = defaultdict(list)
        self.bare: dict[CanonicalContent, Any] = {}
        for pair, (stored, _) in zip(pairs, contents, strict=True):
            entries = self.stored[(scope(pair), stored.today, stored.last_login)]
            if stored not in entries:
                entries.append(stored)
                self.bare[stored] = bare(pair["stored"])
        self.vectors = {key: np.stack([summary(entry) for entry in entries]) for key, entries in self.stored.items()}
        self.summary = summary

    def of(self, pair: dict[str, Any], new: CanonicalContent) -> list[CanonicalContent]:
        key = (scope(pair), new.today, new.last_login)
        order = np.argsort(-(self.vectors[key] @ self.summary(new)), kind="stable")[:CANDIDATES]
        return [self.stored[key][index] for index in order]


def evaluate(pairs: list[dict[str, Any]], policy: MatchPolicy, candidates: Candidates | None
             ) -> tuple[dict[tuple[str, str, str], Outcome], list[str]]:
    outcomes: dict[tuple[str, str, str], Outcome] = defaultdict(Outcome)
    errors: list[str] = []
    for pair in pairs:
        stored, new = CanonicalContent.of(pair["stored"]), CanonicalContent.of(pair["new"])
        hit, reason = served(stored, new, policy)
        by_request = hit
        if candidates is not None:
            same = bare(pair["new"])
            tried = [entry for entry in candidates.of(pair, new)
                     if not (pair["label"] == "must-miss" and candidates.bare[entry] == same)]
            by_request = any(served(entry, new, policy)[0] for entry in tried)
        for kind in (pair["kind"], "ALL"):
            for source in rows(pair):
                outcome = outcomes[(source, pair["label"], kind)]
                outcome.pair.append(hit)
                outcome.request.append(by_request)
        if hit != (pair["label"] == "same-answer-ok") or by_request != hit:
            errors.append(f"{pair['id']} {pair['source']} {pair['kind']} pair {'served' if hit else 'missed'}, "
                          f"request {'served' if by_request else 'missed'}: {pair['note']} [{reason}]")
    return outcomes, errors


def table(outcomes: dict[tuple[str, str, str], Outcome]) -> list[str]:
    lines = [f"{'source':<24} {'label':<15} {'kind':<28} {'pairs':>5} {'served':>6} {'rate':>7} {'95% UB':>7}"
             f" {'req.served':>10} {'req.rate':>8}"]
    for (source, label, kind), outcome in sorted(outcomes.items(), key=lambda item: (
            item[0][0] in ("ALL", "external"), item[0][0], item[0][1], item[0][2] == "ALL", item[0][2])):
        count, hits, requests = len(outcome.pair), sum(outcome.pair), sum(outcome.request)
        bound = f"{100 * upper_bound(hits, count):6.2f}%" if label == "must-miss" else "      -"
        lines.append(f"{source:<24} {label:<15} {kind:<28} {count:>5} {hits:>6} {100 * hits / count:6.2f}% {bound}"
                     f" {requests:>10} {100 * requests / count:7.2f}%")
    return lines


def verdicts(outcomes: dict[tuple[str, str, str], Outcome]) -> list[tuple[str, bool]]:
    """The issue's targets, each with whether it holds."""
    sources = sorted({source for source, _, _ in outcomes if source not in ("ALL", "external")})
    found: list[tuple[str, bool]] = []
    for source in sources:
        miss = outcomes.get((source, "must-miss", "ALL"))
        if miss:
            found.append((f"{source}: 0 must-miss served per pair and per request",
                          not any(miss.pair) and not any(miss.request)))
    external = outcomes.get(("external", "must-miss", "ALL"))
    if external:
        bound = upper_bound(max(sum(external.pair), sum(external.request)), len(external.pair))
        found.append((f"external must-miss: {len(external.pair)} pairs (>= {MIN_EXTERNAL_MISS}), 95% UB "
                      f"{100 * bound:.2f}% (<= 1%)", len(external.pair) >= MIN_EXTERNAL_MISS and bound <= TARGET_UB))
    overall = outcomes.get(("ALL", "must-miss", "ALL"))
    if overall:
        bound = upper_bound(max(sum(overall.pair), sum(overall.request)), len(overall.pair))
        found.append((f"all must-miss: {len(overall.pair)} pairs, 95% UB {100 * bound:.2f}% (<= 1%)", bound <= TARGET_UB))
    ok = outcomes.get(("ALL", "same-answer-ok", "ALL"))
    if ok:
        rate = sum(ok.pair) / len(ok.pair)
        found.append((f"all same-answer-ok served {100 * rate:.1f}% (>= 80%)", rate >= TARGET_OK))
    for (source, label, kind), outcome in sorted(outcomes.items()):
        if kind in VARIATIONS and source not in ("ALL", "external"):
            found.append((f"{source} {kind}: {sum(outcome.pair)}/{len(outcome.pair)} served per pair, "
                          f"{sum(outcome.request)} per request (100%)", all(outcome.pair) and all(outcome.request)))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, nargs="+", default=None,
                        help=f"pairs files (default: the committed ones, and {LOCAL_PAIRS.name} when it exists)")
    parser.add_argument("--limit", type=int, default=0, help="at most this many pairs per source and kind (0: all)")
    parser.add_argument("--no-synonyms", action="store_true", help="without the synonym table (an ablation)")
    parser.add_argument("--no-requests", action="store_true", help="per pair only (no MiniLM)")
    parser.add_argument("--show-errors", type=int, default=0)
    args = parser.parse_args(argv)
    paths = args.pairs or default_pairs()
    pairs = load(paths, args.limit)
    policy = MatchPolicy(synonyms=not args.no_synonyms)
    candidates = None if args.no_requests else Candidates(pairs)
    outcomes, errors = evaluate(pairs, policy, candidates)
    print(f"policy: {policy}; per request: up to {CANDIDATES} candidates by MiniLM" if candidates else "")
    print("\n".join(table(outcomes)))
    for path in paths:
        if path.name.endswith(LOCAL_SUFFIX):
            print(f"local (not committed, not in the external and ALL rows): {path.name}")
    if args.show_errors:
        print(f"\n{len(errors)} decisions against the label (or differing per request); the first {args.show_errors}:")
        print("\n".join(errors[:args.show_errors]))
    print("\ntargets:")
    found = verdicts(outcomes)
    for text, holds in found:
        print(f"  {'MET' if holds else 'NOT MET'}  {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
