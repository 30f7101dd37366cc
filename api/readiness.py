"""Readiness: is the chain reachable, the trusted deployment there and genuine, every configured party a
member, every key in the role it is used for, every signer's certificate chain leading to its issuer
account's CA on chain, every sending account funded, the intake backlog below its limit, and recovery
done?"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

from anchor.deploy import verify_code
from anchor.errors import TrustAnchorError
from anchor.issuing.batch import check_signer_chain
from anchor.registry import Role

from .batcher import Backlog, Batcher
from .identities import Identities
from .ledger import ChainGateway, node_rpc

_CODE_CHECK_TTL = 30.0


class Readiness:
    def __init__(
        self,
        gateway: ChainGateway,
        identities: Identities,
        backlog: Backlog,
        batcher: Batcher,
        gas_limit: int,
    ) -> None:
        self.gateway = gateway
        self.identities = identities
        self.backlog = backlog
        self.batcher = batcher
        self.gas_limit = gas_limit
        self._verified: tuple[float, int, str] | None = None  # when, chain id, code hash key
        self._lock = threading.Lock()

    def check(self) -> tuple[bool, dict[str, Any]]:
        checks: dict[str, dict[str, Any]] = {}
        chain = None
        try:
            chain = self.gateway.chain()
            head = chain.block_number()
            checks["chain"] = {"ok": True, "detail": f"chain {chain.chain_id} at block {head}", "block": head}
        except TrustAnchorError as e:
            checks["chain"] = {"ok": False, "detail": str(e)}
        checks["deployment"] = self._deployment(chain)
        checks["signers"] = self._funding(chain)
        checks["parties"] = self._parties(chain)
        checks["roles"] = self._roles(chain)
        checks["chains"] = self._chains(chain)
        checks["intake"] = {
            "ok": self.backlog.value < self.backlog.limit,
            "backlog": self.backlog.value,
            "limit": self.backlog.limit,
            "detail": f"{self.backlog.value} of at most {self.backlog.limit} documents waiting",
        }
        st = self.batcher.status
        if st.running and not st.leader:
            checks["batcher"] = {
                "ok": True,
                "leader": False,
                "detail": "another process of this store anchors",
            }
        else:
            checks["batcher"] = {
                "ok": st.running and st.recovered,
                "leader": st.leader,
                "recovered": st.recovered,
                "detail": st.last_error or ("running" if st.running else "stopped"),
            }
        return all(c["ok"] for c in checks.values()), checks

    def _deployment(self, chain: Any) -> dict[str, Any]:
        try:
            manifest = self.gateway.manifest()
        except TrustAnchorError as e:
            return {"ok": False, "found": False, "verified": False, "detail": str(e)}
        found = {
            "found": True,
            "trustRegistry": manifest.trust_registry.address,
            "documentRegistry": manifest.document_registry.address,
        }
        if chain is None:
            return {"ok": False, **found, "verified": False, "detail": "chain unreachable: code not checked"}
        key = manifest.trust_registry.code_hash + manifest.document_registry.code_hash
        with self._lock:
            cached = self._verified
        if (
            cached
            and cached[1] == chain.chain_id
            and cached[2] == key
            and time.monotonic() - cached[0] < _CODE_CHECK_TTL
        ):
            return {"ok": True, **found, "verified": True, "detail": "code matches the build artifacts"}
        try:
            verify_code(chain, manifest)
        except TrustAnchorError as e:
            return {"ok": False, **found, "verified": False, "detail": str(e)}
        except Exception as e:  # unreachable node mid-check
            return {
                "ok": False,
                **found,
                "verified": False,
                "detail": f"code not checked: {type(e).__name__}",
            }
        with self._lock:
            self._verified = (time.monotonic(), chain.chain_id, key)
        return {"ok": True, **found, "verified": True, "detail": "code matches the build artifacts"}

    def _parties(self, chain: Any) -> dict[str, Any]:
        """Every party the settings name is a member of the registry (a typo such as "XX" is not)."""
        configured = list(self.identities.parties)
        if not configured:
            return {"ok": True, "parties": [], "detail": "no parties configured"}
        if chain is None:
            return {"ok": False, "parties": configured, "detail": "chain unreachable: members not read"}
        try:
            reg = self.gateway.registries()
            members = [p for p in reg.trust.parties() if reg.trust.is_member(p)]
        except TrustAnchorError as e:
            return {"ok": False, "parties": configured, "detail": f"members not read: {e}"}
        unknown = [p for p in configured if p not in members]
        detail = (
            "every configured party is a member of the registry"
            if not unknown
            else f"the service settings name {', '.join(unknown)}, "
            f"{'which is not a member party' if len(unknown) == 1 else 'which are not member parties'} "
            f"of the registry (members: {', '.join(members) or 'none'})"
        )
        return {"ok": not unknown, "parties": configured, "unknown": unknown, "detail": detail}

    def _chains(self, chain: Any) -> dict[str, Any]:
        """Each issuing party's document signer chains up to the CA its issuer account is bound to on
        chain, at the chain's time: otherwise every bundle the service writes would be rejected."""
        issuers = self.identities.issuers
        if not issuers:
            return {"ok": True, "parties": [], "detail": "no issuing parties configured"}
        if chain is None:
            return {"ok": False, "parties": [], "detail": "chain unreachable: certificate chains not checked"}
        try:
            reg = self.gateway.registries()
            at = chain.block_timestamp(chain.block_number())
        except TrustAnchorError as e:
            return {"ok": False, "parties": [], "detail": f"certificate chains not checked: {e}"}
        rows = []
        for party, identity in sorted(issuers.items()):
            try:
                ca = check_signer_chain(reg, identity.address, identity.signer, at=at)
                rows.append({"party": party, "ok": True, "ca": "0x" + ca.hex()})
            except TrustAnchorError as e:
                rows.append({"party": party, "ok": False, "reason": str(e)})
        bad = [r for r in rows if not r["ok"]]
        when = f"{dt.datetime.fromtimestamp(at, dt.UTC):%Y-%m-%d %H:%M:%SZ}"
        detail = (
            f"every signer's certificate chain leads to its issuer account's CA at {when}"
            if not bad
            else "; ".join(f"{r['party']}: {r['reason']}" for r in bad)
        )
        return {"ok": not bad, "parties": rows, "detail": detail}

    def _roles(self, chain: Any) -> dict[str, Any]:
        """Each key the service holds has exactly the role it is used for: an issuer account for a
        party's issuing, a consumer account (never an admin key) for its border use."""
        wanted = [(i.address, Role.ISSUER, p) for p, i in self.identities.issuers.items()]
        wanted += [(a.address, Role.CONSUMER, p) for p, a in self.identities.consumers.items()]
        if not wanted:
            return {"ok": True, "accounts": [], "detail": "no accounts configured"}
        if chain is None:
            return {"ok": False, "accounts": [], "detail": "chain unreachable: roles not read"}
        try:
            reg = self.gateway.registries()
            rows = []
            for address, role, party in wanted:
                held, of = reg.trust.role_of(address)
                rows.append(
                    {"account": address, "party": party, "wanted": role.name.lower(), "held": held.name.lower(),
                     "of": of or None, "ok": held is role and of == party}
                )  # fmt: skip
        except TrustAnchorError as e:
            return {"ok": False, "accounts": [], "detail": f"roles not read: {e}"}
        bad = [r for r in rows if not r["ok"]]
        detail = (
            "every key holds the role it is used for"
            if not bad
            else "; ".join(
                f"{r['account']} is configured as {r['party']}'s {r['wanted']} account but is "
                + (f"{r['held']} of {r['of']}" if r["of"] else "no role holder")
                for r in bad
            )
        )
        return {"ok": not bad, "accounts": rows, "detail": detail}

    def _funding(self, chain: Any) -> dict[str, Any]:
        accounts = self.identities.accounts()
        if not accounts:
            return {
                "ok": True,
                "accounts": [],
                "detail": "no sending accounts configured (verification only)",
            }
        if chain is None:
            return {"ok": False, "accounts": [], "detail": "chain unreachable: balances not read"}
        try:
            answers = node_rpc(chain).batch(
                [("eth_gasPrice", []), *(("eth_getBalance", [a, "latest"]) for a in accounts)]
            )
        except TrustAnchorError as e:
            return {"ok": False, "accounts": [], "detail": f"balances not read: {e}"}
        need = self.gas_limit * int(answers[0], 16) * 10
        rows = []
        for address, answer in zip(accounts, answers[1:], strict=True):
            balance = int(answer, 16)
            rows.append({"account": address, "balanceWei": str(balance), "funded": balance >= need})
        ok = all(r["funded"] for r in rows)
        detail = (
            "every account can pay for at least 10 transactions" if ok else "an account is short of funds"
        )
        return {"ok": ok, "accounts": rows, "detail": detail}
