"""Progress of a long command step, with an estimate of the time left: bars on a terminal, lines elsewhere.

Rich draws nothing until the end when its output is not a terminal (a pipe, a log file, a CI job), so there
each step prints a line instead: at the start, after the first unit (the first estimate), then at most every
`every_s` seconds, and at the end.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO, TypeVar

T = TypeVar("T")


def duration(seconds: float) -> str:
    """`42 s`, `3 min 5 s`, `1 h 2 min`."""
    whole = int(round(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


class LineProgress:
    """Steps as plain lines: `label: 3/8 done, 41 s elapsed, about 1 min 8 s left`."""

    def __init__(self, out: TextIO, *, every_s: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._out = out
        self._every_s = every_s
        self._clock = clock
        self._label = ""
        self._total = 0
        self._done = 0
        self._started = 0.0
        self._printed = 0.0

    def start(self, label: str, total: int) -> None:
        self._label, self._total, self._done = label, total, 0
        self._started = self._printed = self._clock()
        self._print(f"{label}: {total} to do")

    def advance(self, steps: int = 1) -> None:
        self._done += steps
        now = self._clock()
        if self._done == steps or self._done >= self._total or now - self._printed >= self._every_s:
            self._printed = now
            self._print(self.line(now))

    def line(self, now: float) -> str:
        elapsed = now - self._started
        text = f"{self._label}: {self._done}/{self._total} done, {duration(elapsed)} elapsed"
        if 0 < self._done < self._total:
            text += f", about {duration(elapsed / self._done * (self._total - self._done))} left"
        return text

    def _print(self, text: str) -> None:
        print(text, file=self._out, flush=True)


class BarProgress:
    """Rich progress bars, one per step, with the time elapsed and the time left."""

    def __init__(self, progress: Any) -> None:
        self._progress = progress
        self._task: Any = None

    def start(self, label: str, total: int) -> None:
        self._task = self._progress.add_task(label, total=total)

    def advance(self, steps: int = 1) -> None:
        if self._task is not None:
            self._progress.advance(self._task, steps)


def with_progress(work: Callable[[Any], T], *, out: TextIO | None = None) -> T:
    """Runs `work(progress)`, showing its steps on `out` (stderr by default)."""
    stream = out or sys.stderr
    if not stream.isatty():
        return work(LineProgress(stream))
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("left"), TimeRemainingColumn())
    with Progress(*columns, console=Console(file=stream), transient=False) as progress:
        return work(BarProgress(progress))
