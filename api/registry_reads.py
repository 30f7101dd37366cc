"""Registry reads for the API: parties, CAs with their status history, issuer accounts, recognitions.

Every answer is read at one block - the one asked for, else the head when the request came in - and
says which. `at` (a time) asks the contracts' time-effective views (isMemberAt, caStatusAt,
issuerStatusAt, recognitionAt) what held at that moment, as recorded at that block.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from anchor.doctypes import names_of
from anchor.reasons import reason_name
from anchor.registry import Registries, Status, StatusChange

from .ledger import ChainGateway, chain_call
from .models import (
    CaList,
    CaOne,
    CaView,
    IssuerList,
    IssuerView,
    PartyList,
    PartyView,
    RecognitionChangeView,
    RecognitionMatrix,
    StatusChangeView,
)
from .problems import ApiError

T = TypeVar("T")
_ZERO_FP = b"\x00" * 32


def _status(s: Status) -> str:
    return s.name.lower()


def _history(changes: list[StatusChange]) -> list[StatusChangeView]:
    return [
        StatusChangeView(
            status=_status(c.status),
            effectiveAt=c.effective_at,
            recordedAt=c.recorded_at,
            reason=reason_name(c.reason),
        )
        for c in changes
    ]


class RegistryReads:
    def __init__(self, gateway: ChainGateway) -> None:
        self.gateway = gateway

    def _run(self, block: int | None, fn: Callable[[Registries, int], T]) -> T:
        def go() -> T:
            reg = self.gateway.registries()
            head = reg.chain.block_number()
            if block is not None and block > head:
                raise ApiError(
                    422, "BLOCK_IN_FUTURE", f"block {block} is beyond the head {head}", field="query.block"
                )
            at = head if block is None else block
            deployed = max(reg.manifest.trust_registry.block, reg.manifest.document_registry.block)
            if at < deployed:
                raise ApiError(
                    422,
                    "BLOCK_BEFORE_DEPLOYMENT",
                    f"block {at} is before the registries were deployed (block {deployed})",
                    field="query.block",
                )
            return fn(reg, at)

        return chain_call(go)

    def _membership(self, reg: Registries, block: int, at: int | None) -> list[tuple[str, bool]]:
        """Every party ever admitted (the contract never forgets one), with its membership then."""
        out = []
        for p in reg.trust.parties(block):
            member = reg.trust.is_member(p, block) if at is None else reg.trust.is_member_at(p, at, block)
            out.append((p, member))
        return out

    def _members(self, reg: Registries, block: int, at: int | None) -> list[str]:
        return [p for p, member in self._membership(reg, block, at) if member]

    def parties(self, block: int | None, at: int | None) -> PartyList:
        def read(reg: Registries, b: int) -> PartyList:
            out = [
                PartyView(
                    party=p,
                    member=member,
                    admins=reg.trust.admins(p, b),
                    cas=["0x" + fp.hex() for fp in reg.trust.party_cas(p, b)],
                    issuers=reg.trust.party_issuers(p, b),
                )
                for p, member in self._membership(reg, b, at)
            ]
            return PartyList(block=b, at=at, threshold=reg.trust.threshold(b), parties=out)

        return self._run(block, read)

    def _ca(self, reg: Registries, fp: bytes, b: int, at: int | None) -> CaView:
        ca = reg.trust.ca(fp, b)
        status = reg.trust.ca_status_at(fp, at, b) if at is not None else ca.status
        return CaView(
            fingerprint="0x" + fp.hex(),
            party=ca.party,
            notBefore=ca.not_before,
            notAfter=ca.not_after,
            documentTypes=names_of(ca.doc_types),
            status=_status(status),
            registeredAt=ca.registered_at,
            revokedAt=ca.revoked_at or None,
            history=_history(reg.trust.ca_history(fp, b)),
        )

    def cas(self, party: str | None, block: int | None, at: int | None) -> CaList:
        def read(reg: Registries, b: int) -> CaList:
            parties = [party] if party else [p for p, _ in self._membership(reg, b, None)]
            out = [self._ca(reg, fp, b, at) for p in parties for fp in reg.trust.party_cas(p, b)]
            return CaList(block=b, at=at, cas=out)

        return self._run(block, read)

    def ca(self, fingerprint: bytes, block: int | None, at: int | None) -> CaOne:
        def read(reg: Registries, b: int) -> CaOne:
            if reg.trust.ca(fingerprint, b).registered_at == 0:
                raise ApiError(
                    404, "CA_NOT_FOUND", f"no CA 0x{fingerprint.hex()} is registered (at block {b})"
                )
            return CaOne(block=b, at=at, ca=self._ca(reg, fingerprint, b, at))

        return self._run(block, read)

    def issuers(self, party: str | None, block: int | None, at: int | None) -> IssuerList:
        def read(reg: Registries, b: int) -> IssuerList:
            parties = [party] if party else [p for p, _ in self._membership(reg, b, None)]
            out = []
            for p in parties:
                for account in reg.trust.party_issuers(p, b):
                    i = reg.trust.issuer(account, b)
                    status = reg.trust.issuer_status_at(account, at, b) if at is not None else i.status
                    out.append(
                        IssuerView(
                            account=i.account,
                            party=i.party,
                            ca="0x" + i.ca.hex() if i.ca != _ZERO_FP else None,
                            documentTypes=names_of(i.doc_types),
                            status=_status(status),
                            authorizedAt=i.authorized_at,
                            revokedAt=i.revoked_at or None,
                            history=_history(reg.trust.issuer_history(account, b)),
                        )
                    )
            return IssuerList(block=b, at=at, issuers=out)

        return self._run(block, read)

    def recognitions(self, block: int | None, at: int | None, history: bool) -> RecognitionMatrix:
        def read(reg: Registries, b: int) -> RecognitionMatrix:
            parties = self._members(reg, b, at)
            when = at if at is not None else int(reg.chain.block(b)["timestamp"])
            matrix: dict[str, dict[str, list[str]]] = {}
            hist: list[RecognitionChangeView] = []
            for r in parties:
                row: dict[str, list[str]] = {}
                for s in parties:
                    if s == r:
                        continue
                    mask = reg.trust.recognition_at(r, s, when, b)
                    if mask:
                        row[s] = names_of(mask)
                    if history:
                        for types, effective in reg.trust.recognition_history(r, s, b):
                            hist.append(
                                RecognitionChangeView(
                                    recognizer=r,
                                    recognized=s,
                                    documentTypes=names_of(types),
                                    effectiveAt=effective,
                                )
                            )
                matrix[r] = row
            return RecognitionMatrix(
                block=b, at=at, parties=parties, matrix=matrix, history=hist if history else None
            )

        return self._run(block, read)
