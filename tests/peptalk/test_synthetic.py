"""The committed synthetic contexts are valid, cover every life domain, and regenerate identically."""

from __future__ import annotations

from peptalk.schema import PepTalkRequest
from peptalk.synthetic import GOALS, TASKS, generate_contexts, load_contexts


def test_committed_contexts_match_the_seeded_generator() -> None:
    committed = load_contexts()
    assert len(committed) >= 50
    assert committed == generate_contexts(len(committed))


def test_contexts_are_valid_and_cover_every_domain() -> None:
    contexts = load_contexts()
    assert len({context["user_id"] for context in contexts}) == len(contexts)
    text = " ".join(" ".join(context["completed_tasks"] + context["focused_tasks"] + context["goals"])
                    for context in contexts)
    for domain, tasks in TASKS.items():
        assert any(task in text for task in tasks + GOALS[domain]), domain
    for context in contexts:
        PepTalkRequest.model_validate(context)
