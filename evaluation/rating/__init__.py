"""Human blind rating: 0-10 scores and pairwise A/B on logged responses, served as web pages."""

from evaluation.rating.app import create_rating_app
from evaluation.rating.assign import choose_units, plan_assignments
from evaluation.rating.blind import Blinder, Slot
from evaluation.rating.errors import FormError, RatingDataError, RatingError, SignInError
from evaluation.rating.export import export_columns, export_rows, write_export
from evaluation.rating.items import RatingItem, RatingUnit, build_units, load_items, parse_items
from evaluation.rating.store import RatingStore, ResponseScore, ScoreRow, Submission

__all__ = [
    "Blinder", "FormError", "RatingDataError", "RatingError", "RatingItem", "RatingStore", "RatingUnit",
    "ResponseScore", "ScoreRow", "SignInError", "Slot", "Submission", "build_units", "choose_units",
    "create_rating_app", "export_columns", "export_rows", "load_items", "parse_items", "plan_assignments",
    "write_export",
]
