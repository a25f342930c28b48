"""A morning job: every user's pep talk, written in-process from plain sync code (no event loop, no HTTP).

`python -m examples.productivity_app.morning --database-url sqlite:///productivity.db`
"""

from __future__ import annotations

import argparse
import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from examples.productivity_app.models import User, make_engine
from examples.productivity_app.pep_talks import pep_talk_request
from peptalk import PepTalk, PepTalkResponse, Settings


def write_pep_talks(database_url: str, *, settings: Settings | None = None,
                    today: dt.date | None = None) -> dict[str, PepTalkResponse]:
    """Each user's pep talk for `today`, by user name; peptalk runs on its own loop thread for the job."""
    today = today or dt.date.today()
    engine = make_engine(database_url)
    with Session(engine) as db, PepTalk(settings) as peptalk:
        users = db.scalars(select(User).order_by(User.id)).all()
        answers = peptalk.batch([pep_talk_request(db, user, today) for user in users])
    engine.dispose()
    return {user.name: answer for user, answer in zip(users, answers, strict=True)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m examples.productivity_app.morning", description=__doc__)
    parser.add_argument("--database-url", default="sqlite:///productivity.db")
    args = parser.parse_args()
    for name, answer in write_pep_talks(args.database_url).items():
        print(f"{name} ({answer.model}): {answer.text}")


if __name__ == "__main__":
    main()
