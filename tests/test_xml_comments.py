"""Comments and processing instructions inside the root element are refused (issue #9 item 8).

Canonical XML without comments gives ``<ID>123<!---->ABC</ID>`` the digest of ``<ID>123ABC</ID>``,
while lxml and minidom read ``123``: the anchored digest would vouch for a value the receiving system
never sees.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from xml.dom import minidom

import pytest

from anchor.accounts import dev_account
from anchor.cli.main import main
from anchor.errors import DocumentError
from anchor.issuing.canonical import XML_C14N2, digest_bytes, digest_file
from tests.conftest import MNEMONIC

SPS_XML = Path(__file__).parent / "assets" / "samples" / "sps-certificate-ephyto.xml"
# Computed before comments were refused; the refusal must not move the digest of a clean document.
SPS_XML_SHA256 = "c7ac1292eaad1416beab39f14f2240a13d20f144219c7c2a1e07ef6d9b92d6fe"
# The sample binds the UN/CEFACT "ram" namespace to the prefix ns1.
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:21"
PLAIN_ID = "<ns1:ID>123ABC</ns1:ID>"
REMEDY = "remove comments and processing instructions from inside the root element"


def _sps() -> str:
    text = SPS_XML.read_text(encoding="utf-8")
    assert text.count(PLAIN_ID) == 1 and "<!--" not in text
    return text


def _with_ram_prefix(text: str) -> str:
    return text.replace("<ns0:SPSCertificate ", f'<ns0:SPSCertificate xmlns:ram="{RAM}" ', 1)


def _refusal(data: bytes) -> str:
    with pytest.raises(DocumentError) as caught:
        digest_bytes(data, "application/xml", name="sps.xml")
    message = str(caught.value)
    assert "\n" not in message
    return message


def _first_id_as_minidom_reads_it(data: bytes) -> str:
    element = minidom.parseString(data).getElementsByTagNameNS(RAM, "ID")[0]
    first = element.firstChild
    assert isinstance(first, minidom.Text)
    return first.data


@pytest.mark.parametrize(
    "attack",
    [
        lambda t: _with_ram_prefix(t).replace(PLAIN_ID, "<ram:ID>123<!---->ABC</ram:ID>"),
        lambda t: t.replace(PLAIN_ID, "<ns1:ID>123<!---->ABC</ns1:ID>"),
    ],
    ids=["ram-prefix", "sample-prefix"],
)
def test_comment_splitting_the_certificate_id_is_refused(attack: Callable[[str], str]) -> None:
    data = attack(_sps()).encode()
    assert _first_id_as_minidom_reads_it(data) == "123"  # what a receiving system would read
    assert _refusal(data) == (
        "sps.xml: XML has a comment at line 7 inside its root element, where readers disagree on the "
        f"text around it (some stop at it, the digest reads through it); {REMEDY}"
    )


def test_processing_instruction_inside_the_root_is_refused() -> None:
    data = _sps().replace(PLAIN_ID, "<ns1:ID>123<?split here?>ABC</ns1:ID>").encode()
    assert _first_id_as_minidom_reads_it(data) == "123"
    assert _refusal(data).startswith(
        "sps.xml: XML has a processing instruction <?split?> at line 7 inside its root element"
    )


def test_comment_between_elements_is_refused_too() -> None:
    # Refusing only comments with text around them would leave readers that join sibling text nodes.
    data = _sps().replace(PLAIN_ID, PLAIN_ID + "<!-- reviewed -->").encode()
    assert _refusal(data).startswith("sps.xml: XML has a comment at line 7 inside its root element")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_comment_far_into_a_large_file_is_refused_with_its_line(tmp_path: Path, encoding: str) -> None:
    # The parser is fed in 64 KiB slices and the line is found by a second pass: both must reach it.
    text = _sps().replace("</ns0:SPSCertificate>", "<!---->\n</ns0:SPSCertificate>")
    if encoding == "utf-16":
        text = text.replace('encoding="UTF-8"', 'encoding="UTF-16"', 1)
    path = tmp_path / "late-comment.xml"
    path.write_bytes(text.encode(encoding))
    assert path.stat().st_size > 3 * 2**16
    with pytest.raises(DocumentError) as caught:
        digest_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: XML has a comment at line 408 inside its root element")
    assert "\n" not in message


def test_clean_sample_keeps_its_digest_with_comments_outside_the_root() -> None:
    # Passes without the fix as well, by design: it guards the digests already anchored.
    text = _sps()
    assert digest_file(SPS_XML).hex == SPS_XML_SHA256
    declaration, body = text.split("?>", 1)
    outside = f"{declaration}?>\n<!-- exported by ePhyto hub -->{body}\n<!-- end -->\n"
    digest = digest_bytes(outside.encode(), "application/xml")
    assert (digest.hex, digest.canonicalization) == (SPS_XML_SHA256, XML_C14N2)


# --- through the CLI ----------------------------------------------------------------------------------


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        main(args)
    out = capsys.readouterr()
    return int(e.value.code or 0), out.out, out.err


def test_issue_cli_refuses_with_one_line(
    tmp_path: Path, anvil_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "chain.toml"
    cfg.write_text(
        f'[chain]\nname = "t"\nbackend = "rpc"\nrpc_url = "{anvil_url}"\nmnemonic = "{MNEMONIC}"\n'
        '[deploy]\nthreshold = 1\nparties = [{ id = "SG", admin = "dev:1" }]\n'
    )
    base = ["--config", str(cfg), "--home", str(tmp_path / "home")]
    assert _run([*base, "deploy"], capsys)[0] == 0
    pki = tmp_path / "pki"
    assert _run([*base, "pki", "init", "SG", "--out", str(pki)], capsys)[0] == 0
    # A registered issuer, so that without the refusal the document would be anchored.
    root_ca = str(pki / "root-ca.pem")
    assert _run([*base, "ca", "add", "--cert", root_ca, "--account", "dev:1"], capsys)[0] == 0
    agency = dev_account(MNEMONIC, 6).address
    assert _run([*base, "issuer", "add", agency, "--ca", root_ca, "--account", "dev:1"], capsys)[0] == 0
    document = tmp_path / "ephyto.xml"
    document.write_text(_sps().replace(PLAIN_ID, "<ns1:ID>123<!---->ABC</ns1:ID>"), encoding="utf-8")
    code, out, err = _run(
        [*base, "issue", str(document), "--doc-type", "phytosanitary-certificate",
         "--signer-key", str(pki / "signer-key.pem"), "--signer-cert", str(pki / "signer.pem"),
         "--account", "dev:6", "--out", str(tmp_path / "bundles")],
        capsys,
    )  # fmt: skip
    assert code == 3
    assert err == (
        f"error: {document}: XML has a comment at line 7 inside its root element, where readers "
        f"disagree on the text around it (some stop at it, the digest reads through it); {REMEDY}\n"
    )
    assert not (tmp_path / "bundles").exists()
