"""The generator over a scripted layer: prompts x models x repeats, timings and tokens, failures recorded."""

from __future__ import annotations

from evaluation.generator import generate, keep_response, prompt_ids
from evaluation.records import CallRecord
from peptalk.synthetic import load_contexts
from tests.evaluation.fakes import ScriptedLayer


async def test_every_prompt_model_and_repeat_is_called_and_timed() -> None:
    contexts = load_contexts()[:2]
    layer = ScriptedLayer(lambda prompt: "Keep going!")
    seen: list[CallRecord] = []
    items, calls = await generate(layer, contexts=contexts, models=["a:x", "b:y"], repeats=3, reference_model="a:x",
                                  on_call=seen.append)
    assert len(calls) == len(seen) == 2 * 2 * 3
    assert [item.prompt_id for item in items] == prompt_ids(contexts)
    assert items[0].responses == {"a:x": "Keep going!", "b:y": "Keep going!"}
    assert items[0].request == contexts[0] and contexts[0]["focused_tasks"][0] in items[0].prompt
    first = calls[0]
    assert (first.source, first.repeat, first.input_tokens, first.output_tokens) == ("generator", 0, 11, 5)
    assert first.usage_source == "backend"
    assert first.latency_s is not None and first.ttft_s is not None and 0 <= first.ttft_s <= first.latency_s
    assert sorted({call.repeat for call in calls}) == [0, 1, 2]


async def test_a_failed_call_is_recorded_and_the_next_repeat_kept() -> None:
    layer = ScriptedLayer(lambda prompt: "Fine.", failures=1)
    items, calls = await generate(layer, contexts=load_contexts()[:1], models=["a:x"], repeats=2, reference_model="a:x")
    assert calls[0].error is not None and "ConnectionError" in calls[0].error and calls[0].response is None
    assert items[0].responses == {"a:x": "Fine."}


def test_keep_response_prefers_the_chosen_repeat() -> None:
    records = [CallRecord(model="m", response=f"r{index}", repeat=index) for index in range(3)]
    assert keep_response(records, keep_repeat=2) == "r2"
    assert keep_response([CallRecord(model="m", error="x", repeat=0)], keep_repeat=0) is None


def test_prompt_ids_are_unique() -> None:
    context = {"user_id": "u", "today": "2026-11-22"}
    assert prompt_ids([context, context, context]) == ["u@2026-11-22", "u@2026-11-22#2", "u@2026-11-22#3"]
