"""The productivity app's backend: its own users, tasks and sign-in, and a daily pep talk from peptalk.

peptalk runs inside this process (`include_peptalk`, its endpoints under `/ai` behind this app's sign-in),
or, with `peptalk_url`, as a separate service reached through `RemoteRunnable`.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, which name local aliases.
import datetime as dt
import logging
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, Header, HTTPException
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from examples.productivity_app.models import Task, User, make_engine
from examples.productivity_app.pep_talks import PepTalkSource, RemotePepTalk, pep_talk_request
from peptalk import PepTalkResponse, Settings, include_peptalk

log = logging.getLogger("productivity_app")
PEPTALK_PREFIX = "/ai"


class NewUser(BaseModel):
    name: str = Field(min_length=1, max_length=80)


class SignedUp(BaseModel):
    id: int
    token: str


class NewTask(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    kind: Literal["task", "focus", "ritual", "goal"] = "task"


class TaskOut(BaseModel):
    id: int
    title: str
    kind: str
    done_on: dt.date | None


def create_app(database_url: str, *, peptalk_url: str | None = None, peptalk_settings: Settings | None = None,
               peptalk_api_key: str | None = None) -> FastAPI:
    """The backend; peptalk in-process unless `peptalk_url` names a running peptalk service."""
    engine = make_engine(database_url)
    sessions = sessionmaker(engine, expire_on_commit=False)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info("productivity app up")  # the app's own start-up work would go here
        yield
        engine.dispose()

    app = FastAPI(title="Productivity app", lifespan=lifespan)

    def session() -> Iterator[Session]:
        with sessions() as db:
            yield db

    def current_user(db: Annotated[Session, Depends(session)],
                     authorization: Annotated[str | None, Header()] = None) -> User:
        token = (authorization or "").removeprefix("Bearer ").strip()
        user = db.scalar(select(User).where(User.token == token)) if token else None
        if user is None:
            raise HTTPException(401, "sign in: send `Authorization: Bearer <token>`",
                                headers={"WWW-Authenticate": "Bearer"})
        return user

    Db = Annotated[Session, Depends(session)]
    CurrentUser = Annotated[User, Depends(current_user)]

    @app.post("/users", status_code=201)
    def sign_up(new: NewUser, db: Db) -> SignedUp:
        user = User(name=new.name, token=secrets.token_urlsafe(24))
        db.add(user)
        db.commit()
        return SignedUp(id=user.id, token=user.token)

    @app.post("/tasks", status_code=201)
    def add_task(new: NewTask, user: CurrentUser, db: Db) -> TaskOut:
        task = Task(user_id=user.id, title=new.title, kind=new.kind)
        db.add(task)
        db.commit()
        return TaskOut(id=task.id, title=task.title, kind=task.kind, done_on=task.done_on)

    @app.get("/tasks")
    def list_tasks(user: CurrentUser, db: Db) -> list[TaskOut]:
        tasks = db.scalars(select(Task).where(Task.user_id == user.id).order_by(Task.id)).all()
        return [TaskOut(id=task.id, title=task.title, kind=task.kind, done_on=task.done_on) for task in tasks]

    @app.post("/tasks/{task_id}/done")
    def finish_task(task_id: int, user: CurrentUser, db: Db) -> TaskOut:
        task = db.get(Task, task_id)
        if task is None or task.user_id != user.id:
            raise HTTPException(404, f"no task {task_id}")
        task.done_on = dt.date.today()
        db.commit()
        return TaskOut(id=task.id, title=task.title, kind=task.kind, done_on=task.done_on)

    @app.get("/pep-talk")
    def pep_talk(user: CurrentUser, db: Db) -> PepTalkResponse:
        """Today's pep talk from the user's own tasks; a sync route, so the call runs on a worker thread."""
        today = dt.date.today()
        answer = source.invoke(pep_talk_request(db, user, today))
        user.last_login = today
        db.commit()
        return answer

    source: PepTalkSource
    if peptalk_url is None:
        # peptalk's endpoints under /ai, behind this app's own sign-in; started and stopped with this app.
        source = include_peptalk(app, PEPTALK_PREFIX, settings=peptalk_settings, dependencies=[Depends(current_user)])
    else:
        headers = {"X-API-Key": peptalk_api_key} if peptalk_api_key else None
        source = RemotePepTalk(peptalk_url, headers=headers)
    app.state.pep_talks = source
    return app
