"""Proof of publication, end to end on one project: RFC 3161 tokens from a local authority (OpenSSL behind HTTP on
127.0.0.1, its own test CA: root → intermediate → TSA, the chain in each token in OpenSSL's order, not DER's; a library
stamped by an authority that sends its own certificate only), kept and reused byte for byte; `policy verify` of the site (folder, copy, HTTP) passing
and naming each changed file; `policy evidence` of a version announced to 1,000 subscribers through aiosmtpd."""

from __future__ import annotations

import functools
import hashlib
import json
import re
import shlex
import shutil
import subprocess
import threading
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from policy_site.bench.local import free_port
from policy_site.proof.verify import Report, check_token
from policy_site.site.tokens import decode, der_order
from tests.support.notify import Recorder, publish_1_1
from tests.support.project import SUBSCRIBED, Project, copy_project
from tests.support.site import build, tree
from tests.support.tsa import Authority

EPOCH = "1796000000"
READERS = 1000
REFUSED = "reader-0007@example.org"


def _set_option(project: Project, line: str) -> None:
    config = project.path / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("  - policy:\n", f"  - policy:\n      {line}\n", 1), encoding="utf-8")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    """A project with 1.0 and 1.1 built with a timestamp authority; rebuilt cold; 1.2 published while the
    authority is down, then stamped by the next build; 1.1 announced to 1,000 readers (one refused)."""
    base = tmp_path_factory.mktemp("proof")
    authority = Authority(base / "tsa", chain=True)
    handler = Recorder()
    handler.refuse[REFUSED] = "550 5.1.1 no such mailbox"
    handler.accept = lambda n: f'250 2.0.0 Ok: queued as Q{n:04d} "proof"'  # each message its own reply
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    project = copy_project(base / "project")
    _set_option(project, f"timestamp_url: {authority.url}")
    project.init_git()
    project.commit("Publish the privacy policy, version 1.0")
    publish_1_1(project)
    state: dict = {"base": base, "authority": authority, "project": project, "smtp": handler}
    try:
        state["first_log"] = build(project.path, int(EPOCH))
        state["requests_first"] = authority.requests
        shutil.copytree(project.path / "site", base / "first")
        shutil.rmtree(project.path / ".cache")
        build(project.path, int(EPOCH))  # cold, from the committed tokens
        shutil.copytree(project.path / "site", base / "cold")
        state["requests_rebuilt"] = authority.requests
        # 1.1 announced to 1,000 readers through a real SMTP server
        env = {"POLICY_SMTP_URL": f"smtp://127.0.0.1:{controller.port}",
               "POLICY_SUBSCRIBERS_DB": str(base / "subs.db"), "POLICY_NOTIFY_BACKOFF_SECONDS": "0"}
        state["env"] = env
        csv_file = base / "readers.csv"
        csv_file.write_text("email,name,subscribed\n" + "".join(f"reader-{n:04d}@example.org,Reader {n},{SUBSCRIBED}\n"
                                                               for n in range(READERS)), encoding="utf-8")
        project.run("subscribers", "import", str(csv_file), env=env, check=True)
        state["notify"] = project.run("notify", env=env)
        # 1.2 while the authority is down: the build goes on, says so, no token; the next build stamps it
        authority.down = True
        project.meta(version="1.2", summary="A third version.")
        project.commit("Publish 1.2")
        state["down_log"] = build(project.path, int(EPOCH))
        state["down_versions"] = json.loads((project.path / "site/versions.json").read_text(encoding="utf-8"))
        state["down_page"] = (project.path / "site/versions/1.2/index.html").read_text(encoding="utf-8")
        authority.down = False
        state["up_log"] = build(project.path, int(EPOCH))
        yield state
    finally:
        controller.stop()
        authority.close()


def _versions(site: Path) -> dict[str, dict]:
    return {r["version"]: r for r in json.loads((site / "versions.json").read_text(encoding="utf-8"))["versions"]}


