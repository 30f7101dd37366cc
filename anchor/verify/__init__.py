"""Verification at the border: `Verifier(chain, manifest).verify(document, bundle, as_party)` -> Verdict."""

from .castore import load_ca_directory
from .model import CHECK_NAMES, Check, CheckStatus, Decision, Verdict
from .verifier import Verifier

__all__ = ["CHECK_NAMES", "Check", "CheckStatus", "Decision", "Verdict", "Verifier", "load_ca_directory"]
