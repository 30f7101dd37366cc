"""Term profiles: where each document type keeps the terms its leaf commits to (data, not code per type).

A profile names, per document type and format, a JSON Pointer or an XPath for each term (destination,
validity period, quantity, unit). The issuer reads the terms from the document itself, so it commits to
nothing the document does not say, and refuses a document whose required term is missing or malformed
with the file, the path and the reason. Profiles ship in ``default.toml``; ``TRUSTANCHOR_PROFILES``
points to another file.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from ..doctypes import type_name
from ..errors import ConfigError, DocumentError
from ..inputs import MAX_QUANTITY, MAX_TIME
from ..issuing.leaf import LeafError, Terms

DEFAULT = Path(__file__).with_name("default.toml")
TERMS = ("destination", "valid_from", "valid_until", "quantity", "unit")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class TermError(DocumentError):
    """A document lacks a required term, or a term does not parse: one line naming file, path, reason."""


@dataclass(frozen=True)
class Field:
    path: str
    xpath: bool
    required: bool


@dataclass(frozen=True)
class Profile:
    doc_type: str
    format: str
    fields: dict[str, Field]
    namespaces: dict[str, str] = field(default_factory=dict)

    def read(self, data: bytes, name: str) -> Terms:
        """The terms `data` (the document named `name`) states, per this profile."""
        values = self._values(data, name)
        raw: dict[str, Any] = {}
        for term, f in self.fields.items():
            value = values.get(term)
            if value is None or value == "":
                if f.required:
                    raise TermError(
                        f"{name}: {f.path} is missing; a {self.doc_type} must state its {_label(term)}"
                    )
                continue
            raw[term] = _parse(term, value, name, f.path)
        try:
            return Terms(
                destination=raw.get("destination", ""),
                valid_from=raw.get("valid_from", 0),
                valid_until=raw.get("valid_until", 0),
                quantity=raw.get("quantity", 0),
                unit=raw.get("unit", ""),
            )
        except LeafError as e:
            raise TermError(f"{name}: {e}") from None

    def _values(self, data: bytes, name: str) -> dict[str, Any]:
        if self.format == "json":
            try:
                doc = json.loads(data)
            except (ValueError, UnicodeDecodeError) as e:
                raise TermError(f"{name}: not JSON, so its terms cannot be read ({e})") from None
            return {t: _pointer(doc, f.path, name) for t, f in self.fields.items()}
        from lxml import etree

        try:
            parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
            root = etree.fromstring(data, parser)
        except etree.XMLSyntaxError as e:
            raise TermError(f"{name}: not XML, so its terms cannot be read ({e})") from None
        out: dict[str, Any] = {}
        for t, f in self.fields.items():
            try:
                found = root.xpath(f.path, namespaces=self.namespaces)
            except etree.XPathError as e:
                raise ConfigError(f"profile {self.doc_type}.xml: bad XPath {f.path!r} ({e})") from None
            if isinstance(found, list):
                texts = [("".join(n.itertext()) if hasattr(n, "itertext") else str(n)).strip() for n in found]
                if len(texts) > 1:
                    raise TermError(
                        f"{name}: {f.path} matches {len(texts)} elements; its {_label(t)} is ambiguous"
                    )
                out[t] = texts[0] if texts else None
            else:
                out[t] = str(found).strip() or None
        return out


def _label(term: str) -> str:
    return term.replace("_", " ")


def _pointer(doc: Any, pointer: str, name: str) -> Any:
    """RFC 6901: None when a step is absent."""
    if pointer == "":
        return doc
    value = doc
    for raw in pointer.lstrip("/").split("/"):
        step = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict):
            if step not in value:
                return None
            value = value[step]
        elif isinstance(value, list) and step.isascii() and step.isdigit():
            if int(step) >= len(value):
                return None
            value = value[int(step)]
        else:
            return None
    return value


def _parse(term: str, value: Any, name: str, path: str) -> Any:
    where = f"{name}: {path} = {json.dumps(value) if not isinstance(value, str) else repr(value)}"
    if term == "destination":
        if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9]{1,8}", value.strip()):
            raise TermError(f"{where} is not a party or country code (1-8 letters or digits)")
        return value.strip().upper()
    if term in ("valid_from", "valid_until"):
        if not isinstance(value, str):
            raise TermError(f"{where} is not a date or date-time")
        return _time(value.strip(), end_of_day=term == "valid_until", where=where)
    if term == "quantity":
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise TermError(f"{where} is not a whole number")
        text = str(value).strip()
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_QUANTITY:
            raise TermError(f"{where} is not a whole number in 1..{MAX_QUANTITY}")
        return int(text)
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9]{1,8}", value.strip()):
        raise TermError(f"{where} is not a unit of 1-8 letters or digits")
    return value.strip()


def _time(text: str, *, end_of_day: bool, where: str) -> int:
    if _DATE.fullmatch(text):
        try:
            day = datetime.combine(datetime.strptime(text, "%Y-%m-%d").date(), time(), UTC)
        except ValueError:
            raise TermError(f"{where} is not a calendar date") from None
        value = int((day + timedelta(days=1)).timestamp()) - 1 if end_of_day else int(day.timestamp())
    else:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise TermError(f"{where} is not an ISO 8601 date or date-time") from None
        if moment.tzinfo is None:
            raise TermError(f"{where} has no time zone offset, so the moment it names is unknown")
        value = int(moment.timestamp())
    if not 0 <= value <= MAX_TIME:
        raise TermError(f"{where} is out of range")
    return value


def load(path: Path | None = None) -> dict[tuple[str, str], Profile]:
    """Every profile of `path` (default: TRUSTANCHOR_PROFILES, else the shipped default.toml)."""
    source = path or Path(os.environ.get("TRUSTANCHOR_PROFILES") or DEFAULT)
    try:
        data = tomllib.loads(source.read_text())
    except OSError as e:
        raise ConfigError(f"cannot read term profiles {source}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"term profiles {source}: {e}") from None
    out: dict[tuple[str, str], Profile] = {}
    for doc_type, formats in data.items():
        if not isinstance(formats, dict):
            raise ConfigError(f"term profiles {source}: [{doc_type}] must hold tables per format")
        for fmt, spec in formats.items():
            if fmt not in ("json", "xml") or not isinstance(spec, dict):
                raise ConfigError(f"term profiles {source}: [{doc_type}.{fmt}]: format must be json or xml")
            fields: dict[str, Field] = {}
            for term, f in spec.items():
                if term == "namespaces":
                    continue
                key = "xpath" if fmt == "xml" else "pointer"
                if term not in TERMS or not isinstance(f, dict) or not isinstance(f.get(key), str):
                    raise ConfigError(
                        f"term profiles {source}: [{doc_type}.{fmt}] {term}: expected one of {', '.join(TERMS)} "
                        f"with a {key}"
                    )
                fields[term] = Field(f[key], fmt == "xml", bool(f.get("required", False)))
            out[(doc_type, fmt)] = Profile(doc_type, fmt, fields, dict(spec.get("namespaces", {})))
    return out


def profile_for(
    doc_type_id: int, media_type: str, profiles: dict[tuple[str, str], Profile] | None = None
) -> Profile | None:
    """The profile for a document type and media type, if any."""
    fmt = "json" if media_type.endswith("json") else "xml" if media_type.endswith("xml") else None
    if fmt is None:
        return None
    return (profiles if profiles is not None else load()).get((type_name(doc_type_id), fmt))


def merge(read: Terms, override: Terms) -> Terms:
    """Terms read from a document with the ones given explicitly (command line, API) taking precedence."""
    return Terms(
        destination=override.destination or read.destination,
        valid_from=override.valid_from or read.valid_from,
        valid_until=override.valid_until or read.valid_until,
        quantity=override.quantity or read.quantity,
        unit=override.unit or read.unit,
    )
