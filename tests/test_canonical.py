"""Canonicalization: same meaning -> same digest, different content -> different digest."""

from __future__ import annotations

import hashlib
import re
import tracemalloc
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from anchor.errors import DocumentError
from anchor.issuing.canonical import (
    JCS_RFC8785,
    RAW_SHA256,
    XML_C14N2,
    Digest,
    canonicalization_for,
    canonicalize,
    digest_bytes,
    digest_file,
    media_type_for,
)

SAMPLES = Path(__file__).parent / "assets" / "samples"
SPS_XML = SAMPLES / "sps-certificate-ephyto.xml"
SPS_PDF = SAMPLES / "sps-attachment.pdf"
# Pinned so that a change in the XML canonicalizer (e.g. a Python upgrade) cannot go unnoticed:
# every certificate anchored so far would stop verifying.
SPS_XML_SHA256 = "c7ac1292eaad1416beab39f14f2240a13d20f144219c7c2a1e07ef6d9b92d6fe"
SPS_XML_SHA256_BYTES = bytes.fromhex(SPS_XML_SHA256)

PERMIT = b"""{
  "permitNumber": "NO/2025/000123",
  "exporter": {"name": "\xc3\x98yvind Hansen", "city": "Troms\xc3\xb8"},
  "items": [{"species": "Dalbergia nigra", "quantity": 12.5, "unit": "KGM"}, {"quantity": 3}],
  "valid": true
}"""


def _json_digest(data: bytes) -> bytes:
    return digest_bytes(data, "application/json", name="permit.json").digest


# --- JSON ---------------------------------------------------------------------------------


def test_json_key_order_and_whitespace_do_not_matter() -> None:
    reordered = (
        b'{"valid":true,"items":[{"unit":"KGM","quantity":1.25e1,"species":"Dalbergia nigra"},'
        b'{"quantity":3.0}],"exporter":{"city":"Troms\\u00f8","name":"\xc3\x98yvind Hansen"},'
        b'"permitNumber":"NO\\/2025\\/000123"}'
    )
    assert reordered != PERMIT
    assert _json_digest(reordered) == _json_digest(PERMIT)
    assert (
        _json_digest(PERMIT)
        == hashlib.sha256(
            b'{"exporter":{"city":"Troms\xc3\xb8","name":"\xc3\x98yvind Hansen"},"items":[{"quantity":12.5,'
            b'"species":"Dalbergia nigra","unit":"KGM"},{"quantity":3}],"permitNumber":"NO/2025/000123","valid":true}'
        ).digest()
    )


@pytest.mark.parametrize(
    ("old", "new"),
    [(b"000123", b"000124"), (b"12.5", b"12.6"), (b"true", b"false"), (b"3}", b'"3"}'), (b"KGM", b"KGM ")],
)
def test_json_value_change_changes_digest(old: bytes, new: bytes) -> None:
    assert _json_digest(PERMIT.replace(old, new, 1)) != _json_digest(PERMIT)


def test_json_digest_records_method_and_original_size() -> None:
    digest = digest_bytes(PERMIT, "application/json; charset=utf-8")
    assert (digest.canonicalization, digest.media_type, digest.size) == (
        JCS_RFC8785,
        "application/json",
        len(PERMIT),
    )
    assert len(digest.digest) == 32 and digest.hex == digest.digest.hex()


@pytest.mark.parametrize("data", [b'{"a":1,"a":1}', b'{"x":[{"k":1,"\\u006b":2}]}'])
def test_json_duplicate_keys_are_rejected(data: bytes) -> None:
    with pytest.raises(DocumentError, match=r"^permit\.json: duplicate JSON object key '(a|k)'"):
        canonicalize(data, "application/json", name="permit.json")


