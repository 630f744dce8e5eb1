"""HTTP methods and redirects of the subscription service, over real HTTP on 127.0.0.1: GET and HEAD are safe on every
path (HEAD never acts, whatever body it carries), only POST acts, every other method gets 405 with Allow, a redirect
never trusts the Host header, and every answer carries the security headers. Also: hostile names through the form."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest

from tests.support.notify import HOSTILE_NAMES
from tests.support.service import (
    PUBLIC,
    Mailbox,
    Service,
    form,
    pending_count,
)

PATHS = {"subscribe": "GET, HEAD, POST", "confirm?token=x": "GET, HEAD, POST", "unsubscribe?token=x": "GET, HEAD, POST",
         "preferences?token=x": "GET, HEAD, POST", "healthz": "GET, HEAD", "service.css": "GET, HEAD"}
OTHER_METHODS = ("OPTIONS", "PUT", "DELETE", "TRACE", "PATCH", "PROPFIND")


def assert_security_headers(response) -> None:
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "server" not in response.headers


@pytest.mark.parametrize("path", sorted(PATHS))
def test_head_answers_as_get_without_a_body(service: Service, path: str) -> None:
    visitor = service.visitor("198.51.100.201")
    got, head = visitor.get(path), visitor.request("HEAD", path)
    assert head.status_code == got.status_code and head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert_security_headers(head)


def test_head_sends_no_body_on_the_wire(service: Service) -> None:
    """What the server writes: the status line and headers, and not one byte after them."""
    port = urlsplit(service.local).port
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(b"HEAD /subscribe HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and body == b""


def test_head_with_a_form_body_never_acts(service: Service, mailbox: Mailbox) -> None:
    visitor = service.visitor("198.51.100.202")
    page = visitor.get("subscribe").text
    address = service.address("head-with-body")
    fields = form(page, "subscribe")
    fields.update(email=[address], name=["Head"])
    pairs = "&".join(f"{k}={v}" for k, values in fields.items() for v in values).encode()
    answer = visitor.request("HEAD", "subscribe", content=pairs, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Origin": PUBLIC.rstrip("/")})
    assert answer.status_code == 200
    assert pending_count(service, address) == 0
    # the same body by POST does act: the HEAD above was refused as an action, not by chance
    assert visitor.post("subscribe", list((k, v) for k, values in fields.items() for v in values)).status_code == 200
    assert pending_count(service, address) == 1
    assert len(mailbox.wait(address)) == 1


@pytest.mark.parametrize("method", OTHER_METHODS)
def test_other_methods_get_405_with_allow(service: Service, method: str) -> None:
    visitor = service.visitor("198.51.100.203")
    for path, allow in PATHS.items():
        answer = visitor.request(method, path, content=b"email=x@example.org")
        assert answer.status_code == 405, (method, path, answer.status_code)
        assert answer.headers["allow"] == allow
        assert_security_headers(answer)
        assert "x@example.org" not in answer.text  # TRACE echoes nothing
    assert visitor.request(method, "no-such-page").status_code == 404


def test_post_where_only_get_is_allowed(service: Service) -> None:
    answer = service.visitor("198.51.100.204").post("healthz", {"x": "y"})
    assert answer.status_code == 405 and answer.headers["allow"] == "GET, HEAD"


def test_trailing_slash_redirect_ignores_host_and_keeps_the_headers(service: Service) -> None:
    visitor = service.visitor("198.51.100.205")
    for method in ("GET", "HEAD"):
        answer = visitor.request(method, "subscribe/?documents=privacy", headers={"Host": "evil.example"})
        assert answer.status_code == 308
        assert answer.headers["location"] == f"{PUBLIC}subscribe?documents=privacy"
        assert_security_headers(answer)
    answer = visitor.request("GET", "no-such-page/", headers={"Host": "evil.example"})
    assert answer.status_code == 404 and "evil.example" not in answer.text


@pytest.mark.parametrize("index", range(len(HOSTILE_NAMES)))
def test_the_form_refuses_encoded_words_and_line_breaks_in_names(service: Service, index: int) -> None:
    name = HOSTILE_NAMES[index]
    visitor = service.visitor(f"203.0.113.{index + 1}")  # a client each: the per-client limit is 10
    address = service.address("hostile-name")
    answer = visitor.subscribe(address, name)
    assert answer.status_code == 400 and "name" in answer.text.lower()
    assert pending_count(service, address) == 0
