"""The service's own settings (pydantic-settings): env TRUSTANCHOR_API_*, an optional TOML file, overrides.

Nothing is read at import time: `load_settings()` builds them when the service starts. Precedence is
explicit overrides (CLI options) > environment > TOML file > defaults. The TOML file is named by the
`config` setting (argument, or env TRUSTANCHOR_API_CONFIG) and read by pydantic-settings' TOML source;
its keys are at the top level or under [service], and relative paths in it are relative to the file's
directory. Secrets (key-file and PKCS#12 passwords) are `SecretStr`, so they never show up in a repr or
a log line.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from anchor.config import home_dir
from anchor.deploy import party_id
from anchor.errors import ConfigError

CONFIG_ENV = "TRUSTANCHOR_API_CONFIG"
_PATH_KEYS = (
    "signer_key",
    "signer_cert",
    "signer_p12",
    "chain_config",
    "manifest",
    "home",
    "ca_dir",
    "profiles",
)


class PartyConfig(BaseModel):
    """What the service holds for one party: its issuing agency account and signer, its consumer account."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    party: str
    issuer_account: str | None = None  # dev:N or a key file (password: TRUSTANCHOR_KEY_PASSWORD)
    signer_key: Path | None = None
    signer_cert: Path | None = None
    chain_certs: list[Path] = Field(default_factory=list)
    signer_p12: Path | None = None
    signer_p12_password: SecretStr | None = None
    consumer_account: str | None = None  # an admin account of the party, for one-time consumption

    @field_validator("party")
    @classmethod
    def _code(cls, v: str) -> str:
        party_id(v)
        return v.upper()


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRUSTANCHOR_API_", extra="forbid", frozen=True)

    config: Path | None = None  # the TOML file these settings were read from (env TRUSTANCHOR_API_CONFIG)
    home: Path = Field(default_factory=home_dir)
    chain_config: Path | None = None  # the chain TOML (anchor.config); default TRUSTANCHOR_CONFIG / local
    manifest: Path | None = None  # default: HOME/deployments/NAME.json
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, le=32)  # processes; one of them batches (see api/batcher.py)

    batch_max_documents: int = Field(default=2000, ge=1, le=1_000_000)
    batch_max_wait_ms: int = Field(default=500, ge=1, le=3_600_000)
    max_in_flight_batches: int = Field(default=8, ge=1, le=256)
    backlog_limit: int = Field(default=200_000, ge=1)
    anchor_gas_limit: int = Field(default=150_000, ge=50_000)
    confirmations: int | None = Field(default=None, ge=0)
    reorg_window_blocks: int = Field(default=64, ge=1, le=10_000)
    poll_interval_ms: int = Field(default=100, ge=5, le=60_000)

    # Request bodies are held in memory up to these limits (counted as they arrive, whatever the
    # Content-Length says): JSON bodies stay small; large documents go through the multipart routes
    # (/v1/documents/upload, /v1/verify/upload), whose files are spooled to disk as they stream in.
    max_request_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)  # JSON and every other body
    max_upload_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)  # multipart/form-data uploads
    max_document_bytes: int = Field(default=8 * 1024 * 1024, ge=1)
    max_documents_per_request: int = Field(default=10_000, ge=1)
    max_wait_seconds: float = Field(default=60.0, ge=0)

    public_verification: bool = False  # verification and registry reads without an API key
    verify_fast_path: bool = True  # serve POST /v1/verify from ASGI directly (see api/middleware.py)
    access_log: bool = True  # one line per request: method, path, status, ms, key id (api/middleware.py)
    ca_dir: Path | None = None  # extra CA certificates (*.pem) for verification
    profiles: Path | None = None  # term profiles (default: the library's anchor/profiles/default.toml)
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    # Offline verification (docs/checkpoints.md): the trust pack this service publishes at
    # /v1/trust-pack and makes status proofs at; with `offline`, verification reads only it, no node.
    trust_pack: Path | None = None  # default: HOME/offline/trust-pack.json
    offline: bool = False
    pins: Path | None = None  # witness keys the offline verifier trusts (default HOME/offline/pins.json)
    offline_max_age_seconds: int = Field(default=24 * 3600, ge=1)
    parties: list[PartyConfig] = Field(default_factory=list)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        assert isinstance(init_settings, InitSettingsSource)
        named = init_settings.init_kwargs.get("config") or os.environ.get(CONFIG_ENV)
        if not named:
            return (init_settings, env_settings)
        path = Path(named)
        if not path.is_file():
            raise ConfigError(f"service config file not found: {path}")
        return (init_settings, env_settings, _ServiceToml(settings_cls, path))

    @property
    def db_path(self) -> Path:
        return self.home / "api" / "service.sqlite"

    @property
    def trust_pack_path(self) -> Path:
        return self.trust_pack or self.home / "offline" / "trust-pack.json"

    @property
    def pins_path(self) -> Path:
        return self.pins or self.home / "offline" / "pins.json"

    def party(self, code: str) -> PartyConfig | None:
        return next((p for p in self.parties if p.party == code.upper()), None)

    def to_json(self) -> str:
        """Every value (secrets included) as JSON, for handing the settings to worker processes."""
        data = self.model_dump(mode="json")
        for party, raw in zip(data["parties"], self.parties, strict=True):
            if raw.signer_p12_password is not None:
                party["signer_p12_password"] = raw.signer_p12_password.get_secret_value()
        return json.dumps(data)


class _ServiceToml(TomlConfigSettingsSource):
    """The file's keys (top level or under [service]); relative paths resolved against its directory."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        self._path = path
        super().__init__(settings_cls, toml_file=path)

    def _read_file(self, file_path: Path) -> dict[str, Any]:  # type: ignore[override]
        try:
            raw = super()._read_file(file_path)
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{self._path}: invalid TOML: {e}") from None
        return _resolved(raw, file_path.resolve().parent)


def _resolved(raw: dict[str, Any], base: Path) -> dict[str, Any]:
    data = dict(raw.get("service", {}))
    data.update({k: v for k, v in raw.items() if k != "service"})
    for key in _PATH_KEYS:
        if isinstance(data.get(key), str):
            data[key] = str(base / data[key])
    parties = []
    for p in data.get("parties", []):
        p = dict(p)
        for key in _PATH_KEYS:
            if isinstance(p.get(key), str):
                p[key] = str(base / p[key])
        if isinstance(p.get("chain_certs"), list):
            p["chain_certs"] = [str(base / c) for c in p["chain_certs"]]
        for key in ("issuer_account", "consumer_account"):
            spec = p.get(key)
            if isinstance(spec, str) and not spec.startswith("dev:"):
                p[key] = str(base / spec)
        parties.append(p)
    if parties:
        data["parties"] = parties
    return data


def load_settings(config_file: Path | None = None, **overrides: Any) -> ServiceSettings:
    """Settings from overrides, the environment and the TOML file (argument or TRUSTANCHOR_API_CONFIG)."""
    given = {k: v for k, v in overrides.items() if v is not None}
    if config_file is not None:
        given["config"] = config_file
    try:
        return ServiceSettings(**given)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"service settings: {where}: {first['msg']}") from None
