"""Where a POST may come from, and how big it may be.

A form POST is accepted when:

    it carries a CSRF token (every form of the service does)   the token must be valid for the cookie's nonce
                                                               and unexpired (tokens.py); and an Origin, if the
                                                               browser sent one, must be one of the two below
    it carries none (the static site's follow page)            its Origin (or, without one, its Referer) must be
                                                               the service's own origin (subscriptions_url) or the
                                                               static site's (site_url)

Anything else is refused with 403: a foreign Origin, a token-less POST without Origin and Referer, or with
`Origin: null` (what a page with Referrer-Policy: no-referrer sends — the service's own pages do, which is why
their forms carry tokens). The one exception is RFC 8058's one-click unsubscribe (app.py), authenticated by
its token alone: mail providers post it from their own servers, with no Origin and no cookie.

Bodies are limited to MAX_BODY bytes (a form of a few fields needs far less): larger ones are refused with 413
before they are read whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from .config import ServiceConfig, origin
from .tokens import check_csrf

MAX_BODY = 16 * 1024


class BodyTooLarge(Exception):
    pass


def request_origin(headers: Mapping[str, str]) -> str | None:
    """The origin a request says it comes from: its Origin header, else its Referer's; None for neither or 'null'."""
    value = headers.get("origin", "").strip()
    if value and value != "null":
        return origin(value) or "invalid"
    referer = headers.get("referer", "").strip()
    if referer and urlsplit(referer).scheme:
        return origin(referer) or "invalid"
    return None


def post_allowed(config: ServiceConfig, headers: Mapping[str, str], nonce: str | None, token: str | None) -> bool:
    """May this form POST go ahead? (See the module docstring.)"""
    source = request_origin(headers)
    if source is not None and source not in config.origins:
        return False
    if token is not None:
        return check_csrf(config.secret, nonce, token)
    return source is not None


class LimitBody:
    """ASGI middleware: a request whose body is larger than MAX_BODY raises BodyTooLarge while it is read (a
    Content-Length that says so is refused at once, with 413)."""

    def __init__(self, app, headers: Mapping[str, str] | None = None) -> None:
        self.app = app
        given = {"cache-control": "no-store", **{k.lower(): v for k, v in (headers or {}).items()}}
        self.headers = [(b"content-type", b"text/plain; charset=utf-8")] + \
            [(k.encode("latin-1"), v.encode("latin-1")) for k, v in given.items()]  # the pages' security headers

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or ()).get(b"content-length", b"")
        if length and (not length.isdigit() or int(length) > MAX_BODY):
            await send({"type": "http.response.start", "status": 413, "headers": self.headers})
            await send({"type": "http.response.body", "body": b"Request too large.\n"})
            return
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > MAX_BODY:
                    raise BodyTooLarge()
            return message

        await self.app(scope, limited, send)
