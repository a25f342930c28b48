"""The `slam` preset's judge templates are Section IV-B2 of the SLaM paper, word for word, placeholders aside."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from evaluation.judges import CompareJudge, JudgeCache, JudgeClient, ScoreJudge, SelectJudge, get_preset
from evaluation.judges.presets import SLAM_REASON_DERIVATION, TEMPLATE_NAMES
from tests.evaluation.fakes import ScriptedLayer
from tests.paper import lines, paper_text, paragraph_after, squash

# Each template and the sentence that introduces it in Section IV-B2; GPT-Comparer with Reasoning has none of its
# own and sends GPT-Comparer's (SLAM_REASON_DERIVATION).
LEAD_INS = {"scorer": "Prompt template for this method is:", "comparer": "The prompt template is:",
            "comparer_reason": "The prompt template is:", "selector": "Prompt template:"}
PLACEHOLDERS = {"scorer": {"prompt", "response"}, "comparer": {"reference_response", "target_response"},
                "comparer_reason": {"reference_response", "target_response"},
                "selector": {"prompt", "responses", "num_responses"}}


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_each_slam_template_is_the_papers_text(name: str) -> None:
    printed = paragraph_after(paper_text(), LEAD_INS[name])
    template = get_preset("slam").template(name)
    assert set(re.findall(r"\{(\w+)\}", template)) == PLACEHOLDERS[name]
    # The paper prints its placeholders as bare words: un-fill ours and compare line by line, whitespace stripped.
    assert lines(re.sub(r"\{(\w+)\}", r"\1", template)) == lines(printed)


def test_the_preset_is_verbatim_and_says_how_the_reason_variant_is_derived() -> None:
    slam = get_preset("slam")
    assert slam.verbatim and "verbatim" in slam.provenance and "reconstruct" not in slam.provenance.lower()
    assert slam.template("comparer_reason") == slam.template("comparer")
    text = squash(paper_text())
    # The paper's description of the reason variant, which the derivation rests on.
    assert "In addition to asking for just a 0-10 rating, SLaM asks GPT-4 for a rationale behind each score" in text
    assert "Reason: Reasoning..." in SLAM_REASON_DERIVATION


def test_the_study_settings_come_from_the_paper() -> None:
    text = squash(paper_text())
    assert "we set the temperature parameter as 0.7" in text and get_preset("slam").temperature == 0.7
    assert "(e.g., four responses from 4 different models)" in text and get_preset("slam").selector_choices == 4


def _client(answer: object) -> tuple[JudgeClient, ScriptedLayer]:
    layer = ScriptedLayer(answer)  # type: ignore[arg-type]
    return JudgeClient(layer, model="fake:judge", cache=None, temperature=0.0, max_tokens=64), layer


async def test_filled_prompts_hold_the_judged_text_where_the_paper_puts_it() -> None:
    slam = get_preset("slam")
    judge_client, layer = _client(lambda prompt: "Reason: close.\nChoice: 2" if "RESPONSES:" in prompt
                                  else "Reason: The target covers 3 of the 5 tasks, a score of 3 would be harsh.\n"
                                       "Score: 8")
    await ScoreJudge(judge_client, preset=slam).score("THE PROMPT", "THE ANSWER")
    verdict = await CompareJudge(judge_client, with_reason=True, preset=slam).compare("P", "REF", "TARGET")
    picked = await SelectJudge(judge_client, preset=slam).select("p1", "THE PROMPT", {"a": "one", "b": "two"},
                                                                   orders=1)
    scorer, comparer, selector = (str(call.messages[0].content) for call in layer.calls)
    assert scorer.startswith("PROMPT: THE PROMPT\nRESPONSE: THE ANSWER\nRate the response")
    assert comparer.startswith("REFERENCE RESPONSE: REF\nTARGET RESPONSE: TARGET\n")
    assert selector.startswith("PROMPT:\nTHE PROMPT\nRESPONSES:\nResponse 1:\none\n\nResponse 2:\ntwo\n")
    assert "give the choice between 1 and 2." in selector
    # The `Score:` line decides; "a score of 3" inside the reason does not compete with it.
    assert (verdict.parsed, verdict.score) == (True, 8.0)
    assert verdict.reason is not None and verdict.reason.startswith("The target covers 3 of the 5 tasks")
    assert picked.picks[0].position == 2 and picked.picks[0].verdict.reason == "close."


async def test_the_two_comparers_are_independent_samples_of_one_prompt(tmp_path: Path) -> None:
    answers = iter(["Reason: a.\nScore: 6", "Reason: b.\nScore: 7"])
    layer = ScriptedLayer(lambda _prompt: next(answers))  # type: ignore[arg-type]
    judge_client = JudgeClient(layer, model="fake:judge", cache=JudgeCache(tmp_path / "c.sqlite"), temperature=0.7,
                               max_tokens=64)
    slam = get_preset("slam")
    plain = await CompareJudge(judge_client, preset=slam).compare("P", "REF", "TARGET")
    reasoned = await CompareJudge(judge_client, with_reason=True, preset=slam).compare("P", "REF", "TARGET")
    assert len(layer.calls) == 2 and layer.calls[0].messages == layer.calls[1].messages
    assert (plain.score, plain.reason, reasoned.score, reasoned.reason) == (6.0, None, 7.0, "b.")
    again = await CompareJudge(judge_client, with_reason=True, preset=slam).compare("P", "REF", "TARGET")
    assert again.cached and again.score == 7.0


@pytest.mark.parametrize(("text", "score", "problem"), [
    ("Reason: Close in meaning; a 9/10 would overstate it.\nScore: 7", 7.0, None),
    ("**Reason:** Same objective.\n**Score:** 8/10", 8.0, None),
    ("Reason: Reasoning...\nScore: Rating", None, "missing"),  # the format echoed back
    ("Reason: Close.\nScore: 7\nScore: 9", None, "contradictory"),
    ("Reason: Close.\nScore: 12", None, "out_of_range"),
    ("Close in meaning.\n7", 7.0, None),  # no `Score:` line: the general reading
])
def test_the_comparer_format_reads_its_score_line(text: str, score: float | None, problem: str | None) -> None:
    from evaluation.judges.parsing import parse_score

    result = parse_score(text, label="Score")
    assert (result.value, result.problem) == (score, problem)


@pytest.mark.parametrize(("text", "position", "problem"), [
    ("Reason: Response 3 is the best written, but 2 is more personal.\nChoice: 2", 2, None),
    ("Reason: It names every task.\nChoice: Response 4", 4, None),
    ("Reason: Reasoning...\nChoice: Choice", None, "missing"),
    ("Reason: Fine.\nChoice: 5", None, "out_of_range"),
])
def test_the_selector_format_reads_its_choice_line(text: str, position: int | None, problem: str | None) -> None:
    from evaluation.judges.parsing import parse_choice

    result = parse_choice(text, count=4, label="Choice")
    assert (result.position, result.problem) == (position, problem)
