"""The subscription service under abuse, over real HTTP on 127.0.0.1 with a real SMTP server: rate limits per
client and per address that reveal nothing, expired, used, forged and garbled links, a refused confirmation mail,
hostile names and invalid addresses, the security headers of every answer, and logs that never hold an address
(tests/support/service.py; the whole story is tests/service/test_service.py)."""

from __future__ import annotations

import re
import secrets
import time

import pytest

from tests.support.service import (
    PUBLIC,
    Mailbox,
    Service,
    add,
    assert_no_address_in_logs,
    confirm_link,
    db,
    form,
    pending_count,
    subscriber,
    without_volatile,
)

# --- rate limits ----------------------------------------------------------------------------------------------

def test_rate_limits_per_client_and_per_address_reveal_nothing(service: Service, mailbox: Mailbox) -> None:
    # per client: 10 subscribe requests in 10 minutes (the default), then 429 with Retry-After; an IPv6 client is
    # its /64 (here each request from another address of it)
    busy = service.visitor("2001:db8:60:1::1")
    page = busy.get("subscribe").text
    answers = []
    for i in range(11):
        busy.client = f"2001:db8:60:1:{i:x}::{i + 1:x}"
        answers.append(busy.submit(page, "subscribe", {"email": service.address(f"client-limit-{i}")}))
    assert [a.status_code for a in answers] == [200] * 10 + [429]
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 600 and "Too many requests" in answers[-1].text
    assert pending_count(service, service.address("client-limit-10")) == 0
    for i, other in enumerate(("2001:db8:60:2::1", "198.51.100.61")):
        assert service.visitor(other).subscribe(service.address(f"another-client-{i}")).status_code == 200

    # per address: 3 confirmation mails an hour, from any client; a subscribed address and an unknown one alike
    known, unknown = service.address("limited-known"), service.address("limited-unknown")
    add(service, known)
    answers = {}
    for email in (known, unknown):
        answers[email] = [service.visitor(f"198.51.100.{70 + i}").subscribe(email) for i in range(4)]
        assert [a.status_code for a in answers[email]] == [200, 200, 200, 429]
        assert 3500 <= int(answers[email][-1].headers["Retry-After"]) <= 3600
    assert without_volatile(answers[known][-1])[1] == without_volatile(answers[unknown][-1])[1]
    assert pending_count(service, unknown) == 3
    mailbox.wait(unknown, 3)
    mailbox.wait(known, 3)
    assert len(mailbox.to(unknown)) == 3


# --- expired, used, forged and garbled links --------------------------------------------------------------------

def test_expired_forged_and_garbled_confirmation_links(service: Service, mailbox: Mailbox) -> None:
    email = service.address("late")
    visitor = service.visitor("198.51.100.80")
    assert visitor.subscribe(email).status_code == 200
    link = confirm_link(mailbox.wait(email)[0])
    page = visitor.get(link).text
    db(service, "UPDATE pending_subscriptions SET expires_at = ? WHERE email_key = ?", ("2020-01-01T00:00:00Z", email))
    for response in (visitor.get(link), visitor.submit(page, "confirm")):
        assert response.status_code == 410 and "This link has expired" in response.text
        assert 'href="subscribe"' in response.text
    assert subscriber(service, email) is None

    base = PUBLIC + "confirm?token="
    forged = secrets.token_urlsafe(32)
    checks = {forged: (404, "This link is not valid"), forged[:20]: (400, "This link is incomplete"),
              "": (400, "This link is incomplete"), forged[:42] + "%3Cscript%3E": (400, "This link is incomplete"),
              forged + "'\"><b>": (400, "This link is incomplete")}
    for token, (status, text) in checks.items():
        for response in (visitor.get(base + token),
                         visitor.submit(page, "confirm", {"token": token.replace("%3C", "<").replace("%3E", ">")})):
            assert response.status_code == status and text in response.text, (token, response.status_code)
            assert "<script>" not in response.text and "<b>" not in response.text
    assert subscriber(service, email) is None


# --- hostile text, invalid addresses, headers, logs ----------------------------------------------------------

HOSTILE_NAME = "<script>alert(\"x\")</script> O'Brien & \"Friends\" " + "\u05e9\u05dc\u05d5\u05dd " * 20


