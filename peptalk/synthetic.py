"""Seeded synthetic pep-talk contexts (no real personal data) for evaluation and load tests."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

from peptalk.schema import PepTalkRequest

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "data" / "contexts.jsonl"

TASKS = {
    "work": ["Prepare the quarterly review slides", "Answer the client's contract questions", "Review two pull requests",
             "Write the API migration plan", "Run the sprint retrospective", "Fix the flaky login test",
             "Draft the hiring scorecard", "Update the on-call runbook", "Sync with design on the onboarding flow",
             "Clean up the analytics dashboard"],
    "health": ["Go for a 5 km run", "Book the dentist appointment", "Meal-prep lunches for three days",
               "Do a 20-minute yoga session", "Refill the prescription", "Walk 10,000 steps",
               "Go to bed before 11 pm", "Swim 30 lengths"],
    "finance": ["Pay the electricity bill", "Review this month's budget", "Move savings into the emergency fund",
                "File the expense report", "Compare home insurance quotes", "Cancel the unused streaming plan",
                "Set up the automatic rent transfer", "Gather receipts for the tax return"],
    "personal": ["Call grandma", "Plan the weekend hike", "Read two chapters of the novel", "Fix the leaking tap",
                 "Practise Spanish for 15 minutes", "Buy a birthday present for a friend", "Declutter the desk",
                 "Water the plants", "Sort the photo backup", "Cook a new recipe"],
}
RITUALS = ["Morning meditation", "Journal three lines before bed", "Stretch for ten minutes", "Inbox zero at 5 pm",
           "Plan tomorrow's top three tasks", "Drink a glass of water after waking", "Evening walk",
           "No screens after 10 pm", "Weekly review on Sunday"]
GOALS = {
    "work": ["Ship the beta of the mobile app", "Close the Q4 hiring plan", "Get the API migration approved"],
    "health": ["Run 20 km this week", "Sleep seven hours a night", "Cook at home five times"],
    "finance": ["Stay under the grocery budget", "Save 10% of this month's income", "Finish the tax paperwork"],
    "personal": ["Finish the novel", "Call family twice", "Plan the summer trip"],
}


def generate_contexts(count: int = 60, *, seed: int = 20231201, start: dt.date = dt.date(2026, 11, 2)) -> list[dict[str, Any]]:
    """`count` valid `PepTalkRequest` payloads mixing work, health, finance and personal life."""
    rng = random.Random(seed)
    domains = list(TASKS)
    contexts = []
    for index in range(count):
        focus = rng.sample(domains, k=rng.randint(2, 4))
        pool = [task for domain in focus for task in TASKS[domain]]
        picked = rng.sample(pool, k=min(len(pool), rng.randint(2, 8)))
        split = rng.randint(0, len(picked) - 1)
        today = start + dt.timedelta(days=rng.randint(0, 20))
        payload = {
            "user_id": f"user-{index + 1:03d}",
            "today": today.isoformat(),
            "last_login": (today - dt.timedelta(days=rng.choice([1, 1, 1, 2, 3]))).isoformat(),
            "completed_tasks": picked[:split],
            "focused_tasks": picked[split:],
            "rituals": rng.sample(RITUALS, k=rng.randint(0, 3)),
            "goals": [rng.choice(GOALS[domain]) for domain in focus[: rng.randint(1, 3)]],
        }
        PepTalkRequest.model_validate(payload)
        contexts.append(payload)
    return contexts


def write_contexts(path: Path, contexts: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(context) + "\n" for context in contexts), encoding="utf-8")


def load_contexts(path: Path = DEFAULT_PATH) -> list[dict[str, Any]]:
    """The committed contexts (or another JSONL file of `PepTalkRequest` payloads)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
