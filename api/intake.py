"""Intake: validate and digest submitted documents, then commit them before saying "accepted".

Digesting (canonicalization + SHA-256) happens before anything is stored, so a document the library
cannot read is refused with 422 naming it, and a request is accepted whole or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from anchor import profiles
from anchor.doctypes import names_of, type_name
from anchor.errors import ChainError, DocumentError
from anchor.issuing.batch import terms_problem
from anchor.issuing.canonical import digest_bytes, media_type_for
from anchor.issuing.leaf import NO_TERMS, LeafError, Terms
from anchor.registry import Registries

from .batcher import Backlog, Batcher
from .identities import Identities
from .problems import ApiError
from .settings import ServiceSettings
from .store import CrashPoints, DocumentStore, NewDocument


@dataclass(frozen=True)
class RawDocument:
    """One submitted document before digesting; the fields name its parts in error messages."""

    name: str
    media_type: str | None
    content: bytes
    field: str
    media_type_field: str
    terms: Terms = NO_TERMS  # given with the request: over what the type's profile reads
    terms_field: str = "terms"


class IntakeService:
    def __init__(
        self,
        settings: ServiceSettings,
        docs: DocumentStore,
        backlog: Backlog,
        batcher: Batcher,
        identities: Identities,
        crash: CrashPoints,
        policy: Callable[[str, int, Sequence[NewDocument]], None] | None = None,
    ) -> None:
        self.settings = settings
        self.docs = docs
        self.backlog = backlog
        self.batcher = batcher
        self.identities = identities
        self.crash = crash
        self.policy = policy
        self.profiles = profiles.load(settings.profiles) if settings.profiles else profiles.load()

    def check_count(self, n: int, field: str) -> None:
        limit = self.settings.max_documents_per_request
        if n > limit:
            raise ApiError(
                413, "TOO_MANY_DOCUMENTS", f"{n} documents in one request; the limit is {limit}", field=field
            )

    def digest(self, raw: Sequence[RawDocument], doc_type: int) -> list[NewDocument]:
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
            profile = profiles.profile_for(doc_type, dg.media_type, self.profiles)
            try:
                terms = profiles.merge(profile.read(d.content, d.name), d.terms) if profile else d.terms
            except DocumentError as e:
                raise ApiError(422, "INVALID_TERMS", str(e), field=d.field) from None
            except LeafError as e:
                raise ApiError(422, "INVALID_TERMS", str(e), field=d.terms_field) from None
            out.append(NewDocument(dg.digest, d.name, dg.media_type, dg.canonicalization, dg.size, terms))
        return out

    def submit(self, party: str, doc_type: int, docs: Sequence[NewDocument]) -> list[int]:
        """Commit the documents as pending; their ids in input order (existing ones keep theirs)."""
        if party not in self.identities.issuers:
            raise ApiError(
                409, "ISSUER_NOT_CONFIGURED", f"this service holds no issuing account and signer for {party}"
            )
        if self.policy is not None:
            self.policy(party, doc_type, docs)
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


@dataclass(frozen=True)
class _RegistryFacts:
    issuer_types: int
    one_time: int
    members: frozenset[str]


def registry_policy(
    registries: Callable[[], Registries], identities: Identities
) -> Callable[[str, int, Sequence[NewDocument]], None]:
    """What the issuer may anchor and what the registry can honour, checked at submission (422) rather
    than in the batch later: the issuer account's document types, a member destination for one-time
    documents, and quantities only on one-time types. While the chain is down, intake stays open (that is
    what durable intake is for): the last facts read are used, or none before the first read."""
    known: dict[str, _RegistryFacts] = {}

    def facts(party: str) -> _RegistryFacts | None:
        try:
            reg = registries()
            ident = identities.issuers[party]
            fresh = _RegistryFacts(
                reg.trust.issuer(ident.address).doc_types,
                reg.trust.one_time_doc_types(),
                frozenset(p for p in reg.trust.parties() if reg.trust.is_member(p)),
            )
        except ChainError:
            return known.get(party)
        known[party] = fresh
        return fresh

    def check(party: str, doc_type: int, docs: Sequence[NewDocument]) -> None:
        f = facts(party)
        if f is None:
            return
        if not f.issuer_types >> doc_type & 1:
            raise ApiError(
                422,
                "DOCUMENT_TYPE_NOT_ALLOWED",
                f"the issuer account of {party} may not anchor {type_name(doc_type)} documents "
                f"(it may anchor: {', '.join(names_of(f.issuer_types)) or 'nothing'})",
                field="documentType",
            )
        one_time = bool(f.one_time >> doc_type & 1)
        for i, d in enumerate(docs):
            problem = terms_problem(d.terms, one_time, f.members)
            if problem == "destination":
                raise ApiError(
                    422, "INVALID_TERMS",
                    f"destination {d.terms.destination} of a {type_name(doc_type)} is not a member party "
                    f"(members: {', '.join(sorted(f.members))})",
                    field=f"documents[{i}].terms.destination",
                )  # fmt: skip
            if problem == "quantity":
                raise ApiError(
                    422, "INVALID_TERMS",
                    f"{type_name(doc_type)} is not a one-time document type: a quantity could never be endorsed",
                    field=f"documents[{i}].terms.quantity",
                )  # fmt: skip

    return check
