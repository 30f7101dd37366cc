"""Document terms through the service: read by profile or given with the request, refused at submission
when the registry could never honour them, shown in every view and verdict; consume and endorse by the
destination's consumer account."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from anchor.cacert import ca_id
from anchor.doctypes import mask_of, type_id
from anchor.issuing.leaf import Terms
from api import create_app
from api.auth import Role
from api.intake import registry_policy
from api.problems import ApiError
from api.settings import load_settings
from api.store import NewDocument
from tests.api_helpers import ApiEnv, TestClient, b64, make_env, permit
from tests.conftest import World


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, anvil_url: str) -> ApiEnv:
    return make_env(tmp_path_factory.mktemp("api-terms"), anvil_url)


@pytest.fixture(scope="module")
def client(env: ApiEnv) -> Iterator[TestClient]:
    with TestClient(create_app(env.settings())) as c:
        yield c


def submit(
    client: TestClient, env: ApiEnv, docs: list[dict[str, Any]], doc_type: str = "cites-permit"
) -> Any:
    return client.post(
        "/v1/documents?wait=10",
        json={"documentType": doc_type, "documents": docs},
        headers=env.headers(Role.ISSUER, "SG"),
    )


def test_terms_from_the_profile_and_the_request(client: TestClient, env: ApiEnv) -> None:
    r = submit(
        client,
        env,
        [
            {"name": "p-0.json", "content": b64(permit(300))},
            {
                "name": "p-1.json",
                "content": b64(permit(301)),
                "terms": {"validUntil": "2098-01-01T00:00:00Z", "quantity": 150, "unit": "skins"},
            },
        ],
    )
    assert r.status_code == 200, r.text
    first, second = r.json()["documents"]
    # From the permit profile: importer.country and validUntil (end of 2099-12-31, UTC).
    assert first["terms"] == {
        "destination": "TH", "validFrom": None, "validUntil": 4102444799, "quantity": None, "unit": None,
    }  # fmt: skip
    assert first["bundle"]["terms"] == first["terms"]
    # The request's terms take precedence over the document's.
    assert second["terms"] == {
        "destination": "TH", "validFrom": None, "validUntil": 4039372800, "quantity": 150, "unit": "skins",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("doc", "doc_type", "code", "field", "message"),
    [
        (
            {"name": "p.json", "content": b64(permit(310, validUntil=None))},
            "cites-permit",
            "INVALID_TERMS",
            "documents[0].content",
            "p.json: /validUntil is missing",
        ),
        (
            {"name": "p.json", "content": b64(permit(311)), "terms": {"destination": "FR"}},
            "cites-permit",
            "INVALID_TERMS",
            "documents[0].terms.destination",
            "destination FR of a cites-permit is not a member party",
        ),
        (
            {"name": "p.json", "content": b64(permit(312)), "terms": {"validFrom": "tomorrow"}},
            "cites-permit",
            "INVALID_TERMS",
            "documents[0].terms",
            "'tomorrow' is not 'now', unix seconds or an ISO 8601 time",
        ),
        (
            {"name": "p.json", "content": b64(permit(313)), "terms": {"quantity": 0}},
            "cites-permit",
            "VALIDATION_FAILED",
            "documents[0].terms.quantity",
            "greater than or equal to 1",
        ),
        (
            {"name": "p.json", "content": b64(permit(314)), "terms": {"unit": "kg"}},
            "cites-permit",
            "INVALID_TERMS",
            "documents[0].terms",
            "unit 'kg' given without a quantity",
        ),
        (
            {"name": "c.json", "content": b64(b'{"a": 1}'), "terms": {"quantity": 5, "unit": "boxes"}},
            "phytosanitary-certificate",
            "INVALID_TERMS",
            "documents[0].terms.quantity",
            "phytosanitary-certificate is not a one-time document type",
        ),
    ],
)
def test_terms_the_registry_could_never_honour_are_refused_at_submission(
    client: TestClient, env: ApiEnv, doc: dict[str, Any], doc_type: str, code: str, field: str, message: str
) -> None:
    r = submit(client, env, [doc], doc_type)
    body = r.json()
    assert r.status_code == 422, r.text
    assert body["code"] == code and body["errors"][0]["field"] == field, body
    assert message in body["detail"] or message in str(body["errors"]), body


def test_endorse_partial_shipments_then_consume_by_the_destination(client: TestClient, env: ApiEnv) -> None:
    r = submit(
        client,
        env,
        [{"name": "skins.json", "content": b64(permit(320)), "terms": {"quantity": 150, "unit": "skins"}}],
    )
    bundle = r.json()["documents"][0]["bundle"]
    th = env.headers(Role.VERIFIER, "TH")
    r = client.post("/v1/consume", json={"bundle": bundle, "amount": 100}, headers=th)
    assert r.status_code == 200, r.text
    assert (r.json()["consumed"], r.json()["endorsed"], r.json()["remaining"]) == (False, 100, 50)
    r = client.post("/v1/consume", json={"bundle": bundle, "amount": 60}, headers=th)
    assert r.status_code == 409 and r.json()["code"] == "QUANTITY_EXCEEDED", r.text
    assert "remaining=50" in r.json()["detail"]
    v = client.post("/v1/verify", json={"document": b64(permit(320)), "bundle": bundle}, headers=th).json()
    assert v["verdict"] == "VALID" and v["terms"]["remaining"] == 50
    terms_check = next(c for c in v["checks"] if c["name"] == "terms")
    assert terms_check["code"] == "TERMS_MET" and "50 of 150 skins remain" in terms_check["message"]
    r = client.post("/v1/consume", json={"bundle": bundle, "amount": 50}, headers=th)
    assert r.status_code == 200 and r.json()["consumed"] is True and r.json()["remaining"] == 0
    # A document without a quantity cannot be endorsed; one destined to TH cannot be used by MY.
    plain = submit(client, env, [{"name": "plain.json", "content": b64(permit(321))}]).json()["documents"][0]
    r = client.post("/v1/consume", json={"bundle": plain["bundle"], "amount": 1}, headers=th)
    assert r.status_code == 422 and r.json()["code"] == "NO_QUANTITY"
    r = client.post("/v1/consume", json={"bundle": plain["bundle"]}, headers=env.headers(Role.VERIFIER, "MY"))
    assert r.status_code == 409 and r.json()["code"] in ("CONSUMER_NOT_CONFIGURED", "NOT_DESTINATION")


def test_a_type_the_issuer_may_not_anchor_is_refused_at_submission(world: World) -> None:
    """The policy against a real registry: an issuer account authorized for permits only."""
    t = world.reg.trust
    t.add_ca(world.sg, b"policy-test-ca", 1, 2**40, mask_of(["all"]))
    fp = ca_id("SG", hashlib.sha256(b"policy-test-ca").digest())
    issuer = world.account(6)
    t.authorize_issuer(world.sg, issuer.address, fp, mask_of(["cites-permit"]))
    identities = SimpleNamespace(issuers={"SG": SimpleNamespace(address=issuer.address)})
    check = registry_policy(lambda: world.reg, identities)  # type: ignore[arg-type]
    doc = NewDocument(b"\x01" * 32, "d.json", "application/json", "jcs-rfc8785", 10, Terms())
    check("SG", type_id("cites-permit"), [doc])  # allowed: no error
    with pytest.raises(ApiError) as info:
        check("SG", type_id("veterinary-certificate"), [doc])
    assert info.value.code == "DOCUMENT_TYPE_NOT_ALLOWED"
    assert (
        "may not anchor veterinary-certificate documents (it may anchor: cites-permit)" in info.value.detail
    )


def test_service_holding_an_admin_key_as_consumer_is_not_ready(env: ApiEnv, tmp_path: Any) -> None:
    """The border service must hold a consumer key: an admin key there is the v1 mistake (issue #9)."""
    config = tmp_path / "service.toml"
    text = env.service_config.read_text().replace('consumer_account = "dev:7"', 'consumer_account = "dev:2"')
    assert text != env.service_config.read_text()
    config.write_text(text)
    for name in ("pki-sg", "pki-th"):  # relative paths resolve against the config's directory
        (tmp_path / name).symlink_to(env.service_config.parent / name)
    settings = load_settings(
        config, home=env.home, chain_config=env.chain_config, manifest=env.home / "deployments" / "t.json"
    )
    with TestClient(create_app(settings)) as c:
        r = c.get("/v1/health/ready")
    assert r.status_code == 503
    roles = r.json()["checks"]["roles"]
    assert not roles["ok"]
    assert "is configured as TH's consumer account but is admin of TH" in roles["detail"]
    with TestClient(create_app(env.settings())) as c:
        ready = c.get("/v1/health/ready").json()
    assert ready["checks"]["roles"]["ok"], ready
