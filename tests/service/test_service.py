"""`policy subscriptions serve` over real HTTP on 127.0.0.1, with a real SMTP server (aiosmtpd) and real `policy
notify` runs: the whole story on SQLite and on PostgreSQL (double opt-in without enumeration, confirmation by POST
only, the notice with RFC 8058 one-click unsubscribe), CSRF and Origin checks, the unsubscribe and preferences
pages, token purposes, refusals to start, and the follow pages of the static site (tests/support/service.py).
Abuse — rate limits, bad links, hostile text, headers — is tests/service/test_service_abuse.py."""

from __future__ import annotations

import re
import subprocess
import time

import httpx
import pytest

from policy_site.bench.local import free_port
from policy_site.notify.message import preferences_token, unsubscribe_token
from policy_site.service.tokens import CSRF_SECONDS, csrf_token
from tests.support.pg import BACKENDS
from tests.support.project import Project
from tests.support.service import (
    PUBLIC,
    SECRET,
    SITE_ORIGIN,
    Mailbox,
    Service,
    add,
    assert_no_address_in_logs,
    confirm_link,
    deploy,
    form,
    notify,
    pending_count,
    publish_privacy,
    set_subscriptions_url,
    subscriber,
    text_of,
    without_volatile,
)


@pytest.fixture(scope="module", params=BACKENDS)
def deployment(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, mailbox: Mailbox):
    """The service on SQLite (the module's), then on PostgreSQL (a database of the session's throw-away server)."""
    if request.param == "sqlite":
        yield request.getfixturevalue("service")
        return
    server = request.getfixturevalue("postgres_server")
    running = deploy(tmp_path_factory.mktemp("service-postgresql"), mailbox, server.create_database())
    yield running
    running.stop()


# --- the whole story, on both databases --------------------------------------------------------------------------

