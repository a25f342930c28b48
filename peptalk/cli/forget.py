"""`peptalk forget USER_ID`: erase everything stored for one user (shadow pairs, cache snapshot, shared counters)."""

from __future__ import annotations

import asyncio

import typer


def forget(user_id: str = typer.Argument(..., help="The user id the host app sends as `user_id`.")) -> None:
    """Delete everything peptalk stores for USER_ID; prints how many records went from each store."""
    from pydantic import ValidationError

    from peptalk.erasure import ErasureError, forget_user
    from peptalk.erasure.stores import offline_stores
    from peptalk.settings import get_settings
    from peptalk.shadow.errors import ShadowStoreError

    try:
        settings = get_settings()
        report = asyncio.run(forget_user(user_id, offline_stores(settings)))
    except ValidationError as exc:
        typer.echo(f"error: invalid configuration: {exc}", err=True)
        raise typer.Exit(2) from exc
    except (ErasureError, ShadowStoreError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    for name, count in report.deleted.items():
        typer.echo(f"{name}: {count} deleted")
    if settings.cache_enabled:
        typer.echo("note: a running replica keeps its cache in memory; erase it there with "
                   "DELETE /admin/users/<user_id> (each replica), or stop the replicas first", err=True)
