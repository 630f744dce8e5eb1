"""`policy verify`: check a built site (a folder, a downloaded copy, or over HTTP) or an evidence archive.

A site:
- every file manifest.json lists has its sha256 (a changed byte anywhere: that file is named);
- every document's versions.json: each version's policy.json holds the text whose canonical JSON hashes to the
  version's content_hash; its page exists and shows that hash; every file the record lists with a sha256 (its
  timestamp token, a PDF, a Word redline) has it; every version folder with a policy.json is in versions.json;
- every timestamp token: a granted RFC 3161 answer whose imprint is the version's content_hash, signed by a
  certificate that chains to a root given with `--ca` (else to the system's trusted roots; a token whose chain
  cannot be checked so is counted as unchecked in the summary, not as a mismatch). The intermediate certificates the
  token carries, in any order, complete the chain; the roots come only from --ca or the system. (CMS signs neither
  those certificates nor the SignerInfo's signatureAlgorithm: a byte changed in a certificate the chain does not use,
  such as the token's own copy of its root, is caught by the token's sha256, not by its signature.)
An evidence archive (policy evidence): its manifest.json against every file, the same checks of its policy.json,
page and token against its content hash, and no file that the manifest does not list.
"""

from __future__ import annotations

import hashlib
import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserError
from ..site.manifest import MANIFEST, site_files
from ..site.tokens import decode
from ..source.model import canonical_bytes


class Reader:
    """Where the files are: read(name) gives a file's bytes, or None when there is no such file."""

    label = ""

    def read(self, name: str) -> bytes | None:
        raise NotImplementedError

    def names(self) -> list[str] | None:
        """Every file, when they can be listed (a folder, an archive; not a site over HTTP)."""
        return None


class Folder(Reader):
    def __init__(self, root: Path) -> None:
        self.root, self.label = root, str(root)

    def read(self, name: str) -> bytes | None:
        path = self.root / name
        try:
            return path.read_bytes() if path.is_file() else None
        except OSError:
            return None

    def names(self) -> list[str] | None:
        return site_files(self.root)


class Web(Reader):
    def __init__(self, url: str) -> None:
        self.base = url if url.endswith("/") else url + "/"
        self.label = self.base

    def read(self, name: str) -> bytes | None:
        try:
            with urllib.request.urlopen(self.base + urllib.parse.quote(name), timeout=60) as answer:  # noqa: S310
                return answer.read()
        except urllib.error.HTTPError as exc:
            if exc.code in (403, 404, 410):
                return None
            raise UserError(f"{self.base + name}: HTTP {exc.code}; is the site up?") from None
        except (urllib.error.URLError, OSError) as exc:
            raise UserError(f"{self.base + name}: cannot be fetched ({getattr(exc, 'reason', exc)})") from None


class Archive(Reader):
    def __init__(self, path: Path) -> None:
        self.label = str(path)
        try:
            with zipfile.ZipFile(path) as archive:
                self.files = {i.filename: archive.read(i) for i in archive.infolist() if not i.is_dir()}
        except (OSError, zipfile.BadZipFile) as exc:
            raise UserError(f"{path}: not a readable zip archive ({exc})") from None

    def read(self, name: str) -> bytes | None:
        return self.files.get(name)

    def names(self) -> list[str] | None:
        return sorted(self.files)


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    files: int = 0
    versions: int = 0
    tokens: int = 0
    unchecked_chains: int = 0

    def bad(self, name: str, what: str) -> None:
        self.problems.append(f"{name}: {what}")


def load_roots(ca: Path | None) -> tuple[list, str]:
    """The trust anchors for the tokens' certificates: the --ca file's (PEM, one or more), else the system's."""
    from cryptography import x509
    if ca is not None:
        try:
            roots = x509.load_pem_x509_certificates(ca.read_bytes())
        except (OSError, ValueError) as exc:
            raise UserError(f"--ca {ca}: not a PEM file of certificates ({exc})") from None
        return roots, ca.name
    bundle = ssl.get_default_verify_paths().cafile
    try:
        with warnings.catch_warnings():  # a system bundle may hold old roots that cryptography frowns upon
            warnings.simplefilter("ignore")
            return (x509.load_pem_x509_certificates(Path(bundle).read_bytes()) if bundle else []), "the system"
    except (OSError, ValueError):
        return [], "the system"


