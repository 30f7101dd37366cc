"""How the audit spells on-chain identifiers: lossless, canonical and readable.

Party ids are bytes8 on chain; they read as their code ("SG") when that spelling maps back to exactly
the same bytes, and as 0x-hex otherwise, so two different ids can never print the same. Addresses are
lowercase hex (canonical for digests; checksums are for display only).
"""

from __future__ import annotations

from functools import lru_cache

from eth_utils import to_checksum_address

ZERO_ADDRESS = "0x" + "00" * 20


@lru_cache(maxsize=4096)
def party_str(raw: bytes) -> str:
    text = raw.rstrip(b"\x00")
    if text and text.isascii() and text.isalnum() and b"\x00" not in text:
        return text.decode()
    return "0x" + raw.hex()


@lru_cache(maxsize=4096)
def party_raw(party: str) -> bytes:
    if party.startswith("0x"):
        return bytes.fromhex(party[2:])
    return party.encode().ljust(8, b"\x00")


def hex32(value: bytes) -> str:
    return "0x" + value.hex()


def unhex(text: str) -> bytes:
    return bytes.fromhex(text.removeprefix("0x"))


def display_address(address: str) -> str:
    return to_checksum_address(address) if address and address != ZERO_ADDRESS else address
