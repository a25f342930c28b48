"""Builds data/cache_pairs_external.jsonl: semantic-cache pairs from public NLI corpora nobody on this team wrote
(sources and licences: data/cache_pairs_external.md; rules: docs/cache-labelling.md).

    python scripts/make_external_cache_pairs.py --hans-git /work/.mirror/tommccoy1+hans/repo/.git \\
        [--sick-git /path/to/your/kkalouli+SICK-processing/repo] [--per-source 400] [--seed 23]

(tommccoy1/hans as the `fetch` tool brings it). Each sentence pair becomes one changed item of a task list: the
first sentence is the item the cached answer was written for, the second the item of the later request, the rest of
the request the same.

SICK (kkalouli/SICK-processing) is licensed CC BY-NC-SA 3.0, which this repository does not redistribute: it is
left out unless `--sick-git` names a copy you fetched yourself, and then its pairs go to their own git-ignored file,
`data/cache_pairs_external_sick.local.jsonl` (`--sick-out`), which `bench/cache_quality.py` reads when it exists.
The committed file is the same with or without `--sick-git`.

- `must-miss`: contradiction and neutral pairs (the second sentence does not follow from the first) whose words
  overlap strongly: at most 6 tokens differ, and the two share at least half of their tokens. These are the
  near-repeats a cache could mistake for the same request.
- `same-answer-ok`, SICK only: pairs annotated as entailing each other both ways (paraphrases).
- Variations of the first sentences of the must-miss pairs, made by rule: case, punctuation, the order of the
  list's items, an article added or dropped, and one keyboard slip that makes no word (a word wordfreq has not
  seen, in a lower-case word of five letters or more, never a capitalised word, which may be a name).

This script reads only the corpora and `wordfreq`; it does not import the matcher or its word lists.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from make_cache_pairs import typo  # noqa: E402  (scripts/ is on the path when this runs as a script)

MISS, OK = "must-miss", "same-answer-ok"
WORD = re.compile(r"[A-Za-z]+|\d+")
MAX_CHARS = 160
BASE = {"today": "2026-12-01", "last_login": "2026-11-30", "rituals": ["Morning walk"],
        "goals": ["Finish the quarterly report"]}


def git_show(git_dir: Path, path: str) -> str:
    return subprocess.run(["git", f"--git-dir={git_dir}", "show", f"HEAD:{path}"], check=True, capture_output=True,
                          text=True).stdout


def overlapping(first: str, second: str) -> bool:
    """Strong word overlap: at most 6 tokens differ, at least half shared (of the longer side)."""
    left, right = Counter(WORD.findall(first.lower())), Counter(WORD.findall(second.lower()))
    differing = sum(((left - right) + (right - left)).values())
    shared = sum((left & right).values())
    return 0 < differing <= 6 and shared >= 0.5 * max(sum(left.values()), sum(right.values()))


def trivially_equal(first: str, second: str) -> bool:
    """Equal up to case, punctuation and articles: the NLI label then rests on something no task list carries
    (an article's definiteness, a capital letter), which docs/cache-labelling.md counts as the same request."""
    def bare(text: str) -> list[str]:
        return [word for word in WORD.findall(text.lower()) if word not in ("a", "an", "the")]

    return bare(first) == bare(second)


def usable(text: str) -> bool:
    return 0 < len(text.strip()) <= MAX_CHARS


def mnli_dev(hans: Path) -> list[tuple[str, str, str, str]]:
    """(first, second, gold label, id) from MultiNLI's matched dev set, as the HANS repository ships it."""
    text = git_show(hans, "berts_of_a_feather/mnli_development_set_number_of_correct_responses.txt")
    rows = list(csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE))[1:]
    return [(row[1], row[2], row[3], f"mnli-dev-{row[0]}") for row in rows if len(row) >= 4]


def hans_mnli_contradicting(hans: Path) -> list[tuple[str, str, str, str]]:
    rows = [line.split("\t") for line in git_show(hans, "mnli_contradicting_examples").splitlines() if line.strip()]
    return [(row[0], row[1], row[2].strip(), f"hans-mnli-{index}") for index, row in enumerate(rows) if len(row) >= 3]


def sick(sick_git: Path) -> list[tuple[str, str, str, str]]:
    rows = list(csv.DictReader(io.StringIO(git_show(sick_git, "SICK.txt")), delimiter="\t"))
    found = []
    for row in rows:
        label = row["entailment_label"].lower()
        if row["entailment_AB"] == "A_entails_B" and row["entailment_BA"] == "B_entails_A":
            label = "paraphrase"
        found.append((row["sentence_A"], row["sentence_B"], label, f"sick-{row['pair_ID']}"))
    return found


def request(item: str, user: str, others: list[str]) -> dict[str, Any]:
    return BASE | {"user_id": user, "completed_tasks": [], "focused_tasks": [item, *others]}


def keyboard_slip(text: str, rng: random.Random) -> str | None:
    """One slip (`make_cache_pairs.typo`) in a lower-case word of 5+ letters that makes no word."""
    from wordfreq import zipf_frequency

    words = text.split(" ")
    candidates = [index for index, word in enumerate(words) if word.isalpha() and word.islower() and len(word) >= 5]
    rng.shuffle(candidates)
    for index in candidates:
        for _ in range(6):
            slipped = typo(words[index], rng)
            if slipped != words[index] and zipf_frequency(slipped, "en") == 0.0:
                return " ".join(words[:index] + [slipped] + words[index + 1:])
    return None