def check_token(token: bytes, content_hash: str, roots: list, given: bool, name: str, report: Report) -> None:
    """One token: a granted answer for this content hash, signed by a certificate chaining to the roots."""
    from rfc3161_client import PKIStatus, VerificationError, VerifierBuilder
    report.tokens += 1
    try:
        response = decode(token)
        granted = response.status == PKIStatus.GRANTED
        imprint = response.tst_info.message_imprint.message.hex() if granted else ""  # TSTInfo is read here
    except ValueError as exc:
        report.bad(name, f"not an RFC 3161 timestamp answer ({exc})")
        return
    if not granted:
        report.bad(name, f"the authority did not grant it (status {response.status})")
        return
    if imprint != content_hash:
        report.bad(name, f"it timestamps {imprint}, not the content hash {content_hash}")
        return
    if not roots:
        report.unchecked_chains += 1
        return
    builder = VerifierBuilder()
    for root in roots:
        builder = builder.add_root_certificate(root)
    try:
        builder.build().verify(response, bytes.fromhex(content_hash))
    except (VerificationError, ValueError) as exc:
        if given:
            report.bad(name, f"its signature does not check against the given roots ({exc})")
        else:
            report.unchecked_chains += 1


def _json(reader: Reader, name: str, report: Report) -> dict | None:
    data = reader.read(name)
    if data is None:
        report.bad(name, "missing")
        return None
    try:
        found = json.loads(data)
    except ValueError as exc:
        report.bad(name, f"not JSON ({exc})")
        return None
    if not isinstance(found, dict):
        report.bad(name, "not a JSON object")
        return None
    return found


def text_hash(document: dict) -> str | None:
    """The content hash of a policy.json's text (its `policy`): what source/model.content_hash computes."""
    policy = document.get("policy")
    return hashlib.sha256(canonical_bytes(policy)).hexdigest() if isinstance(policy, dict) else None


def check_manifest(reader: Reader, report: Report, strict: bool = False) -> dict[str, str]:
    """Every file the manifest lists, against its sha256; strict: no file beside them (an archive)."""
    manifest = _json(reader, MANIFEST, report)
    files = manifest.get("files") if manifest else None
    if manifest is not None and not isinstance(files, dict):
        report.bad(MANIFEST, "lists no files")
    if not isinstance(files, dict):
        return {}
    for name, expected in sorted(files.items()):
        data = reader.read(name)
        report.files += 1
        if data is None:
            report.bad(name, "missing (manifest.json lists it)")
        elif hashlib.sha256(data).hexdigest() != expected:
            report.bad(name, f"changed: its sha256 is not the one manifest.json gives ({str(expected)[:12]}…)")
    listed = reader.names()
    if strict and listed is not None:
        for name in listed:
            if name != MANIFEST and name not in files:
                report.bad(name, "not listed in manifest.json")
    return files


def _local(url: str, site_url: str) -> str | None:
    return url[len(site_url):] if site_url and url.startswith(site_url) else None


def check_version(reader: Reader, record: dict, folder: str, roots: list, given: bool, report: Report) -> None:
    """One versions.json record: its policy.json, page, and every file listed with a sha256 (token, PDF, …)."""
    if "document" not in record:
        report.versions += 1  # a library's /versions.json repeats them
    version, content_hash = str(record.get("version")), str(record.get("content_hash"))
    document = _json(reader, folder + "policy.json", report)
    if document is not None:
        found = text_hash(document)
        if found != content_hash:
            report.bad(folder + "policy.json", f"its text hashes to {found}, versions.json gives {content_hash} "
                                               f"for version {version}")
        elif document.get("content_hash") != content_hash:
            report.bad(folder + "policy.json", "its content_hash is not the one versions.json gives")
    page = reader.read(folder + "index.html")
    if page is None:
        report.bad(folder + "index.html", f"missing: versions.json lists version {version}")
    elif content_hash.encode() not in page:
        report.bad(folder + "index.html", f"does not show the content hash versions.json gives for {version}")
    for key, value in sorted(record.items()):
        if not (isinstance(value, dict) and isinstance(value.get("url"), str) and isinstance(value.get("sha256"), str)):
            continue
        name = folder + value["url"].rsplit("/", 1)[-1]
        data = reader.read(name)
        if data is None:
            report.bad(name, f"missing: versions.json lists it as {version}'s {key}")
            continue
        if hashlib.sha256(data).hexdigest() != value["sha256"]:
            report.bad(name, f"changed: its sha256 is not the one versions.json gives for {version}'s {key}")
            continue
        if key == "timestamp":
            check_token(data, content_hash, roots, given, name, report)


