"""Configuration: the chain config file (TOML) plus environment overrides, and the home directory.

Nothing is read at import time: call :func:`load_config` where the settings are needed.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent
# Package data, so that an installed package runs without a checkout; a checkout's chain/local.toml is a
# link to this file.
DEFAULT_CONFIG = Path(__file__).resolve().parent / "chains" / "local.toml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChainConfig(_Strict):
    name: str = "local"
    backend: Literal["anvil", "embedded", "rpc"] = "anvil"
    host: str = "127.0.0.1"
    port: int = Field(default=8545, ge=1, le=65535)
    chain_id: int = Field(default=31337, ge=1)
    block_time: int = Field(default=0, ge=0)
    mnemonic: str = "test test test test test test test test test test test junk"
    accounts: int = Field(default=20, ge=1, le=1000)
    balance_eth: int = Field(default=10000, ge=0)
    state_file: str = "chain/state.json"
    state_interval: int = Field(default=1, ge=1, le=3600)
    historical_states: bool = True
    gas_price_mode: Literal["auto", "eip1559", "legacy"] = "auto"
    confirmations: int = Field(default=1, ge=0)
    rpc_url: str | None = None

    @property
    def url(self) -> str:
        return self.rpc_url or f"http://{self.host}:{self.port}"


class FoundingParty(_Strict):
    id: str
    admin: str

    @field_validator("id")
    @classmethod
    def _short_code(cls, v: str) -> str:
        if not v or len(v.encode()) > 8 or not v.isascii() or not v.isalnum():
            raise ValueError(f"party id {v!r} must be 1-8 ASCII letters or digits")
        return v.upper()


class DeployConfig(_Strict):
    threshold: int = Field(default=2, ge=1)
    proposal_lifetime_seconds: int = Field(default=604800, ge=60)
    # A single admin's change of its party's admins waits this long, cancellable by the other admins.
    admin_delay_seconds: int = Field(default=172800, ge=0, lt=1 << 40)
    one_time_types: list[str] = ["cites-permit"]
    parties: list[FoundingParty] = Field(min_length=1)
    deployer: str = "dev:0"


class Config(_Strict):
    chain: ChainConfig = ChainConfig()
    deploy: DeployConfig | None = None
    home: Path
    source: Path | None = None

    @property
    def state_path(self) -> Path:
        return self.home / self.chain.state_file

    @property
    def manifest_path(self) -> Path:
        return self.home / "deployments" / f"{self.chain.name}.json"


def home_dir() -> Path:
    return Path(os.environ.get("TRUSTANCHOR_HOME", ".trustanchor")).resolve()


def load_config(path: str | Path | None = None, *, home: Path | None = None) -> Config:
    """Load the chain config file; TRUSTANCHOR_CONFIG, TRUSTANCHOR_RPC_URL and TRUSTANCHOR_HOME override."""
    source = Path(path or os.environ.get("TRUSTANCHOR_CONFIG") or DEFAULT_CONFIG)
    try:
        raw = tomllib.loads(source.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {source}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source}: invalid TOML: {e}") from None
    chain = dict(raw.get("chain", {}))
    if url := os.environ.get("TRUSTANCHOR_RPC_URL"):
        chain["rpc_url"] = url
        chain.setdefault("backend", "rpc")
        if chain.get("backend") == "anvil":
            chain["backend"] = "rpc"
    try:
        return Config(
            chain=ChainConfig(**chain), deploy=raw.get("deploy"), home=home or home_dir(), source=source
        )
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{source}: {where}: {first['msg']}") from None
