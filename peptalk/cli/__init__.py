"""The `peptalk` command line: one Typer app, with a sub-command group per concern."""

from __future__ import annotations

import typer

from peptalk.cli.cache import app as cache_app
from peptalk.cli.cost import cost_app
from peptalk.cli.eval import eval_app
from peptalk.cli.forget import forget
from peptalk.cli.loadtest import loadtest_app
from peptalk.cli.models import app as models_app
from peptalk.cli.probe import probe
from peptalk.cli.rate import app as rate_app
from peptalk.cli.rollout import app as rollout_app
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
app.add_typer(cache_app, name="cache")
app.command()(forget)  # issue 19: erasure of one user
app.add_typer(cost_app, name="cost")
app.add_typer(eval_app, name="eval")
app.add_typer(loadtest_app, name="loadtest")
app.add_typer(models_app, name="models")
app.add_typer(rate_app, name="rate")
app.add_typer(rollout_app, name="rollout")
app.add_typer(shadow_app, name="shadow")


@app.callback()
def _root() -> None:
    """Serve pep talks from small language models and prove the swap from GPT-4 is safe."""


# Packages of the `eval` and `loadtest` extras, which a serving install (`make serve`) leaves out.
EXTRA_OF = {"scipy": "eval", "sklearn": "eval", "sacrebleu": "eval", "matplotlib": "eval", "pyarrow": "eval",
            "jinja2": "eval", "itsdangerous": "eval", "multipart": "eval", "python_multipart": "eval",
            "locust": "loadtest"}


def main() -> None:
    """Entry point of the `peptalk` script."""
    from peptalk.logs import configure_console_logging

    # A command that runs models in this process (eval, probe ...) shows the router's warnings with their
    # model, reason and request id, not Python's bare message; `serve` replaces this with JSON lines.
    configure_console_logging()
    try:
        app()
    except ModuleNotFoundError as exc:
        extra = EXTRA_OF.get((exc.name or "").partition(".")[0])
        if extra is None:
            raise
        typer.echo(f"error: this command needs the `{extra}` extra ({exc.name} is not installed): "
                   f"run `make test`, or `.venv/bin/pip install -e '.[{extra}]'`", err=True)
        raise SystemExit(2) from exc


__all__ = ["app", "main"]
