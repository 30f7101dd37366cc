"""Checkpoints, resuming, and noticing reorgs and gaps (anvil_reorg, evm_snapshot/evm_revert) on a private anvil."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anchor._internal.jsonrpc import JsonRpc
from anchor.audit import AuditSource, ResumePointError, ResumeStore, find, replay, replay_incremental
from anchor.audit.resume import audit_dir
from tests.conftest import World, free_port, start_anvil
from tests.registry_helpers import PERMIT, IssuerSetup, add_issuer, anchor_batch, bit
from tests.test_audit_support import new_world

pytestmark = pytest.mark.devchain("anvil_reorg, evm_snapshot/evm_revert on a node of its own")


@pytest.fixture(scope="module")
def private_url() -> Iterator[str]:
    """Reorgs rewrite the chain: keep them away from the session anvil other tests share."""
    port = free_port()
    proc = start_anvil(port)
    yield f"http://127.0.0.1:{port}"
    proc.stop()


@pytest.fixture
def setup(private_url: str) -> tuple[World, IssuerSetup, AuditSource, JsonRpc]:
    w = new_world(private_url)
    issuer = add_issuer(w, w.sg, 5, bit(PERMIT))
    anchor_batch(w, issuer, 2)
    return w, issuer, AuditSource.connect(private_url, w.reg.manifest), JsonRpc(private_url)


def test_reorg_after_a_checkpoint_is_noticed_and_replayed_from_the_last_safe_point(
    setup: tuple[World, IssuerSetup, AuditSource, JsonRpc], tmp_path: Path
) -> None:
    w, issuer, src, rpc = setup
    store = ResumeStore(tmp_path)
    safe = replay_incremental(src, store, src.head())
    assert safe.saved is not None
    anchor_batch(w, issuer, 2)
    doomed = anchor_batch(w, issuer, 2)
    latest = replay_incremental(src, store, src.head())
    assert latest.resumed_from is not None and latest.resumed_from.block == safe.snapshot.block
    assert (issuer.address.lower(), doomed.root) in latest.snapshot.batches
    head = src.head()
    depth = head - safe.snapshot.block
    rpc.call("anvil_reorg", [depth, []])  # the last `depth` blocks are replaced by empty ones
    assert src.head() == head

    again = replay_incremental(src, store, src.head())
    assert [n.kind for n in again.notices] == ["reorg"]
    notice = again.notices[0]
    assert notice.block == head and notice.seen_hash == latest.snapshot.block_hash
    assert notice.now_hash and notice.now_hash != notice.seen_hash
    assert f"last safe point, block {safe.snapshot.block}" in notice.message
    assert again.resumed_from is not None and again.resumed_from.block == safe.snapshot.block
    assert (issuer.address.lower(), doomed.root) not in again.snapshot.batches
    assert again.snapshot.digest() == replay(src, src.head()).digest()
    assert [c.block for c in store.checkpoints()] == [head, safe.snapshot.block]
    assert store.checkpoints()[0].block_hash == notice.now_hash
    # The notice persists for later reports and becomes a finding.
    assert [n.kind for n in store.notices()] == ["reorg"]
    found = find(again.snapshot, notices=store.notices())
    assert any(f.kind == "reorg" and f.severity == "warning" and f.explanation for f in found)


def test_revert_below_a_checkpoint_is_a_gap_then_new_blocks_a_reorg(
    setup: tuple[World, IssuerSetup, AuditSource, JsonRpc], tmp_path: Path
) -> None:
    w, issuer, src, rpc = setup
    store = ResumeStore(tmp_path)
    base = replay_incremental(src, store, src.head())
    snap_id = rpc.call("evm_snapshot", [])
    for _ in range(3):
        anchor_batch(w, issuer, 2)
    later = replay_incremental(src, store, src.head())
    gone = later.snapshot.block
    assert rpc.call("evm_revert", [snap_id]) is True

    rewound = replay_incremental(src, store, src.head())
    assert [n.kind for n in rewound.notices] == ["gap"]
    assert rewound.notices[0].block == gone and "no longer exists" in rewound.notices[0].message
    assert rewound.resumed_from is not None and rewound.resumed_from.block == base.snapshot.block
    assert rewound.snapshot.digest() == base.snapshot.digest()

    # A different history grows past the old checkpoint's height; an older checkpoint is re-made.
    later2 = replay_incremental(src, store, src.head())  # nothing new: resumes from base, saves nothing
    assert later2.saved is None
    for _ in range(4):
        anchor_batch(w, issuer, 3)
    stale = later.saved
    assert stale is not None
    store.save(later.snapshot)  # a checkpoint of the abandoned fork (as if left by an old run)
    fresh = replay_incremental(src, store, src.head())
    assert [n.kind for n in fresh.notices] == ["reorg"] and fresh.notices[0].block == gone
    assert fresh.snapshot.digest() == replay(src, src.head()).digest()


def test_reorg_during_a_replay_restarts_it(
    setup: tuple[World, IssuerSetup, AuditSource, JsonRpc], tmp_path: Path
) -> None:
    _, _, src, rpc = setup
    target = src.head()

    class Flicker:
        """The target block's header changes once between the start and the end of a replay."""

        def __init__(self) -> None:
            self.seen = 0

        def call(self, method: str, params: list[Any]) -> Any:
            return self.batch([(method, params)])[0]

        def batch(self, requests: list[tuple[str, list[Any]]]) -> list[Any]:
            out = rpc.batch(requests)
            for (m, p), a in zip(requests, out, strict=True):
                if m == "eth_getBlockByNumber" and int(p[0], 16) == target and a:
                    self.seen += 1
                    if self.seen == 2:
                        a["hash"] = "0x" + "ee" * 32
            return out

    flaky = AuditSource(Flicker(), src.manifest, prefetch=False)
    outcome = replay_incremental(flaky, ResumeStore(tmp_path), target)
    assert [n.kind for n in outcome.notices] == ["reorg"]
    assert "during the replay" in outcome.notices[0].message
    assert outcome.snapshot.digest() == replay(src, target).digest()


def test_corrupt_or_edited_checkpoints_are_not_trusted(
    setup: tuple[World, IssuerSetup, AuditSource, JsonRpc], tmp_path: Path
) -> None:
    _, _, src, _ = setup
    store = ResumeStore.for_manifest(tmp_path, src.manifest)
    assert store.dir == audit_dir(tmp_path, src.manifest) and store.dir.parent.name == "audit"
    cp = replay_incremental(src, store, src.head()).saved
    assert cp is not None
    with gzip.open(cp.path, "rt") as f:
        raw = json.load(f)
    raw["snapshot"]["meta"]["registry"]["threshold"] = 99
    with gzip.open(cp.path, "wt") as f:
        json.dump(raw, f)
    with pytest.raises(ResumePointError, match="digest"):
        store.load(cp)
    # A replay does not resume from it: it starts over and replaces it.
    outcome = replay_incremental(src, store, src.head())
    assert outcome.resumed_from is None and outcome.snapshot.threshold == 2
    cp.path.write_bytes(b"not gzip")
    with pytest.raises(ResumePointError, match="unreadable"):
        store.load(cp)


def test_only_the_newest_checkpoints_are_kept(
    setup: tuple[World, IssuerSetup, AuditSource, JsonRpc], tmp_path: Path
) -> None:
    w, issuer, src, _ = setup
    store = ResumeStore(tmp_path, keep=2)
    for _ in range(3):
        anchor_batch(w, issuer, 1)
        replay_incremental(src, store, src.head())
    assert len(store.checkpoints()) == 2
    assert len(list(tmp_path.glob("*.snapshot.json.gz"))) == 2
