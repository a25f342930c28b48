"""Regenerates data/cache_pairs.jsonl, the semantic cache's labelled benchmark (rules: docs/cache-labelling.md).

    python scripts/make_cache_pairs.py [--seed 14] [--out data/cache_pairs.jsonl] [--show KIND]

Each line is one pair: the request a cached answer was written for (`stored`), a later request (`new`), the
`label` (`same-answer-ok` or `must-miss`), the `kind` of edit, the `split` (`dev`: the 60 contexts of
data/contexts.jsonl; `held-out`: 60 new contexts over a vocabulary the dev split never uses) and a `note`
saying what changed. Deterministic for a seed.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from peptalk.schema import LIST_FIELDS, PepTalkRequest  # noqa: E402
from peptalk.synthetic import load_contexts  # noqa: E402
from cache_pairs_vocab import EDITS, NEW_GOALS, NEW_RITUALS, NEW_TASKS  # noqa: E402

MUST_MISS = ("negation", "cancelled-or-postponed", "item-added", "item-dropped", "moved-between-lists",
             "changed-number", "changed-time", "changed-person", "changed-object", "changed-goal")
SAME_OK = ("reordered", "case-whitespace-punctuation", "article", "typo-non-word", "reworded")
PER_CONTEXT = {kind: 1 for kind in MUST_MISS} | {kind: 2 for kind in SAME_OK}
NEGATIONS = ["Did not {l}", "Didn't {l}", "Skipped: {i}", "Missed: {i}", "Never got to {l}", "Couldn't {l}",
             "Failed to {l}", "Forgot to {l}", "{i} - not done", "Not done: {i}"]
CANCELLED = ["{i} (cancelled)", "Cancelled: {i}", "Postponed: {i}", "{i} - postponed to next week",
             "Put off {l} until tomorrow", "{i} (rescheduled)", "Called off: {i}", "{i}, delayed"]
NUMBER = re.compile(r"\d+(?:,\d{3})*")
KEYBOARD = dict(zip("abcdefghijklmnopqrstuvwxyz", "sqxsrdfgujkloknplwatyvcezt", strict=True))
OK, MISS = "same-answer-ok", "must-miss"


def lower_first(item: str) -> str:
    return item[:1].lower() + item[1:] if not item[:2].isupper() else item


def new_contexts(count: int, rng: random.Random) -> list[dict[str, Any]]:
    """Contexts over the new vocabulary only (`NEW_*`), so the held-out split shares no task with the dev split."""
    contexts = []
    for index in range(count):
        picked = rng.sample(NEW_TASKS, k=rng.randint(2, 8))
        split = rng.randint(0, len(picked) - 1)
        today = dt.date(2026, 11, 2) + dt.timedelta(days=rng.randint(0, 20))
        contexts.append({
            "user_id": f"pairs-{index + 1:03d}", "today": today.isoformat(),
            "last_login": (today - dt.timedelta(days=rng.choice([1, 1, 2]))).isoformat(),
            "completed_tasks": picked[:split], "focused_tasks": picked[split:],
            "rituals": rng.sample(NEW_RITUALS, k=rng.randint(0, 2)), "goals": rng.sample(NEW_GOALS, k=rng.randint(1, 2)),
        })
    return contexts


def items(context: dict[str, Any], lists: tuple[str, ...] = LIST_FIELDS) -> list[tuple[str, int]]:
    return [(name, index) for name in lists for index in range(len(context[name]))]


def typo(word: str, rng: random.Random) -> str:
    """One keyboard slip inside a word (never its first letter)."""
    at = rng.randint(1, len(word) - 2)
    operation = rng.choice(["swap", "drop", "double", "neighbour"])
    if operation == "swap":
        return word[:at] + word[at + 1] + word[at] + word[at + 2:]
    if operation == "drop":
        return word[:at] + word[at + 1:]
    if operation == "double":
        return word[:at] + word[at] + word[at:]
    letter = word[at].lower()
    return word[:at] + KEYBOARD.get(letter, letter) + word[at + 1:]


def with_typo(item: str, rng: random.Random) -> str | None:
    """One slip that makes no word at all (wordfreq has never seen it: Zipf frequency 0); a slip that makes
    another word ("Finish" -> "Finnish", "month" -> "moth") is tried again, up to 8 times."""
    from wordfreq import zipf_frequency

    words = item.split(" ")
    long_words = [index for index, word in enumerate(words) if len(word) >= 5 and word.isalpha()
                  and not (index > 0 and word[0].isupper())]  # names are not typo'd: a changed name is another person
    if not long_words:
        return None
    index = rng.choice(long_words)
    for _ in range(8):
        slipped = typo(words[index], rng)
        if zipf_frequency(slipped, "en") == 0.0:
            return " ".join(words[:index] + [slipped] + words[index + 1:])
    return None


def article_changed(item: str, rng: random.Random) -> str | None:
    """An article dropped, added before the object, or "a" and "the" swapped."""
    words = item.split(" ")
    found = [index for index, word in enumerate(words) if word.lower() in ("a", "an", "the")]
    if found:
        index = rng.choice(found)
        if rng.random() < 0.5:
            return " ".join(words[:index] + words[index + 1:])
        return " ".join(words[:index] + ["the" if words[index].lower() in ("a", "an") else "a"] + words[index + 1:])
    if len(words) >= 2 and words[1].isalpha() and words[1].islower():
        return " ".join([words[0], "the", *words[1:]])
    return None


def restyled(item: str, rng: random.Random) -> str:
    """The same item in other case, spacing or punctuation."""
    options = [item.lower(), item.upper(), item + ".", item + "!", f"  {item} ", item.replace(" ", "  ", 1),
               item.replace("'", ""), item.replace("-", " "), item.lower().rstrip() + " ...", item.title()]
    changed = [option for option in options if option.strip() != item]
    return rng.choice(changed)


def changed_number(item: str, rng: random.Random) -> str | None:
    if EDITS.get(item, {}).get("number"):
        return rng.choice(EDITS[item]["number"])
    found = list(NUMBER.finditer(item))
    if not found:
        return None
    match = rng.choice(found)
    value = int(match.group().replace(",", ""))
    other = value + rng.choice([1, 2, 5, 10]) if value < 100 else value // 2
    text = f"{other:,}" if "," in match.group() else str(other)
    return item[:match.start()] + text + item[match.end():]


class PairMaker:
    """Makes the pairs of one context, one kind at a time."""

    def __init__(self, context: dict[str, Any], pool: list[str], rng: random.Random) -> None:
        self.context = context
        self.pool = pool
        self.rng = rng

    def replace(self, name: str, index: int, text: str) -> dict[str, Any]:
        new = copy.deepcopy(self.context)
        new[name][index] = text
        return new

    def per_item(self, kind: str, lists: tuple[str, ...] = LIST_FIELDS) -> tuple[dict[str, Any], str] | None:
        """One item edited: the kind's hand-written variant, or its rule."""
        candidates = items(self.context, lists)
        self.rng.shuffle(candidates)
        for name, index in candidates:
            item = self.context[name][index]
            text = self.variant(kind, item)
            if text is not None and text != item:
                return self.replace(name, index, text), f"{name}[{index}]: {item!r} -> {text!r}"
        return None

    def variant(self, kind: str, item: str) -> str | None:
        rng = self.rng
        edits = EDITS.get(item, {})
        if kind == "negation":
            return rng.choice(NEGATIONS).format(i=item, l=lower_first(item))
        if kind == "cancelled-or-postponed":
            return rng.choice(CANCELLED).format(i=item, l=lower_first(item))
        if kind == "changed-number":
            return changed_number(item, rng)
        if kind in ("changed-time", "changed-person", "changed-object", "reworded"):
            options = edits.get(kind.removeprefix("changed-"), [])
            return rng.choice(options) if options else None
        if kind == "typo-non-word":
            return with_typo(item, rng)
        if kind == "case-whitespace-punctuation":
            return restyled(item, rng)
        if kind == "article":
            return article_changed(item, rng)
        raise ValueError(kind)

    def make(self, kind: str) -> tuple[dict[str, Any], dict[str, Any], str] | None:
        """(stored, new, note) for one pair of this kind, or None when the context offers none."""
        context, rng = self.context, self.rng
        if kind == "typo-non-word" and rng.random() < 0.5:  # a typo fixed: the stored request had it
            made = self.per_item(kind)
            return (made[0], context, "fixed: " + made[1]) if made else None
        if kind in ("negation", "cancelled-or-postponed"):
            made = self.per_item(kind, ("completed_tasks", "focused_tasks", "rituals"))
        elif kind == "changed-goal":
            if not context["goals"]:
                return None
            index = rng.randrange(len(context["goals"]))
            fresh = [goal for goal in self.pool if goal not in context["goals"]]
            text = rng.choice(fresh)
            made = self.replace("goals", index, text), f"goals[{index}]: {context['goals'][index]!r} -> {text!r}"
        elif kind == "item-added":
            present = {item for name in LIST_FIELDS for item in context[name]}
            text = rng.choice([task for task in self.pool if task not in present])
            name = rng.choice(["completed_tasks", "focused_tasks", "focused_tasks", "rituals"])
            new = copy.deepcopy(context)
            new[name].insert(rng.randint(0, len(new[name])), text)
            made = new, f"{name}: added {text!r}"
        elif kind == "item-dropped":
            name, index = rng.choice(items(context))
            new = copy.deepcopy(context)
            dropped = new[name].pop(index)
            made = new, f"{name}: dropped {dropped!r}"
        elif kind == "moved-between-lists":
            source, target = ("focused_tasks", "completed_tasks")
            if not context[source] or (context["completed_tasks"] and rng.random() < 0.25):
                source, target = target, source
            if not context[source]:
                return None
            new = copy.deepcopy(context)
            moved = new[source].pop(rng.randrange(len(new[source])))
            new[target].insert(rng.randint(0, len(new[target])), moved)
            made = new, f"{moved!r} moved from {source} to {target}"
        elif kind == "reordered":
            lists = [name for name in LIST_FIELDS if len(set(context[name])) >= 2]
            if not lists:
                return None
            new = copy.deepcopy(context)
            for name in rng.sample(lists, k=rng.randint(1, len(lists))):
                while new[name] == context[name]:
                    rng.shuffle(new[name])
            made = new, "reordered: " + ", ".join(name for name in lists if new[name] != context[name])
        else:
            made = self.per_item(kind)
        return (context, made[0], made[1]) if made else None