def test_a_build_stamps_each_new_version_and_a_rebuild_reuses_the_tokens(world) -> None:
    base, project = world["base"], world["project"]
    assert world["requests_first"] == 2  # 1.0 and 1.1, once each
    assert world["requests_rebuilt"] == 2  # the rebuild asked for nothing
    first, cold = tree(base / "first"), tree(base / "cold")
    assert first == cold  # a cold rebuild from the kept tokens: byte-identical, tokens and manifest included
    versions = _versions(base / "first")
    for version in ("1.0", "1.1"):
        token = first[f"versions/{version}/timestamp.tsr"]
        kept = (project.path / f".policy-timestamps/{version}.tsr").read_bytes()
        assert token == kept and kept in world["authority"].replies  # the authority's answer, byte for byte
        assert der_order(kept) != kept and sorted(der_order(kept)) == sorted(kept)  # its chain is not in DER order
        assert len(decode(kept).signed_data.certificates) == 3  # TSA, intermediate, root
        record = versions[version]["timestamp"]
        assert record["url"] == f"https://privacy.synergycabinet.example/versions/{version}/timestamp.tsr"
        assert record["sha256"] == hashlib.sha256(token).hexdigest()
        assert record["imprint"] == "sha256:" + versions[version]["content_hash"]
        page = first[f"versions/{version}/index.html"].decode()
        assert versions[version]["content_hash"] in page and 'href="timestamp.tsr"' in page
    manifest = json.loads(first["manifest.json"])
    assert manifest["files"]["versions/1.0/timestamp.tsr"] == hashlib.sha256(first["versions/1.0/timestamp.tsr"]).hexdigest()
    assert "manifest.json" not in manifest["files"] and len(manifest["files"]) == len(first) - 1


def test_an_unreachable_authority_warns_in_one_line_and_the_next_build_stamps(world) -> None:
    warnings = [line for line in world["down_log"].splitlines() if "timestamp authority" in line]
    assert len(warnings) == 1 and "version 1.2" in warnings[0] and "next build asks again" in warnings[0]
    assert world["down_versions"]["versions"][0]["version"] == "1.2"
    assert world["down_versions"]["versions"][0]["timestamp"] is None
    assert "Not timestamped yet" in world["down_page"]
    assert "timestamp authority" not in world["up_log"]
    assert world["authority"].requests == 3
    assert _versions(world["project"].path / "site")["1.2"]["timestamp"] is not None


def _verify(project: Project, *args: str):
    return project.run("verify", *args)


def test_verify_passes_on_the_site_its_copy_and_over_http(world) -> None:
    project, ca = world["project"], str(world["authority"].ca)
    result = _verify(project, "site", "--ca", ca)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(result.stdout.strip().splitlines()) == 1
    assert re.search(r"OK: the \d+ files of the site site match manifest.json, 3 version\(s\) their content hash, 3 timestamp token\(s\) for their content hash, "
                     r"3 signed by a certificate that chains to ca.pem$", result.stdout), result.stdout
    unchecked = _verify(project, "site")
    assert unchecked.returncode == 0 and "give --ca" in unchecked.stdout, unchecked.stdout
    copy = world["base"] / "download"
    shutil.copytree(project.path / "site", copy)
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(copy))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        over_http = _verify(project, f"http://127.0.0.1:{server.server_address[1]}/", "--ca", ca)
    finally:
        server.shutdown()
        server.server_close()
    assert over_http.returncode == 0, over_http.stdout + over_http.stderr


@pytest.mark.parametrize("name", ["versions/1.0/index.html", "versions/1.1/timestamp.tsr", "versions.json",
                                  "versions/1.1/policy.json", "assets/policy.css"])
def test_verify_names_the_file_after_one_byte_changed(world, name: str) -> None:
    copy = world["base"] / f"tampered-{name.replace('/', '-')}"
    shutil.copytree(world["project"].path / "site", copy)
    target = copy / name
    data = bytearray(target.read_bytes())
    at = len(data) // 2
    data[at] = (data[at] + 1) % 256 if chr(data[at]) not in '"{}[],:\\' else data[at]
    if bytes(data) == target.read_bytes():
        data[-2] = ord(" ") if data[-2] != ord(" ") else ord("\t")
    target.write_bytes(bytes(data))
    result = _verify(world["project"], str(copy), "--ca", str(world["authority"].ca))
    assert result.returncode == 1
    assert f"{copy}/{name}: " in result.stdout, result.stdout
    assert "mismatch(es)" in result.stdout.splitlines()[-1]


