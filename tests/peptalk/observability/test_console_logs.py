"""The command line's log lines name what failed: the message with the record's fields (model, reason, request id)."""

from __future__ import annotations

import io
import logging

from peptalk.logs import ConsoleFormatter, JsonFormatter, configure_console_logging, configure_logging


def test_a_warning_shows_its_model_reason_and_request_id() -> None:
    record = logging.LogRecord("peptalk.router", logging.ERROR, __file__, 1, "stream interrupted", None, None)
    record.__dict__.update({"request_id": "r-1", "model": "embedded:smollm2-135m", "node": "local",
                            "reason": "timeout", "detail": "no token within 120 s", "chunks_sent": 12, "gone": None})
    assert ConsoleFormatter().format(record) == (
        'error: stream interrupted (request_id=r-1 model=embedded:smollm2-135m node=local reason=timeout '
        'detail="no token within 120 s" chunks_sent=12)')


def test_the_server_replaces_the_console_lines_with_json() -> None:
    logger = logging.getLogger("peptalk")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    logger.handlers = []
    try:
        configure_console_logging()
        configure_console_logging()  # idempotent
        [console] = logger.handlers
        sink = io.StringIO()
        console.setStream(sink)
        logging.getLogger("peptalk.router").warning("fallback", extra={"from_model": "openai:gpt-4"})
        logging.getLogger("peptalk.router").info("served")  # below WARNING: not shown on the command line
        assert sink.getvalue() == "warning: fallback (from_model=openai:gpt-4)\n"
        configure_logging("INFO")
        assert [type(handler.formatter) for handler in logger.handlers] == [JsonFormatter]
        configure_console_logging()  # a server in this process: its JSON lines stay
        assert [type(handler.formatter) for handler in logger.handlers] == [JsonFormatter]
    finally:
        logger.handlers, logger.propagate = saved[0], saved[2]
        logger.setLevel(saved[1])  # clears the loggers' cached levels too
