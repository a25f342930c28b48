"""Word lists the match decision uses: what carries meaning on its own, and what does not.

These are general English, written for task lists, not for the benchmark's pairs: polarity and status words,
quantities and times, people, words that carry no meaning in a task, and a small table of interchangeable
words (synonyms and abbreviations).
"""

from __future__ import annotations

# A task's state: any of these present on one side only changes the meaning ("Run 10 km" / "Skipped the 10 km run").
POLARITY = frozenset("""
not no never nothing none neither nor without dont didnt doesnt isnt wasnt wont cant cannot couldnt shouldnt
wouldnt havent hasnt hadnt arent werent skip skipped skipping missed miss missing failed fail failing forgot forget
forgotten cancel cancelled canceled cancelling cancellation postpone postponed postponing delay delayed
reschedule rescheduled off undone unfinished incomplete abandon abandoned dropped quit stopped
stop instead late later tomorrow yesterday next previous last pending blocked stuck declined rejected
""".split())

# When: a different one is a different task.
TIME = frozenset("""
am pm morning afternoon evening night tonight noon midnight today tomorrow yesterday weekend weekday weekly daily
monthly yearly annual week month year quarter q1 q2 q3 q4 monday tuesday wednesday thursday friday saturday sunday
january february march april may june july august september october november december spring summer autumn
fall winter hour hours breakfast brunch lunch dinner supper
""".split())

# Who: a different one is a different task ("Call mom" / "Call dad").
PEOPLE = frozenset("""
mom mum mother dad father parents grandma grandpa grandmother grandfather granny nan sister brother sibling wife
husband partner son daughter kids kid children child baby aunt uncle cousin niece nephew friend friends family
boss manager colleague colleagues team client clients neighbour neighbor teacher doctor dentist
""".split())

# Words that add nothing to a task's meaning.
FILLER = frozenset("""
a an the my our your his her their its this that these those some any to for of on in at by with and up out
about into onto from be do go get have make take it me i im ill lets let just really also please again
""".split())

# Interchangeable words (one group per line); abbreviations count as their full word.
SYNONYM_GROUPS = [
    "call phone ring", "buy purchase", "fix repair mend", "finish complete finalise finalize wrap",
    "tidy clean declutter", "organise organize sort", "review check", "prepare ready prep", "write draft",
    "collect gather", "transfer move", "answer reply respond", "release ship launch start", "send submit file",
    "practise practice", "min mins minute minutes", "km kilometre kilometres kilometer kilometers",
    "kg kilo kilos kilogram kilograms", "percent pct", "pr prs pull request requests", "appt appointment",
    "retro retrospective", "doc docs document documents", "power electricity", "standup stand",
    "unreliable flaky", "dripping leaking leaky", "lead run", "gift present", "meditate meditation",
    "houseplants plants", "approval approved approve", "book reserve", "earn get", "see visit",
]
SYNONYMS: dict[str, frozenset[str]] = {}
for _group in SYNONYM_GROUPS:
    _words = frozenset(_group.split())
    for _word in _words:
        SYNONYMS[_word] = SYNONYMS.get(_word, frozenset()) | _words
