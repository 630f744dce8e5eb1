"""RFC 3161 timestamps of published versions: asked for once per version, kept in the project, published with the site.

When `timestamp_url` is set in mkdocs.yml, the build gives every published version that has no token yet to that
timestamp authority (TSA). The request's message imprint is the SHA-256 of the version's text as canonical JSON
(source/model.canonical_bytes), so the token's imprint *is* the version's content_hash. The authority's answer (a DER
TimeStampResp, what `openssl ts -reply` writes: a ".tsr" file) is kept in the project at
`<timestamps_dir>/<prefix><version>.tsr` (default `.policy-timestamps/1.2.tsr`, `.policy-timestamps/terms/1.2.tsr`
in a library): a file that the publishing workflow commits, so later builds and fresh clones reuse the same bytes and
the site stays byte-identical. A token whose imprint is not the version's content hash (its published text was
rewritten and the rewrite accepted) is asked for again.

An authority that cannot be reached or refuses: one warning line, no token for that version, the build goes on, and
the next build asks again. No `timestamp_url`: no tokens, and the version pages say so.

The site publishes each token at `versions/<v>/timestamp.tsr` and lists its address and sha256 in versions.json.
`rfc3161-client` builds the request (certReq: the token carries the authority's certificate, and its chain if the
authority adds it) and reads the answer, its chain in any order (site/tokens.py); the HTTP POST is urllib's (the
library has no network). The kept token is the authority's answer byte for byte.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..settings import Settings
from ..source.model import canonical_bytes, policy_to_data
from .model import SiteModel, VersionEntry
from .tokens import decode

TOKEN = "timestamp.tsr"  # beside each version's page and policy.json
TIMEOUT = 30.0


@dataclass(frozen=True)
class Timestamp:
    """One version's token, as kept in the project: its bytes, their sha256, and what the token says."""

    token: bytes
    sha256: str
    time: datetime  # the authority's genTime
    imprint: str  # hex: the version's content_hash when the token is its own

    @classmethod
    def read(cls, token: bytes) -> Timestamp:
        """ValueError when these bytes are no granted RFC 3161 answer."""
        from rfc3161_client import PKIStatus
        response = decode(token)
        if response.status != PKIStatus.GRANTED:
            raise ValueError(f"the authority did not grant it (status {response.status})")
        info = response.tst_info
        time = info.gen_time if info.gen_time.tzinfo else info.gen_time.replace(tzinfo=UTC)
        return cls(token, hashlib.sha256(token).hexdigest(), time.astimezone(UTC), info.message_imprint.message.hex())

    def record(self, url: str) -> dict:
        """What versions.json says of it."""
        return {"url": url, "sha256": self.sha256, "time": self.time.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "imprint": "sha256:" + self.imprint}


class Unreachable(Exception):
    """The authority could not be reached, or its answer is no usable token."""


def token_path(settings: Settings, prefix: str, version: str) -> Path:
    return settings.path("timestamps_dir") / f"{prefix}{version}.tsr"


def request_token(url: str, data: bytes, timeout: float = TIMEOUT) -> bytes:
    """Ask the authority at url to timestamp sha256(data); the answer's bytes (checked: granted, this imprint)."""
    from rfc3161_client import HashAlgorithm, TimestampRequestBuilder
    request = TimestampRequestBuilder().data(data).hash_algorithm(HashAlgorithm.SHA256) \
        .cert_request(cert_request=True).build()  # certReq: the token carries the authority's certificates
    post = urllib.request.Request(url, data=request.as_bytes(), method="POST",
                                  headers={"Content-Type": "application/timestamp-query",
                                           "Accept": "application/timestamp-reply"})
    try:
        with urllib.request.urlopen(post, timeout=timeout) as answer:  # noqa: S310 - the configured authority
            body = answer.read()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise Unreachable(str(getattr(exc, "reason", None) or exc)) from None
    try:
        found = Timestamp.read(body)
    except ValueError as exc:
        raise Unreachable(f"its answer is no timestamp token ({exc})") from None
    if found.imprint != hashlib.sha256(data).hexdigest():
        raise Unreachable("its token is for another hash")
    return body


def _stamp(settings: Settings, entry: VersionEntry, path: Path, warnings: list[str]) -> Timestamp | None:
    url = str(settings["timestamp_url"])
    try:
        token = request_token(url, canonical_bytes(policy_to_data(entry.policy)))
    except Unreachable as exc:
        warnings.append(f"timestamp authority {url} failed for version {entry.version} ({exc}): no token this "
                        f"build; the next build asks again")
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(token)
    tmp.replace(path)
    return Timestamp.read(token)


def attach_timestamps(settings: Settings, models: list[SiteModel], stamp: bool = True) -> None:
    """Give every published version its token (VersionEntry.timestamp): the one kept in the project, or, when
    `stamp` and timestamp_url is set, a new one asked for now. Failures become the models' warnings."""
    url = settings["timestamp_url"]
    for model in models:
        for entry in model.entries:
            if entry.published.commit is None:
                continue  # not published from git (a draft): nothing to prove yet
            path = token_path(settings, model.prefix, entry.version)
            found = None
            if path.is_file():
                try:
                    found = Timestamp.read(path.read_bytes())
                except (OSError, ValueError) as exc:
                    model.history.warnings.append(f"{path}: not a timestamp token ({exc}); "
                                                  f"{'asking for a new one' if url else 'ignored'}")
                if found is not None and found.imprint != entry.content_hash:
                    model.history.warnings.append(f"{path}: its token is for another text than version "
                                                  f"{entry.version}'s (rewritten); "
                                                  f"{'asking for a new one' if url else 'not published'}")
                    found = None
            if found is None and url and stamp:
                found = _stamp(settings, entry, path, model.history.warnings)
            entry.timestamp = found
