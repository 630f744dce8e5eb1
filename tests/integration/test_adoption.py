"""Adopting the tool from its built wheel, outside this repository, as an organisation would.

The wheel and the sdist are built once (`python -m build`, as `make dist` does). In a temp folder that is not this
repository: the README's "Adopting" commands as written (a fresh venv, `pip install` of the wheel, `policy init`
for "Acme Widgets", import of a Markdown policy, check, build, commit); two more versions; then the `run:` steps of
the workflow `policy init` wrote, in order, as a runner would run them (the wheel offered through PIP_FIND_LINKS, as a
package index would): the publishing job (check, build, notify to a real SMTP server) and the pull-request job
(check, the diff as a comment, rendered by GitHub's own cmark-gfm). Then the subscription service from the wheel.
The runner is the README's venv with policy-site uninstalled: its `pip install "policy-site==0.1.0"` must find the
wheel through the index; the dependencies' install from nothing is the README's (one full install, not two).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from datetime import date, timedelta
from pathlib import Path

import cmarkgfm
import pytest
import yaml

from policy_site.bench.local import free_port
from tests.support.project import ROOT, Project
from tests.support.service import Mailbox, Service, Visitor

pytestmark = pytest.mark.long

ORG = "Acme Widgets"
README = (ROOT / "README.md").read_text(encoding="utf-8")
POLICY_MD = """# Privacy policy

Effective date: March 1, 2026

Acme Widgets Ltd ("we") makes widgets. This policy says what we do with personal data.

## Who we are

Acme Widgets Ltd, 1 Sprocket Lane, Leeds. Write to privacy@acme.example with any question.

## What we collect

- Your name and address, when you order:
  - to deliver the widgets;
  - to send the invoice.
- Your email address, when you write to us.

| Data | Why | Kept for |
| --- | --- | --- |
| Name | Delivery | 6 years |
| Email | Answers | 2 years |

## Your rights

