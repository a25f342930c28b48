"""Long CLI steps show progress and an estimate of the time left, also when the output is not a terminal."""

from __future__ import annotations

import io

from peptalk.cli.progress import LineProgress, duration, with_progress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_lines_show_the_count_the_time_elapsed_and_an_estimate_of_the_time_left() -> None:
    out, clock = io.StringIO(), Clock()
    progress = LineProgress(out, every_s=10.0, clock=clock)
    progress.start("generating", 4)
    clock.now += 20.0
    progress.advance()  # the first estimate is always printed: 20 s a call, three left
    clock.now += 5.0
    progress.advance()  # within 10 s of the last line: not printed
    clock.now += 15.0
    progress.advance()
    clock.now += 2.0
    progress.advance()  # the last one is always printed
    assert out.getvalue().splitlines() == [
        "generating: 4 to do",
        "generating: 1/4 done, 20 s elapsed, about 1 min 0 s left",
        "generating: 3/4 done, 40 s elapsed, about 13 s left",
        "generating: 4/4 done, 42 s elapsed",
    ]


def test_a_pipe_gets_lines_not_bars() -> None:
    out = io.StringIO()  # not a terminal, as in a CI log or the recipe's test

    def work(progress: LineProgress) -> str:
        progress.start("judging", 2)
        progress.advance(2)
        return "done"

    assert with_progress(work, out=out) == "done"
    assert out.getvalue().splitlines()[-1].startswith("judging: 2/2 done")


def test_durations_read_naturally() -> None:
    assert [duration(value) for value in (0.4, 42, 185, 3720)] == ["0 s", "42 s", "3 min 5 s", "1 h 2 min"]
