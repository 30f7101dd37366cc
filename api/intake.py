"""Intake: validate and digest submitted documents, then commit them before saying "accepted".

Digesting (canonicalization + SHA-256) happens before anything is stored, so a document the library
cannot read is refused with 422 naming it, and a request is accepted whole or not at all.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass

from anchor.canonical import digest_bytes, media_type_for
from anchor.doctypes import type_id
from anchor.errors import ConfigError, DocumentError

from .backlog import Backlog
from .batcher import Batcher
from .crash import CrashPoints
from .doc_store import DocumentStore, NewDocument
from .identities import Identities
from .problems import ApiError
from .settings import ServiceSettings


@dataclass(frozen=True)
class RawDocument:
    """One submitted document before digesting; the fields name its parts in error messages."""

    name: str
    media_type: str | None
    content: bytes
    field: str
    media_type_field: str


def decode_base64(text: str, field: str, limit: int) -> bytes:
    if len(text) > (limit + 2) // 3 * 4 + 4:
        raise ApiError(413, "DOCUMENT_TOO_LARGE", f"larger than the limit of {limit} bytes", field=field)
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(422, "INVALID_BASE64", "not standard base64", field=field) from None
    if len(data) > limit:
        raise ApiError(413, "DOCUMENT_TOO_LARGE", f"larger than the limit of {limit} bytes", field=field)
    return data


def parse_doc_type(text: str, field: str = "documentType") -> int:
    try:
        return type_id(text)
    except ConfigError as e:
        raise ApiError(422, "UNKNOWN_DOCUMENT_TYPE", str(e), field=field) from None


class IntakeService:
    def __init__(
        self,
        settings: ServiceSettings,
        docs: DocumentStore,
        backlog: Backlog,
        batcher: Batcher,
        identities: Identities,
        crash: CrashPoints,
    ) -> None:
        self.settings = settings
        self.docs = docs
        self.backlog = backlog
        self.batcher = batcher
        self.identities = identities
        self.crash = crash

    def check_count(self, n: int, field: str) -> None:
        limit = self.settings.max_documents_per_request
        if n > limit:
            raise ApiError(
                413, "TOO_MANY_DOCUMENTS", f"{n} documents in one request; the limit is {limit}", field=field
            )

    def digest(self, raw: Sequence[RawDocument]) -> list[NewDocument]:
        out = []
        for d in raw:
            if not d.content:
                raise ApiError(422, "EMPTY_DOCUMENT", "the document is empty", field=d.field)
            try:
                media_type = media_type_for(d.name, d.media_type)
            except DocumentError as e:
                raise ApiError(422, "INVALID_MEDIA_TYPE", str(e), field=d.media_type_field) from None
            try:
                dg = digest_bytes(d.content, media_type, name=d.name)
            except DocumentError as e:
                raise ApiError(422, "DOCUMENT_UNREADABLE", str(e), field=d.field) from None
            out.append(NewDocument(dg.digest, d.name, dg.media_type, dg.canonicalization, dg.size))
        return out

    def submit(self, party: str, doc_type: int, docs: Sequence[NewDocument]) -> list[int]:
        """Commit the documents as pending; their ids in input order (existing ones keep theirs)."""
        if party not in self.identities.issuers:
            raise ApiError(
                409, "ISSUER_NOT_CONFIGURED", f"this service holds no issuing account and signer for {party}"
            )
        if len(docs) > self.backlog.room():
            raise ApiError(
                503,
                "INTAKE_BACKLOG_FULL",
                f"{self.backlog.value} documents are waiting to be anchored (limit {self.backlog.limit}); "
                "try again later",
                headers={"Retry-After": "5"},
            )
        accepted = self.docs.accept(
            party, doc_type, docs, before_commit=lambda: self.crash.hit("intake_before_commit")
        )
        self.crash.hit("intake_after_commit")
        self.backlog.add(sum(1 for _, new in accepted if new))
        self.batcher.notify()
        return [i for i, _ in accepted]
