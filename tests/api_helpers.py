"""Shared set-up for the API tests: a deployed registry with SG and TH issuing, service config files,
API keys, an anvil that can be stopped and restarted from its state, and `trustanchor serve` processes.

`make_env(tmp, url)` deploys fresh registries on the node at `url`:

* parties SG (admin dev:1), TH (admin dev:2), MY (admin dev:3); threshold 1;
* SG's PKI and root CA, issuer account dev:4 for every document type; TH's PKI, issuer dev:5;
* TH and MY recognize SG for everything, SG recognizes TH;
* a chain config, and a service config where SG and TH issue and TH consumes with dev:7, a consumer key.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from eth_account.signers.local import LocalAccount

from anchor._internal.anvil import LocalNode, rpc
from anchor.accounts import dev_account
from anchor.cacert import read_ca_certificate
from anchor.chain import connect
from anchor.config import ChainConfig
from anchor.deploy import Manifest, deploy
from anchor.doctypes import ALL_TYPES_MASK
from anchor.pki import PkiPaths, init_pki, load_ca
from anchor.registry import Registries, TrustRegistryClient
from api.auth import ApiKeys, Role
from api.settings import ServiceSettings, load_settings
from api.store import Database
from tests.conftest import MNEMONIC, free_port

with warnings.catch_warnings():  # starlette suggests httpx2, which is not a dependency here
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

__all__ = ["TestClient"]

REPO = Path(__file__).resolve().parent.parent
TRUSTANCHOR = REPO / ".venv" / "bin" / "trustanchor"


def permit(i: int, **extra: Any) -> bytes:
    body = {
        "permitNumber": f"SG/CITES/2026/{i:07d}",
        "type": "export",
        "exporter": {"name": "Lion City Orchids Pte Ltd", "country": "SG"},
        "importer": {"name": "Bangkok Flora Co", "country": "TH"},
        # The permit profile reads destination and validity from the permit (a fixed date: no clock).
        "validUntil": "2099-12-31",
        "specimens": [{"species": "Dendrobium nobile", "quantity": 10 + i, "unit": "plants"}],
        **extra,
    }
    return json.dumps(body, indent=2).encode()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def submission(docs: list[bytes], doc_type: str = "cites-permit", prefix: str = "permit") -> dict[str, Any]:
    return {
        "documentType": doc_type,
        "documents": [{"name": f"{prefix}-{i}.json", "content": b64(d)} for i, d in enumerate(docs)],
    }


class Anvil(LocalNode):
    """An anvil of our own, with its state in a file so it can be stopped and started again."""

    def __init__(self, port: int, state: Path, *extra: str) -> None:
        super().__init__(port, "--state", str(state), "--state-interval", "1", *extra, mnemonic=MNEMONIC)
        self.state = state

    def start(self) -> Anvil:
        super().start()
        return self

    def call(self, method: str, params: list[Any] | None = None) -> Any:
        return rpc(self.url, method, params or [], timeout=5)


@dataclass
class ApiEnv:
    tmp: Path
    url: str
    manifest: Manifest
    chain_config: Path
    service_config: Path
    home: Path
    sg_pki: PkiPaths
    th_pki: PkiPaths
    keys: dict[str, str] = field(default_factory=dict)

    def settings(self, **overrides: Any) -> ServiceSettings:
        values: dict[str, Any] = {
            "home": self.home,
            "chain_config": self.chain_config,
            "manifest": self.home / "deployments" / "t.json",
            **overrides,
        }
        return load_settings(self.service_config, **values)

    def key(self, role: Role, party: str) -> str:
        name = f"{role.value}:{party}"
        if name not in self.keys:
            db = Database(self.home / "api" / "service.sqlite")
            try:
                self.keys[name] = ApiKeys(db).create(role, party, "test")[0]
            finally:
                db.close()
        return self.keys[name]

    def headers(self, role: Role, party: str) -> dict[str, str]:
        return {"X-API-Key": self.key(role, party)}


_SERVICE_DEFAULTS: dict[str, Any] = {
    "batch_max_documents": 500,
    "batch_max_wait_ms": 100,
    "poll_interval_ms": 20,
}


def write_configs(env_dir: Path, url: str, service: dict[str, Any] | None = None) -> tuple[Path, Path]:
    chain_config = env_dir / "chain.toml"
    chain_config.write_text(
        f'[chain]\nname = "t"\nbackend = "rpc"\nrpc_url = "{url}"\nmnemonic = "{MNEMONIC}"\n'
        '[deploy]\nthreshold = 1\nparties = [{ id = "SG", admin = "dev:1" }, { id = "TH", admin = "dev:2" }, '
        '{ id = "MY", admin = "dev:3" }]\n'
    )
    service_config = env_dir / "service.toml"
    settings = {**_SERVICE_DEFAULTS, **(service or {})}
    service_config.write_text(
        "".join(f"{k} = {json.dumps(v)}\n" for k, v in settings.items())
        + '[[parties]]\nparty = "SG"\nissuer_account = "dev:4"\nsigner_key = "pki-sg/signer-key.pem"\n'
        'signer_cert = "pki-sg/signer.pem"\nchain_certs = ["pki-sg/issuing-ca.pem", "pki-sg/root-ca.pem"]\n'
        '[[parties]]\nparty = "TH"\nissuer_account = "dev:5"\nsigner_key = "pki-th/signer-key.pem"\n'
        'signer_cert = "pki-th/signer.pem"\nchain_certs = ["pki-th/issuing-ca.pem", "pki-th/root-ca.pem"]\n'
        'consumer_account = "dev:7"\n'
    )
    return chain_config, service_config


def register_root_ca(trust: TrustRegistryClient, admin: LocalAccount, pki: PkiPaths, doc_types: int) -> bytes:
    """Register the PKI's root CA for the admin's party with its proof of possession; its CA id."""
    _, key = load_ca(pki.root_ca, pki.root_ca_key)
    fp, _ = trust.register_ca(admin, read_ca_certificate(pki.root_ca), doc_types, key)
    return fp


def make_env(tmp: Path, url: str, service: dict[str, Any] | None = None) -> ApiEnv:
    tmp.mkdir(parents=True, exist_ok=True)
    chain = connect(ChainConfig(backend="rpc", rpc_url=url, mnemonic=MNEMONIC))
    acct = [dev_account(MNEMONIC, i) for i in range(8)]
    parties = [("SG", acct[1].address), ("TH", acct[2].address), ("MY", acct[3].address)]
    manifest = deploy(chain, acct[0], parties, threshold=1, proposal_lifetime=3600, network="t")
    home = tmp / "home"
    manifest.save(home / "deployments" / "t.json")
    reg = Registries.open(chain, manifest)
    sg_pki = init_pki("SG", tmp / "pki-sg")
    th_pki = init_pki("TH", tmp / "pki-th")
    for admin, issuer, pki in ((acct[1], acct[4], sg_pki), (acct[2], acct[5], th_pki)):
        # Registered by certificate with a proof of possession, as `trustanchor ca add --ca-key` does.
        ca_id_ = register_root_ca(reg.trust, admin, pki, ALL_TYPES_MASK)
        reg.trust.authorize_issuer(admin, issuer.address, ca_id_, ALL_TYPES_MASK)
    reg.trust.recognize(acct[2], "SG", ALL_TYPES_MASK)
    reg.trust.recognize(acct[3], "SG", ALL_TYPES_MASK)
    reg.trust.recognize(acct[1], "TH", ALL_TYPES_MASK)
    reg.trust.grant_consumer(acct[2], acct[7].address)  # TH's border service: a consumer key, no admin key
    chain_config, service_config = write_configs(tmp, url, service)
    return ApiEnv(tmp, url, manifest, chain_config, service_config, home, sg_pki, th_pki)


# ------------------------------------------------------------------ `trustanchor serve` processes


@dataclass
class Served:
    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    def client(self, headers: dict[str, str] | None = None) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=headers or {}, timeout=30)

    def wait_dead(self, timeout: float = 30) -> int:
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def start_serve(
    env: ApiEnv,
    *,
    crash_at: str | None = None,
    extra_env: dict[str, str] | None = None,
    log_level: str = "warning",
) -> Served:
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTANCHOR")}
    environ.update(extra_env or {})
    if crash_at:
        environ["TRUSTANCHOR_CRASH_AT"] = crash_at
    log = env.tmp / f"serve-{port}.log"
    args = [
        str(TRUSTANCHOR) if TRUSTANCHOR.exists() else sys.executable,
        *([] if TRUSTANCHOR.exists() else ["-m", "anchor.cli.main"]),
        "--config", str(env.chain_config), "--home", str(env.home),
        "--manifest", str(env.home / "deployments" / "t.json"),
        "serve", "--service-config", str(env.service_config), "--port", str(port), "--log-level", log_level,
    ]  # fmt: skip
    with open(log, "ab") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=environ, cwd=REPO)
    served = Served(proc, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"serve exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(served.url + "/v1/health/live", timeout=0.5).status_code == 200:
                return served
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    served.stop()
    raise RuntimeError("serve did not come up")


@contextmanager
def serving(env: ApiEnv, **kwargs: Any) -> Iterator[Served]:
    s = start_serve(env, **kwargs)
    try:
        yield s
    finally:
        s.stop()


def wait_anchored(client: httpx.Client, ids: list[int], timeout: float = 30) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        docs = client.post("/v1/documents/lookup", json={"ids": ids, "includeBundles": True}).json()[
            "documents"
        ]
        if all(d["state"] == "anchored" for d in docs) or time.monotonic() > deadline:
            return list(docs)
        time.sleep(0.05)


def anchored_roots(url: str, registry: str) -> list[str]:
    """Roots of every Anchored event on the registry (one per anchoring transaction's root)."""
    from api.ledger import ANCHORED_TOPIC

    logs = rpc(url, "eth_getLogs", [{"address": registry, "fromBlock": "0x0", "topics": [ANCHORED_TOPIC]}])
    assert isinstance(logs, list)
    return [str(log["topics"][1]) for log in logs]
