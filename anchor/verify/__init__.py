"""Verification at the border: `Verifier(chain, manifest).verify(document, bundle, as_party)` -> Verdict."""

from .castore import load_ca_directory
from .chainview import ChainHead
from .model import CHECK_NAMES, Check, CheckStatus, Decision, Verdict
from .verifier import Verifier, verify_without_chain

__all__ = [
    "CHECK_NAMES",
    "ChainHead",
    "Check",
    "CheckStatus",
    "Decision",
    "Verdict",
    "Verifier",
    "load_ca_directory",
    "verify_without_chain",
]
