from __future__ import annotations

import pytest

from anchor.errors import ContractRevert
from tests.conftest import World

pytestmark = pytest.mark.parity


def test_anchor_by_unauthorized_account_reverts_with_named_error(world: World) -> None:
    with pytest.raises(ContractRevert) as e:
        world.reg.documents.anchor(world.account(7), b"\x01" * 32, 0, 1)
    assert e.value.error == "IssuerNotActive"
    assert e.value.args_["account"].lower() == world.account(7).address.lower()
