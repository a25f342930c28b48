"""Schemathesis fuzzes the app's OpenAPI spec in-process (ASGI): every generated request gets a non-5xx answer.

Bounded: `FUZZ_EXAMPLES` examples per operation (`PEPTALK_FUZZ_EXAMPLES` raises it), no shrinking, a
per-test timeout. The model under the chain is a canned chat model, so valid inputs cost no generation;
the HTTP layer, validation, LangServe, middleware and serving layers are the real ones.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from schemathesis.checks import not_a_server_error

from langserve_app import create_app
from peptalk.settings import Settings

FUZZ_EXAMPLES = int(os.environ.get("PEPTALK_FUZZ_EXAMPLES", "25"))


class CannedChatModel(GenericFakeChatModel):
    """Answers every call with the same short pep talk."""

    def __init__(self) -> None:
        super().__init__(messages=iter(()))

    async def _astream(self, messages, stop=None, run_manager=None, **kwargs):  # type: ignore[override]
        self.messages = iter([AIMessage(content="You have got this today.")])
        async for chunk in super()._astream(messages, stop, run_manager, **kwargs):
            yield chunk


def fuzzed_app():
    """The real app (semantic cache included) over a canned chat model; built at collection, started on first use."""
    data_dir = Path(tempfile.mkdtemp(prefix="peptalk-fuzz-"))
    app = create_app(Settings(_env_file=None, log_level="WARNING", max_tokens=4, data_dir=data_dir,
                              rate_limit_per_key_per_minute=0, rate_limit_per_user_per_minute=0))
    canned = CannedChatModel()
    for backend in app.peptalk.router.backends.values():
        backend.chat_model = lambda model, **_: canned  # every node of every model answers canned text
    return app


@pytest.fixture(autouse=True, scope="module")
def sse_exit_event_per_loop():
    """sse-starlette (<2) keeps one global exit `Event`, bound to the first event loop that streamed.

    Schemathesis serves the app on its own loop, so other tests' streams in this process would leave it bound
    to theirs; a fresh one is made on first use in each loop.
    """
    from sse_starlette.sse import AppStatus

    AppStatus.should_exit_event = None
    yield
    AppStatus.should_exit_event = None


schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app())
schema.config.generation.update(max_examples=FUZZ_EXAMPLES, no_shrink=True, database="none", deterministic=True)
schema.config.phases.update(phases=["examples", "coverage", "fuzzing"])


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.timeout(120)
def test_no_input_gets_a_server_error(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=[not_a_server_error])
