"""peptalk's two uses, built the one way: the standalone service (`create_app`) and a host with `include_peptalk`.

Tests of what both must do (rate limits, the fast path, the admin routes) take `ASSEMBLIES` as a parameter.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
from fastapi import FastAPI

from langserve_app import create_app
from peptalk import PepTalk, Settings, include_peptalk

ASSEMBLIES = ("standalone", "host")
HOST_PREFIX = "/ai"


@dataclass
class Assembled:
    """An app serving peptalk, where peptalk's routes are, and the `PepTalk` it serves."""

    app: FastAPI
    prefix: str
    peptalk: PepTalk


def assemble(kind: str, settings: Settings) -> Assembled:
    if kind == "standalone":
        app = create_app(settings)
        return Assembled(app, "", app.peptalk)
    host = FastAPI(title="host")
    return Assembled(host, HOST_PREFIX, include_peptalk(host, HOST_PREFIX, settings=settings))


@contextlib.asynccontextmanager
async def serving_assembled(assembled: Assembled) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan run, behind an in-process client whose paths start at peptalk's prefix."""
    async with assembled.app.router.lifespan_context(assembled.app):
        transport = httpx.ASGITransport(app=assembled.app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://peptalk.test{assembled.prefix}",
                                     timeout=120) as client:
            yield client