def test_invalid_json_error_names_file_and_position() -> None:
    data = b'{\n  "a": 1,\n    "b" 2\n}'
    with pytest.raises(DocumentError) as caught:
        canonicalize(data, "application/json", name="permit.json")
    assert str(caught.value) == "permit.json: not valid JSON at line 3 column 9: Expecting ':' delimiter"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ('{"city": "Tromsø"}'.encode("latin-1"), r"^p\.json: not UTF-8 at line 1 \(byte 15\)"),
        ('{"a": 1}'.encode("utf-16"), r"^p\.json: not UTF-8"),
        (b'{"a": NaN}', r"^p\.json: not valid JSON at line 1 column 7: NaN is not a JSON number"),
        (b'{"a": 1e400}', r"^p\.json: JSON has no RFC 8785 canonical form"),
        (b'{"a": 9007199254740992}', r"^p\.json: JSON has no RFC 8785 canonical form"),
        (b"[" * 100_000, r"^p\.json: JSON arrays and objects nest more than 128 levels deep"),
    ],
)
def test_bad_json_is_rejected(data: bytes, message: str) -> None:
    with pytest.raises(DocumentError, match=message):
        canonicalize(data, "application/json", name="p.json")


# --- media types ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "explicit", "media_type", "method"),
    [
        ("permit.JSON", None, "application/json", JCS_RFC8785),
        ("cert.xml", None, "application/xml", XML_C14N2),
        ("scan.pdf", None, "application/pdf", RAW_SHA256),
        ("photo.jpeg", None, "image/jpeg", RAW_SHA256),
        ("README", None, "application/octet-stream", RAW_SHA256),
        ("permit.txt", "application/ld+json", "application/ld+json", JCS_RFC8785),
        ("cert.bin", "Text/XML; charset=utf-8", "text/xml", XML_C14N2),
        ("cert.json", "image/svg+xml", "image/svg+xml", XML_C14N2),
        ("cert.xml", "application/pdf", "application/pdf", RAW_SHA256),
    ],
)
def test_media_type_detection(path: str, explicit: str | None, media_type: str, method: str) -> None:
    assert media_type_for(path, explicit) == media_type
    assert canonicalization_for(media_type) == method


def test_malformed_media_type_is_refused_rather_than_hashed_raw() -> None:
    with pytest.raises(DocumentError, match="'json' is not a media type"):
        digest_bytes(PERMIT, "json")


# --- XML ------------------------------------------------------------------------------------