def verify_site(reader: Reader, ca: Path | None = None) -> Report:
    report = Report()
    files = check_manifest(reader, report)
    manifest = json.loads(reader.read(MANIFEST) or b"{}") if files else {}
    site_url = str(manifest.get("site_url") or "")
    roots, _ = load_roots(ca)
    indexes = sorted(n for n in files if n == "versions.json" or (n.endswith("/versions.json") and n.count("/") == 1))
    seen: set[str] = set()  # a library's /versions.json repeats its documents' records (with their document id)
    for index in indexes or ["versions.json"]:
        data = _json(reader, index, report)
        if data is None or not isinstance(data.get("versions"), list):
            continue
        listed: set[str] = set()
        for record in data["versions"]:
            if not isinstance(record, dict):
                report.bad(index, "a version that is not an object")
                continue
            folder = _local(str(record.get("url", "")), site_url)
            if folder is None:
                report.bad(index, f"version {record.get('version')}: its url is not on this site ({site_url})")
                continue
            listed.add(folder)
            same = json.dumps({k: v for k, v in record.items() if k != "document"}, sort_keys=True)
            if same not in seen:
                seen.add(same)
                check_version(reader, record, folder, roots, ca is not None, report)
        if "documents" in data:
            continue  # a library's: its root versions/ folders are a former single document's old addresses
        base = index[: -len("versions.json")]
        for name in files:
            if name.startswith(base + "versions/") and name.endswith("/policy.json") \
                    and name.count("/") == base.count("/") + 2 and name[: -len("policy.json")] not in listed:
                report.bad(name, f"a version that {index} does not list")
    return report


def verify_archive(reader: Reader, ca: Path | None = None) -> Report:
    report = Report()
    check_manifest(reader, report, strict=True)
    evidence = _json(reader, "evidence.json", report)
    if evidence is None:
        return report
    report.versions = 1
    content_hash = str(evidence.get("content_hash"))
    document = _json(reader, "policy.json", report)
    if document is not None and text_hash(document) != content_hash:
        report.bad("policy.json", f"its text hashes to {text_hash(document)}, evidence.json gives {content_hash}")
    page = reader.read("page.html")
    if page is not None and content_hash.encode() not in page:
        report.bad("page.html", "does not show the content hash evidence.json gives")
    token = reader.read("timestamp.tsr")
    if token is not None:
        roots, _ = load_roots(ca)
        check_token(token, content_hash, roots, ca is not None, "timestamp.tsr", report)
    return report


def reader_for(target: str) -> tuple[Reader, bool]:
    """The files to check and whether they are an evidence archive."""
    if target.startswith(("http://", "https://")):
        return Web(target), False
    path = Path(target)
    if path.is_file():
        return Archive(path), True
    if path.is_dir():
        return Folder(path), False
    raise UserError(f"{target}: no such folder, archive or http(s) address; give a built site (site/), a copy of "
                    f"one, its URL, or an evidence .zip")


def summary(report: Report, label: str, archive: bool, trust: str) -> str:
    """The one line of a check that found nothing wrong."""
    tokens = f"{report.tokens} timestamp token(s) for their content hash"
    checked = report.tokens - report.unchecked_chains
    if checked:
        tokens += f", {checked} signed by a certificate that chains to {trust}"
    if report.unchecked_chains:
        tokens += f", {report.unchecked_chains} whose signer was not checked (not a root {trust} trusts: " \
                  f"give --ca FILE)" if trust else f", {report.unchecked_chains} whose signer was not checked"
    what = "evidence archive" if archive else "site"
    return f"OK: the {report.files} files of the {what} {label} match manifest.json, {report.versions} version(s) " \
           f"their content hash, {tokens}"
