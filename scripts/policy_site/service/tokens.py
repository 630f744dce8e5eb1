"""The service's tokens: CSRF tokens of its forms, and the random tokens of confirmation links.

CSRF (double submit, signed): the browser holds a random nonce in a cookie (HttpOnly, SameSite=Strict, Secure on
https); each form carries `EXPIRES.HMAC(secret, "csrf", nonce, EXPIRES)`. A POST is accepted only when the form's
token is signed for the cookie's nonce and has not expired (CSRF_SECONDS): a page of another site can neither read
the cookie nor make the signature. Tokens are signed with POLICY_UNSUBSCRIBE_SECRET under their own purpose, so no
other token of this project (unsubscribe, preferences) is ever a valid CSRF token, nor the other way round.

Confirmation tokens are 32 random bytes (URL-safe base64); the database stores only their sha256
(notify/pending.py). Unsubscribe and preferences tokens are the subscriber tokens of notify/message.py.
"""

from __future__ import annotations

import hmac
import re
import secrets
import time

CSRF_SECONDS = 4 * 3600
COOKIE = "policy_csrf"
_NONCE = re.compile(r"^[A-Za-z0-9_-]{22,64}\Z")
_CSRF = re.compile(r"^(\d{1,12})\.([0-9a-f]{32})\Z")
_CONFIRMATION = re.compile(r"^[A-Za-z0-9_-]{43}\Z")
_SUBSCRIBER = re.compile(r"^[0-9a-f]{16}\.[0-9a-f]{32}\Z")


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def valid_nonce(value: str | None) -> bool:
    return bool(value) and bool(_NONCE.match(value or ""))


def _signature(secret: bytes, nonce: str, expires: int) -> str:
    return hmac.digest(secret, f"csrf\n{nonce}\n{expires}".encode(), "sha256").hex()[:32]


def csrf_token(secret: bytes, nonce: str, now: float | None = None, lifetime: int = CSRF_SECONDS) -> str:
    expires = int(now if now is not None else time.time()) + lifetime
    return f"{expires}.{_signature(secret, nonce, expires)}"


def check_csrf(secret: bytes, nonce: str | None, token: str, now: float | None = None) -> bool:
    """True when the token was made for this nonce with this secret and has not expired."""
    match = _CSRF.match(token.strip())
    if not match or not valid_nonce(nonce):
        return False
    expires = int(match.group(1))
    assert nonce is not None
    good = hmac.compare_digest(_signature(secret, nonce, expires), match.group(2))
    return good and expires > (now if now is not None else time.time())


def confirmation_token() -> str:
    return secrets.token_urlsafe(32)


def looks_like_confirmation(token: str) -> bool:
    return bool(_CONFIRMATION.match(token))


def looks_like_subscriber_token(token: str) -> bool:
    return bool(_SUBSCRIBER.match(token))
