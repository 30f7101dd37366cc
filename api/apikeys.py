"""API keys: one role and one party each; only a SHA-256 of the key is stored.

A key reads `ta_<id>_<secret>`: the 8-hex-digit id finds the row, the 256-bit random secret makes the
SHA-256 safe to store (no dictionary can reach it), and the comparison is constant-time. The key itself
is shown once, at creation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

from anchor.deploy import party_id
from anchor.errors import ConfigError

from .db import Database

_KEY_RE = re.compile(r"ta_([0-9a-f]{8})_([A-Za-z0-9_-]{43})")
_DUMMY_HASH = hashlib.sha256(b"no such key").digest()


class Role(StrEnum):
    ISSUER = "issuer"
    VERIFIER = "verifier"
    AUDITOR = "auditor"
    REGISTRY_ADMIN = "registry-admin"


@dataclass(frozen=True)
class ApiKeyInfo:
    id: str
    role: Role
    party: str
    label: str
    created_at: int
    revoked_at: int | None

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "role": self.role.value,
            "party": self.party,
            "label": self.label,
            "createdAt": self.created_at,
            "revokedAt": self.revoked_at,
        }


def _hash(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def parse_role(text: str) -> Role:
    try:
        return Role(text.strip().lower().replace("_", "-"))
    except ValueError:
        raise ConfigError(f"unknown role {text!r} (known: {', '.join(r.value for r in Role)})") from None


class ApiKeys:
    def __init__(self, db: Database, *, cache_seconds: float = 0.0) -> None:
        """`cache_seconds` > 0 remembers answers that long (a revocation then takes up to that long)."""
        self.db = db
        self.cache_seconds = cache_seconds
        self._cache: dict[bytes, tuple[float, ApiKeyInfo | None]] = {}

    def create(self, role: Role, party: str, label: str = "") -> tuple[str, ApiKeyInfo]:
        """A new key (returned once, in clear) and its record."""
        party_id(party)
        party = party.upper()
        if len(label) > 200:
            raise ConfigError("label is longer than 200 characters")
        now = int(time.time())
        with self.db.write() as c:
            while True:
                key_id = secrets.token_hex(4)
                if c.execute("SELECT 1 FROM api_keys WHERE id = ?", (key_id,)).fetchone() is None:
                    break
            secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
            key = f"ta_{key_id}_{secret}"
            c.execute(
                "INSERT INTO api_keys (id, key_hash, role, party, label, created_at) VALUES (?,?,?,?,?,?)",
                (key_id, _hash(key), role.value, party, label, now),
            )
        return key, ApiKeyInfo(key_id, role, party, label, now, None)

    def revoke(self, key_id: str, *, party: str | None = None) -> ApiKeyInfo:
        """Revoke by id (optionally only within `party`); revoking twice keeps the first time."""
        info = self.get(key_id)
        if info is None or (party is not None and info.party != party):
            raise ConfigError(f"no API key with id {key_id!r}")
        if info.revoked_at is None:
            with self.db.write() as c:
                c.execute(
                    "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                    (int(time.time()), key_id),
                )
        self._cache.clear()
        got = self.get(key_id)
        assert got is not None
        return got

    def get(self, key_id: str) -> ApiKeyInfo | None:
        row = (
            self.db.conn()
            .execute(
                "SELECT id, role, party, label, created_at, revoked_at FROM api_keys WHERE id = ?", (key_id,)
            )
            .fetchone()
        )
        return _info(row) if row else None

    def all(self, party: str | None = None) -> list[ApiKeyInfo]:
        sql = "SELECT id, role, party, label, created_at, revoked_at FROM api_keys"
        args: tuple[str, ...] = ()
        if party is not None:
            sql += " WHERE party = ?"
            args = (party.upper(),)
        return [_info(r) for r in self.db.conn().execute(sql + " ORDER BY created_at, id", args)]

    def authenticate(self, key: str) -> ApiKeyInfo | None:
        """The key's record if the key is genuine and not revoked, else None (same work either way)."""
        if self.cache_seconds <= 0:
            return self._authenticate(key)
        digest = _hash(key.strip())
        now = time.monotonic()
        hit = self._cache.get(digest)
        if hit is not None and hit[0] > now:
            return hit[1]
        info = self._authenticate(key)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (now + self.cache_seconds, info)
        return info

    def _authenticate(self, key: str) -> ApiKeyInfo | None:
        m = _KEY_RE.fullmatch(key.strip())
        key_id = m.group(1) if m else "-"
        row = (
            self.db.conn()
            .execute(
                "SELECT id, role, party, label, created_at, revoked_at, key_hash FROM api_keys WHERE id = ?",
                (key_id,),
            )
            .fetchone()
        )
        stored = bytes(row[6]) if row else _DUMMY_HASH
        genuine = hmac.compare_digest(_hash(key.strip()), stored)
        if not (m and row and genuine) or row[5] is not None:
            return None
        return _info(row[:6])


def _info(row: tuple[object, ...]) -> ApiKeyInfo:
    key_id, role, party, label, created, revoked = row
    return ApiKeyInfo(
        str(key_id),
        Role(str(role)),
        str(party),
        str(label),
        int(created),  # type: ignore[call-overload]
        None if revoked is None else int(revoked),  # type: ignore[call-overload]
    )
