"""Tests do not depend on the machine's speed: no wall-clock assertion under 30 s outside bench/ (issue 27).

Background work is awaited by polling a condition with a deadline (`tests.helpers.wait_for` / `wait_for_async`);
a bound on elapsed time is `GENEROUS_S` (30 s) or more. This scan finds assertions that compare a timing with a
smaller literal, and divisions of the generous bound.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.helpers import GENEROUS_S, ROOT

TIMING = re.compile(r"perf_counter\(\)|monotonic\(\)|time\.time\(\)|\belapsed\b|\btook\b|\blag\b|seen\.values\(\)")
UPPER_BOUND = re.compile(r"<=?\s*(\d+(?:\.\d+)?)\b(?!\s*\*)")


def _assertions(path: Path) -> list[tuple[int, str]]:
    return [(number, line.strip()) for number, line in enumerate(path.read_text().splitlines(), 1)
            if line.strip().startswith("assert ")]


def test_the_generous_bound_is_30_s_or_more() -> None:
    assert GENEROUS_S >= 30


def test_no_test_asserts_a_wall_clock_time_under_30_s() -> None:
    offending = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for number, line in _assertions(path):
            bounds = [float(value) for value in UPPER_BOUND.findall(line)]
            if TIMING.search(line) and any(bound < 30 for bound in bounds):
                offending.append(f"{path.relative_to(ROOT)}:{number}: {line}")
            if re.search(r"GENEROUS_S\s*/", line):
                offending.append(f"{path.relative_to(ROOT)}:{number}: {line}")
    assert offending == [], "\n".join(offending)
