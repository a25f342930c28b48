"""A small productivity-app backend (users and tasks in SQLite) that serves its users a daily pep talk via peptalk.

It runs in one of two modes: peptalk in-process (`include_peptalk`, the default) or peptalk as a separate
service reached through LangServe's `RemoteRunnable` (`--peptalk-url`). See docs/plugin.md.
"""

from examples.productivity_app.app import create_app

__all__ = ["create_app"]
