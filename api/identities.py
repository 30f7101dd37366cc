"""The keys the service acts with, per party: the issuing agency's account and document signer, and the
account that consumes one-time documents for the party. Loaded once at start-up, never logged.

All transactions from one account go through that account's lock (`AccountLocks`), so the batcher and
lifecycle requests - in any worker process - never pick the same nonce.
"""

from __future__ import annotations

import base64
import fcntl
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from cryptography.hazmat.primitives.serialization import Encoding
from eth_account.signers.local import LocalAccount

from anchor.accounts import resolve_account
from anchor.errors import ConfigError
from anchor.issuing.signing import Signer

from .settings import PartyConfig, ServiceSettings


@dataclass(frozen=True)
class IssuerIdentity:
    party: str
    account: LocalAccount = field(repr=False)
    signer: Signer = field(repr=False)
    certificates_b64: tuple[str, ...]

    @property
    def address(self) -> str:
        return str(self.account.address)


@dataclass
class Identities:
    issuers: dict[str, IssuerIdentity]
    consumers: dict[str, LocalAccount] = field(repr=False)
    parties: tuple[str, ...] = ()  # every party the settings name, with or without keys

    def accounts(self) -> dict[str, LocalAccount]:
        """Every account the service sends transactions from, by checksummed address."""
        out = {i.address: i.account for i in self.issuers.values()}
        out.update({a.address: a for a in self.consumers.values()})
        return out


def _signer(p: PartyConfig) -> Signer:
    if p.signer_p12 is not None:
        password = p.signer_p12_password.get_secret_value() if p.signer_p12_password else None
        return Signer.from_pkcs12(p.signer_p12, password)
    if p.signer_key is None or p.signer_cert is None:
        raise ConfigError(f"party {p.party}: an issuer account needs signer_key + signer_cert, or signer_p12")
    password = os.environ.get("TRUSTANCHOR_SIGNER_KEY_PASSWORD")
    return Signer.from_pem(p.signer_key, p.signer_cert, p.chain_certs, password=password)


def load_identities(settings: ServiceSettings, mnemonic: str) -> Identities:
    issuers: dict[str, IssuerIdentity] = {}
    consumers: dict[str, LocalAccount] = {}
    for p in settings.parties:
        if p.party in issuers or p.party in consumers:
            raise ConfigError(f"party {p.party} is configured twice")
        if p.issuer_account:
            signer = _signer(p)
            certs = tuple(
                base64.b64encode(c.public_bytes(Encoding.DER)).decode() for c in signer.certificates
            )
            issuers[p.party] = IssuerIdentity(
                p.party, resolve_account(p.issuer_account, mnemonic), signer, certs
            )
        if p.consumer_account:
            consumers[p.party] = resolve_account(p.consumer_account, mnemonic)
    return Identities(issuers, consumers, tuple(p.party for p in settings.parties))


class AccountLock:
    """Re-entrant within a process (a thread may nest), exclusive across processes (a lock file): the
    batcher and lifecycle requests of every worker process take it before choosing a nonce."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._rlock = threading.RLock()
        self._depth = 0
        self._file: IO[str] | None = None

    def __enter__(self) -> AccountLock:
        self._rlock.acquire()
        self._depth += 1
        if self._depth == 1:
            handle = None
            try:
                handle = open(self._path, "a+")  # closed in __exit__
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            except BaseException:
                if handle is not None:
                    handle.close()
                self._depth -= 1
                self._rlock.release()
                raise
            self._file = handle
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0 and self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        self._rlock.release()


class AccountLocks:
    """One AccountLock per sending account (lock files in `directory`)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._locks: dict[str, AccountLock] = {}
        self._guard = threading.Lock()

    def __call__(self, address: str) -> AccountLock:
        key = address.lower()
        with self._guard:
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = AccountLock(self.directory / f"account-{key}.lock")
            return lock
