"""Registries v2 do not mix with v1: a v1 manifest and a v1 bundle are refused, each saying what to do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anchor.bundle import Bundle
from anchor.deploy import Manifest
from anchor.errors import BundleError, ConfigError
from tests.conftest import World
from tests.issuing_helpers import build_scenario


def test_v1_manifest_is_refused_with_what_to_do(world: World, tmp_path: Path) -> None:
    v1 = json.loads(world.reg.manifest.to_json())
    v1["manifestVersion"] = 1
    path = tmp_path / "deployment.json"
    path.write_text(json.dumps(v1))
    with pytest.raises(ConfigError) as info:
        Manifest.load(path)
    message = str(info.value)
    assert "registries v1" in message and "trustanchor deploy --force" in message and "\n" not in message


def test_v1_bundle_is_refused_naming_reissuance(world: World, tmp_path: Path) -> None:
    sc = build_scenario(world, tmp_path, n_docs=1)
    v1 = json.loads(sc.bundles[0].to_json())
    v1["mediaType"] = "application/vnd.trustanchor.bundle.v1+json"
    with pytest.raises(BundleError) as info:
        Bundle.from_json(json.dumps(v1))
    assert "re-issue" in str(info.value)
