"""peptalk: the daily pep-talk chain and the service around it.

In-process: `async with PepTalk(settings) as peptalk: await peptalk.ainvoke(request)`.
Inside a FastAPI backend: `include_peptalk(app, prefix="/ai", dependencies=[Depends(auth)])`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from peptalk.schema import PepTalkRequest, PepTalkResponse, RequestLimits
from peptalk.settings import Settings, get_settings

if TYPE_CHECKING:
    from peptalk.plugin import include_peptalk
    from peptalk.service import PepTalk

__all__ = ["PepTalk", "PepTalkRequest", "PepTalkResponse", "RequestLimits", "Settings", "get_settings",
           "include_peptalk"]


def __getattr__(name: str) -> Any:
    # The serving stack pulls in LangChain, FastAPI and the router: loaded on first use, not by `import peptalk`.
    if name == "PepTalk":
        from peptalk.service import PepTalk

        return PepTalk
    if name == "include_peptalk":
        from peptalk.plugin import include_peptalk

        return include_peptalk
    raise AttributeError(f"module 'peptalk' has no attribute {name!r}")
