"""Checkpoint notes (anchor/checkpoint/note.py) and trust pack parsing (anchor/checkpoint/pack.py).

Every malformed input must be a CheckpointError with a one-line message: a verifier at a border post
reads these from files and USB sticks, and a traceback tells it nothing.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anchor.accounts import dev_account
from anchor.checkpoint.note import MAX_NOTE, Checkpoint, Cosignature, SignedCheckpoint, cosign
from anchor.checkpoint.pack import MAX_PACK, MEDIA_TYPE, PINS_MEDIA_TYPE, Consistency, TrustPack
from anchor.checkpoint.state import TRUST_SECTIONS
from anchor.errors import CheckpointError
from tests.conftest import MNEMONIC

# The witnesses' dev accounts (as tests/offline_helpers.py grants them) and one account that is none.
SG, TH, MY, STRANGER = (dev_account(MNEMONIC, i) for i in (20, 21, 22, 9))

CP = Checkpoint(
    31337,
    "0x5fbdb2315678afecb367f032d93f642f64180aa3",
    "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512",
    42,
    hashlib.sha256(b"event root").digest(),
    117,
    "0x" + hashlib.sha256(b"block 117").hexdigest(),
    1_740_000_000,
    hashlib.sha256(b"trust root").digest(),
    hashlib.sha256(b"state root").digest(),
)


def _one_line_error(fn: Callable[[], object]) -> str:
    with pytest.raises(CheckpointError) as raised:
        fn()
    message = str(raised.value)
    assert message and "\n" not in message
    return message


# ----------------------------------------------------------------------------------- checkpoint body


def test_the_body_is_the_documented_layout() -> None:
    b64 = base64.b64encode
    assert CP.body() == (
        "trustanchor/31337/0x5fbdb2315678afecb367f032d93f642f64180aa3/0xe7f1725e7734ce288f8367e1bb143e90bb3f0512\n"
        "42\n"
        f"{b64(CP.root).decode()}\n"
        f"block 117 {CP.block_hash}\n"
        "time 1740000000\n"
        f"trust {b64(CP.trust_root).decode()}\n"
        f"state {b64(CP.state_root).decode()}\n"
    )
    assert CP.digest() == hashlib.sha256(CP.body().encode()).digest()
    assert (
        CP.signing_hash() == hashlib.sha256(b"TrustAnchor/cosignature/v1\x00" + CP.body().encode()).digest()
    )


ADDRESSES = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
HASHES = st.binary(min_size=32, max_size=32)
UINTS = st.integers(0, 2**64 - 1)
CHECKPOINTS = st.builds(
    Checkpoint,
    UINTS,
    ADDRESSES,
    ADDRESSES,
    UINTS,
    HASHES,
    UINTS,
    HASHES.map(lambda b: "0x" + b.hex()),
    UINTS,
    HASHES,
    HASHES,
)


@settings(max_examples=200, deadline=None)
@given(cp=CHECKPOINTS)
def test_body_round_trip(cp: Checkpoint) -> None:
    assert Checkpoint.parse(cp.body()) == cp


def _replace_line(n: int, text: str) -> str:
    lines = CP.body().split("\n")
    lines[n] = text
    return "\n".join(lines)


def _noncanonical_b64(raw: bytes) -> str:
    """The same 32 bytes with an unused low bit of the last base64 digit set: it decodes, but is not canonical."""
    text = base64.b64encode(raw).decode()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    assert base64.b64decode(text[:-2] + alphabet[alphabet.index(text[-2]) | 1] + "=") == raw
    return text[:-2] + alphabet[alphabet.index(text[-2]) | 1] + "="


BODY = CP.body()
NONCANONICAL = {
    "trailing space on the size": _replace_line(1, "42 "),
    "two spaces in the block line": _replace_line(3, f"block  117 {CP.block_hash}"),
    "tab in the time line": _replace_line(4, "time\t1740000000"),
    "space before the trust root": _replace_line(5, "trust  " + base64.b64encode(CP.trust_root).decode()),
    "uppercase block hash": _replace_line(3, f"block 117 0x{CP.block_hash[2:].upper()}"),
    "uppercase 0X": _replace_line(3, f"block 117 0X{CP.block_hash[2:]}"),
    "uppercase trust registry": _replace_line(0, CP.origin.replace("0x5fbdb", "0x5FBDB")),
    "leading zero in the size": _replace_line(1, "042"),
    "leading zero in the block": _replace_line(3, f"block 0117 {CP.block_hash}"),
    "leading zero in the time": _replace_line(4, "time 01740000000"),
    "plus sign in the size": _replace_line(1, "+42"),
    "negative size": _replace_line(1, "-42"),
    "hex size": _replace_line(1, "0x2a"),
    "21-digit size": _replace_line(1, "1" * 21),
    "missing state line": BODY.replace(f"state {base64.b64encode(CP.state_root).decode()}\n", ""),
    "missing time line": BODY.replace("time 1740000000\n", ""),
    "missing size line": BODY.replace("\n42\n", "\n"),
    "no final newline": BODY[:-1],
    "extra line": BODY + "extra\n",
    "extra blank line": BODY + "\n",
    "CRLF line ends": BODY.replace("\n", "\r\n"),
    "trust and state lines swapped": "\n".join([*BODY.split("\n")[:5], *BODY.split("\n")[5:7][::-1], ""]),
    "wrong origin prefix": _replace_line(0, CP.origin.replace("trustanchor/", "sigsum/")),
    "origin without document registry": _replace_line(0, CP.origin.rsplit("/", 1)[0]),
    "origin with a short address": _replace_line(0, CP.origin[:-2]),
    "origin with a non-decimal chain": _replace_line(0, CP.origin.replace("/31337/", "/0x7a69/")),
    "origin with a trailing slash": _replace_line(0, CP.origin + "/"),
    "root of 31 bytes": _replace_line(2, base64.b64encode(CP.root[:31]).decode()),
    "root of 33 bytes": _replace_line(2, base64.b64encode(CP.root + b"\x00").decode()),
    "root without padding": _replace_line(2, base64.b64encode(CP.root).decode().rstrip("=")),
    "root in hex": _replace_line(2, CP.root.hex()),
    "root in urlsafe base64": _replace_line(2, base64.urlsafe_b64encode(b"\xff" * 32).decode()),
    "root with stray low bits": _replace_line(2, _noncanonical_b64(CP.root)),
    "short block hash": _replace_line(3, f"block 117 {CP.block_hash[:-2]}"),
    "block line renamed": _replace_line(3, f"height 117 {CP.block_hash}"),
    "time line renamed": _replace_line(4, "timestamp 1740000000"),
    "trust and state swapped": _replace_line(5, f"state {base64.b64encode(CP.trust_root).decode()}"),
    "time without a value": _replace_line(4, "time"),
    "empty": "",
}


@pytest.mark.parametrize("variant", sorted(NONCANONICAL))
def test_non_canonical_bodies_are_refused(variant: str) -> None:
    body = NONCANONICAL[variant]
    assert body != BODY
    _one_line_error(lambda: Checkpoint.parse(body))


def test_a_value_moved_between_the_time_and_trust_lines_is_refused() -> None:
    lines = BODY.split("\n")
    lines[4], lines[5] = "time 1740000000 " + lines[5].split(" ")[1], "trust"
    _one_line_error(lambda: Checkpoint.parse("\n".join(lines)))


@st.composite
def mangled_bodies(draw: st.DrawFn) -> str:
    """The canonical body with a few lines re-split, joined, words moved, lines retyped or dropped."""
    lines = BODY.split("\n")[:-1]
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        how = draw(st.sampled_from(["split", "join", "shift", "retype", "drop", "dup"]))
        words = lines[i].split(" ")
        if how == "split" and len(words) > 1:
            lines[i : i + 1] = [" ".join(words[:-1]), words[-1]]
        elif how == "join" and i + 1 < len(lines):
            lines[i : i + 2] = [lines[i] + " " + lines[i + 1]]
        elif how == "shift" and i + 1 < len(lines):  # a word moves up from the next line
            below = lines[i + 1].split(" ")
            lines[i], lines[i + 1] = lines[i] + " " + below[-1], " ".join(below[:-1])
        elif how == "retype":
            lines[i] = draw(st.text(alphabet=" 0123456789abcdefx/=+AZ", max_size=60))
        elif how == "drop" and len(lines) > 1:
            del lines[i]
        elif how == "dup":
            lines.insert(i, lines[i])
    return "\n".join(lines) + "\n"


@settings(max_examples=300, deadline=None, report_multiple_bugs=False)
@given(body=mangled_bodies())
def test_any_text_is_a_canonical_body_or_a_checkpoint_error(body: str) -> None:
    try:
        cp = Checkpoint.parse(body)
    except CheckpointError as e:
        assert "\n" not in str(e)
        return
    assert cp.body() == body


# ------------------------------------------------------------------------------------- co-signatures


def test_a_cosignature_recovers_the_witness_account() -> None:
    for account in (SG, TH, MY):
        c = cosign(CP, "SG", bytes(account.key))
        assert c.witness == account.address.lower()
        assert len(c.signature) == 65 and c.signature[64] in (0, 1)
        assert c.signer(CP) == account.address.lower()
        # The signature is over this body only.
        other = Checkpoint(**{**CP.__dict__, "size": CP.size + 1})
        assert c.signer(other) is None


def test_a_line_naming_another_account_than_the_signing_key_has_no_signer() -> None:
    c = cosign(CP, "SG", bytes(SG.key))
    claimed = Cosignature("SG", TH.address.lower(), c.signature)
    assert claimed.signer(CP) is None
    # The same through the note text: only the 20 address bytes of the payload are changed.
    payload = base64.b64decode(c.line().split(" ")[2])
    line = "\u2014 SG.witness " + base64.b64encode(bytes.fromhex(TH.address[2:]) + payload[20:]).decode()
    parsed = SignedCheckpoint.parse(CP.body() + "\n" + line + "\n")
    assert parsed.cosignatures == (claimed,)
    assert parsed.cosignatures[0].signer(CP) is None


@pytest.mark.parametrize(
    "signature",
    [bytes(65), b"\xff" * 65, bytes(64) + b"\x05", b"\x01" * 64 + b"\x1b"],
    ids=["zeros", "ones", "v=5", "v=27"],
)
def test_garbage_signatures_have_no_signer(signature: bytes) -> None:
    assert Cosignature("SG", SG.address.lower(), signature).signer(CP) is None


def test_signed_checkpoint_text_round_trip() -> None:
    signed = SignedCheckpoint(CP, tuple(cosign(CP, p, bytes(a.key)) for p, a in (("TH", TH), ("SG", SG))))
    text = signed.text()
    body, blank, signatures = text.partition("\n\n")
    assert body + "\n" == CP.body() and blank
    lines = signatures.splitlines()
    assert lines == sorted(c.line() for c in signed.cosignatures)
    assert all(line.startswith(("\u2014 SG.witness ", "\u2014 TH.witness ")) for line in lines)
    back = SignedCheckpoint.parse(text)
    assert back.checkpoint == CP
    assert set(back.cosignatures) == set(signed.cosignatures)
    assert back.text() == text
    assert [c.signer(CP) for c in back.cosignatures] == [c.witness for c in back.cosignatures]
    # A note nobody co-signed yet.
    assert SignedCheckpoint.parse(CP.body() + "\n") == SignedCheckpoint(CP, ())


def test_duplicate_cosignature_lines_collapse() -> None:
    c = cosign(CP, "SG", bytes(SG.key))
    signed = SignedCheckpoint(CP, (c, c))
    assert signed.text().count("\u2014") == 1
    twice = CP.body() + "\n" + c.line() + "\n" + c.line() + "\n"
    parsed = SignedCheckpoint.parse(twice)
    assert parsed.text() == SignedCheckpoint(CP, (c,)).text()
    # A witness that signs again replaces its line instead of adding one.
    again = SignedCheckpoint(CP, (c,)).with_cosignature(cosign(CP, "SG", bytes(SG.key)))
    assert len(again.cosignatures) == 1


def test_a_note_over_max_note_is_refused() -> None:
    line = cosign(CP, "SG", bytes(SG.key)).line() + "\n"
    text = CP.body() + "\n" + line * (MAX_NOTE // len(line) + 1)
    assert len(text) > MAX_NOTE
    assert "at most" in _one_line_error(lambda: SignedCheckpoint.parse(text))
    fits = CP.body() + "\n" + line * ((MAX_NOTE - len(CP.body()) - 1) // len(line))
    assert len(fits) <= MAX_NOTE
    assert len(SignedCheckpoint.parse(fits).cosignatures) > 100


GOOD_LINE = cosign(CP, "SG", bytes(SG.key)).line()
BAD_NOTES = {
    "no blank line": CP.body(),
    "body not canonical": CP.body().replace("\n42\n", "\n042\n") + "\n" + GOOD_LINE + "\n",
    "hyphen instead of em dash": CP.body() + "\n" + GOOD_LINE.replace("\u2014", "-") + "\n",
    "lowercase party": CP.body() + "\n" + GOOD_LINE.replace("SG.", "sg.") + "\n",
    "no .witness": CP.body() + "\n" + GOOD_LINE.replace(".witness", "") + "\n",
    "payload too short": CP.body()
    + "\n"
    + "\u2014 SG.witness "
    + base64.b64encode(bytes(84)).decode()
    + "\n",
    "payload too long": CP.body() + "\n" + "\u2014 SG.witness " + base64.b64encode(bytes(86)).decode() + "\n",
    "trailing space": CP.body() + "\n" + GOOD_LINE + " \n",
    "a comment line": CP.body() + "\n" + "# witnessed by SG\n",
}


@pytest.mark.parametrize("what", sorted(BAD_NOTES))
def test_bad_signed_notes_are_refused(what: str) -> None:
    _one_line_error(lambda: SignedCheckpoint.parse(BAD_NOTES[what]))


@pytest.mark.parametrize(
    "payload", ["abc", "A", GOOD_LINE.split(" ")[2].rstrip("=")[:-1]], ids=["abc", "A", "truncated"]
)
@pytest.mark.parametrize("reader", ["note", "pack"])
def test_a_signature_line_with_broken_base64_is_refused(payload: str, reader: str) -> None:
    note = CP.body() + "\n\u2014 SG.witness " + payload + "\n"
    if reader == "note":
        _one_line_error(lambda: SignedCheckpoint.parse(note))
    else:
        _one_line_error(lambda: TrustPack.from_json(_edit(_set(("checkpoint",), note))))


# --------------------------------------------------------------------------------------- trust packs


def _trust() -> dict[str, dict[str, str]]:
    trust: dict[str, dict[str, str]] = {section: {} for section in TRUST_SECTIONS}
    trust["parties"]["SG"] = json.dumps({"member": True, "witnesses": [SG.address.lower()]})
    trust["witnesses"][SG.address.lower()] = json.dumps({"party": "SG"})
    return trust


def _pack() -> TrustPack:
    signed = SignedCheckpoint(CP, (cosign(CP, "SG", bytes(SG.key)), cosign(CP, "TH", bytes(TH.key))))
    old = Consistency(7, hashlib.sha256(b"old root").digest(), (hashlib.sha256(b"p").digest(),))
    return TrustPack(signed, _trust(), (old,))


def _pack_obj() -> dict[str, Any]:
    obj: dict[str, Any] = json.loads(_pack().to_json())
    return obj


def test_trust_pack_json_round_trip() -> None:
    pack = _pack()
    text = pack.to_json()
    obj = json.loads(text)
    assert set(obj) == {"mediaType", "checkpoint", "trust", "consistency"}
    assert obj["mediaType"] == MEDIA_TYPE
    back = TrustPack.from_json(text)
    assert back.to_json() == text
    assert back.checkpoint == CP
    assert back.trust == pack.trust
    assert back.consistency == pack.consistency
    assert TrustPack.from_json(text.encode()).to_json() == text


def _edit(fn: Callable[[dict[str, Any]], None]) -> str:
    obj = _pack_obj()
    fn(obj)
    return json.dumps(obj)


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(obj: dict[str, Any]) -> None:
        target = obj
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return change


def _delete(*path: Any) -> Callable[[dict[str, Any]], None]:
    def change(obj: dict[str, Any]) -> None:
        target = obj
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]

    return change


H = "ab" * 32
BAD_PACKS: dict[str, str | bytes] = {
    "not JSON": "{",
    "not UTF-8": b'{"mediaType": "\xff"}',
    "deeply nested": "[" * 100_000 + "]" * 100_000,
    "a list": json.dumps([_pack_obj()]),
    "null": "null",
    "wrong mediaType": _edit(_set(("mediaType",), PINS_MEDIA_TYPE)),
    "mediaType v2": _edit(_set(("mediaType",), MEDIA_TYPE.replace("v1", "v2"))),
    "missing mediaType": _edit(_delete("mediaType")),
    "missing checkpoint": _edit(_delete("checkpoint")),
    "missing trust": _edit(_delete("trust")),
    "missing consistency": _edit(_delete("consistency")),
    "extra field": _edit(_set(("signatures",), [])),
    "checkpoint as an object": _edit(_set(("checkpoint",), {"size": 42})),
    "checkpoint not a note": _edit(_set(("checkpoint",), "hello")),
    "checkpoint body not canonical": _edit(
        lambda o: o.update(checkpoint=o["checkpoint"].replace("\n42\n", "\n042\n"))
    ),
    "trust a list": _edit(_set(("trust",), [])),
    "trust section missing": _edit(_delete("trust", "recognition")),
    "trust sections all missing": _edit(_set(("trust",), {})),
    "trust section extra": _edit(_set(("trust", "documents"), {})),
    "trust section a list": _edit(_set(("trust", "parties"), [])),
    "trust entity a number": _edit(_set(("trust", "parties", "SG"), 1)),
    "trust entity an object": _edit(_set(("trust", "parties", "SG"), {"member": True})),
    "trust entity null": _edit(_set(("trust", "witnesses", SG.address.lower()), None)),
    "consistency an object": _edit(_set(("consistency",), {})),
    "consistency too many": _edit(
        _set(("consistency",), [{"fromSize": 1, "fromRoot": H, "proof": []}] * 1025)
    ),
    "consistency entry a string": _edit(_set(("consistency",), ["fromSize"])),
    "consistency entry a list of the keys": _edit(
        _set(("consistency",), [["fromSize", "fromRoot", "proof"]])
    ),
    "consistency entry null": _edit(_set(("consistency",), [None])),
    "consistency extra key": _edit(_set(("consistency", 0, "toSize"), 42)),
    "consistency missing proof": _edit(_delete("consistency", 0, "proof")),
    "fromSize 0": _edit(_set(("consistency", 0, "fromSize"), 0)),
    "fromSize negative": _edit(_set(("consistency", 0, "fromSize"), -7)),
    "fromSize true": _edit(_set(("consistency", 0, "fromSize"), True)),
    "fromSize a string": _edit(_set(("consistency", 0, "fromSize"), "7")),
    "fromSize a float": _edit(_set(("consistency", 0, "fromSize"), 7.0)),
    "fromRoot uppercase": _edit(_set(("consistency", 0, "fromRoot"), H.upper())),
    "fromRoot 0x": _edit(_set(("consistency", 0, "fromRoot"), "0x" + H)),
    "fromRoot short": _edit(_set(("consistency", 0, "fromRoot"), H[:-2])),
    "fromRoot base64": _edit(_set(("consistency", 0, "fromRoot"), base64.b64encode(bytes(32)).decode())),
    "proof element short": _edit(_set(("consistency", 0, "proof"), [H[:-2]])),
    "proof element non-hex": _edit(_set(("consistency", 0, "proof"), ["zz" * 32])),
    "proof element a number": _edit(_set(("consistency", 0, "proof"), [1])),
    "proof a string": _edit(_set(("consistency", 0, "proof"), H)),
    "proof a number": _edit(_set(("consistency", 0, "proof"), 5)),
    "proof too long": _edit(_set(("consistency", 0, "proof"), [H] * 129)),
}


@pytest.mark.parametrize("what", sorted(BAD_PACKS))
def test_malformed_trust_packs_are_refused(what: str) -> None:
    _one_line_error(lambda: TrustPack.from_json(BAD_PACKS[what]))


def test_a_trust_pack_over_the_size_limit_is_refused_before_parsing() -> None:
    text = _pack().to_json()
    padded = text[:-2] + " " * (MAX_PACK - len(text) + 1) + text[-2:]
    assert len(padded) == MAX_PACK + 1
    assert "at most 64 MiB" in _one_line_error(lambda: TrustPack.from_json(padded))
    fits = text[:-2] + " " * (MAX_PACK - len(text)) + text[-2:]
    assert TrustPack.from_json(fits).to_json() == text


def test_loading_a_trust_pack_names_the_file(tmp_path: Any) -> None:
    missing = tmp_path / "pack.json"
    assert str(missing) in _one_line_error(lambda: TrustPack.load(missing))
    missing.write_text(json.dumps({"mediaType": "x"}))
    assert str(missing) in _one_line_error(lambda: TrustPack.load(missing))
    missing.write_text(_pack().to_json())
    assert TrustPack.load(missing).checkpoint == CP