def test_verify_refuses_a_token_of_another_authority_given_a_ca(world, tmp_path: Path) -> None:
    other = Authority(tmp_path / "other")
    other.close()
    result = _verify(world["project"], "site", "--ca", str(other.ca))
    assert result.returncode == 1 and "versions/1.0/timestamp.tsr: its signature does not check" in result.stdout


def test_a_changed_byte_in_what_a_chained_token_signs_or_chains_through_fails_its_check(world) -> None:
    """Beyond the file hashes (which an editor of the site could rewrite too): the token's own check. Every byte is
    covered but those CMS leaves unsigned and OpenSSL does not use: the root's copy in the token (the trust anchor is
    the --ca file's) and the SignerInfo's signatureAlgorithm (RSA is the signer certificate's key; RFC 6211)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding
    token = (world["project"].path / ".policy-timestamps/1.0.tsr").read_bytes()
    content_hash = _versions(world["project"].path / "site")["1.0"]["content_hash"]
    roots = [x509.load_pem_x509_certificate(world["authority"].ca.read_bytes())]
    root = roots[0].public_bytes(Encoding.DER)
    at = token.find(root)
    algorithm = token.rfind(bytes.fromhex("06092a864886f70d0101010500"))  # rsaEncryption, NULL: the SignerInfo's
    assert 0 < at < algorithm
    report = Report()
    check_token(token, content_hash, roots, True, "t", report)
    assert report.problems == [] and report.tokens == 1
    missed = []
    for index in [*range(0, at, 5), *range(at + len(root), algorithm, 3), *range(algorithm + 13, len(token), 3)]:
        changed = bytearray(token)
        changed[index] ^= 0x01
        report = Report()
        check_token(bytes(changed), content_hash, roots, True, "t", report)
        if not report.problems:
            missed.append(index)
    assert missed == []


def test_evidence_of_a_version_announced_to_1000_readers(world, tmp_path: Path) -> None:
    project, env, smtp = world["project"], world["env"], world["smtp"]
    assert len(smtp.messages) == READERS - 1
    archive = tmp_path / "evidence-1.1.zip"
    made = project.run("evidence", "1.1", "-o", str(archive), env=env)
    assert made.returncode == 0, made.stderr
    assert f"{READERS - 1} sent, 1 failed" in made.stdout
    verified = _verify(project, str(archive), "--ca", str(world["authority"].ca))
    assert verified.returncode == 0 and "evidence archive" in verified.stdout, verified.stdout + verified.stderr
    with zipfile.ZipFile(archive) as z:
        names = z.namelist()
        files = {n: z.read(n) for n in names}
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in z.infolist())
    assert names == sorted(names)
    assert {"README.txt", "evidence.json", "manifest.json", "notices.json", "page.html", "policy.json",
            "policy/policy.yaml", "timestamp.tsr"} <= set(names)
    manifest = json.loads(files["manifest.json"])["files"]
    assert set(manifest) == set(names) - {"manifest.json"}
    assert all(hashlib.sha256(files[n]).hexdigest() == h for n, h in manifest.items())
    evidence = json.loads(files["evidence.json"])
    notices = json.loads(files["notices.json"])
    assert evidence["version"] == "1.1" and evidence["commit"]["signature"]["status"] == "N"
    assert evidence["content_hash"] == _versions(project.path / "site")["1.1"]["content_hash"]
    assert notices["counts"]["sent"] == READERS - 1 and notices["counts"]["failed"] == 1
    assert notices["recipients"] == READERS and len(notices["deliveries"]) == READERS
    failed = [d for d in notices["deliveries"] if d["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["reply"].startswith("550")
    answered = {m.split(b"Message-ID: ", 1)[1].split(b"\r\n", 1)[0].decode(): reply
                for (_, _, m), reply in zip(smtp.messages, smtp.replies, strict=True)}
    assert len(set(answered.values())) == READERS - 1  # the server's reply to each message, as it answered it
    assert {d["message_id"]: d["reply"] for d in notices["deliveries"] if d["status"] == "sent"} == answered
    assert not any("reply_note" in d for d in notices["deliveries"])
    everything = b"".join(files.values())
    assert b"@example.org" not in everything.replace(b"legal@example.org", b"")
    salt = notices["salt"]
    assert hashlib.sha256(f"{salt}:{REFUSED}".encode()).hexdigest() == failed[0]["email_sha256"]
    again = tmp_path / "again.zip"
    project.run("evidence", "1.1", "-o", str(again), env=env, check=True)
    assert again.read_bytes() == archive.read_bytes()  # same state, same bytes
    plain = tmp_path / "plain.zip"
    project.run("evidence", "1.1", "-o", str(plain), "--with-addresses", env=env, check=True)
    with zipfile.ZipFile(plain) as z:
        assert REFUSED.encode() in z.read("notices.json")
    # one byte of the archive's page changed: verify names it
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(tampered, "w") as out:
        for info in source.infolist():
            data = source.read(info)
            out.writestr(info, data.replace(b"</html>", b"</html> ") if info.filename == "page.html" else data)
    bad = _verify(project, str(tampered))
    assert bad.returncode == 1 and "page.html: changed" in bad.stdout, bad.stdout


def test_no_timestamp_url_no_tokens_and_the_page_says_so(world) -> None:
    # the project's own site (no timestamp_url in the repository's mkdocs.yml): the template's other branch
    template = (Path(__file__).resolve().parents[2] / "templates/pages/version.md.j2").read_text(encoding="utf-8")
    assert "this site has no timestamp authority configured" in template


def test_the_commands_for_counsel_work_as_written(world, tmp_path: Path) -> None:
    """docs/counsel.md's `shell` blocks, in order, in the built project (tsa-root.pem: the test authority's root)."""
    docs = (Path(__file__).resolve().parents[2] / "docs/counsel.md").read_text(encoding="utf-8")
    commands = [line for block in re.findall(r"```shell\n(.*?)```", docs, re.S) for line in block.splitlines()]
    assert len(commands) >= 4
    project = world["project"]
    shutil.copy(world["authority"].ca, project.path / "tsa-root.pem")
    content_hash = _versions(project.path / "site")["1.0"]["content_hash"]
    for command in commands:
        args = shlex.split(command.replace("CONTENT_HASH", content_hash))
        if args[0] == ".venv/bin/policy":
            result = project.run(*args[1:], env=world["env"])
        else:
            result = subprocess.run(args, cwd=project.path, capture_output=True, text=True)
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr


def test_a_library_is_stamped_per_document_verified_and_archived(world, tmp_path: Path) -> None:
    from tests.support.library import small_library
    plain = Authority(tmp_path / "tsa")  # the other kind: its tokens carry its own certificate only
    project = small_library(tmp_path / "library")
    _set_option(project, f"timestamp_url: {plain.url}")
    project.commit("Timestamp the versions")
    try:
        build(project.path, int(EPOCH))
    finally:
        plain.close()
    assert len(decode(plain.replies[0]).signed_data.certificates) == 1
    assert (project.path / ".policy-timestamps/terms/1.0.tsr").is_file()
    assert (project.path / ".policy-timestamps/privacy/1.0.tsr").is_file()
    records = json.loads((project.path / "site/terms/versions.json").read_text(encoding="utf-8"))["versions"]
    assert records[0]["timestamp"]["url"].endswith("/terms/versions/1.0/timestamp.tsr")
    result = _verify(project, "site", "--ca", str(plain.ca))
    assert result.returncode == 0 and "2 version(s)" in result.stdout and "2 timestamp token(s)" in result.stdout, \
        result.stdout + result.stderr
    archive = tmp_path / "terms.zip"
    made = project.run("evidence", "1.0", "--document", "terms", "-o", str(archive))
    assert made.returncode == 0, made.stderr
    with zipfile.ZipFile(archive) as z:
        assert {"policy/policy.yaml", "policy/sections/liability.yaml", "timestamp.tsr"} <= set(z.namelist())
        assert json.loads(z.read("evidence.json"))["document"] == "terms"
    assert _verify(project, str(archive)).returncode == 0
    missing = project.run("evidence", "9.9", "--document", "terms")
    assert missing.returncode == 1 and "no version '9.9'" in missing.stderr and "Traceback" not in missing.stderr