_START_TAG = re.compile(r"<([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(/?)>")
_ATTRIBUTE = re.compile(r"([\w.:-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_TEXT = re.compile(r">([^<]+)<")


def _rewrite_start_tags(xml: str, render: Callable[[str, list[tuple[str, str]], str], str]) -> str:
    def one(match: re.Match[str]) -> str:
        attributes = [(m[1], m[2] if m[2] is not None else m[3]) for m in _ATTRIBUTE.finditer(match[2])]
        return render(match[1], attributes, match[3])

    return _START_TAG.sub(one, xml)


def _plain(name: str, attributes: list[tuple[str, str]], slash: str) -> str:
    return f"<{name}" + "".join(f' {k}="{v}"' for k, v in attributes) + f"{slash}>"


def _reverse_attributes(xml: str) -> str:
    return _rewrite_start_tags(xml, lambda n, a, s: _plain(n, a[::-1], s))


def _single_quotes(xml: str) -> str:
    return _rewrite_start_tags(xml, lambda n, a, s: f"<{n}" + "".join(f" {k}='{v}'" for k, v in a) + f"{s}>")


def _whitespace_in_tags(xml: str) -> str:
    spaced = _rewrite_start_tags(
        xml, lambda n, a, s: f"<{n}" + "".join(f'\n\t{k} = "{v}"' for k, v in a) + f"  {s}>"
    )
    return re.sub(r"</([\w.:-]+)>", r"</\1 \n>", spaced)


def _character_references(xml: str) -> str:
    def in_text(match: re.Match[str]) -> str:
        return ">" + match[1].replace("A", "&#65;").replace("e", "&#x65;") + "<"

    return _rewrite_start_tags(
        _TEXT.sub(in_text, xml), lambda n, a, s: _plain(n, [(k, v.replace("e", "&#101;")) for k, v in a], s)
    )


def _cdata(xml: str) -> str:
    return _TEXT.sub(lambda m: f"><![CDATA[{m[1]}]]><" if m[1].strip() and "&" not in m[1] else m[0], xml)


def _expanded_empty_elements(xml: str) -> str:
    return _rewrite_start_tags(xml, lambda n, a, s: _plain(n, a, "") + (f"</{n}>" if s else ""))


def _without_declaration(xml: str) -> str:
    return xml.split("?>", 1)[1]


def _other_declaration(xml: str) -> str:
    return "<?xml version='1.0' encoding='utf-8'?>\n<!-- re-exported -->" + _without_declaration(xml)


def _crlf(xml: str) -> str:
    return xml.replace("\n", "\r\n")


def _two_attributes(xml: str) -> str:
    return xml.replace('languageID="en"', 'languageID="en" schemeVersionID="2"')


_MEANING_PRESERVING = [
    _reverse_attributes,
    _single_quotes,
    _whitespace_in_tags,
    _character_references,
    _cdata,
    _expanded_empty_elements,
    _without_declaration,
    _other_declaration,
    _crlf,
]


def _xml_digest(data: bytes) -> bytes:
    return digest_bytes(data, "application/xml", name="sps.xml").digest


def test_sps_sample_digest_is_pinned() -> None:
    digest = digest_file(SPS_XML)
    assert (digest.hex, digest.canonicalization, digest.size) == (SPS_XML_SHA256, XML_C14N2, 221348)


@pytest.mark.parametrize("rewrite", _MEANING_PRESERVING, ids=lambda f: f.__name__)
def test_sps_reserialization_keeps_digest(rewrite: Callable[[str], str]) -> None:
    original = SPS_XML.read_text(encoding="utf-8")
    variant = rewrite(original)
    assert variant != original
    assert _xml_digest(variant.encode()) == SPS_XML_SHA256_BYTES


def test_sps_attribute_order_keeps_digest_with_two_plain_attributes() -> None:
    with_two = _two_attributes(SPS_XML.read_text(encoding="utf-8"))
    assert _xml_digest(_reverse_attributes(with_two).encode()) == _xml_digest(with_two.encode())
    assert _xml_digest(with_two.encode()) != SPS_XML_SHA256_BYTES


def test_sps_in_utf16_keeps_digest() -> None:
    text = SPS_XML.read_text(encoding="utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    assert _xml_digest(text.encode("utf-16")) == SPS_XML_SHA256_BYTES


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("<ns1:ID>123ABC<", "<ns1:ID>123ABD<"),
        ('languageID="nn"', 'languageID="no"'),
        ("Servicio Nacional", "Servicio  Nacional"),
        ('filename="TestPdf.pdf">JVBERi0', 'filename="TestPdf.pdf">JVBERi1'),
        ("<ns1:Name/>", ""),
        ("<ns1:Name/>", '<ns1:Name languageID="en"/>'),
        ("<ns1:Name/>", "<ns1:Name> </ns1:Name>"),
        (":SPSCertificate:17", ":SPSCertificate:18"),
    ],
)
def test_sps_content_change_changes_digest(old: str, new: str) -> None:
    original = SPS_XML.read_text(encoding="utf-8")
    assert original.count(old) >= 1
    assert _xml_digest(original.replace(old, new, 1).encode()) != SPS_XML_SHA256_BYTES


def test_malformed_xml_error_names_file_line_and_column() -> None:
    broken = SPS_XML.read_text(encoding="utf-8").replace("</ns1:ID>", "</ns1:Id>", 1)
    with pytest.raises(DocumentError) as caught:
        digest_bytes(broken.encode(), "application/xml", name="sps.xml")
    assert str(caught.value) == "sps.xml: not well-formed XML at line 7 column 25: mismatched tag"


