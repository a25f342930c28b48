"""Typed errors of the rating app."""

from __future__ import annotations


class RatingError(Exception):
    """Base class of every rating error."""


class RatingDataError(RatingError):
    """The dataset or shadow export to rate cannot be read."""


class FormError(RatingError):
    """A submitted rating form is invalid; `fields` maps each bad field to what is wrong with it."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {problem}" for name, problem in fields.items()))
        self.fields = fields


class SignInError(RatingError):
    """A rater name or token was refused."""


class RatingStoreError(RatingError):
    """The rating database is not in the shape the store needs (e.g. a migration was not run)."""
