"""The production prompt (`slam`) is, byte for byte, the one the SLaM paper prints in Section III-A.

The test reads the paper's text from `shared/slam-paper.txt`, cuts out Section III-A's prompt ("You are given
below ..." to "Answer:"), and makes exactly two kinds of change before comparing bytes with
`peptalk/templates/slam.txt`: the paper's example values and `[LIST OF ...]` placeholders become the template's
fields, and its typographic single quotes become ASCII `'` (the characters and their counts are asserted, and
printed under `pytest -s`). The study's recorded prompt (`slam-recorded`) is compared too: it differs from the
paper's copy in exactly the lines named below.
"""

from __future__ import annotations

import difflib
import unicodedata

from peptalk.prompt import template_text
from tests.paper import lines, paper_text, plain

# The paper's example values and [placeholders], and the template's fields they stand for.
PAPER_VALUES = {"2023-11-13": "{today}", "2023-11-10": "{last_login}",
                "[LIST OF TASKS COMPLETED]": "{completed_tasks}", "[LIST OF TASKS PLANNED]": "{focused_tasks}",
                "[LIST OF RECURRING TASKS SCHEDULED]": "{rituals}", "[LIST OF USER SET GOALS]": "{goals}"}
# The characters normalised, each with how often it occurs in the printed prompt: U+2018 (left single quote)
# twice and U+2019 (right single quote / apostrophe) three times, in 'Based on the context, ...' and
# 'The context information ...' of rule 1, and in "today's". Nothing else in the prompt is outside ASCII.
NORMALISED = {"\u2018": 2, "\u2019": 3}
AVOID = "Avoid statements like 'Based on the context, ...' or 'The context information ...' or anything along those lines."
# The recorded prompt's lines the paper's copy lacks: a first rule, the paper's rule numbered 2 after it, and the
# context's two dashed rulers ...
RECORDED_NOT_PRINTED = ["1. Never directly reference the given context in your answer.", f"2. {AVOID}",
                        "---------------------", "---------------------"]
# ... and the paper's one line the recorded prompt words differently: the same rule, numbered 1.
PRINTED_NOT_RECORDED = [f"1. {AVOID}"]


def printed_prompt() -> str:
    """Section III-A's prompt exactly as the paper prints it, from "You are given below" to "Answer:"."""
    text = paper_text()
    section = text.index("A. Product Feature Case Study")
    start = text.index("You are given below a description of the tasks and goals", section)
    end = text.index("\nAnswer:", start) + len("\nAnswer:")
    assert end < text.index("B. Challenges with LLM APIs", section), "the prompt is not inside Section III-A"
    return text[start:end]


def with_fields(printed: str) -> str:
    """`printed` with each example value and placeholder replaced by the template's field (each occurs once)."""
    for value, field in PAPER_VALUES.items():
        assert printed.count(value) == 1, value
        printed = printed.replace(value, field)
    return printed


def describe(counts: dict[str, int]) -> str:
    """The normalised characters, one per line: code point, Unicode name, count and replacement."""
    return "\n".join(f"U+{ord(char):04X} {unicodedata.name(char)} x{count} -> {plain(char)[0]!r}"
                     for char, count in sorted(counts.items()))


def test_the_papers_prompt_normalises_only_its_single_quotes() -> None:
    printed = printed_prompt()
    ascii_text, counts = plain(printed)
    print(f"\nnormalised in Section III-A's prompt:\n{describe(counts)}")
    assert counts == NORMALISED, describe(counts)
    # Those are the only characters that change, and afterwards the prompt is plain ASCII.
    assert sorted({char for char in printed if not char.isascii()}) == sorted(NORMALISED)
    assert ascii_text.isascii()
    assert sum(a != b for a, b in zip(printed, ascii_text, strict=True)) == sum(NORMALISED.values())


def test_the_production_prompt_is_the_papers_byte_for_byte() -> None:
    expected = with_fields(plain(printed_prompt())[0])
    ours = template_text("slam")
    assert ours == expected  # pytest shows the difference
    assert ours.encode("utf-8") == expected.encode("utf-8")
    # The paper's layout is kept, blank lines included, and the file ends where the paper's prompt does.
    assert ours.count("\n\n") == 3 and ours.endswith("\nAnswer:")


def test_the_recorded_prompt_differs_from_the_papers_only_in_its_first_rule_and_rulers() -> None:
    theirs = lines(with_fields(plain(printed_prompt())[0]))
    ours = lines(template_text("slam-recorded"))
    only_ours, only_theirs = [], []
    for line in difflib.ndiff(theirs, ours):
        if line.startswith("+ "):
            only_ours.append(line[2:])
        elif line.startswith("- "):
            only_theirs.append(line[2:])
    assert only_ours == RECORDED_NOT_PRINTED
    assert only_theirs == PRINTED_NOT_RECORDED
    # Every other line of the paper is in the recorded prompt, word for word and in the paper's order.
    assert [line for line in ours if line not in RECORDED_NOT_PRINTED] == [
        line for line in theirs if line not in PRINTED_NOT_RECORDED]
