"""Offline evaluation of logged pep talks (the SLaM method)."""
