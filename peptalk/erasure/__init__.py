"""Erasure of one user's personal data from every store that holds it (`peptalk forget`, `DELETE /admin/users/..`)."""

from peptalk.erasure.base import Forgettable
from peptalk.erasure.errors import ErasureError, InvalidUserId
from peptalk.erasure.service import ErasureReport, forget_user

__all__ = ["ErasureError", "ErasureReport", "Forgettable", "InvalidUserId", "forget_user"]