def test_subscribe_confirm_notice_and_one_click_unsubscribe(deployment: Service, mailbox: Mailbox) -> None:
    service = deployment
    known, new = service.address(f"known-{service.port}"), service.address(f"new-{service.port}")
    add(service, known, "--documents", "all")
    visitor = service.visitor("198.51.100.10")

    # the form, then the same answer for a subscribed and an unknown address
    page = visitor.get("subscribe")
    assert page.status_code == 200 and "policy_csrf" in visitor.cookies
    fields = form(page.text, "subscribe")
    assert fields["csrf"] and fields["documents"] == ["all"] and fields["changes"] == ["material"]
    answers = [visitor.submit(page.text, "subscribe", {"email": a, "name": "Ann Example", "documents": ["privacy"],
                                                       "changes": "all", "language": "de"}) for a in (known, new)]
    assert answers[0].status_code == answers[1].status_code == 200
    assert without_volatile(answers[0]) == without_volatile(answers[1])
    assert "Check your inbox" in answers[0].text and known not in answers[0].text and new not in answers[1].text

    # the confirmation mails: transactional, a link to confirm; the subscribed address is told it is subscribed
    [to_known], [to_new] = mailbox.wait(known), mailbox.wait(new)
    assert "subscribed already" in text_of(to_known) and "subscribed already" not in text_of(to_new)
    for mail in (to_known, to_new):
        assert "List-Unsubscribe" not in mail and "List-Id" not in mail
        assert mail["Subject"] == "Confirm your subscription: SynergyCabinet privacy policy"
    assert to_new["To"].addresses[0].display_name == "Ann Example"
    link = confirm_link(to_new)
    assert subscriber(service, new) is None and subscriber(service, known)[:3] == ("active", "*", "material")

    # following the link (a person, or a mail scanner) shows a button and changes nothing
    confirm_page = visitor.get(link)
    assert confirm_page.status_code == 200 and "Confirm my subscription</button>" in confirm_page.text
    assert new in confirm_page.text and "Deutsch" in confirm_page.text
    assert subscriber(service, new) is None
    assert visitor.get(link).status_code == 200 and subscriber(service, new) is None

    # the button confirms: active, with the choices made, and the time of consent
    done = visitor.submit(confirm_page.text, "confirm")
    assert done.status_code == 200 and "You are subscribed" in done.text, done.text
    status, documents, changes, language, confirmed_at, name = subscriber(service, new)
    assert (status, documents, changes, language, name) == ("active", ",privacy,", "all", "de", "Ann Example")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", confirmed_at)
    assert visitor.submit(confirm_page.text, "confirm").status_code == 410  # a link works once

    # policy notify: the notice with an https one-click List-Unsubscribe and a preferences link. The new reader is
    # sent only news (privacy 1.1, published after they subscribed), not the 1.0 versions already in force
    before = len(mailbox.messages)
    publish_privacy(service.project)
    notify(service)
    [notice] = [m for m in mailbox.wait(new, 2) if not m["Subject"].startswith("Confirm")]
    assert " 1.1 — " in notice["Subject"], notice["Subject"]
    # the known reader: its confirmation mail, then terms 1.0 and privacy 1.1 (privacy 1.0 was superseded before
    # notices started: never sent)
    assert len(mailbox.to(known)) == 1 + 2
    assert len(mailbox.messages) == before + 3
    unsubscribe = re.search(r"<(https://[^>]+)>", notice["List-Unsubscribe"])
    assert unsubscribe and unsubscribe.group(1).startswith(PUBLIC + "unsubscribe?token="), notice["List-Unsubscribe"]
    assert notice["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = text_of(notice)
    assert PUBLIC + "preferences?token=" in body and unsubscribe.group(1) in body
    assert "/de/privacy/" in body  # the language chosen: the translated pages

    # RFC 8058: a mail provider's server posts List-Unsubscribe=One-Click (no cookie, no Origin): removed at once
    provider = service.visitor("203.0.113.77")
    gone = provider.post(unsubscribe.group(1), content=b"List-Unsubscribe=One-Click",
                         headers={"Origin": None, "Content-Type": "application/x-www-form-urlencoded"})
    assert gone.status_code == 200, gone.text
    assert subscriber(service, new)[0] == "removed"

    # the next notice goes to the others, not to the address that left
    publish_privacy(service.project, "1.2")
    sent = len(mailbox.to(new))
    notify(service)
    mailbox.wait(known, 4)
    assert len(mailbox.to(new)) == sent
    assert_no_address_in_logs(service)


# --- CSRF, Origin, token purposes ------------------------------------------------------------------------------

def test_a_post_needs_a_valid_token_or_the_site_s_origin(service: Service, mailbox: Mailbox) -> None:
    visitor = service.visitor("198.51.100.20")
    page = visitor.get("subscribe").text
    token = form(page, "subscribe")["csrf"][0]
    victim = service.address("csrf-victim")
    fields = {"email": victim, "documents": "all", "changes": "material"}
    refused = {
        "no token, no Origin": visitor.post("subscribe", fields, headers={"Origin": None}),
        "no token, Origin null": visitor.post("subscribe", fields, headers={"Origin": "null"}),
        "no token, own origin? no: another site": visitor.post("subscribe", fields,
                                                               headers={"Origin": "https://evil.example"}),
        "a forged token": visitor.post("subscribe", {**fields, "csrf": "9999999999." + "0" * 32}),
        "a garbled token": visitor.post("subscribe", {**fields, "csrf": token[:-1] + "<"}),
        "a valid token, another site's Origin": visitor.post("subscribe", {**fields, "csrf": token},
                                                             headers={"Origin": "https://evil.example"}),
        "a valid token, a look-alike Origin": visitor.post("subscribe", {**fields, "csrf": token},
                                                           headers={"Origin": PUBLIC.rstrip("/") + ".evil.example"}),
        "a valid token without its cookie": visitor.post("subscribe", {**fields, "csrf": token}, cookies=False),
        "another browser's token": service.visitor("198.51.100.21").post("subscribe", {**fields, "csrf": token}),
        "a Referer of another site": visitor.post("subscribe", fields, headers={
            "Origin": None, "Referer": "https://evil.example/follow/"}),
    }
    for what, response in refused.items():
        assert response.status_code == 403, (what, response.status_code, response.text)
        assert "This form cannot be accepted" in response.text, what
    expired = csrf_token(SECRET.encode(), visitor.cookies["policy_csrf"], now=time.time() - CSRF_SECONDS - 60)
    assert visitor.post("subscribe", {**fields, "csrf": expired}).status_code == 403
    assert pending_count(service, victim) == 0 and not mailbox.to(victim)

    # the static site's follow page posts without a token, from its origin (or, without Origin, its Referer)
    site = service.visitor("198.51.100.22", origin=SITE_ORIGIN)
    assert site.post("subscribe", fields).status_code == 200
    assert site.post("subscribe", fields, headers={"Origin": None,
                                                   "Referer": SITE_ORIGIN + "/follow/"}).status_code == 200
    assert visitor.post("subscribe", {**fields, "csrf": token}).status_code == 200  # the service's own form
    assert pending_count(service, victim) == 3
    mailbox.wait(victim, 3)


def test_the_unsubscribe_page_has_a_button_and_changes_nothing_until_it_is_pressed(service: Service,
                                                                                  mailbox: Mailbox) -> None:
    email = service.address("leaving")
    uid = add(service, email)
    token = unsubscribe_token(SECRET.encode(), uid, email)
    visitor = service.visitor("198.51.100.30")
    page = visitor.get(f"unsubscribe?token={token}")
    assert page.status_code == 200 and "Unsubscribe</button>" in page.text and email in page.text
    assert form(page.text, "unsubscribe")["token"] == [token]
    assert subscriber(service, email)[0] == "active"
    # the page's button without its CSRF token (and without Origin), or from another site: refused
    assert visitor.post(f"unsubscribe?token={token}", {"token": token}, headers={"Origin": None}).status_code == 403
    assert visitor.submit(page.text, "unsubscribe", {"csrf": "1.x"}).status_code == 403
    assert visitor.submit(page.text, "unsubscribe", headers={"Origin": "https://evil.example"}).status_code == 403
    assert subscriber(service, email)[0] == "active"
    done = visitor.submit(page.text, "unsubscribe")
    assert done.status_code == 200 and "You are unsubscribed" in done.text
    assert subscriber(service, email)[0] == "removed"
    again = visitor.get(f"unsubscribe?token={token}")
    assert again.status_code == 200 and "You are not subscribed" in again.text

    # subscribing again takes a confirmation like the first time
    assert visitor.subscribe(email).status_code == 200
    confirm_page = visitor.get(confirm_link(mailbox.wait(email)[0]))
    assert subscriber(service, email)[0] == "removed"
    assert visitor.submit(confirm_page.text, "confirm").status_code == 200
    assert subscriber(service, email)[0] == "active"

    # one-click as multipart/form-data (what RFC 8058 prefers)
    gone = httpx.post(service.to_local(f"unsubscribe?token={token}"), files={"List-Unsubscribe": (None, "One-Click")},
                      headers={"X-Forwarded-Proto": "https"})
    assert gone.status_code == 200 and gone.text == "Unsubscribed.\n"
    assert subscriber(service, email)[0] == "removed"


def test_preferences_change_documents_kinds_and_language(service: Service) -> None:
    email = service.address("chooser")
    uid = add(service, email)
    token = preferences_token(SECRET.encode(), uid, email)
    visitor = service.visitor("198.51.100.40")
    page = visitor.get(f"preferences?token={token}")
    assert page.status_code == 200 and email in page.text
    fields = form(page.text, "preferences")
    assert (fields["documents"], fields["changes"], fields.get("language")) == (["all"], ["material"], [""])
    assert form(page.text, "unsubscribe")["token"] == [unsubscribe_token(SECRET.encode(), uid, email)]

    saved = visitor.submit(page.text, "preferences", {"documents": ["terms"], "changes": "all", "language": "de"})
    assert saved.status_code == 200 and "Your choices are saved" in saved.text
    assert subscriber(service, email)[:4] == ("active", ",terms,", "all", "de")
    fields = form(saved.text, "preferences")
    assert (fields["documents"], fields["changes"], fields["language"]) == (["terms"], ["all"], ["de"])

    for bad in ({"documents": ["nonsense"]}, {"documents": []}, {"changes": "everything"}, {"language": "xx"}):
        refused = visitor.submit(saved.text, "preferences", bad)
        assert refused.status_code == 400 and 'role="alert"' in refused.text, bad
    assert subscriber(service, email)[:4] == ("active", ",terms,", "all", "de")
    assert visitor.submit(saved.text, "preferences", {"csrf": "1.x", "changes": "material"}).status_code == 403
    back = visitor.submit(saved.text, "preferences", {"documents": ["all"], "changes": "material", "language": ""})
    assert back.status_code == 200 and subscriber(service, email)[:4] == ("active", "*", "material", None)


def test_a_token_of_one_purpose_is_refused_for_another(service: Service) -> None:
    email = service.address("purposes")
    uid = add(service, email)
    unsubscribe, preferences = (f(SECRET.encode(), uid, email) for f in (unsubscribe_token, preferences_token))
    visitor = service.visitor("198.51.100.50")
    csrf = form(visitor.get("subscribe").text, "subscribe")["csrf"][0]
    one_click = {"content": b"List-Unsubscribe=One-Click", "headers": {
        "Origin": None, "Content-Type": "application/x-www-form-urlencoded"}}
    answers = {
        "a preferences token on the unsubscribe page": visitor.get(f"unsubscribe?token={preferences}"),
        "a preferences token, one-click": visitor.post(f"unsubscribe?token={preferences}", **one_click),
        "an unsubscribe token on the preferences page": visitor.get(f"preferences?token={unsubscribe}"),
        "another secret's token": visitor.post(
            f"unsubscribe?token={unsubscribe_token(b'another-secret-of-16+', uid, email)}", **one_click),
        "another address's token": visitor.get(f"preferences?token={preferences_token(SECRET.encode(), uid, 'x@y.org')}"),
        "the CSRF token as an unsubscribe token": visitor.get(f"unsubscribe?token={csrf}"),
    }
    for what, response in answers.items():
        assert response.status_code == 404, (what, response.status_code)
    for token in (unsubscribe, preferences, csrf):  # none of them confirms anything
        assert visitor.get(f"confirm?token={token}").status_code == 400
    # and a subscriber token is no CSRF token
    for token in (unsubscribe, preferences):
        assert visitor.post("subscribe", {"email": service.address("csrf-purpose"), "csrf": token}).status_code == 403
    assert subscriber(service, email)[0] == "active"


# --- starting, and the follow pages of the static site -------------------------------------------------------

def test_the_service_refuses_to_start_without_what_it_needs(service: Service, git_project: Project) -> None:
    """Each problem: exit 1, one line saying what to set, no traceback, no password."""
    cases = [
        ({"POLICY_UNSUBSCRIBE_SECRET": ""}, [], "POLICY_UNSUBSCRIBE_SECRET is not set"),
        ({"POLICY_RATE_CLIENT": "lots"}, [], "POLICY_RATE_CLIENT must be a number of requests per number of seconds"),
        ({"POLICY_TRUSTED_PROXIES": "the proxy"}, [], "POLICY_TRUSTED_PROXIES must list IP addresses or networks"),
        ({"POLICY_DATABASE_URL": "postgresql://policy:pw-never-shown@127.0.0.1:1/policy"}, [],
         "cannot reach the database server: Connection refused (postgresql://policy:***@127.0.0.1:1/policy)"),
        ({}, ["--port", "0"], "--port must be between 1 and 65535"),
        ({}, ["--port", str(service.port)], f"cannot listen on 127.0.0.1:{service.port}: Address already in use"),
        ({}, ["--host", "192.0.2.1"], "cannot listen on 192.0.2.1:"),
    ]
    runs = [(run_serve(service.project, {**service.env, **env}, args), expected) for env, args, expected in cases]
    runs.append((run_serve(git_project, {"POLICY_UNSUBSCRIBE_SECRET": SECRET}, []),
                 "subscriptions_url is not set in mkdocs.yml"))
    for result, expected in runs:
        out, err = result.stdout, result.stderr
        assert result.returncode == 1, (expected, result.returncode, err)
        assert expected in err and "Traceback" not in err and "pw-never-shown" not in err + out, err
        assert err.count("\n") == 1 and err.startswith("policy subscriptions: error: "), err


def run_serve(project: Project, env: dict[str, str], args: list[str]) -> subprocess.CompletedProcess:
    """`policy subscriptions serve` that is expected to refuse to start: a command of the tests' fork server (a real
    start is every module's `service` fixture)."""
    port = ["--port", str(free_port())] if "--port" not in args else []
    return project.run("subscriptions", "serve", *port, *args, env=env)


def test_the_follow_page_shows_the_form_only_with_a_subscriptions_url(git_project: Project) -> None:
    set_subscriptions_url(git_project, PUBLIC)
    git_project.run("build", check=True)
    page = (git_project.path / "site" / "follow" / "index.html").read_text(encoding="utf-8")
    fields = form(page, PUBLIC + "subscribe")
    assert fields == {"email": [""], "name": [""], "changes": ["material"]}  # one document, no translation: no choice
    assert 'name="email"' in page and 'type="email"' in page and 'name="name"' in page and "csrf" not in page
    assert "we first send an email with a link to confirm" in page

    set_subscriptions_url(git_project, None)
    git_project.run("build", check=True)
    page = (git_project.path / "site" / "follow" / "index.html").read_text(encoding="utf-8")
    assert "<form" not in page.split('id="email"')[1] and "To subscribe, write to" in page
    assert "mailto:privacy@synergycabinet.example?subject=subscribe" in page


def test_the_logs_never_hold_an_address_or_a_token(service: Service) -> None:
    """Run last: every address this module's tests used, looked for in what the service printed."""
    logs = service.logs()
    assert "a subscription was confirmed" in logs and "an address was unsubscribed" in logs
    assert_no_address_in_logs(service)
