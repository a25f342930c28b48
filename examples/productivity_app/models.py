"""The app's own data: users (with a sign-in token and their last login) and their tasks, in SQLAlchemy."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from sqlalchemy import Date, ForeignKey, String, create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

TaskKind = Literal["task", "focus", "ritual", "goal"]


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    last_login: Mapped[dt.date | None] = mapped_column(Date, default=None)
    tasks: Mapped[list[Task]] = relationship(back_populates="user", cascade="all, delete-orphan")


class Task(Base):
    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10), default="task")  # a TaskKind
    done_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    user: Mapped[User] = relationship(back_populates="tasks")


def make_engine(database_url: str) -> Engine:
    """The app's engine; creates its tables (a real app would run its own migrations)."""
    engine = create_engine(database_url, connect_args={"check_same_thread": False}
                           if database_url.startswith("sqlite") else {})
    Base.metadata.create_all(engine)
    return engine
