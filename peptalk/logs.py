"""JSON log lines: one object per record, with the record's `extra` fields and the request id as keys."""

from __future__ import annotations

import json
import logging
import time

from router.call import current_request_id

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({key: value for key, value in record.__dict__.items() if key not in _STANDARD})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class RequestIdLogFilter(logging.Filter):
    """Adds the current HTTP request's id to every record that does not carry one already."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            request_id = current_request_id.get()
            if request_id is not None:
                record.request_id = request_id
        return True


class ConsoleFormatter(logging.Formatter):
    """One readable line per record for a terminal: `level: msg (key=value ...)`, the record's fields included.

    Without it, Python prints a bare message ("stream interrupted") and drops the model, reason and request id.
    """

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{key}={_shown(value)}" for key, value in record.__dict__.items()
                          if key not in _STANDARD and value is not None)
        line = f"{record.levelname.lower()}: {record.getMessage()}" + (f" ({fields})" if fields else "")
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _shown(value: object) -> str:
    text = str(value)
    return json.dumps(text) if not text or any(char.isspace() or char in "\"=()" for char in text) else text


class _ConsoleHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The command line's handler; the server's JSON logging replaces it."""


def configure_console_logging(level: str = "WARNING") -> None:
    """Sends peptalk's warnings and errors to stderr as readable lines, for the command line (idempotent)."""
    logger = logging.getLogger("peptalk")
    if any(isinstance(handler.formatter, JsonFormatter) for handler in logger.handlers):
        return  # a server in this process logs JSON already
    logger.setLevel(level)
    if not any(isinstance(handler, _ConsoleHandler) for handler in logger.handlers):
        handler = _ConsoleHandler()
        handler.setFormatter(ConsoleFormatter())
        handler.addFilter(RequestIdLogFilter())
        logger.addHandler(handler)
        logger.propagate = False


def configure_logging(level: str) -> None:
    """Sends peptalk's logs to stderr as JSON lines, each with its request id (idempotent)."""
    logger = logging.getLogger("peptalk")
    logger.setLevel(level)
    for console in [handler for handler in logger.handlers if isinstance(handler, _ConsoleHandler)]:
        logger.removeHandler(console)
    if not any(isinstance(handler.formatter, JsonFormatter) for handler in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        handler.addFilter(RequestIdLogFilter())
        logger.addHandler(handler)
        logger.propagate = False
