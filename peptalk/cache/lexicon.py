"""The only word lists the match decision uses: the words that never change a task, and a short table of
words that substitute exactly for each other in a task. Everything else is content, and a content word that
differs is a miss unless it is a slip of the keyboard or another form of the same word (`words.py`).

Each synonym group is reviewed (docs/cache.md) and tested (tests/peptalk/cache/test_match.py): a group is here
only when any of its members can replace any other in any task without changing what the task asks. Words that
substitute in some tasks and not in others ("fix dinner", "present the slides", "ring the bell", "doc" for a
doctor) are left out.
"""

from __future__ import annotations

# Articles and the possessive determiners of the user's own things: "Call my mom" is "Call mom". Every other
# function word is content: to/from, before/after, first/second, not, his/her, almost, with ...
IGNORABLE = frozenset({"a", "an", "the", "my", "our"})

# One group per line; a member may be a phrase of canonical tokens ("pull request").
SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("call", "phone"),
    ("buy", "purchase"),
    ("reply", "respond"),
    ("email", "e mail"),
    ("mom", "mum"),
    ("grandma", "grandmother"),
    ("grandpa", "grandfather"),
    ("minute", "min", "mins"),
    ("hour", "hr", "hrs"),
    ("kilometre", "kilometer", "km"),
    ("kilogram", "kg"),
    ("appointment", "appt"),
    ("pull request", "pr"),
    ("percent", "per cent"),
    ("okay", "ok"),
    ("organise", "organize"),
    ("finalise", "finalize"),
    ("practise", "practice"),
    ("colour", "color"),
    ("centre", "center"),
    ("theatre", "theater"),
)

SYNONYMS: dict[str, frozenset[str]] = {}
for _group in SYNONYM_GROUPS:
    for _member in _group:
        SYNONYMS[_member] = SYNONYMS.get(_member, frozenset()) | frozenset(_group)

__all__ = ["IGNORABLE", "SYNONYMS", "SYNONYM_GROUPS"]
