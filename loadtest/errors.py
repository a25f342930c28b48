"""Typed errors of the load-test runner and the SLO gate."""

from __future__ import annotations


class LoadTestError(Exception):
    """Base of every load-test error."""


class SloFileError(LoadTestError):
    """The SLO file is missing, not YAML, or has a wrong key or value."""


class ResultsError(LoadTestError):
    """The results folder has no Locust stats CSV, or one that cannot be read."""


class AppStartError(LoadTestError):
    """The app under test did not come up."""
