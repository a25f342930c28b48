"""`peptalk serve`: run the HTTP service with uvicorn."""

from __future__ import annotations

import typer


def serve(
    host: str | None = typer.Option(None, help="Interface to bind (default PEPTALK_HOST)."),
    port: int | None = typer.Option(None, help="Port to bind (default PEPTALK_PORT)."),
) -> None:
    """Serve the pep-talk chain (invoke, batch, stream, playground) and the health endpoints."""
    import uvicorn
    from pydantic import ValidationError

    from langserve_app import create_app
    from peptalk.settings import get_settings
    from router.errors import ConfigError

    try:
        settings = get_settings()
        # The address is part of the configuration: the app refuses a public one without API keys.
        settings = settings.model_copy(update={key: value for key, value in (("host", host), ("port", port)) if value})
        app = create_app(settings)
    except (ConfigError, ValidationError) as exc:
        typer.echo(f"error: invalid configuration: {exc}", err=True)
        raise typer.Exit(2) from exc
    uvicorn.run(app, host=settings.host, port=settings.port)
