"""Acting accounts: named development accounts ("dev:N") or key files (hex key or encrypted keystore)."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from .errors import ConfigError

Account.enable_unaudited_hdwallet_features()


@lru_cache(maxsize=256)
def dev_account(mnemonic: str, index: int) -> LocalAccount:
    """The index-th account of the mnemonic, on anvil's derivation path."""
    acct: LocalAccount = Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{index}")
    return acct


def load_key_file(path: Path, password: str | None = None) -> LocalAccount:
    """A file holding a hex private key, or a Web3 secret-storage (keystore v3) JSON file."""
    try:
        text = path.read_text().strip()
    except OSError as e:
        raise ConfigError(f"cannot read key file {path}: {e.strerror}") from None
    if text.startswith("{"):
        password = password if password is not None else os.environ.get("TRUSTANCHOR_KEY_PASSWORD")
        if password is None:
            raise ConfigError(f"{path} is an encrypted keystore: set TRUSTANCHOR_KEY_PASSWORD")
        try:
            key = Account.decrypt(json.loads(text), password)
        except (ValueError, KeyError) as e:
            raise ConfigError(f"{path}: cannot decrypt keystore ({e})") from None
        return Account.from_key(key)
    try:
        acct: LocalAccount = Account.from_key(text)
    except (ValueError, TypeError):
        raise ConfigError(f"{path} does not hold a private key (expected 64 hex digits)") from None
    return acct


def resolve_account(spec: str, mnemonic: str) -> LocalAccount:
    """'dev:N' for the N-th development account of `mnemonic`, else a key file path."""
    if spec.startswith("dev:"):
        try:
            index = int(spec[4:])
        except ValueError:
            raise ConfigError(f"bad development account {spec!r}: expected dev:N") from None
        if not 0 <= index < 1000:
            raise ConfigError(f"bad development account {spec!r}: N must be 0..999")
        return dev_account(mnemonic, index)
    path = Path(spec)
    if not path.exists():
        raise ConfigError(f"account {spec!r} is neither dev:N nor an existing key file")
    return load_key_file(path)