def issue_example() -> dict[str, Any]:
    stored = {"user_id": "maya", "today": "2026-11-22", "last_login": "2026-11-21", "completed_tasks": ["Run 10 km"],
              "focused_tasks": ["Email Sarah the budget draft"], "rituals": ["Morning meditation"],
              "goals": ["Read 12 books this year"]}
    new = stored | {"completed_tasks": ["Skipped the 10 km run"]}
    return {"kind": "negation", "label": MISS, "split": "held-out", "stored": stored, "new": new,
            "note": "issue 14's example: 'Run 10 km' -> 'Skipped the 10 km run'"}


def make_pairs(seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    dev = load_contexts()
    dev_pool = sorted({item for context in dev for name in ("completed_tasks", "focused_tasks") for item in context[name]})
    dev_goals = sorted({goal for context in dev for goal in context["goals"]})
    splits = [("dev", dev, dev_pool, dev_goals), ("held-out", new_contexts(60, rng), NEW_TASKS, NEW_GOALS)]
    pairs = [issue_example()]
    for split, contexts, tasks, goals in splits:
        for context in contexts:
            for kind, count in PER_CONTEXT.items():
                maker = PairMaker(context, goals if kind == "changed-goal" else tasks, rng)
                seen: set[str] = set()
                for _ in range(count):
                    made = maker.make(kind)
                    if made is None or made[2] in seen:
                        continue
                    seen.add(made[2])
                    stored, new, note = made
                    pairs.append({"kind": kind, "label": MISS if kind in MUST_MISS else OK, "split": split,
                                  "stored": stored, "new": new, "note": note})
    for number, pair in enumerate(pairs):
        pair["id"] = f"pair-{number:05d}"
        for side in ("stored", "new"):
            PepTalkRequest.model_validate(pair[side])
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "cache_pairs.jsonl")
    parser.add_argument("--show", help="print a sample of this kind instead of writing the file")
    parser.add_argument("--sample", type=int, default=8)
    args = parser.parse_args()
    pairs = make_pairs(args.seed)
    if args.show:
        chosen = [pair for pair in pairs if pair["kind"] == args.show]
        for pair in random.Random(0).sample(chosen, k=min(args.sample, len(chosen))):
            print(f"{pair['id']} {pair['split']:>8} {pair['label']}: {pair['note']}")
        return
    order = ["id", "split", "kind", "label", "note", "stored", "new"]
    args.out.write_text("".join(json.dumps({key: pair[key] for key in order}) + "\n" for pair in pairs), encoding="utf-8")
    counts = Counter((pair["label"], pair["kind"]) for pair in pairs)
    print(f"wrote {len(pairs)} pairs to {args.out}")
    for (label, kind), count in sorted(counts.items()):
        print(f"  {label:>15} {kind:<28} {count}")


if __name__ == "__main__":
    main()
