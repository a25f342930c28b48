"""Locust load tests of the pep-talk service."""
