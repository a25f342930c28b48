"""The `peptalk` command line: one Typer app, with a sub-command group per concern."""

from __future__ import annotations

import typer

from peptalk.cli.cost import cost_app
from peptalk.cli.eval import eval_app
from peptalk.cli.forget import forget
from peptalk.cli.loadtest import loadtest_app
from peptalk.cli.models import app as models_app
from peptalk.cli.probe import probe
from peptalk.cli.rate import app as rate_app
from peptalk.cli.serve import serve
from peptalk.cli.shadow import app as shadow_app

app = typer.Typer(
    name="peptalk",
    help="Serve pep talks from small language models and prove the swap from GPT-4 is safe.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command()(serve)
app.command()(probe)
app.command()(forget)  # issue 19: erasure of one user
app.add_typer(cost_app, name="cost")
app.add_typer(eval_app, name="eval")
app.add_typer(loadtest_app, name="loadtest")
app.add_typer(models_app, name="models")
app.add_typer(rate_app, name="rate")
app.add_typer(shadow_app, name="shadow")


@app.callback()
def _root() -> None:
    """Serve pep talks from small language models and prove the swap from GPT-4 is safe."""


def main() -> None:
    """Entry point of the `peptalk` script."""
    app()


__all__ = ["app", "main"]
