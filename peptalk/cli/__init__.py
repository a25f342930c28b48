"""The `peptalk` command line: one Typer app, with a sub-command group per concern."""

from __future__ import annotations

import typer

from peptalk.cli.loadtest import loadtest_app
from peptalk.cli.serve import serve

app = typer.Typer(
    name="peptalk",
    help="Serve pep talks from small language models and prove the swap from GPT-4 is safe.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command()(serve)
app.add_typer(loadtest_app)


@app.callback()
def _root() -> None:
    """Serve pep talks from small language models and prove the swap from GPT-4 is safe."""


def main() -> None:
    """Entry point of the `peptalk` script."""
    app()


__all__ = ["app", "main"]
