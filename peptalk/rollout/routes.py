"""Admin routes: `/rollout/status.json` (the status report) and `/rollout` (a page with the plot), behind `X-Admin-Key`."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import SecretStr

from peptalk.rollout.controller import EVIDENCE_SHOWN, Controller, Report
from peptalk.rollout.factory import RolloutService
from peptalk.rollout.series import plot_svg, rollout_series
from peptalk.security.admin import ADMIN_KEY_HEADER, check_admin_key


def rollout_routes(rollout: RolloutService | None, admin_api_keys: Sequence[SecretStr]) -> APIRouter:
    """The rollout's admin routes over a PepTalk's rollout service (`PepTalk.service(RolloutService)`); a 404
    when the rollout is off (None)."""
    routes = APIRouter(tags=["rollout"])

    def service(request: Request) -> RolloutService:
        """The admin key check of every admin route; 404 when the rollout is off."""
        if rollout is None:
            raise HTTPException(404, detail="the rollout is off (PEPTALK_ROLLOUT_ENABLED=false)")
        check_admin_key(admin_api_keys, request.headers.get(ADMIN_KEY_HEADER))
        return rollout

    @routes.get("/rollout/status.json")
    async def rollout_status(request: Request) -> dict[str, Any]:
        """The current rollout: stage, status, evidence, gates and the next step; `{"rollout": null}` when none."""
        rollout = service(request)
        report = await _report(rollout)
        live = rollout.layer.live
        state = live.state
        applied = None if state is None else {"version": state.version, "stage": state.stage, "share": state.share}
        if live.stale:
            applied = {"version": None, "stage": None, "share": 0.0, "stale": True}
        return {"rollout": None if report is None else report.to_dict(), "applied_here": applied}

    @routes.get("/rollout", response_class=HTMLResponse)
    async def rollout_page(request: Request) -> HTMLResponse:
        """The rollout at a glance: stage, gates, evidence, transitions and a plot over time."""
        return HTMLResponse(_page(await _page_body(service(request))))

    return routes


def _controller(service: RolloutService) -> Controller:
    return service.controller or Controller(service.store)


async def _report(service: RolloutService) -> Report | None:
    controller = _controller(service)
    rollout = await asyncio.to_thread(controller.store.current)
    if rollout is None:
        return None
    return await asyncio.to_thread(controller.evaluate, rollout)


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return html.escape(str(value))


async def _page_body(service: RolloutService) -> str:
    report = await _report(service)
    if report is None:
        return "<p>No rollout in progress. Start one with <code>peptalk rollout start PLAN</code>.</p>"
    store = _controller(service).store
    series = await asyncio.to_thread(rollout_series, store, report.rollout, now=report.at)
    svg = await asyncio.to_thread(plot_svg, series)
    history = await asyncio.to_thread(store.history, report.rollout.id)
    data = report.to_dict()
    evidence = data["evidence"]
    gates = "".join(f"<tr><td>{_fmt(g['name'])}</td><td>{_fmt(g['value'])}</td><td>{_fmt(g['bound'])}</td>"
                    f"<td class='{'ok' if g['passed'] else 'wait' if g['passed'] is None else 'fail'}'>"
                    f"{'pass' if g['passed'] else 'not enough data' if g['passed'] is None else 'fail'}</td></tr>"
                    for g in data["gates"])
    rows = "".join(f"<tr><td>{name}</td><td>{_fmt(evidence.get(name))}</td></tr>" for name in EVIDENCE_SHOWN)
    transitions = "".join(f"<tr><td>{t.at.isoformat(timespec='seconds')}</td><td>{_fmt(t.kind)}</td>"
                          f"<td>{_fmt(t.from_stage)} → {_fmt(t.to_stage)}</td><td>{_fmt(t.actor)}</td>"
                          f"<td>{_fmt(t.reason)}</td></tr>" for t in reversed(history))
    body = (f"<p class='summary'><b>{_fmt(data['candidate'])}</b> against <b>{_fmt(data['primary'])}</b>: stage "
            f"<b id='stage'>{_fmt(data['stage'])}</b> ({data['share']:.0%} of users), status "
            f"<b id='status'>{_fmt(data['status'])}</b>. Next: {_fmt(data['next']['action'] or 'wait')} "
            f"{_fmt(data['next']['reason'])}</p>"
            + (f"<p class='fail' id='stalled'>Evidence stalled: no verdict for {data['evidence_age_s']:.0f} s.</p>"
               if data["stalled"] else "") +
            f"<figure id='plot'>{svg}</figure>"
            f"<h2>Gates of this stage</h2><table><tr><th>gate</th><th>value</th><th>bound</th><th></th></tr>"
            f"{gates}</table>"
            f"<h2>Evidence since the stage began</h2><table>{rows}</table>"
            f"<h2>Transitions</h2><table><tr><th>at</th><th>kind</th><th>stages</th><th>by</th><th>why</th></tr>"
            f"{transitions}</table>")
    return body


def _page(body: str) -> str:
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>peptalk rollout</title><link rel='icon' href='data:,'>"
            "<style>body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}.ok{color:#060}.fail{color:#a00}"
            ".wait{color:#777}figure{margin:1em 0}svg{max-width:100%;height:auto}</style></head>"
            f"<body><h1>Rollout</h1>{body}</body></html>")
