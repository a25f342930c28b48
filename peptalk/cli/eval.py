"""`peptalk eval ...`: offline evaluation (the scoring commands come with issue 5)."""

from __future__ import annotations

import typer

from peptalk.cli.eval_report import report

eval_app = typer.Typer(help="Offline evaluation: score, rank and report.", no_args_is_help=True)
eval_app.command("report")(report)
