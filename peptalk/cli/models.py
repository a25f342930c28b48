"""`peptalk models list|pull|warmup`: the model catalog, and hosting automation against an Ollama server."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from typing import Any

import httpx
import typer

app = typer.Typer(help="The model catalog, and pulling and warming models on an Ollama node.", no_args_is_help=True)

OLLAMA_URL_HELP = "Ollama base URL (default: the first of PEPTALK_OLLAMA_BASE_URLS, else PEPTALK_OLLAMA_BASE_URL)."
WARMUP_PROMPT = "Say hello in five words."


class OllamaUnreachable(Exception):
    """The Ollama server did not answer."""


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def _ollama_url(option: str | None) -> str:
    if option:
        return option.rstrip("/")
    from peptalk.settings import get_settings

    settings = get_settings()
    return (settings.ollama_base_urls or [settings.ollama_base_url])[0].rstrip("/")


async def _check_reachable(client: httpx.AsyncClient, base: str) -> str:
    try:
        response = await client.get(f"{base}/api/version", timeout=5.0)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise OllamaUnreachable(f"no Ollama server answers at {base} ({type(exc).__name__}: {exc}); is it running? "
                                "Set --ollama-url or PEPTALK_OLLAMA_BASE_URL") from exc
    return str(response.json().get("version", "?"))


@app.command("list")
def list_models(
    family: str | None = typer.Option(None, help="Only this family, e.g. `mistral`."),
    as_json: bool = typer.Option(False, "--json", help="JSON lines instead of a table."),
) -> None:
    """The catalog: the SLaM study's SLM variants with bits, parameters, size and memory, plus GPT-4 and SmolLM2."""
    from rich.console import Console
    from rich.table import Table

    from router.catalog import load_catalog

    entries = [entry for entry in load_catalog() if family is None or entry.family == family]
    if not entries:
        raise _fail(f"no model of family {family!r}; families: "
                    + ", ".join(sorted({entry.family for entry in load_catalog()})))
    if as_json:
        for entry in entries:
            typer.echo(json.dumps(entry.model_dump()))
        return
    table = Table(title="Model catalog (SLaM study, Table I as printed; * = see the row's note in router/catalog/slam.yaml)")
    for column in ("tag", "backend", "bits", "params (B)", "size (GB)", "memory (MB)"):
        table.add_column(column, justify="left" if column in ("tag", "backend") else "right")

    def cell(value: Any) -> str:
        return "-" if value is None else str(value)

    for entry in entries:
        table.add_row(entry.tag + ("*" if entry.in_study and entry.notes else ""), entry.backend, cell(entry.bits),
                      cell(entry.params_b), cell(entry.size_gb), cell(entry.memory_mb))
    Console(width=120).print(table)


async def _pull(base: str, tags: list[str]) -> list[str]:
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    failures: list[str] = []
    async with httpx.AsyncClient(timeout=httpx.Timeout(30.0, read=None)) as client:
        await _check_reachable(client, base)
        with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                      TextColumn("{task.fields[status]}")) as progress:
            for tag in tags:
                task = progress.add_task(tag, total=None, status="starting")
                async with client.stream("POST", f"{base}/api/pull", json={"model": tag, "stream": True}) as response:
                    if response.status_code != 200:
                        body = (await response.aread()).decode(errors="replace")
                        failures.append(f"{tag}: {response.status_code} {_error_text(body)}")
                        progress.update(task, status="failed")
                        continue
                    async for line in response.aiter_lines():
                        if not line.strip():
                            continue
                        event = json.loads(line)
                        if "error" in event:
                            failures.append(f"{tag}: {event['error']}")
                            progress.update(task, status="failed")
                            break
                        if event.get("total"):
                            progress.update(task, total=event["total"], completed=event.get("completed", 0))
                        progress.update(task, status=event.get("status", ""))
    return failures


def _error_text(body: str) -> str:
    try:
        return str(json.loads(body).get("error", body))
    except (ValueError, AttributeError):
        return body.strip()[:200]


@app.command()
def pull(
    tags: list[str] = typer.Argument(..., help="Ollama tags to pull, e.g. starling-lm:7b mistral:7b-instruct-q2_K."),
    ollama_url: str | None = typer.Option(None, "--ollama-url", help=OLLAMA_URL_HELP),
) -> None:
    """Pull models into an Ollama server through its /api/pull, with a progress bar per model."""
    from router.catalog import find

    base = _ollama_url(ollama_url)
    for tag in tags:
        if find(tag) is None:
            typer.secho(f"note: {tag} is not in the catalog (`peptalk models list`); pulling it anyway",
                        err=True, fg=typer.colors.YELLOW)
    try:
        failures = asyncio.run(_pull(base, tags))
    except OllamaUnreachable as exc:
        raise _fail(str(exc)) from exc
    if failures:
        raise _fail("pull failed: " + "; ".join(failures))
    typer.echo(f"pulled {', '.join(tags)} into {base}")


async def _warmup(base: str, tag: str, count: int, max_tokens: int) -> list[dict[str, float]]:
    from rich.progress import Progress

    rounds: list[dict[str, float]] = []
    async with httpx.AsyncClient(timeout=httpx.Timeout(30.0, read=600.0)) as client:
        await _check_reachable(client, base)
        body = {"model": tag, "stream": False, "messages": [{"role": "user", "content": WARMUP_PROMPT}],
                "options": {"num_predict": max_tokens, "temperature": 0.0}}
        with Progress(transient=True) as progress:
            task = progress.add_task(f"warming {tag}", total=count)
            for _ in range(count):
                started = time.perf_counter()
                response = await client.post(f"{base}/api/chat", json=body)
                elapsed = time.perf_counter() - started
                if response.status_code == 404:
                    raise LookupError(f"{tag} is not pulled on {base}; run `peptalk models pull {tag}` first")
                response.raise_for_status()
                answer = response.json()
                rounds.append({"latency_s": elapsed, "load_s": answer.get("load_duration", 0) / 1e9,
                               "tokens": float(answer.get("eval_count", 0))})
                progress.advance(task)
    return rounds


@app.command()
def warmup(
    tag: str = typer.Argument(..., help="The Ollama tag to load and time."),
    requests: int = typer.Option(3, "--requests", "-n", min=1, max=100, help="How many requests to send."),
    max_tokens: int = typer.Option(8, min=1, max=256, help="Tokens generated per request."),
    ollama_url: str | None = typer.Option(None, "--ollama-url", help=OLLAMA_URL_HELP),
) -> None:
    """Send N short requests so the model is loaded, and print each latency (the first includes the load)."""
    base = _ollama_url(ollama_url)
    try:
        rounds = asyncio.run(_warmup(base, tag, requests, max_tokens))
    except OllamaUnreachable as exc:
        raise _fail(str(exc)) from exc
    except LookupError as exc:
        raise _fail(str(exc)) from exc
    except httpx.HTTPError as exc:
        raise _fail(f"warmup of {tag} failed: {type(exc).__name__}: {exc}", code=1) from exc
    for index, entry in enumerate(rounds, start=1):
        typer.echo(f"request {index}: {entry['latency_s'] * 1000:.0f} ms (load {entry['load_s'] * 1000:.0f} ms, "
                   f"{entry['tokens']:.0f} tokens)")
    warm = [entry["latency_s"] for entry in rounds[1:]] or [rounds[0]["latency_s"]]
    typer.echo(f"{tag}: first {rounds[0]['latency_s'] * 1000:.0f} ms, warm median {statistics.median(warm) * 1000:.0f} ms")
