"""Offline verification in the service: publishing the trust pack, status proofs of its documents, and
verifying from the pack alone (`trustanchor serve --offline`, a laptop at a border post with no node).

The pack is the file `trustanchor pack create` writes (settings.trust_pack); it is re-read when it
changes, so a cron job refreshing it needs no restart. Status proofs are made at the pack's checkpoint
from this service's node, replayed once per checkpoint (docs/checkpoints.md).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from anchor.audit.source import AuditSource
from anchor.bundle import Bundle
from anchor.checkpoint.pack import Pins, TrustPack
from anchor.checkpoint.publish import checkpointer_at
from anchor.checkpoint.state import Checkpointer
from anchor.checkpoint.status import bundle_status
from anchor.deploy import Manifest
from anchor.errors import CheckpointError, TrustAnchorError
from anchor.verify.offline import OfflineVerifier

from .ledger import ChainGateway
from .problems import ApiError


class TrustPacks:
    """The pack file, parsed once per change, and the checkpointer of its checkpoint."""

    def __init__(self, path: Path, gateway: ChainGateway) -> None:
        self.path = path
        self.gateway = gateway
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._pack: TrustPack | None = None
        self._text = b""
        self._checkpointer: Checkpointer | None = None

    def current(self) -> tuple[TrustPack, bytes]:
        """The pack and its bytes; 404 NO_TRUST_PACK if none is published, 503 if it is unreadable."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            raise ApiError(
                404, "NO_TRUST_PACK", f"no trust pack is published here ({self.path.name})"
            ) from None
        stamp = (st.st_mtime_ns, st.st_size)
        with self._lock:
            if stamp != self._stamp or self._pack is None:
                try:
                    text = self.path.read_bytes()
                    self._pack = TrustPack.from_json(text)
                except (OSError, CheckpointError) as e:
                    raise ApiError(
                        503, "TRUST_PACK_UNREADABLE", f"the published trust pack is unreadable: {e}"
                    ) from None
                self._text, self._stamp = text, stamp
            return self._pack, self._text

    def status_proof(self, bundle: Bundle) -> dict[str, Any]:
        """The bundle's status proof at the current pack's checkpoint (blocking: call off the loop)."""
        pack, _ = self.current()
        with self._lock:
            checkpointer = self._checkpointer
            if checkpointer is None or checkpointer.checkpoint != pack.checkpoint:
                try:
                    source = AuditSource.from_chain(self.gateway.chain(), self.gateway.manifest())
                    checkpointer = checkpointer_at(source, pack.checkpoint)
                except CheckpointError as e:
                    raise ApiError(503, "CHECKPOINT_UNAVAILABLE", str(e)) from None
                except TrustAnchorError as e:
                    raise ApiError(503, "CHAIN_UNAVAILABLE", f"cannot replay the registries: {e}") from None
                self._checkpointer = checkpointer
            try:
                return bundle_status(checkpointer, bundle)
            except TrustAnchorError as e:
                raise ApiError(503, "CHAIN_UNAVAILABLE", f"cannot read the anchoring event: {e}") from None


def offline_verifier(
    packs: TrustPacks,
    pins_path: Path,
    manifest: Manifest,
    max_age: int,
    cas: list[Any],
    *,
    clock: Callable[[], float] = time.time,
) -> OfflineVerifier:
    """The verifier of the current pack against the pinned witness keys (ConfigError-free: problems are
    verdict codes, except a missing pins file, which is a configuration error)."""
    pack, _ = packs.current()
    try:
        pins = Pins.load(pins_path)
    except CheckpointError as e:
        raise ApiError(503, "NO_PINNED_WITNESSES", str(e)) from None
    verifier = OfflineVerifier(pack, pins, manifest, max_age=max_age, ca_certificates=cas, clock=clock)
    verifier.accepted.keep_pins(pins, pins_path)
    return verifier
