"""The verifier: document + bundle + the verifier's own trusted chain view -> checks -> verdict.

What to trust (chain, registry addresses) comes from the verifier's configuration — a deployment
manifest — never from the bundle, which is only evidence to be checked against it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509

from ..bundle import Bundle
from ..chain import Chain
from ..deploy import Manifest, party_id
from ..errors import ChainError, ChainUnavailable, ConfigError, DocumentError
from ..issuing.canonical import RAW_SHA256, Digest, canonicalization_for, digest_bytes, digest_file
from . import checks
from .chainview import ChainHead, ChainReader, ChainView
from .model import Check, CheckStatus, Verdict, decide


class Verifier:
    """A border agency's verifier, acting for one member party, bound to one trusted deployment."""

    def __init__(
        self,
        chain: Chain,
        manifest: Manifest,
        *,
        confirmations: int = 1,
        ca_certificates: Sequence[x509.Certificate] = (),
    ) -> None:
        try:
            connected: int | None = chain.chain_id
        except ChainUnavailable:
            connected = None  # verifications will say INDETERMINATE until the node answers
        if connected is not None and connected != manifest.chain_id:
            raise ConfigError(
                f"trusted manifest is for chain {manifest.chain_id}, connected to chain {connected}"
            )
        self.chain = chain
        self.manifest = manifest
        self.confirmations = confirmations
        self.ca_certificates = list(ca_certificates)
        self.reader = ChainReader(chain, manifest)

    def verify(
        self,
        document: bytes | str | os.PathLike[str],
        bundle: Bundle,
        as_party: str,
        *,
        head: ChainHead | None = None,
    ) -> Verdict:
        """Check `document` against `bundle` for `as_party`, reading the chain at its head block.

        A caller that has just read the head block itself (a service sharing one head request among
        concurrent verifications) passes it as `head`: the verdict is then read at that block, or at
        a later one this verifier has already seen, and no further head request is made.
        """
        party = _party(as_party)
        view: ChainView | None = None
        chain_error: str | None = None
        try:
            view = self.reader.read(
                bytes.fromhex(bundle.batch.root[2:]),
                bytes.fromhex(bundle.leaf.hash[2:]),
                bundle.anchor.issuer,
                bundle.document.document_type_id,
                party,
                bundle.anchor.block_time,
                bundle.anchor.transaction_hash,
                head,
            )
        except ChainError as e:
            chain_error = str(e)
        return _verdict(
            document,
            bundle,
            party,
            self.manifest,
            self.confirmations,
            self.ca_certificates,
            view,
            chain_error,
        )


def verify_without_chain(
    document: bytes | str | os.PathLike[str],
    bundle: Bundle,
    as_party: str,
    manifest: Manifest,
    why: str,
    *,
    ca_certificates: Sequence[x509.Certificate] = (),
) -> Verdict:
    """The verdict when the chain cannot be read at all (not even to build a Verifier): the checks
    that need no chain run, the others are ERROR CHAIN_UNAVAILABLE saying `why`; INDETERMINATE at best."""
    party = _party(as_party)
    return _verdict(document, bundle, party, manifest, 1, ca_certificates, None, why)


def _party(as_party: str) -> str:
    party_id(as_party)  # a malformed party code is a usage error, not a verdict
    return as_party.strip().upper()


def _verdict(
    document: bytes | str | os.PathLike[str],
    bundle: Bundle,
    party: str,
    manifest: Manifest,
    confirmations: int,
    cas: Sequence[x509.Certificate],
    view: ChainView | None,
    chain_error: str | None,
    *,
    unavailable_code: str = "CHAIN_UNAVAILABLE",
) -> Verdict:
    """The nine checks against `view`; without one, those that need it are ERROR `unavailable_code`
    saying `chain_error` (an offline verifier names what its trust pack lacked)."""
    digest, error = _digest(document, bundle)
    result = [
        checks.integrity(bundle, digest, error),
        checks.inclusion(bundle),
        checks.anchored(bundle, view, manifest.chain_id, manifest.document_registry.address, confirmations),
        checks.document_status(view),
        checks.signature(bundle),
        checks.certificate_chain(bundle, view, cas),
        checks.ca_status(view),
        checks.recognition(bundle, view, party),
        checks.terms(bundle, view, party),
    ]
    if chain_error is not None:
        result = [_explain_unavailable(c, chain_error, unavailable_code) for c in result]
    elif result[2].status is CheckStatus.INVALID and result[2].code in (
        "ROOT_NOT_ANCHORED",
        "WRONG_CHAIN",
        "WRONG_REGISTRY",
    ):
        # Nothing on the trusted registry relates to this root: registry-based checks have no subject.
        result = [
            Check(
                c.name,
                CheckStatus.SKIPPED,
                "NOT_ANCHORED",
                "skipped: the root is not on the trusted registry",
            )
            if c.name in ("document_status", "certificate_chain", "ca_status", "recognition")
            else c
            for c in result
        ]
    name = bundle.document.name if not isinstance(document, (str, os.PathLike)) else Path(document).name
    return Verdict(
        verdict=decide(result),
        checks=result,
        verifying_party=party,
        document=name,
        chain_id=manifest.chain_id,
        read_at_block=view.block_number if view else None,
        read_at_block_hash=view.block_hash if view else None,
        read_at_time=view.block_time if view else None,
        anchored_at=view.document["batch"]["anchoredAt"] or None if view else None,
        terms=checks.terms_summary(bundle, view),
    )


def _digest(document: bytes | str | os.PathLike[str], bundle: Bundle) -> tuple[Digest | None, str | None]:
    """Canonicalize as the bundle says the document was; a parse failure is an integrity failure."""
    media_type = bundle.document.media_type
    try:
        if canonicalization_for(media_type) != bundle.document.canonicalization:
            return None, f"media type {media_type} does not go with {bundle.document.canonicalization}"
        if isinstance(document, (str, os.PathLike)):
            if bundle.document.canonicalization == RAW_SHA256:
                return digest_file(document, media_type), None
            return digest_bytes(Path(document).read_bytes(), media_type, name=Path(document).name), None
        return digest_bytes(document, media_type, name=bundle.document.name), None
    except DocumentError as e:
        return None, f"the document is not readable as {media_type}: {e}"
    except OSError as e:
        return None, f"cannot read the document: {e.strerror}"


def _explain_unavailable(check: Check, error: str, code: str) -> Check:
    if check.status is CheckStatus.ERROR:
        text = f"could not read the chain: {error}" if code == "CHAIN_UNAVAILABLE" else error
        return Check(check.name, CheckStatus.ERROR, code, text)
    return check
