"""peptalk: the daily pep-talk chain and the service around it."""

from peptalk.schema import PepTalkRequest, PepTalkResponse, RequestLimits
from peptalk.settings import Settings, get_settings

__all__ = ["PepTalkRequest", "PepTalkResponse", "RequestLimits", "Settings", "get_settings"]
