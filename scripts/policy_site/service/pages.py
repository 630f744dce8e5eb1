"""The service's HTML pages: Jinja2 templates under templates/subscriptions/ (a project's own templates/ folder
overrides any of them, as for the site), rendered with every value escaped, and the headers every answer carries.

Security headers: a Content-Security-Policy that allows nothing but the service's own stylesheet and forms posted
to itself (no script, no image, no frame, no third party), `frame-ancestors 'none'`, `Referrer-Policy:
no-referrer` (tokens are in the URLs), `Cache-Control: no-store`, `X-Content-Type-Options: nosniff`; and, when
the service is served over https, Strict-Transport-Security.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import HTMLResponse, Response

from ..errors import UserError
from ..site import render
from ..site.notice_terms import NoticeTerms
from .config import ServiceConfig
from .tokens import COOKIE, CSRF_SECONDS

CSP = ("default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
       "upgrade-insecure-requests")
HEADERS = {"Content-Security-Policy": CSP, "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
           "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
           "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Resource-Policy": "same-origin"}
STYLESHEET = "subscriptions/service.css"


def security_headers(config: ServiceConfig) -> dict[str, str]:
    headers = dict(HEADERS)
    if config.secure:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    else:  # plain http on this machine (a preview, a test): nothing to upgrade to
        headers["Content-Security-Policy"] = CSP.removesuffix("; upgrade-insecure-requests")
    return headers


class Pages:
    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        settings = config.settings
        self.env = render.environment(settings.template_dirs, settings.site_url,
                                      language=settings["controlling_language"])
        self.headers = security_headers(config)
        try:
            self.stylesheet = self.env.loader.get_source(self.env, STYLESHEET)[0]  # type: ignore[union-attr]
            for name in ("subscribe", "message", "confirm", "unsubscribe", "preferences"):
                self.env.get_template(f"subscriptions/{name}.html.j2")
        except Exception as exc:  # a missing or broken template is the project's to fix
            raise UserError(f"the subscription service's templates (templates/subscriptions/): {exc}") from None
        self.common = {"site_name": settings.site_name, "site_url": settings.url(), "lang": config.choices.original,
                       "choices": config.choices,
                       "terms": NoticeTerms.of(settings, [id for id, _ in config.choices.documents])}

    def render(self, template: str, status: int = 200, nonce: str | None = None, new_nonce: bool = False,
               headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
        """A page; nonce: the CSRF nonce its forms are signed for (set as the cookie when new_nonce)."""
        body = self.env.get_template(f"subscriptions/{template}.html.j2").render({**self.common, **context})
        response = HTMLResponse(body, status, headers={**self.headers, **(headers or {})})
        if nonce and new_nonce:
            response.set_cookie(COOKIE, nonce, max_age=CSRF_SECONDS, path=self.config.path, secure=self.config.secure,
                                httponly=True, samesite="strict")
        return response

    def message(self, title: str, text: str, status: int = 200, link: tuple[str, str] | None = None,
                headers: dict[str, str] | None = None, lookalike: str | None = None) -> HTMLResponse:
        """A page that says one thing: a title, a paragraph and, optionally, a warning about a look-alike address and
        a link (its text, its address)."""
        return self.render("message", status, headers=headers, title=title, text=text, link=link,
                           lookalike=lookalike)

    def css(self) -> Response:
        return Response(self.stylesheet, 200, media_type="text/css", headers={**self.headers,
                                                                               "Cache-Control": "max-age=3600"})

    def plain(self, text: str, status: int = 200) -> Response:
        return Response(text + "\n", status, media_type="text/plain", headers=self.headers)
