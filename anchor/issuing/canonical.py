"""Canonicalization stage of issuing: document bytes -> canonical bytes -> SHA-256 digest.

A document's digest must depend on what it says, not on how a tool happened to serialize it,
so JSON is canonicalized with RFC 8785 (JCS) and XML with W3C Canonical XML 2.0. Other formats
(PDF, images, ...) have no canonical form we can rely on and are hashed byte for byte.

XML is canonicalized without comments, so ``<ID>123<!---->ABC</ID>`` has the digest of
``<ID>123ABC</ID>`` while lxml's ``.text`` and minidom read ``123``: a document that verifies would
be read differently by the system it is handed to. Canonicalizing with comments would not help, as
the document with the comment would still verify while its readers disagree. So a comment or a
processing instruction anywhere inside the root element is refused, wherever it stands and whether
or not text surrounds it: no reader of element content can then be split by one. Outside the root
element (e.g. before it) they cannot split any value and stay accepted as before: comments out of
the digest, processing instructions in it, as C14N 2.0 has it, so digests already anchored hold.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from xml.parsers import expat

import rfc8785

from .._internal import fastjcs
from ..errors import DocumentError

# Names recorded in proof bundles; a verifier re-applies the one named there.
JCS_RFC8785 = "jcs-rfc8785"
XML_C14N2 = "xml-c14n2"
RAW_SHA256 = "raw-sha256"
CANONICALIZATIONS = (JCS_RFC8785, XML_C14N2, RAW_SHA256)

OCTET_STREAM = "application/octet-stream"
# A fixed table rather than the mimetypes module, whose answers depend on the host's files.
_MEDIA_TYPE_BY_SUFFIX = {
    ".json": "application/json",
    ".xml": "application/xml",
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".webp": "image/webp",
}
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")
_XML_FEED_CHUNK = 1 << 16
# Far beyond real trade documents (an SPS certificate nests 6 deep and declares 3 namespaces).
MAX_XML_DEPTH = 256
MAX_XML_NAMESPACES = 256


@dataclass(frozen=True)
class Digest:
    """SHA-256 of a document's canonical form, with what is needed to recompute it."""

    digest: bytes
    canonicalization: str
    media_type: str
    size: int  # of the document as given, before canonicalization

    @property
    def hex(self) -> str:
        return self.digest.hex()


def normalize_media_type(media_type: str) -> str:
    """``type/subtype`` in lower case, parameters dropped; refuses anything else."""
    essence = media_type.split(";", 1)[0].strip().lower()
    if not _MEDIA_TYPE.fullmatch(essence):
        # Hashing raw because of a typo such as "json" would silently give the wrong digest.
        raise DocumentError(f"{media_type!r} is not a media type (expected e.g. application/json)")
    return essence


def media_type_for(path: str | os.PathLike[str], media_type: str | None = None) -> str:
    """The explicit ``media_type`` if given, else the one the file extension implies."""
    if media_type is not None:
        return normalize_media_type(media_type)
    return _MEDIA_TYPE_BY_SUFFIX.get(Path(path).suffix.lower(), OCTET_STREAM)


def canonicalization_for(media_type: str) -> str:
    """Which canonicalization applies to documents of ``media_type``."""
    essence = normalize_media_type(media_type)
    if essence == "application/json" or essence.endswith("+json"):
        return JCS_RFC8785
    if essence in ("application/xml", "text/xml") or essence.endswith("+xml"):
        return XML_C14N2
    return RAW_SHA256


def canonicalize(data: bytes, media_type: str, *, name: str = "<document>") -> bytes:
    """Canonical bytes of a document; ``name`` only labels error messages."""
    return _apply(canonicalization_for(media_type), data, name)


def digest_bytes(data: bytes, media_type: str, *, name: str = "<document>") -> Digest:
    """Digest of a document held in memory."""
    essence = normalize_media_type(media_type)
    method = canonicalization_for(essence)
    return Digest(hashlib.sha256(_apply(method, data, name)).digest(), method, essence, len(data))


def check_json_nesting(data: bytes) -> None:
    """Refuse JSON that nests too deeply for the C parser before anyone parses it (DocumentError).

    py-evm and py_ecc raise the recursion limit to 100,000 when imported, after which a few hundred
    KB of '[' would overflow the C stack inside json.loads: every parser of untrusted JSON calls this.
    """
    try:
        fastjcs.check_nesting(data)
    except fastjcs.NestingError as e:
        raise DocumentError(f"not accepted as JSON: {e}") from None


def digest_file(path: str | os.PathLike[str], media_type: str | None = None) -> Digest:
    """Digest of a file; raw files are streamed, so their size does not bound memory."""
    name = os.fspath(path)
    essence = media_type_for(path, media_type)
    try:
        with open(path, "rb", buffering=0) as file:
            if canonicalization_for(essence) != RAW_SHA256:
                return digest_bytes(file.read(), essence, name=name)
            sha = hashlib.file_digest(file, "sha256")  # into one reused 256 KiB buffer
            size = file.tell()
    except OSError as exc:
        raise DocumentError(f"{name}: cannot read file: {exc.strerror or exc}") from exc
    return Digest(sha.digest(), RAW_SHA256, essence, size)


def _apply(method: str, data: bytes, name: str) -> bytes:
    if method == JCS_RFC8785:
        return _canonical_json(data, name)
    if method == XML_C14N2:
        return _canonical_xml(data, name)
    return data


