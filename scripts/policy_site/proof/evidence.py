"""`policy evidence VERSION`: one zip archive of what proves a version was published, when, and who was told.

The archive (every name fixed, sorted, dated 1980-01-01, so the same state makes the same bytes):

    README.txt        what each file is and how to check it
    evidence.json     version, document, content hash, publication commit and its signature status, the token's
                      time, the site's addresses, the notice campaign's counts
    policy/…          the version's YAML files as committed in the publishing commit
    policy.json       the version's text as data, as the site publishes it (its `policy` hashes to the content hash)
    page.html         the version's page as built (site_dir/…/versions/<v>/index.html)
    *.pdf             its PDF(s), where the site has them (versions/<v>/*.pdf)
    timestamp.tsr     its RFC 3161 timestamp token, when it has one
    notices.json      the notice campaign: counts, and per recipient the Message-ID, status, time and server reply
    manifest.json     every other file with its sha256 (`policy verify FILE.zip` checks them)

Addresses: only with `with_addresses`; otherwise each is sha256("<salt>:<address lower-cased>") with the salt
written beside them (the version's content hash): whoever holds an address can show it was sent the notice, nobody
reads the list from the archive (pseudonymous, not anonymous: an address that is guessed can be checked); an
address quoted in a server's reply is then masked (z***@example.org). A reply is the server's own text, as the
ledger keeps it (one line, bounded, control characters replaced), escaped by the JSON it is written in.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..history import git as gitcmd
from ..notify.addresses import mask_text
from ..notify.campaign import Campaign
from ..site.data import dumps
from ..site.timestamps import Timestamp

DATE = (1980, 1, 1, 0, 0, 0)
SIGNATURES = {"G": "good signature", "B": "bad signature", "U": "good signature, key of unknown validity",
              "X": "good signature, expired", "Y": "good signature, expired key", "R": "good signature, revoked key",
              "E": "signature cannot be checked (missing key)", "N": "not signed"}

README = """\
Evidence of the publication of {title}, version {version}{document}.

evidence.json   the version, its content hash (SHA-256 of its text as canonical JSON), the commit that published it
                and its signature status (git %G?: {signature}), the timestamp token's time, its addresses
policy/         the version's YAML files as committed in {commit}
policy.json     the version's text as data, as published: sha256 of its "policy" as canonical JSON (keys sorted,
                no spaces, UTF-8) is the content hash
page.html       the version's page as built: it shows the content hash
{pdf}timestamp.tsr   {token}
notices.json    the notice campaign from the delivery ledger: counts and, per recipient, the Message-ID, status,
                time and server reply (to the end of DATA when sent; null where the ledger did not record it);
                {addresses}
manifest.json   every file above with its sha256

Check it:  policy verify THIS.zip --ca TSA-ROOT.pem
           (or: openssl ts -verify -digest {content_hash} -in timestamp.tsr -CAfile TSA-ROOT.pem)
"""


@dataclass
class Inputs:
    """What goes into one archive, gathered by the verb (cli/proof_verbs.py)."""

    title: str
    version: str
    document: str
    content_hash: str
    commit: gitcmd.Commit | None
    signature: dict[str, str] | None
    policy_files: dict[str, bytes]  # name under policy/ → bytes
    policy_json: bytes | None
    page: bytes | None
    pdfs: dict[str, bytes]
    token: bytes | None
    campaign: Campaign | None
    page_url: str


def _hide(address: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{address.lower()}".encode()).hexdigest()


def notices(campaign: Campaign | None, salt: str, with_addresses: bool) -> dict:
    if campaign is None:
        return {"announced": False, "note": "the ledger records no announcement of this version"}
    rows = []
    for row in campaign.deliveries:
        shown = {k: v for k, v in row.items() if k != "email"}
        if not with_addresses and shown.get("reply"):
            shown["reply"] = mask_text(shown["reply"])
        rows.append({"email": row["email"], **shown} if with_addresses
                    else {"email_sha256": _hide(row["email"], salt), **shown})
    return {"announced": True, "ledger_name": campaign.version, "announced_at": campaign.announced_at,
            "recipients": campaign.recipients, "counts": campaign.counts,
            "announced_text": {"content_hash": campaign.content_hash, "commit": campaign.commit},
            "addresses": "plain" if with_addresses else f"sha256 of '<salt>:<address lower-cased>', salt {salt}",
            "salt": None if with_addresses else salt, "deliveries": rows}


def archive_files(inputs: Inputs, with_addresses: bool) -> dict[str, bytes]:
    """Every file of the archive but the manifest."""
    files: dict[str, bytes] = {f"policy/{name}": data for name, data in inputs.policy_files.items()}
    stamp = Timestamp.read(inputs.token) if inputs.token else None
    signature = inputs.signature or {}
    status = signature.get("status", "")
    campaign = notices(inputs.campaign, inputs.content_hash, with_addresses)
    files["evidence.json"] = dumps({
        "format": "policy-site evidence 1", "title": inputs.title, "document": inputs.document or None,
        "version": inputs.version, "content_hash": inputs.content_hash, "page_url": inputs.page_url,
        "commit": {"sha": inputs.commit.sha, "time": inputs.commit.time.isoformat(), "author": inputs.commit.author,
                   "subject": inputs.commit.subject,
                   "signature": {**signature, "meaning": SIGNATURES.get(status, status)}} if inputs.commit else None,
        "timestamp": {"file": "timestamp.tsr", "sha256": stamp.sha256,
                      "time": stamp.time.strftime("%Y-%m-%dT%H:%M:%SZ")} if stamp else None,
        "notices": {k: campaign.get(k) for k in ("announced", "announced_at", "recipients", "counts")},
    }).encode()
    if inputs.policy_json is not None:
        files["policy.json"] = inputs.policy_json
    if inputs.page is not None:
        files["page.html"] = inputs.page
    files.update(inputs.pdfs)
    if inputs.token is not None:
        files["timestamp.tsr"] = inputs.token
    files["notices.json"] = dumps(campaign).encode()
    files["README.txt"] = README.format(
        title=inputs.title, version=inputs.version, document=f" ({inputs.document})" if inputs.document else "",
        signature=SIGNATURES.get(status, status or "unknown"), commit=inputs.commit.sha if inputs.commit else "-",
        pdf="".join(f"{n:<15} the version as PDF\n" for n in sorted(inputs.pdfs)), content_hash=inputs.content_hash,
        token="its RFC 3161 timestamp token: its imprint is the content hash" if inputs.token
        else "(none: the version has no timestamp token)",
        addresses="addresses in plain text" if with_addresses else
        "addresses as sha256(salt:address) with the salt given there").encode()
    return files


def write_archive(files: dict[str, bytes], target: Path) -> None:
    """The files and their manifest.json as a reproducible zip (fixed dates and modes, sorted names), written whole
    or not at all."""
    manifest = dumps({"format": "policy-site evidence manifest 1", "algorithm": "sha256",
                      "files": {n: hashlib.sha256(d).hexdigest() for n, d in sorted(files.items())}}).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in sorted({**files, "manifest.json": manifest}.items()):
            info = zipfile.ZipInfo(name, DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3  # Unix, whatever system writes it
            archive.writestr(info, data)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(target)
