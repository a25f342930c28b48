"""From the app's data to a `PepTalkRequest`, and the two ways of getting the pep talk: in-process or remote."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from examples.productivity_app.models import Task, User
from peptalk import PepTalkRequest, PepTalkResponse

if TYPE_CHECKING:
    from langserve import RemoteRunnable


def pep_talk_request(session: Session, user: User, today: dt.date) -> PepTalkRequest:
    """What the user's day looks like: tasks finished since the last login, today's focus, rituals, goals."""
    last_login = min(user.last_login or today, today)
    tasks = session.scalars(select(Task).where(Task.user_id == user.id).order_by(Task.id)).all()
    return PepTalkRequest(
        user_id=f"user-{user.id}",  # never the name: the id is what peptalk's cache and shadow log see
        today=today,
        last_login=last_login,
        completed_tasks=[task.title for task in tasks if task.done_on is not None and task.done_on >= last_login],
        focused_tasks=[task.title for task in tasks if task.kind == "focus" and task.done_on is None],
        rituals=[task.title for task in tasks if task.kind == "ritual"],
        goals=[task.title for task in tasks if task.kind == "goal" and task.done_on is None],
    )


class PepTalkSource(Protocol):
    """Where the app gets a pep talk; `peptalk.PepTalk` is one (in-process), `RemotePepTalk` the other."""

    def invoke(self, request: PepTalkRequest) -> PepTalkResponse: ...


class RemotePepTalk:
    """peptalk as a separate service, called with LangServe's `RemoteRunnable` (sync, from a worker thread)."""

    def __init__(self, base_url: str, *, timeout_s: float = 120.0, headers: dict[str, str] | None = None) -> None:
        from langserve import RemoteRunnable

        self.runnable: RemoteRunnable = RemoteRunnable(f"{base_url.rstrip('/')}/peptalk/", timeout=timeout_s, headers=headers)

    def invoke(self, request: PepTalkRequest) -> PepTalkResponse:
        return PepTalkResponse.model_validate(self.runnable.invoke(request.model_dump(mode="json")))