You may ask for a copy of your data, and for its correction or erasure. We answer within a month.
"""


def _adopting_block() -> str:
    section = README[README.index("## Adopting"):]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_NAME="Acme Legal",
               GIT_AUTHOR_EMAIL="legal@acme.example", GIT_COMMITTER_NAME="Acme Legal",
               GIT_COMMITTER_EMAIL="legal@acme.example", PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.update(extra)
    return env


def _sh(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=env, capture_output=True,
                            text=True)
    assert result.returncode == 0, f"{script}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel and the sdist, built from a clean copy of the sources as `make dist` builds them."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], check=True, capture_output=True,
                   env=_env())
    return out


def test_the_wheel_and_the_sdist_carry_the_templates(dist: Path) -> None:
    wheel = next(dist.glob("policy_site-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for template in ("pages/follow.md.j2", "init/workflow.yml", "schema/policy.schema.json", "assets/policy.css",
                     "email/notice.txt.j2", "subscriptions/subscribe.html.j2", "theme/main.html"):
        assert f"policy_site/templates/{template}" in names, template
    assert not any("__pycache__" in n for n in names)
    sdist = next(dist.glob("policy_site-*.tar.gz"))
    import tarfile
    with tarfile.open(sdist) as archive:
        assert any(n.endswith("/templates/pages/version.md.j2") for n in archive.getnames())


def test_an_organisation_adopts_it_from_the_wheel(dist: Path, tmp_path: Path) -> None:
    work = tmp_path / "acme"
    work.mkdir()
    assert not str(work).startswith(str(ROOT))
    shutil.copy(next(dist.glob("policy_site-*.whl")), work)
    (work / "privacy-policy.md").write_text(POLICY_MD, encoding="utf-8")
    env = _env()
    # the README's commands, as written
    adopted = _sh(_adopting_block(), work, env)
    assert "Workflow: .github/workflows/policy.yml installs policy-site==0.1.0" in adopted.stdout, adopted.stdout
    project = work / "acme-privacy"
    policy = [str(work / "policy-env/bin/policy")]
    workflow = yaml.safe_load((project / ".github/workflows/policy.yml").read_text(encoding="utf-8"))
    installs = [s["run"] for job in workflow["jobs"].values() for s in job["steps"] if "pip install" in s.get("run", "")]
    assert installs == ['pip install "policy-site==0.1.0"'] * 2, installs

    def run(*args: str, **extra: str) -> subprocess.CompletedProcess:
        result = subprocess.run(policy + list(args), cwd=project, env=_env(**extra), capture_output=True, text=True)
        assert result.returncode == 0 and "Traceback" not in result.stderr, f"{args}\n{result.stdout}\n{result.stderr}"
        return result

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=project, env=env, check=True, capture_output=True)

    # every verb answers from the installation alone: --help everywhere, the demo (which needs a checkout) in one line
    for verb in ("check", "build", "diff", "notify", "import", "translate", "subscriptions", "subscribers", "demo"):
        helped = subprocess.run(policy + [verb, "--help"], cwd=project, env=env, capture_output=True, text=True)
        assert helped.returncode == 0 and "usage: policy" in helped.stdout, (verb, helped.stderr)
    demo = subprocess.run(policy + ["demo", str(tmp_path / "demo")], cwd=work, env=env, capture_output=True,
                          text=True)
    assert demo.returncode == 1 and "make demo" in demo.stderr and "Traceback" not in demo.stderr, demo.stderr

    # two more versions: a minor one, then a material one 31 days ahead (notice_days: 30 is enforced)
    meta_path = project / "policy/policy.yaml"
    for version, change, effective, summary, old, new in (
            ("1.1", "minor", date.today(), "Clearer retention periods", "6 years", "five years"),
            ("2.0", "material", date.today() + timedelta(days=31), "We keep order data for seven years",
             "five years", "seven years")):
        section = project / "policy/sections/what-we-collect.yaml"
        text = section.read_text(encoding="utf-8")
        assert old in text
        section.write_text(text.replace(old, new), encoding="utf-8")
        meta = meta_path.read_text(encoding="utf-8")
        meta = re.sub(r"(?m)^version: .*$", f'version: "{version}"', meta)
        meta = re.sub(r"(?m)^effective: .*$", f'effective: "{effective.isoformat()}"', meta)
        meta = re.sub(r"(?m)^summary: .*$", f'summary: "{summary}"', meta)
        meta = re.sub(r"(?m)^change: .*\n", "", meta) + f"change: {change}\n"
        meta_path.write_text(meta, encoding="utf-8")
        run("check")
        git("add", "-A")
        git("commit", "-q", "-m", f"Version {version}")
    run("build")
    site = project / "site"
    home = (site / "index.html").read_text(encoding="utf-8")
    title = re.search(r"<title>(.*?)</title>", home, re.S).group(1)
    assert ORG in title, title
    assert f"{ORG} privacy policy" in re.search(r'<div class="md-header__topic">(.*?)</div>', home, re.S).group(1)
    for feed in ("atom.xml", "rss.xml"):
        text = (site / feed).read_text(encoding="utf-8")
        assert re.search(rf"<title>[^<]*{ORG}[^<]*</title>", text), feed
    follow = (site / "follow/index.html").read_text(encoding="utf-8")
    assert "at least 30 days after it is published" in follow
    listed = (site / "versions.json").read_text(encoding="utf-8")
    assert all(f'"version": "{v}"' in listed for v in ("1.0", "1.1", "2.0")), listed[:500]

    # the generated workflow's run: steps, in order, in a runner: the README's venv without policy-site (its
    # dependencies stay), so that the workflow's pip step installs the wheel through a package folder
    runner = work / "policy-env"
    mailbox = Mailbox().start()
    try:
        base = _env(PATH=f"{runner / 'bin'}{os.pathsep}{os.environ['PATH']}", VIRTUAL_ENV=str(runner),
                    PIP_FIND_LINKS=str(work), POLICY_SMTP_URL=mailbox.url,
                    POLICY_UNSUBSCRIBE_SECRET="a-secret-of-the-adoption-test",
                    POLICY_SUBSCRIBERS_DB=str(tmp_path / "subscribers.sqlite3"))
        subscribe = subprocess.run([str(runner / "bin/policy"), "subscribers", "add", "reader@example.org"],
                                   cwd=project, env=base, capture_output=True, text=True)
        assert subscribe.returncode == 0, subscribe.stderr
        _sh("pip uninstall -q -y policy-site", project, base)
        assert not (runner / "bin/policy").exists()
        shutil.rmtree(site)
        outputs: list[str] = []
        for name, job in workflow["jobs"].items():
            if name == "review":  # a pull request: an edit of the text, not committed
                section = project / "policy/sections/your-rights.yaml"
                section.write_text(section.read_text(encoding="utf-8").replace("within a month",
                                                                               "within two weeks"), encoding="utf-8")
                meta_path.write_text(re.sub(r'(?m)^version: .*$', 'version: "2.1"', meta_path.read_text()) .replace(
                    "change: material", "change: minor"), encoding="utf-8")
            ran: list[str] = []
            for step in job["steps"]:
                script = step.get("run")
                if not script or "gh pr comment" in script:  # `uses:` actions and GitHub's own CLI are GitHub's
                    continue
                step_env = {**base, **{k: v for k, v in (step.get("env") or {}).items() if "${{" not in str(v)}}
                if name == "review":
                    step_env["GITHUB_EVENT_NAME"] = "pull_request"
                installed = (runner / "bin/policy").exists()
                done = _sh(script, project, step_env)
                if "pip install" in script and not installed:  # the wheel, found through the package folder
                    assert "Successfully installed policy-site-0.1.0" in done.stdout, done.stdout
                ran.append(script.split("\n")[0])
                outputs.append(f"$ {script}\n{done.stdout}{done.stderr}")
            assert any("pip install" in r for r in ran) and "policy check" in ran, (name, ran)
        assert (site / "index.html").exists()  # the publishing job built the site again
        assert mailbox.to("reader@example.org"), "\n".join(outputs)
        notices = mailbox.wait("reader@example.org", 1)
        assert any(ORG in str(m["Subject"]) for m in notices), [m["Subject"] for m in notices]
        comment = (project / "diff.md").read_text(encoding="utf-8")
        rendered = cmarkgfm.github_flavored_markdown_to_html(comment, options=cmarkgfm.Options.CMARK_OPT_UNSAFE)
        assert "<table>" in rendered and "| Section |" not in rendered, rendered
        assert "<details>" in rendered and "<ins>two weeks.</ins>" in rendered, rendered
    finally:
        mailbox.stop()

    # the subscription service from the wheel: its pages and its confirmation mail name the organisation
    git("checkout", "-q", "--", ".")
    port = free_port()
    config = project / "mkdocs.yml"
    config.write_text(config.read_text().replace("      notice_days: 30\n",
                                                 f"      notice_days: 30\n      subscriptions_url: http://127.0.0.1:{port}/\n"))
    box = Mailbox().start()
    try:
        service = _wheel_service(policy[0], Project(project), port, box, tmp_path)
        try:
            visitor = Visitor(service, "198.51.100.7")
            page = visitor.get("subscribe")
            assert page.status_code == 200 and ORG in page.text
            assert visitor.subscribe("new@example.org").status_code == 200
            confirmation = box.wait("new@example.org", 1)[0]
            assert ORG in str(confirmation["Subject"]), confirmation["Subject"]
        finally:
            service.stop()
    finally:
        box.stop()


def _wheel_service(program: str, project: Project, port: int, box: Mailbox, tmp_path: Path) -> Service:
    """`policy subscriptions serve` of the wheel's installation (not this repository's sources)."""
    import time

    import httpx
    logs = tmp_path / "service-logs"
    logs.mkdir()
    env = _env(POLICY_UNSUBSCRIBE_SECRET="a-secret-of-the-adoption-test", POLICY_SMTP_URL=box.url,
               POLICY_SUBSCRIBERS_DB=str(tmp_path / "service.sqlite3"))
    with open(logs / "stdout.txt", "wb") as out, open(logs / "stderr.txt", "wb") as err:
        process = subprocess.Popen([program, "subscriptions", "serve", "--host", "127.0.0.1", "--port", str(port)],
                                   cwd=project.path, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    service = Service(process, port, f"http://127.0.0.1:{port}/", project, env, logs)
    for _ in range(300):
        assert process.poll() is None, service.logs()
        try:
            if httpx.get(service.local + "healthz", timeout=2).status_code == 200:
                return service
        except httpx.TransportError:
            time.sleep(0.1)
    service.stop()
    raise AssertionError(f"the service did not answer:\n{service.logs()}")
