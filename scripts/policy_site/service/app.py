"""The subscription service as a Starlette application: its routes and what each answers.

    GET  /subscribe      the form (address, name, documents, kinds of change, language)
    POST /subscribe      a pending subscription and a confirmation mail (sent after the answer); the same answer
                         whether the address is new, pending, subscribed or removed (no enumeration). 400 with
                         the form again for an invalid entry, 403 (guard.py), 429 + Retry-After when a client or
                         an address is over its limit
    GET  /confirm        ?token=: what will be confirmed, and a button; a mail scanner following the link
                         changes nothing
    POST /confirm        the subscription confirmed (confirmed_at: the consent). A malformed token: 400; an unknown
                         (forged) one: 404; a used or expired one: 410
    GET  /unsubscribe    ?token= (the HMAC tokens of notify/message.py, so links in mails already sent work): a button
    POST /unsubscribe    RFC 8058 one-click (body List-Unsubscribe=One-Click, the token in the URL): removed at once,
                         200, no CSRF token; otherwise the page's button (CSRF-checked)
    GET  /preferences    ?token= (a preferences token: another purpose than unsubscribe): documents, kinds, language
    POST /preferences    saved; an unsubscribe button beside them
    GET  /healthz        200 'ok' when the database answers, else 503 (for the reverse proxy)
    GET  /service.css    the pages' stylesheet (templates/subscriptions/service.css)

Methods. GET and HEAD are safe on every path: HEAD is answered as GET is, without the body, and never acts (a body
sent with it is not read); only POST acts. Any other method on a path that exists is answered 405 with `Allow`
(OPTIONS and TRACE included: nothing is echoed); a path that does not exist is 404 whatever the method. A path
with a trailing slash too many (`/subscribe/`) is redirected to the service's own address for it, built from
subscriptions_url, never from the request's Host.

Every answer carries the security headers of pages.py, redirects and errors included; nothing is ever answered
with a traceback, and nothing an address or a token could be read from is logged (server.py turns the access log
off).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from multipart.exceptions import FormParserError
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.formparsers import MultiPartException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..notify import message
from ..notify.addresses import display, lookalike_warning
from ..notify.headers import safe_name
from ..notify.ledger import stamp
from ..notify.pending import Limited, Pending
from ..notify.store import Preferences, Subscriber
from .actions import Actions, Unavailable, redact
from .config import ServiceConfig
from .forms import Choice, read_choice, read_subscription
from .guard import MAX_BODY, BodyTooLarge, LimitBody, post_allowed, request_origin
from .mail import ConfirmationMail
from .pages import Pages
from .ratelimit import ClientLimiter
from .tokens import (
    COOKIE,
    confirmation_token,
    csrf_token,
    looks_like_confirmation,
    looks_like_subscriber_token,
    new_nonce,
    valid_nonce,
)

log = logging.getLogger("policy.subscriptions")
Handler = Callable[[Any, Request], Awaitable[Response]]


def guarded(handler: Handler) -> Handler:
    """Failures as pages, never a traceback: the database (503), a body too large (413), a broken form (400)."""
    @functools.wraps(handler)
    async def run(self: Service, request: Request) -> Response:
        try:
            return await handler(self, request)
        except Unavailable:
            return self.pages.message("Please try again later", "The service cannot reach its database just now. "
                                      "Nothing was changed.", 503, headers={"Retry-After": "60"})
        except BodyTooLarge:
            return self.pages.plain("Request too large.", 413)
        except (MultiPartException, FormParserError, UnicodeDecodeError):
            return self.pages.message("This form could not be read", "Please open the form again and send it "
                                      "from there.", 400, link=("Open the form", "subscribe"))
        except Exception as exc:  # noqa: BLE001 - one line in the log, never a traceback to anyone
            log.error("%s %s failed: %s: %s", request.method, request.url.path, type(exc).__name__,
                      redact(str(exc))[:300])
            return self.pages.message("Something went wrong", "Nothing was changed. Please try again later.", 500)
    return run


class Service:
    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        self.pages = Pages(config)
        self.actions = Actions(config)
        self.mail = ConfirmationMail(config, self.pages)
        self.limiter = ClientLimiter(config.client_rate)
        self.paths: frozenset[str] = frozenset()  # the routes' paths (create_app)

    # --- helpers ------------------------------------------------------------------------------------------------
    def form_page(self, request: Request, template: str, status: int = 200, **context: Any) -> Response:
        """A page with forms, signed for the browser's CSRF nonce (a new one set when it has none)."""
        cookie = request.cookies.get(COOKIE)
        nonce, new = (cookie, False) if cookie and valid_nonce(cookie) else (new_nonce(), True)
        return self.pages.render(template, status, nonce, new, csrf=csrf_token(self.config.secret, nonce), **context)

    async def read_form(self, request: Request) -> Any:
        return await request.form(max_files=0, max_fields=60, max_part_size=MAX_BODY)

    def allowed(self, request: Request, form: Any) -> bool:
        token = form.get("csrf")
        return post_allowed(self.config, request.headers, request.cookies.get(COOKIE),
                            token if isinstance(token, str) else None)

    def forbidden(self, request: Request | None = None) -> Response:
        """403. A form sent from a page of another address (a local preview of the site, say) is told where forms
        are accepted from: the service's own pages and the site at site_url."""
        source = request_origin(request.headers) if request is not None else None
        if source not in (None, "invalid") and source not in self.config.origins:
            site = self.config.settings.url()
            why = (f"It was sent from a page at {source}, but this service accepts forms only from its own pages and "
                   f"from the site at {site} (site_url in mkdocs.yml). A preview of the site on another address "
                   f"cannot subscribe: open the form here, or on {site}.")
        else:
            why = ("It has expired, or it was not sent from this service or from the site. Please open the form "
                   "again and send it from there.")
        return self.pages.message("This form cannot be accepted", why, 403, link=("Open the form", "subscribe"))

    def too_many(self, seconds: int) -> Response:
        minutes = max(1, -(-seconds // 60))
        return self.pages.message("Too many requests", f"Please try again in {minutes} minute"
                                  f"{'s' if minutes != 1 else ''}.", 429, headers={"Retry-After": str(seconds)})

    def summary(self, preferences: Preferences) -> dict[str, str | None]:
        choices = self.config.choices
        titles = dict(choices.documents)
        documents = ", ".join(titles.get(d, d) for d in preferences.document_ids) or "All documents"
        return {"documents": documents if choices.documents else None,
                "changes": dict(choices.changes)[preferences.changes],
                "language": choices.label(preferences.language) if choices.languages else None}

    def client(self, request: Request) -> str:
        return request.client.host if request.client else "unknown"  # counted by ratelimit.client_key

    @staticmethod
    def token(request: Request, form: Any = None) -> str:
        value = request.query_params.get("token") or (form.get("token") if form is not None else None) or ""
        return value.strip() if isinstance(value, str) else ""

    # --- subscribe --------------------------------------------------------------------------------------------
    @guarded
    async def subscribe(self, request: Request) -> Response:
        if request.method != "POST":  # GET, and HEAD: the form, never an action
            wanted = [d for d in request.query_params.getlist("documents") if d in self.config.choices.document_ids]
            choice = Choice(Preferences.of(wanted), wanted or ["all"])
            return self.form_page(request, "subscribe", values={"email": "", "name": ""}, choice=choice, errors=[])
        form = await self.read_form(request)
        if not self.allowed(request, form):
            return self.forbidden(request)
        wait = self.limiter.hit(self.client(request))
        if wait is not None:
            return self.too_many(wait)
        submission = read_subscription(form, self.config.choices)
        if submission.errors or submission.email is None:
            return self.form_page(request, "subscribe", 400, values={"email": submission.address,
                                                                      "name": submission.name},
                                  choice=submission.choice, errors=submission.errors)
        token = confirmation_token()
        result = await run_in_threadpool(self.actions.create_pending, submission.email, submission.name,
                                         submission.choice.preferences, token)
        if isinstance(result, Limited):
            return self.too_many(result.retry_after)
        response = self.pages.message("Check your inbox", "If this address can receive mail, a message with a link "
                                      "to confirm the subscription is on its way. Nothing changes until the link is "
                                      f"used; it works for {self.config.confirm_seconds / 3600:g} hours.",
                                      lookalike=lookalike_warning(submission.email))
        response.background = BackgroundTask(self.send_confirmation, result, token)
        return response

    def send_confirmation(self, found: Pending, token: str) -> None:
        """After the answer has gone out: the mail (its wording depends on whether the address is subscribed)."""
        try:
            subscriber = self.actions.by_address(found.email)
            self.mail.send(found, token, subscriber)
            self.actions.purge()
        except Unavailable:
            pass  # logged already

    # --- confirm ----------------------------------------------------------------------------------------------
    def pending_problem(self, token: str, found: Pending | None) -> Response | None:
        subscribe = ("Subscribe again", "subscribe")
        if not looks_like_confirmation(token):
            return self.pages.message("This link is incomplete", "Please open the whole link from the email (some "
                                      "mail programs break long links), or subscribe again.", 400, link=subscribe)
        if found is None:
            return self.pages.message("This link is not valid", "It was not made by this service, or it was "
                                      "mistyped. Please use the link from the email, or subscribe again.", 404,
                                      link=subscribe)
        if found.used_at:
            return self.pages.message("This link has been used already", "It confirmed a subscription once. To change "
                                      "what you receive, use the link in any notice, or subscribe again.", 410,
                                      link=subscribe)
        if found.expired(stamp()):
            return self.pages.message("This link has expired", "Confirmation links work for "
                                      f"{self.config.confirm_seconds / 3600:g} hours. Please subscribe again.", 410,
                                      link=subscribe)
        return None

    @guarded
    async def confirm(self, request: Request) -> Response:
        form = await self.read_form(request) if request.method == "POST" else None
        if form is not None and not self.allowed(request, form):
            return self.forbidden(request)
        token = self.token(request, form)
        found = await run_in_threadpool(self.actions.find_pending, token) if looks_like_confirmation(token) else None
        problem = self.pending_problem(token, found)
        if problem is not None or found is None:
            return problem or self.forbidden()
        if form is None:
            return self.form_page(request, "confirm", token=token, email=display(found.email),
                                  lookalike=lookalike_warning(found.email), name=safe_name(found.name),
                                  summary=self.summary(found.preferences))
        result = await run_in_threadpool(self.actions.confirm, found)
        if result is None:
            return self.pages.message("This link has been used already", "Nothing was changed.", 410)
        subscriber, outcome = result
        log.info("a subscription was confirmed (%s)", outcome)
        return self.pages.render("message", title="You are subscribed", text="Thank you: you will receive the "
                                 "notices you chose. Every notice has a link to change what you receive or to "
                                 "unsubscribe.", link=("Change what you receive", self.preferences_link(subscriber)))

    def preferences_link(self, subscriber: Subscriber) -> str:
        return "preferences?token=" + message.preferences_token(self.config.secret, subscriber.uid, subscriber.email)

    # --- unsubscribe ------------------------------------------------------------------------------------------
    async def subscriber_for(self, token: str, purpose: str) -> Subscriber | None:
        if not looks_like_subscriber_token(token):
            return None
        return await run_in_threadpool(self.actions.subscriber, token, purpose)

    def invalid_link(self) -> Response:
        return self.pages.message("This link is not valid", "Please use the whole link from one of the emails, "
                                  "or subscribe again.", 404, link=("Subscribe", "subscribe"))

    @guarded
    async def unsubscribe(self, request: Request) -> Response:
        form = await self.read_form(request) if request.method == "POST" else None
        one_click = form is not None and form.get("List-Unsubscribe") == "One-Click" and "csrf" not in form
        if form is not None and not one_click and not self.allowed(request, form):
            return self.forbidden(request)
        subscriber = await self.subscriber_for(self.token(request, form), "unsubscribe")
        if subscriber is None:
            return self.pages.plain("This unsubscribe link is not valid.", 404) if one_click else self.invalid_link()
        if form is None:
            if subscriber.status != "active":
                return self.pages.message("You are not subscribed", "This address receives no notices.",
                                          link=("Subscribe again", "subscribe"))
            return self.form_page(request, "unsubscribe", token=self.token(request), email=display(subscriber.email),
                                  lookalike=lookalike_warning(subscriber.email))
        await run_in_threadpool(self.actions.unsubscribe, subscriber)
        log.info("an address was unsubscribed%s", " (one-click)" if one_click else "")
        if one_click:
            return self.pages.plain("Unsubscribed.")
        return self.pages.message("You are unsubscribed", "This address will receive no more notices.",
                                  link=("Subscribe again", "subscribe"))

    # --- preferences ------------------------------------------------------------------------------------------
    @guarded
    async def preferences(self, request: Request) -> Response:
        form = await self.read_form(request) if request.method == "POST" else None
        if form is not None and not self.allowed(request, form):
            return self.forbidden(request)
        token = self.token(request, form)
        subscriber = await self.subscriber_for(token, "preferences")
        if subscriber is None:
            return self.invalid_link()
        if subscriber.status != "active":
            return self.pages.message("You are not subscribed", "This address receives no notices.",
                                      link=("Subscribe again", "subscribe"))
        context: dict[str, Any] = {"token": token, "email": display(subscriber.email),
                   "lookalike": lookalike_warning(subscriber.email),
                   "unsubscribe": message.unsubscribe_token(self.config.secret, subscriber.uid, subscriber.email)}
        if form is None:
            return self.form_page(request, "preferences", choice=Choice.of(subscriber.preferences), errors=[],
                                  saved=False, **context)
        choice, errors = read_choice(form, self.config.choices)
        if errors:
            return self.form_page(request, "preferences", 400, choice=choice, errors=errors, saved=False, **context)
        await run_in_threadpool(self.actions.set_preferences, subscriber, choice.preferences)
        log.info("preferences were changed")
        return self.form_page(request, "preferences", choice=choice, errors=[], saved=True, **context)

    # --- the rest ---------------------------------------------------------------------------------------------
    @guarded
    async def healthz(self, request: Request) -> Response:
        healthy = await run_in_threadpool(self.actions.healthy)
        return self.pages.plain("ok" if healthy else "the database does not answer", 200 if healthy else 503)

    @guarded
    async def stylesheet(self, request: Request) -> Response:
        return self.pages.css()

    @guarded
    async def not_found(self, request: Request) -> Response:
        path = request.url.path
        if len(path) > 1 and path.endswith("/") and path.rstrip("/") in self.paths:  # /subscribe/ → /subscribe
            query = request.url.query
            target = self.config.url(path.strip("/")) + (f"?{query}" if query else "")
            return RedirectResponse(target, 308, headers=self.pages.headers)
        return self.pages.message("Not found", "There is no page at this address.", 404,
                                  link=("Subscribe", "subscribe"))

    def not_allowed(self, allow: str) -> Response:
        given = {m.strip() for m in allow.split(",")}
        allow = ", ".join(m for m in ("GET", "HEAD", "POST") if m in given)  # one order, whatever Starlette's set
        return self.pages.message("Method not allowed", f"This address answers {allow.replace(', ', ' and ')} "
                                  "requests only.", 405, link=("Subscribe", "subscribe"), headers={"Allow": allow})


def create_app(config: ServiceConfig) -> Starlette:
    service = Service(config)
    forms = ["GET", "HEAD", "POST"]
    read_only = ["GET", "HEAD"]
    routes = [Route("/subscribe", service.subscribe, methods=forms), Route("/confirm", service.confirm, methods=forms),
              Route("/unsubscribe", service.unsubscribe, methods=forms),
              Route("/preferences", service.preferences, methods=forms),
              Route("/healthz", service.healthz, methods=read_only),
              Route("/service.css", service.stylesheet, methods=read_only)]
    service.paths = frozenset(route.path for route in routes)

    async def missing(request: Request, exc: Exception) -> Response:
        allow = getattr(exc, "headers", None) or {}
        if getattr(exc, "status_code", 404) == 405 and "Allow" in allow:
            return service.not_allowed(allow["Allow"])
        return await service.not_found(request)

    app = Starlette(routes=routes, middleware=[Middleware(LimitBody, headers=service.pages.headers)],
                    exception_handlers={404: missing, 405: missing})
    app.router.redirect_slashes = False  # Starlette's would build its Location from the Host header
    app.state.service = service
    return app