def test_hostile_names_are_escaped_in_pages_and_mail(service: Service, mailbox: Mailbox) -> None:
    email = service.address("hostile")
    visitor = service.visitor("198.51.100.90")
    answer = visitor.subscribe(email, HOSTILE_NAME)
    assert answer.status_code == 200, answer.text
    mail = mailbox.wait(email)[0]
    assert mail["To"].addresses[0].addr_spec == email and len(mail.get_all("To")) == 1
    assert "Bcc" not in mail and not mail.defects
    page = visitor.get(confirm_link(mail))
    assert page.status_code == 200
    assert "<script>" not in page.text and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
    assert "O&#39;Brien &amp; &#34;Friends&#34;" in page.text
    assert re.search(r"<bdi>[^<]*@example\.org</bdi></strong> \(<bdi>&lt;script", page.text)  # isolated
    done = visitor.submit(page.text, "confirm")
    assert done.status_code == 200 and subscriber(service, email)[0] == "active"


def test_a_refused_confirmation_mail_changes_nothing_the_visitor_sees(service: Service, mailbox: Mailbox) -> None:
    refused, fine = service.address("refused"), service.address("accepted")
    mailbox.refuse[refused] = f"550 5.1.1 <{refused}>: no such user here"
    visitor = service.visitor("198.51.100.95")
    answers = [visitor.subscribe(a) for a in (refused, fine)]
    assert without_volatile(answers[0])[:2] == without_volatile(answers[1])[:2]
    mailbox.wait(fine)
    deadline = time.monotonic() + 60
    while "a confirmation mail was not sent" not in service.logs() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "a confirmation mail was not sent: " in service.logs() and "[address]" in service.logs()
    assert not mailbox.to(refused)
    assert_no_address_in_logs(service)


@pytest.mark.parametrize("typed, name", [
    ('"><script>alert(1)</script>@example.org', ""),
    ("no-at-sign.example.org", ""),
    ("ann@", ""),
    ("a" * 5000 + "@example.org", ""),
    ("ann@example.org\r\nBcc: eve@example.org", ""),
    ("valid-but-named@example.org", "x" * 500),
    ("valid-but-named@example.org", "Eve\r\nBcc: eve@example.org"),
    ("valid-but-named@example.org", "Eve \u202egnp.exe"),  # a right-to-left override: shown reversed
    ("valid-but-named@example.org", "Eve \u2067isolated"),
])
def test_invalid_entries_get_a_friendly_error_and_the_form_again(service: Service, typed: str, name: str) -> None:
    visitor = service.visitor("198.51.100.100")
    answer = visitor.subscribe(typed, name)
    assert answer.status_code == 400
    assert "Please correct this" in answer.text and 'role="alert"' in answer.text
    assert ("Please enter a valid email address" in answer.text) != bool(name)
    assert "<script>" not in answer.text and "Bcc" not in answer.text.split("<form")[0]
    fields = form(answer.text, "subscribe")
    assert fields["csrf"] and len(fields["email"][0]) <= 321 and len(fields["name"][0]) <= 1000
    assert pending_count(service, "valid-but-named@example.org") == 0


def test_every_answer_carries_a_strict_policy_and_no_referrer(service: Service) -> None:
    visitor = service.visitor("198.51.100.110")
    answers = [visitor.get(path) for path in ("subscribe", "confirm?token=x", "unsubscribe?token=x",
                                              "preferences?token=x", "healthz", "service.css", "no-such-page")]
    answers.append(visitor.post("subscribe", {"email": "x"}, headers={"Origin": None}))
    answers.append(visitor.request("PUT", "subscribe"))
    answers.append(visitor.post("subscribe", {"email": "x" * 20_000}))
    for response in answers:
        csp = response.headers["Content-Security-Policy"]
        sources = [s for d in csp.split(";") for s in d.split()[1:]]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "form-action 'self'" in csp
        assert set(sources) <= {"'none'", "'self'"}, csp  # no third party, no inline script
        assert "script-src" not in csp
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] in ("no-store", "max-age=3600")
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")  # served as https
        assert "server" not in response.headers and "Traceback" not in response.text
    cookie = visitor.get("subscribe", cookies=False).headers["set-cookie"].lower()
    assert all(flag in cookie for flag in ("httponly", "secure", "samesite=strict"))
    page = answers[0].text
    assert "<script" not in page and not re.search(r"""(?:src|href)=["']?(?:https?:)?//(?!privacy\.synergy)""", page)
    assert [r.status_code for r in answers[-3:]] == [403, 405, 413]


def test_the_logs_never_hold_an_address_or_a_token(service: Service) -> None:
    """Run last: every address this module's tests used, looked for in what the service printed."""
    assert "a subscription was confirmed" in service.logs()
    assert_no_address_in_logs(service)