def _canonical_json(data: bytes, name: str) -> bytes:
    try:
        return fastjcs.canonicalize_json(data)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DocumentError(
            f"{name}: not UTF-8 at line {line} (byte {exc.start}); JSON must be UTF-8"
        ) from exc
    except json.JSONDecodeError as exc:
        raise DocumentError(
            f"{name}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    except fastjcs.DuplicateKeyError as exc:
        raise DocumentError(
            f"{name}: duplicate JSON object key {exc.key!r} makes its meaning ambiguous"
        ) from exc
    except rfc8785.CanonicalizationError as exc:
        raise DocumentError(f"{name}: JSON has no RFC 8785 canonical form: {exc}") from exc
    except fastjcs.NestingError as exc:
        raise DocumentError(f"{name}: JSON {exc}") from exc
    except RecursionError as exc:  # only if the caller is itself deep in recursion
        raise DocumentError(f"{name}: JSON is nested too deeply") from exc
    except ValueError as exc:  # e.g. an integer literal beyond Python's digit limit
        raise DocumentError(f"{name}: not valid JSON: {exc}") from exc


class _Refused(Exception):
    """Input we will not canonicalize; the message says why."""


class _C14NTarget(ET.C14NWriterTarget):
    """C14N 2.0 writer that refuses DTDs, comments and processing instructions inside the root
    element (see the module docstring), and bounds the structure its per-element work grows with.

    The stdlib writer looks names up by walking every open element and every namespace in scope,
    so without bounds a few MB of nesting or of namespace declarations would take hours.
    """

    def __init__(self, write: Callable[[str], object]) -> None:
        super().__init__(write, with_comments=False, strip_text=False)
        self._declared: list[int] = []  # per open element, the namespaces it declares
        self._pending = 0  # declarations for the element about to start
        self._in_scope = 0

    # The parser calls this on "<!DOCTYPE", before reading any entity declaration.
    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise _Refused(
            "XML with a document type declaration (DTD) is refused: its entities could pull in "
            "external files or expand without bound"
        )

    def start_ns(self, prefix: str, uri: str) -> None:
        self._pending += 1
        self._in_scope += 1
        if self._in_scope > MAX_XML_NAMESPACES:
            raise _Refused(f"XML has more than {MAX_XML_NAMESPACES} namespace declarations in scope")
        super().start_ns(prefix, uri)

    def start(self, tag: str, attrs: Mapping[str, str]) -> None:
        if len(self._declared) == MAX_XML_DEPTH:
            raise _Refused(f"XML elements nest more than {MAX_XML_DEPTH} levels deep")
        self._declared.append(self._pending)
        self._pending = 0
        super().start(tag, attrs)

    def end(self, tag: str) -> None:
        self._in_scope -= self._declared.pop()
        super().end(tag)

    # _declared holds one entry per open element, so it is empty before and after the root element.
    def comment(self, text: str) -> None:
        if self._declared:
            raise _NodeInsideRoot("a comment")
        super().comment(text)

    def pi(self, target: str, data: str) -> None:
        if self._declared:
            raise _NodeInsideRoot(f"a processing instruction <?{target}?>")
        super().pi(target, data)


class _NodeInsideRoot(_Refused):
    """A comment or processing instruction inside the root element; the message names which."""


def _canonical_xml(data: bytes, name: str) -> bytes:
    parts: list[str] = []
    parser = ET.XMLParser(target=_C14NTarget(parts.append))
    view = memoryview(data)
    try:
        # In slices, so that once we refuse, expat is not left to parse a large remainder.
        for start in range(0, len(view), _XML_FEED_CHUNK):
            parser.feed(view[start : start + _XML_FEED_CHUNK])
        parser.close()
    except _NodeInsideRoot as exc:
        line = _line_of_first_node_inside_root(data)
        where = f" at line {line}" if line is not None else ""
        raise DocumentError(
            f"{name}: XML has {exc}{where} inside its root element, where readers disagree on the "
            "text around it (some stop at it, the digest reads through it); remove comments and "
            "processing instructions from inside the root element"
        ) from None
    except _Refused as exc:
        raise DocumentError(f"{name}: {exc}") from None
    except ET.ParseError as exc:
        line, column = exc.position
        reason = expat.ErrorString(exc.code) or str(exc)
        raise DocumentError(
            f"{name}: not well-formed XML at line {line} column {column + 1}: {reason}"
        ) from exc
    return "".join(parts).encode("utf-8")


class _Found(Exception):
    """Stops the second pass at the refused node rather than parsing the rest of the document."""


def _line_of_first_node_inside_root(data: bytes) -> int | None:
    """Line of the comment or processing instruction that _C14NTarget refused.

    ElementTree's C parser does not tell its target where it is, so only this error path parses
    again, with expat itself. It stops at the same node: everything before that node has just
    been parsed under our limits, and without namespace processing expat accepts at least as much.
    """
    scanner = expat.ParserCreate()
    depth = 0
    lines: list[int] = []

    def start(_name: str, _attrs: object) -> None:
        nonlocal depth
        depth += 1

    def end(_name: str) -> None:
        nonlocal depth
        depth -= 1

    def node(*_: str) -> None:
        if depth:
            lines.append(scanner.CurrentLineNumber)
            raise _Found

    scanner.StartElementHandler = start
    scanner.EndElementHandler = end
    scanner.CommentHandler = node
    scanner.ProcessingInstructionHandler = node
    view = memoryview(data)
    try:
        for begin in range(0, len(view), _XML_FEED_CHUNK):
            scanner.Parse(bytes(view[begin : begin + _XML_FEED_CHUNK]), False)
        scanner.Parse(b"", True)
    except (_Found, expat.ExpatError):
        pass
    return lines[0] if lines else None
