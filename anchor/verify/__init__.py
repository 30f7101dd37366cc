"""Verification at the border: `Verifier(chain, manifest).verify(document, bundle, as_party)` -> Verdict."""

from .model import CHECK_NAMES, Check, CheckStatus, Decision, Verdict
from .verifier import Verifier

__all__ = ["CHECK_NAMES", "Check", "CheckStatus", "Decision", "Verdict", "Verifier"]