def article_changed(text: str, rng: random.Random) -> str | None:
    """An article dropped, or swapped for another ("a" <-> "the")."""
    words = text.split(" ")
    found = [index for index, word in enumerate(words) if word.lower() in ("a", "an", "the")]
    if not found:
        return None
    index = rng.choice(found)
    if rng.random() < 0.5 and len(words) > 2:
        return " ".join(words[:index] + words[index + 1:])
    swapped = "the" if words[index].lower() in ("a", "an") else "a"
    return " ".join(words[:index] + [swapped.capitalize() if words[index][0].isupper() else swapped] + words[index + 1:])


def restyled(text: str, rng: random.Random) -> str:
    options = [text.lower(), text.upper(), text.rstrip(".") + "!", f"  {text}  ", text.replace(" ", "  ", 1),
               text.rstrip(".") + "...", text.title(), text.replace(",", "")]
    return rng.choice([option for option in options if option != text])


def variations(source: str, firsts: list[str], rng: random.Random, count: int) -> list[dict[str, Any]]:
    pairs: list[dict[str, Any]] = []
    makers = {"case-punctuation": restyled, "article": article_changed, "typo-non-word": keyboard_slip}
    for kind, maker in makers.items():
        made = 0
        for first in rng.sample(firsts, k=len(firsts)):
            second = maker(first, rng)
            if second is None or second == first or made >= count:
                continue
            made += 1
            user = f"{source}-var-{kind}-{made}"
            pairs.append({"kind": kind, "label": OK, "stored": request(first, user, ["Call the bank"]),
                          "new": request(second, user, ["Call the bank"]), "note": f"{first!r} -> {second!r}"})
    for made, first in enumerate(rng.sample(firsts, k=min(count, len(firsts)))):
        user = f"{source}-var-order-{made}"
        stored = request(first, user, ["Call the bank", "Water the plants"])
        new = stored | {"focused_tasks": list(reversed(stored["focused_tasks"]))}
        pairs.append({"kind": "order-of-items", "label": OK, "stored": stored, "new": new,
                      "note": f"focused tasks reversed around {first!r}"})
    return pairs


def build(sources: dict[str, list[tuple[str, str, str, str]]], per_source: int, seed: int, prefix: str = "ext"
          ) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    pairs: list[dict[str, Any]] = []
    for source, rows in sources.items():
        kept = [row for row in rows if usable(row[0]) and usable(row[1]) and overlapping(row[0], row[1])
                and not trivially_equal(row[0], row[1])]
        misses = [row for row in kept if row[2] in ("contradiction", "neutral")]
        misses = sorted(rng.sample(misses, k=min(per_source, len(misses))), key=lambda row: row[3])
        for first, second, label, origin in misses:
            user = f"{source}-{origin}"
            pairs.append({"kind": f"nli-{label}", "label": MISS, "origin": origin, "stored": request(first, user, []),
                          "new": request(second, user, []), "note": f"{first!r} -> {second!r}"})
        paraphrases = [row for row in kept if row[2] == "paraphrase"]
        for first, second, _, origin in sorted(rng.sample(paraphrases, k=min(per_source // 4, len(paraphrases))),
                                               key=lambda row: row[3]):
            user = f"{source}-{origin}"
            pairs.append({"kind": "nli-paraphrase", "label": OK, "origin": origin, "stored": request(first, user, []),
                          "new": request(second, user, []), "note": f"{first!r} -> {second!r}"})
        for pair in variations(source, sorted({row[0] for row in misses}), rng, count=max(10, per_source // 8)):
            pairs.append(pair | {"origin": "rule"})
        for pair in pairs:
            pair.setdefault("source", source)
    for number, pair in enumerate(pairs):
        pair["id"] = f"{prefix}-{number:05d}"
        pair["split"] = "external"
    return pairs


def write(pairs: list[dict[str, Any]], out: Path) -> None:
    order = ["id", "source", "origin", "split", "kind", "label", "note", "stored", "new"]
    out.write_text("".join(json.dumps({key: pair[key] for key in order}) + "\n" for pair in pairs), encoding="utf-8")
    print(f"wrote {len(pairs)} pairs to {out}")
    for (source, label, kind), count in sorted(Counter((p["source"], p["label"], p["kind"]) for p in pairs).items()):
        print(f"  {source:<24} {label:>15} {kind:<20} {count}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hans-git", type=Path, required=True, help="tommccoy1/hans (a git directory)")
    parser.add_argument("--sick-git", type=Path, default=None,
                        help="opt-in: your own copy of kkalouli/SICK-processing (a git directory); CC BY-NC-SA 3.0, "
                             "so its pairs go to --sick-out, which git ignores")
    parser.add_argument("--per-source", type=int, default=400, help="must-miss pairs kept per source, at most")
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "cache_pairs_external.jsonl")
    parser.add_argument("--sick-out", type=Path, default=ROOT / "data" / "cache_pairs_external_sick.local.jsonl",
                        help="where the SICK pairs go (a name ending in .local.jsonl: bench/cache_quality.py keeps "
                             "them out of its committed totals)")
    args = parser.parse_args()
    if args.sick_git is not None and not args.sick_out.name.endswith(".local.jsonl"):
        parser.error("--sick-out: the name must end in .local.jsonl (git ignores it; SICK is CC BY-NC-SA 3.0)")
    sources = {"mnli-dev": mnli_dev(args.hans_git), "hans-mnli-contradicting": hans_mnli_contradicting(args.hans_git)}
    write(build(sources, args.per_source, args.seed), args.out)
    if args.sick_git is not None:
        write(build({"sick": sick(args.sick_git)}, args.per_source, args.seed, prefix="ext-sick"), args.sick_out)


if __name__ == "__main__":
    main()
