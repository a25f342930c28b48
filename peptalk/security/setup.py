"""Installs the API key check from the settings, and refuses an unprotected production set-up."""

from __future__ import annotations

import ipaddress
import logging

from fastapi import FastAPI

from peptalk.security.api_keys import ApiKeyMiddleware
from peptalk.settings import Settings
from router.errors import ConfigError

log = logging.getLogger("peptalk.security")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def is_loopback(host: str) -> bool:
    """Whether `host` is reachable from this machine only (`localhost`, 127.0.0.0/8, ::1)."""
    if host.strip().lower() in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name or 0.0.0.0-like wildcard: assume it is public


def api_keys(settings: Settings) -> list[str]:
    """The configured keys in clear; outside dev mode at least one is required.

    Without keys, dev mode is on only where that is safe: on a loopback address, or when PEPTALK_DEV_MODE=true
    says so explicitly. A public address without keys refuses to start.
    """
    keys = [key.get_secret_value() for key in settings.api_keys if key.get_secret_value()]
    if not settings.resolved_dev_mode() and not keys:
        raise ConfigError("PEPTALK_DEV_MODE=false needs at least one key in PEPTALK_API_KEYS")
    if not keys and settings.dev_mode is not True and not is_loopback(settings.host):
        raise ConfigError(
            f"refusing to serve on {settings.host} without API keys: anyone who can reach it could use it. "
            "Set PEPTALK_API_KEYS=<key>[,<key>...] to require a key, or bind 127.0.0.1 (PEPTALK_HOST or --host), "
            "or set PEPTALK_DEV_MODE=true to serve without keys on purpose.")
    return keys


def install_api_keys(app: FastAPI, settings: Settings) -> None:
    """The standalone service's authentication, app-wide: a configured API key on every request outside dev mode.

    Refuses an unprotected production set-up first (`api_keys`). The per-route protections (the one parse of the
    request, rate limits, envelope fixes) are every peptalk route's own: `peptalk.plugin.guard_route`.
    """
    keys = api_keys(settings)
    if settings.resolved_dev_mode():
        if settings.host not in LOOPBACK_HOSTS:
            log.warning("dev mode: no API key is needed, yet the service binds a public interface",
                        extra={"host": settings.host})
        if keys:
            log.warning("PEPTALK_DEV_MODE=true: the keys in PEPTALK_API_KEYS are not enforced")
        return
    app.add_middleware(ApiKeyMiddleware, keys=keys)  # type: ignore[arg-type]
