"""Trust Anchor: cross-border trust for electronic trade documents on an Ethereum-compatible ledger.

The names below are the library's public API, what an agency's own systems need: issue documents
(``DocumentIssuer``), verify them at the border (``Verifier``), audit the registries (``Auditor``), with
the chain, its deployment manifest and the typed errors. They load on first use, so ``import anchor``
costs nothing until one is used (the chain stack, web3 and py-evm, takes seconds to import). Everything
else in the subpackages is machinery that may change between releases.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .accounts import resolve_account
    from .audit import AuditError, Auditor, AuditSource, ResumeStore
    from .bundle import Bundle
    from .chain import Chain, connect
    from .config import Config, load_config
    from .deploy import Manifest
    from .errors import (
        BundleError,
        ChainError,
        ChainUnavailable,
        ConfigError,
        ContractRevert,
        DeploymentError,
        DocumentError,
        PKIError,
        SigningError,
        TrustAnchorError,
    )
    from .issuing.batch import DocumentInput, DocumentIssuer, IssuedDocument, IssueResult, SignedBatch
    from .issuing.canonical import Digest, digest_file
    from .issuing.leaf import Terms
    from .issuing.signing import Signer
    from .registry import Registries
    from .verify import Check, CheckStatus, Decision, Verdict, Verifier

# Public name -> the module that defines it.
_LAZY: dict[str, str] = {
    # issuing
    "DocumentIssuer": "issuing.batch",
    "DocumentInput": "issuing.batch",
    "IssuedDocument": "issuing.batch",
    "IssueResult": "issuing.batch",
    "SignedBatch": "issuing.batch",
    "Signer": "issuing.signing",
    "Terms": "issuing.leaf",
    "Digest": "issuing.canonical",
    "digest_file": "issuing.canonical",
    # verifying
    "Verifier": "verify",
    "Verdict": "verify",
    "Check": "verify",
    "CheckStatus": "verify",
    "Decision": "verify",
    "Bundle": "bundle",
    # auditing
    "Auditor": "audit",
    "AuditSource": "audit",
    "ResumeStore": "audit",
    # the chain and the deployment
    "Chain": "chain",
    "connect": "chain",
    "Config": "config",
    "load_config": "config",
    "Manifest": "deploy",
    "Registries": "registry",
    "resolve_account": "accounts",
    # errors
    "TrustAnchorError": "errors",
    "ConfigError": "errors",
    "ChainError": "errors",
    "ChainUnavailable": "errors",
    "ContractRevert": "errors",
    "DeploymentError": "errors",
    "DocumentError": "errors",
    "BundleError": "errors",
    "SigningError": "errors",
    "PKIError": "errors",
    "AuditError": "audit",
}

__all__ = [
    "AuditError",
    "AuditSource",
    "Auditor",
    "Bundle",
    "BundleError",
    "Chain",
    "ChainError",
    "ChainUnavailable",
    "Check",
    "CheckStatus",
    "Config",
    "ConfigError",
    "ContractRevert",
    "Decision",
    "DeploymentError",
    "Digest",
    "DocumentError",
    "DocumentInput",
    "DocumentIssuer",
    "IssueResult",
    "IssuedDocument",
    "Manifest",
    "PKIError",
    "Registries",
    "ResumeStore",
    "SignedBatch",
    "Signer",
    "SigningError",
    "Terms",
    "TrustAnchorError",
    "Verdict",
    "Verifier",
    "connect",
    "digest_file",
    "load_config",
    "resolve_account",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'anchor' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
