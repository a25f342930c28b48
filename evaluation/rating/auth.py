"""Sign-in for raters and the admin: signed, time-limited cookies (itsdangerous), and the deployment secret."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import Response

from evaluation.rating.errors import SignInError

RATER_COOKIE = "peptalk_rater"
ADMIN_COOKIE = "peptalk_rating_admin"
RATER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")


def resolve_secret(secret: SecretStr | None, data_dir: Path) -> bytes:
    """The configured secret, or one kept in `<data_dir>/rating-secret` (made once, readable by the owner only)."""
    if secret is not None:
        return secret.get_secret_value().encode()
    path = data_dir / "rating-secret"
    if not path.exists():
        # Several processes may start at once: write a private temporary file, then link it into place, so
        # exactly one secret wins and nobody reads a half-written one.
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".rating-secret.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process won
        finally:
            draft.unlink()
    return path.read_text().strip().encode()


def check_rater_name(name: str) -> str:
    name = name.strip()
    if not RATER_NAME.fullmatch(name):
        raise SignInError("a rater name is 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit")
    return name


class Sessions:
    """Issues and reads the rater and admin cookies."""

    def __init__(self, secret: bytes, *, max_age_s: int, admin_token: SecretStr | None) -> None:
        self._raters = URLSafeTimedSerializer(secret, salt="peptalk-rater")
        self._admins = URLSafeTimedSerializer(secret, salt="peptalk-rating-admin")
        self._max_age_s = max_age_s
        self._admin_token = admin_token

    def _set(self, response: Response, name: str, value: str) -> None:
        response.set_cookie(name, value, max_age=self._max_age_s, httponly=True, samesite="strict", path="/")

    def sign_in_rater(self, response: Response, rater: str) -> None:
        self._set(response, RATER_COOKIE, self._raters.dumps({"rater": rater}))

    def rater(self, request: Request) -> str | None:
        """The signed-in rater, or None."""
        cookie = request.cookies.get(RATER_COOKIE)
        if not cookie:
            return None
        try:
            payload = self._raters.loads(cookie, max_age=self._max_age_s)
        except BadSignature:
            return None
        rater = payload.get("rater") if isinstance(payload, dict) else None
        return rater if isinstance(rater, str) else None

    @property
    def admin_enabled(self) -> bool:
        return self._admin_token is not None

    def admin_token_matches(self, token: str) -> bool:
        if self._admin_token is None:
            return False
        return hmac.compare_digest(token.encode(), self._admin_token.get_secret_value().encode())

    def _admin_fingerprint(self) -> str:
        """Ties admin cookies to the current admin token, so changing the token signs every admin out."""
        assert self._admin_token is not None
        return hashlib.sha256(self._admin_token.get_secret_value().encode()).hexdigest()[:16]

    def sign_in_admin(self, response: Response) -> None:
        self._set(response, ADMIN_COOKIE, self._admins.dumps({"admin": self._admin_fingerprint()}))

    def is_admin(self, request: Request) -> bool:
        """A valid admin cookie, or `Authorization: Bearer <admin token>`."""
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer ") and self.admin_token_matches(header[7:].strip()):
            return True
        cookie = request.cookies.get(ADMIN_COOKIE)
        if not cookie or not self.admin_enabled:
            return False
        try:
            return self._admins.loads(cookie, max_age=self._max_age_s) == {"admin": self._admin_fingerprint()}
        except BadSignature:
            return False
