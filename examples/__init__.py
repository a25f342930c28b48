"""Runnable, tested examples of using peptalk (see docs/plugin.md)."""
