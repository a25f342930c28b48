"""peptalk: the daily pep-talk chain and the service around it.

In-process: `async with PepTalk(settings) as peptalk: await peptalk.ainvoke(request)`.
Inside a FastAPI backend: `include_peptalk(app, prefix="/ai", dependencies=[Depends(auth)])`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from peptalk.errors import BlockingCallOnEventLoop, NotStarted
from peptalk.lazy import lazy_exports
from peptalk.schema import PepTalkRequest, PepTalkResponse, RequestLimits
from peptalk.settings import Settings, get_settings
from router.errors import AllBackendsFailed, StreamInterrupted, UnknownModelError

if TYPE_CHECKING:
    from peptalk.plugin import include_peptalk
    from peptalk.service import PepTalk

# The serving stack pulls in LangChain, FastAPI and the router: loaded on first use, not by `import peptalk`.
_EXPORTS = {
    "PepTalk": "peptalk.service",
    "include_peptalk": "peptalk.plugin",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)

# The errors a host catches: AllBackendsFailed (no backend could answer), NotStarted (called before start),
# BlockingCallOnEventLoop (a sync call on an event loop), StreamInterrupted, UnknownModelError.
__all__ = ["AllBackendsFailed", "BlockingCallOnEventLoop", "NotStarted", "PepTalkRequest", "PepTalkResponse",
           "RequestLimits", "Settings", "StreamInterrupted", "UnknownModelError", "get_settings", *_EXPORTS]