def _xxe(secret: Path) -> str:
    return f'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "{secret.as_uri()}">]>\n<r>&x;</r>'


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_external_entities_are_refused(tmp_path: Path, encoding: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    document = _xxe(secret)
    if encoding == "utf-16":
        document = document.replace('version="1.0"', 'version="1.0" encoding="UTF-16"')
    with pytest.raises(
        DocumentError, match=r"^x\.xml: XML with a document type declaration \(DTD\) is refused"
    ):
        canonicalize(document.encode(encoding), "application/xml", name="x.xml")


def test_underlying_parser_never_reads_external_entities(tmp_path: Path) -> None:
    # Even without our DTD refusal, expat as driven by ElementTree reports the entity as
    # undefined instead of fetching it.
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    with pytest.raises(ET.ParseError, match="undefined entity"):
        ET.canonicalize(xml_data=_xxe(secret))


@pytest.mark.parametrize(
    "document",
    [
        '<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
        + "".join(
            f'<!ENTITY {c} "{("&" + p + ";") * 10}">' for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        )
        + "]><r>&i;</r>",
        '<!DOCTYPE r SYSTEM "http://127.0.0.1:9/r.dtd"><r/>',
        "<!DOCTYPE r><r/>",
    ],
    ids=["billion-laughs", "external-dtd", "empty-dtd"],
)
def test_any_dtd_is_refused(document: str) -> None:
    with pytest.raises(DocumentError, match="DTD"):
        canonicalize(document.encode(), "application/xml")


_NAMESPACES = " ".join(f'xmlns:p{i}="urn:x:{i}"' for i in range(100_000))


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("<a>" * 300_000 + "</a>" * 300_000, "nest more than 256 levels deep"),
        (
            f"<a {_NAMESPACES}>" + "<p0:b/>" * 100_000 + "</a>",
            "more than 256 namespace declarations in scope",
        ),
    ],
    ids=["nesting", "namespaces"],
)
def test_structures_that_would_take_hours_are_refused(document: str, message: str) -> None:
    # The stdlib C14N writer's work per element grows with depth and with namespaces in scope.
    with pytest.raises(DocumentError, match=message):
        canonicalize(document.encode(), "application/xml")


def test_nesting_up_to_the_limit_is_accepted() -> None:
    document = b"<a>" * 256 + b"x" + b"</a>" * 256
    assert canonicalize(document, "application/xml") == document


def test_file_errors_name_the_path(tmp_path: Path) -> None:
    path = tmp_path / "permit.json"
    path.write_bytes(b'{"a": 1,}')
    with pytest.raises(DocumentError, match=rf"^{re.escape(str(path))}: not valid JSON at line 1 column 9"):
        digest_file(path)


def test_doctype_text_inside_cdata_is_not_a_dtd() -> None:
    assert canonicalize(b"<r><![CDATA[<!DOCTYPE html>]]></r>", "text/xml") == b"<r>&lt;!DOCTYPE html&gt;</r>"


# --- raw --------------------------------------------------------------------------------------


def test_pdf_is_hashed_as_is() -> None:
    digest = digest_file(SPS_PDF)
    expected = hashlib.sha256(SPS_PDF.read_bytes()).digest()
    assert digest == Digest(expected, RAW_SHA256, "application/pdf", SPS_PDF.stat().st_size)
    assert digest_bytes(SPS_PDF.read_bytes(), "application/pdf") == digest


def test_large_raw_file_is_streamed(tmp_path: Path) -> None:
    path = tmp_path / "scan.tiff"
    chunk = bytes(range(256)) * 4096 * 5
    expected = hashlib.sha256()
    with path.open("wb") as file:
        for i in range(10):
            block = chunk[i:] + chunk[:i]
            file.write(block)
            expected.update(block)
    tracemalloc.start()
    try:
        digest = digest_file(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (digest.digest, digest.size, digest.media_type) == (expected.digest(), 50 * 2**20, "image/tiff")
    assert peak < 8 * 2**20


def test_missing_file_is_a_document_error(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match=r"absent\.pdf: cannot read file"):
        digest_file(tmp_path / "absent.pdf")
