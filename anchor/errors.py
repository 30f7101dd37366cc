"""Typed error hierarchy: every failure a user can cause maps to one of these, with a one-line message."""

from __future__ import annotations


class TrustAnchorError(Exception):
    """Base of every error the library raises on purpose."""


class ConfigError(TrustAnchorError):
    """Configuration, manifest or home-directory content is missing or invalid."""


class ChainError(TrustAnchorError):
    """The chain node could not be reached or answered unexpectedly."""


class ChainUnavailable(ChainError):
    """No node answers at the configured endpoint."""


class ContractRevert(ChainError):
    """A registry call reverted; ``error`` names the custom error and ``args`` its decoded arguments."""

    def __init__(self, error: str, args: dict[str, object] | None = None, raw: str | None = None) -> None:
        self.error = error
        self.args_ = args or {}
        self.raw = raw
        rendered = ", ".join(f"{k}={_fmt(v)}" for k, v in self.args_.items())
        super().__init__(f"{error}({rendered})" if self.args_ or error else f"reverted ({raw})")


class DeploymentError(TrustAnchorError):
    """The deployment manifest does not match what is on chain."""


class DocumentError(TrustAnchorError):
    """A document could not be read, parsed or canonicalized."""


class BundleError(TrustAnchorError):
    """A proof bundle is missing, malformed, or of an unknown version."""


class SigningError(TrustAnchorError):
    """Signing keys or certificates are unusable."""


class PKIError(TrustAnchorError):
    """Certificate material is malformed or inconsistent."""


def _fmt(value: object) -> str:
    if isinstance(value, bytes):
        text = value.rstrip(b"\x00")
        if text and all(32 <= b < 127 for b in text) and len(value) <= 8:
            return repr(text.decode())
        return "0x" + value.hex()
    return str(value)


class CheckpointError(TrustAnchorError):
    """A registry checkpoint, co-signature, trust pack or status proof is malformed or does not hold together."""
