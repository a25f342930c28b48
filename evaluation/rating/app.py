"""The rating web app: server-rendered pages (FastAPI + Jinja2, no JavaScript) for raters and a progress page for the admin.

Raters never see a model name: responses are shown in a per-(rater, unit) shuffle, named in forms by opaque
slot ids, and units are named in URLs by opaque task ids (see `blind.py`).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from evaluation.rating.auth import Sessions, check_rater_name, resolve_secret
from evaluation.rating.blind import Blinder, Slot
from evaluation.rating.errors import FormError, SignInError
from evaluation.rating.forms import comment_field, parse_rating_form, score_field
from evaluation.rating.items import RatingItem, RatingUnit, build_units
from evaluation.rating.progress import summarise
from evaluation.rating.store import TIE, RatingStore
from evaluation.settings import EvalSettings
from peptalk.db import make_engine

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def create_rating_app(settings: EvalSettings, items: Sequence[RatingItem]) -> FastAPI:
    """The rating app over `items`; the database is migrated in the lifespan."""
    pairwise = settings.rating_mode == "pairwise"
    criteria = list(settings.rating_criteria)
    units = build_units(items, settings.rating_mode)
    units_by_id = {unit.unit_id: unit for unit in units}
    unit_ids = [unit.unit_id for unit in units]
    store = RatingStore(make_engine(settings.resolved_database_url()))
    blinder = Blinder(resolve_secret(settings.rating_secret, settings.data_dir))
    sessions = Sessions(resolve_secret(settings.rating_secret, settings.data_dir),
                        max_age_s=int(settings.rating_session_hours * 3600), admin_token=settings.rating_admin_token)
    templates = Jinja2Templates(directory=str(resources.files("evaluation.rating").joinpath("templates")))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        store.migrate()
        try:
            yield
        finally:
            store.engine.dispose()

    app = FastAPI(title="peptalk rating", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store = store
    app.state.units = units

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    def page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return templates.TemplateResponse(request, name, {"rater": sessions.rater(request), **context},
                                          status_code=status_code)

    def see_other(url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303)

    def my_units(rater: str) -> list[RatingUnit]:
        return [units_by_id[unit_id] for unit_id in store.assigned_units(rater) if unit_id in units_by_id]

    def find_task(rater: str, task: str) -> tuple[RatingUnit, int, int] | None:
        """The rater's unit behind an opaque task id, with its position among their units."""
        mine = my_units(rater)
        for position, unit in enumerate(mine, start=1):
            if secrets.compare_digest(blinder.task_id(rater, unit.unit_id), task):
                return unit, position, len(mine)
        return None

    def rate_page(request: Request, rater: str, task: str, unit: RatingUnit, position: int, total: int, *,
                  values: dict[str, str], choice: str | None, errors: dict[str, str], status_code: int) -> HTMLResponse:
        slots = blinder.slots(rater, unit, pairwise=pairwise)
        return page(request, "pairwise.html" if pairwise else "score.html", status_code,
                    task=task, prompt=unit.item.prompt, slots=slots, criteria=criteria, position=position,
                    total=total, nonce=secrets.token_urlsafe(16), values=values, choice=choice, errors=errors,
                    score_field=score_field, comment_field=comment_field,
                    max_comment_chars=settings.rating_max_comment_chars)

    def stored_values(rater: str, unit: RatingUnit, slots: list[Slot]) -> tuple[dict[str, str], str | None]:
        """What the rater submitted before for this unit, keyed by form field, to pre-fill the form."""
        by_model = {row.model: row for row in store.score_rows(rater=rater, unit_id=unit.unit_id)}
        values: dict[str, str] = {}
        choice: str | None = None
        for slot in slots:
            row = by_model.get(slot.model)
            if row is None:
                continue
            values[comment_field(slot)] = row.comment or ""
            if pairwise:
                values.update({score_field(slot, name): str(row.criteria[name]) for name in criteria
                               if name in row.criteria})
                choice = "tie" if row.preference == TIE else next(
                    (other.label for other in slots if other.model == row.preference), None)
            else:
                values[score_field(slot)] = str(int(row.score))
        return values, choice

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok", "units": len(units)})

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        return see_other("/next" if sessions.rater(request) else "/signin")

    @app.get("/signin", response_class=HTMLResponse)
    def signin_form(request: Request) -> Response:
        return page(request, "signin.html", signin=settings.rating_signin, error=None)

    @app.post("/signin", response_class=HTMLResponse)
    async def signin(request: Request) -> Response:
        form = await request.form()
        field = "token" if settings.rating_signin == "token" else "name"
        raw = form.get(field)
        value = raw.strip() if isinstance(raw, str) else ""
        try:
            if not value:
                raise SignInError(f"{field} is missing")
            if settings.rating_signin == "token":
                rater = store.rater_for_token(value)
                if rater is None:
                    return page(request, "signin.html", 401, signin=settings.rating_signin,
                                error="That token is not valid. Ask the admin for yours.")
            else:
                rater = check_rater_name(value)
                store.ensure_rater(rater)
        except SignInError as exc:
            return page(request, "signin.html", 422, signin=settings.rating_signin, error=f"{field}: {exc}")
        response = see_other("/next")
        sessions.sign_in_rater(response, rater)
        return response

    @app.post("/signout")
    def signout() -> Response:
        response = see_other("/signin")
        response.delete_cookie("peptalk_rater", path="/")
        return response

    @app.get("/next", response_class=HTMLResponse)
    def next_task(request: Request) -> Response:
        rater = sessions.rater(request)
        if rater is None:
            return see_other("/signin")
        store.assign(rater, unit_ids, raters_per_item=settings.rating_raters_per_item,
                     items_per_rater=settings.rating_items_per_rater)
        mine = my_units(rater)
        done = store.rated_units(rater)
        for unit in mine:
            if unit.unit_id not in done:
                return see_other(f"/rate/{blinder.task_id(rater, unit.unit_id)}")
        tasks = [(position, blinder.task_id(rater, unit.unit_id)) for position, unit in enumerate(mine, start=1)]
        return page(request, "done.html", tasks=tasks)

    @app.get("/rate/{task}", response_class=HTMLResponse)
    def rate_form(request: Request, task: str) -> Response:
        rater = sessions.rater(request)
        if rater is None:
            return see_other("/signin")
        found = find_task(rater, task)
        if found is None:
            return page(request, "error.html", 404, message="This item is not one of yours.")
        unit, position, total = found
        values, choice = stored_values(rater, unit, blinder.slots(rater, unit, pairwise=pairwise))
        return rate_page(request, rater, task, unit, position, total, values=values, choice=choice, errors={},
                         status_code=200)

    @app.post("/rate/{task}", response_class=HTMLResponse)
    async def rate_submit(request: Request, task: str) -> Response:
        rater = sessions.rater(request)
        if rater is None:
            return page(request, "error.html", 401, message="Sign in first: ratings are never anonymous.")
        found = find_task(rater, task)
        if found is None:
            return page(request, "error.html", 404, message="This item is not one of yours.")
        unit, position, total = found
        form = await request.form()
        slots = blinder.slots(rater, unit, pairwise=pairwise)
        try:
            submission = parse_rating_form(form, rater=rater, unit=unit, slots=slots, pairwise=pairwise,
                                           criteria=criteria, max_comment_chars=settings.rating_max_comment_chars)
        except FormError as exc:
            values = {name: value for name, value in form.items() if isinstance(value, str)}
            raw_choice = form.get("choice")
            choice = raw_choice if isinstance(raw_choice, str) else None
            return rate_page(request, rater, task, unit, position, total, values=values, choice=choice,
                             errors=exc.fields, status_code=422)
        store.save(submission)
        return see_other("/next")

    @app.get("/admin", response_class=HTMLResponse)
    def admin(request: Request) -> Response:
        if not sessions.admin_enabled:
            return page(request, "error.html", 403, message="The admin page is off: set PEPTALK_RATING_ADMIN_TOKEN.")
        if not sessions.is_admin(request):
            return page(request, "admin_signin.html", 401, error=None)
        progress = summarise(units, store.score_rows(), store.unit_loads(),
                             raters_per_item=settings.rating_raters_per_item, criteria=criteria)
        return page(request, "admin.html", progress=progress, criteria=criteria, pairwise=pairwise,
                    settings=settings)

    @app.post("/admin/signin", response_class=HTMLResponse)
    async def admin_signin(request: Request) -> Response:
        form = await request.form()
        token = form.get("token")
        if not isinstance(token, str) or not sessions.admin_token_matches(token.strip()):
            return page(request, "admin_signin.html", 401, error="Wrong admin token.")
        response = see_other("/admin")
        sessions.sign_in_admin(response)
        return response

    return app
