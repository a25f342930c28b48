"""The production prompt (`slam`) against the one the SLaM paper prints in Section III-A.

The template is the study's recorded production prompt (tests/peptalk/test_prompt.py pins it byte for byte); this
test reads the paper's printed copy from `shared/slam-paper.txt` and proves that, once the paper's typographic
quotes are made ASCII and its example values are put back as placeholders, the two differ in exactly the lines
named in `RECORDED_NOT_PRINTED` and `PRINTED_NOT_RECORDED`, and nowhere else.
"""

from __future__ import annotations

import difflib

from peptalk.prompt import template_text
from tests.paper import lines, paper_text, plain

# The paper's example values and [placeholders], and the template's fields they stand for.
PAPER_VALUES = {"2023-11-13": "{today}", "2023-11-10": "{last_login}",
                "[LIST OF TASKS COMPLETED]": "{completed_tasks}", "[LIST OF TASKS PLANNED]": "{focused_tasks}", "[LIST OF RECURRING TASKS SCHEDULED]": "{rituals}",
                "[LIST OF USER SET GOALS]": "{goals}"}
# Characters the paper's text sets typographically, and how often each is replaced by its ASCII form:
# U+2018 (left single quote) twice and U+2019 (right single quote / apostrophe) three times:
# 'Based on the context, ...' and 'The context information ...' in rule 1, and "today's".
NORMALISED = {"\u2018": 2, "\u2019": 3}
AVOID = "Avoid statements like 'Based on the context, ...' or 'The context information ...' or anything along those lines."
# The recorded prompt's lines the paper's copy lacks: a first rule, the paper's rule numbered 2 after it, and the
# context's two dashed rulers ...
RECORDED_NOT_PRINTED = ["1. Never directly reference the given context in your answer.", f"2. {AVOID}",
                        "---------------------", "---------------------"]
# ... and the paper's one line the recorded prompt words differently: the same rule, numbered 1.
PRINTED_NOT_RECORDED = [f"1. {AVOID}"]


def printed_prompt() -> str:
    """Section III-A's prompt as the paper prints it, from "You are given below" to "Answer:"."""
    text = paper_text()
    start = text.index("You are given below a description of the tasks and goals")
    end = text.index("\nAnswer:", start) + len("\nAnswer:")
    return text[start:end]


def test_the_papers_prompt_uses_only_the_typography_we_normalise() -> None:
    printed, counts = plain(printed_prompt())
    assert counts == NORMALISED
    assert printed.isascii()


def test_the_production_prompt_is_the_papers_but_for_the_recorded_rule_and_rulers() -> None:
    printed, _ = plain(printed_prompt())
    for value, field in PAPER_VALUES.items():
        assert printed.count(value) == 1, value
        printed = printed.replace(value, field)
    ours = lines(template_text("slam"))
    theirs = lines(printed)
    only_ours, only_theirs = [], []
    for line in difflib.ndiff(theirs, ours):
        if line.startswith("+ "):
            only_ours.append(line[2:])
        elif line.startswith("- "):
            only_theirs.append(line[2:])
    assert only_ours == RECORDED_NOT_PRINTED
    assert only_theirs == PRINTED_NOT_RECORDED
    # Every other line of the paper is in the template, word for word and in the paper's order.
    assert [line for line in ours if line not in RECORDED_NOT_PRINTED] == [
        line for line in theirs if line not in PRINTED_NOT_RECORDED]
