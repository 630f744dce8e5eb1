"""Previewing the subscribe form before publishing: `policy serve --subscriptions-url` points the preview's form at a
local `policy subscriptions serve`, which accepts it when POLICY_PREVIEW_ORIGINS names the preview. Real Chromium,
a real service and a real SMTP server; a preview the service was not told of gets a 403 that says why."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from policy_site.bench.local import free_port, stop, wait_for
from tests.support.project import ROOT
from tests.support.service import Mailbox, project_for_service, start_service

pytestmark = pytest.mark.browser


def test_the_preview_form_subscribes_through_a_local_service(chromium, tmp_path) -> None:
    preview_port, service_port = free_port(), free_port()
    local = f"http://127.0.0.1:{service_port}/"
    project = project_for_service(tmp_path / "project", url=local)
    mailbox = Mailbox().start()
    env = {"POLICY_SMTP_URL": mailbox.url, "POLICY_SUBSCRIBERS_DB": str(tmp_path / "subscribers.sqlite3"),
           "POLICY_PREVIEW_ORIGINS": f"http://127.0.0.1:{preview_port}"}
    service = start_service(project, env, tmp_path / "logs", port=service_port, public=local)
    preview = subprocess.Popen([sys.executable, "-m", "policy_site", "serve", "--dev-addr",
                                f"127.0.0.1:{preview_port}", "--subscriptions-url", local], cwd=project.path,
                               env={**os.environ, "PYTHONPATH": str(ROOT / "scripts")},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    try:
        follow = f"http://127.0.0.1:{preview_port}/privacy/follow/"
        assert wait_for(follow, "policy-subscribe", 120) is not None, "the preview did not start"
        page = context.new_page()
        page.goto(follow, wait_until="load")
        form = page.locator("form.policy-subscribe")
        assert form.get_attribute("action") == local + "subscribe"
        form.locator("#subscribe-email").fill("preview@example.org")
        with page.expect_navigation():
            form.get_by_role("button", name="Subscribe").click()
        assert page.locator("h1").inner_text() == "Check your inbox"
        assert mailbox.wait("preview@example.org")
    finally:
        context.close()
        stop(preview)
        service.stop()
        mailbox.stop()
    output = preview.communicate(timeout=30)[0]
    assert f"start that service with POLICY_PREVIEW_ORIGINS=http://127.0.0.1:{preview_port}" in output


def test_only_local_services_and_previews_are_accepted(tmp_path) -> None:
    project = project_for_service(tmp_path / "project")
    refused = project.run("serve", "--subscriptions-url", "https://subscribe.evil.example/")
    assert refused.returncode == 1 and "must be a local service" in refused.stderr
    assert "Traceback" not in refused.stderr
    from tests.support.service import SECRET
    started = project.run("subscriptions", "serve", "--port", str(free_port()),
                          env={"POLICY_UNSUBSCRIBE_SECRET": SECRET, "POLICY_PREVIEW_ORIGINS": "https://evil.example",
                               "POLICY_SUBSCRIBERS_DB": str(tmp_path / "s.db")})
    assert started.returncode == 1 and "only local previews" in started.stderr and "Traceback" not in started.stderr
