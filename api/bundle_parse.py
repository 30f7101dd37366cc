"""Proof bundles from request JSON, validated by the library's models with the batch-wide parts cached.

Every document of a batch carries the same `batch` (root, signature, certificates) and `anchor`
sections, and validating them (DER certificates, address checksums) is most of a bundle's validation
cost. Their validation depends on nothing but their content, so a validated `Batch`/`Anchor` is
reused for an identical section; the bundle itself (document, terms, leaf, proof and the cross-checks)
is validated every time. Anything that does not validate takes the library's `Bundle.from_json` path,
so errors read exactly as `trustanchor verify` reports them.

It must accept exactly what `Bundle.from_json(json.dumps(obj))` accepts and read it the same
(tests/test_bundle_fuzz.py checks this against mutated bundles). Two things the library's JSON path sees
that model validation of parsed data does not are checked here first: the library's parser refuses a
lone surrogate (Python's json module lets one through in a string), and the library counts every '{'
and '[' of the text, also those inside strings, against its limit on nested objects and arrays.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import Any

from pydantic import BaseModel, ValidationError

from anchor.bundle import MEDIA_TYPE, Anchor, Batch, Bundle
from anchor.bundle.parse import MAX_CONTAINERS as _MAX_CONTAINERS

from .jsonbody import load_bundle


class _Invalid(Exception):
    pass


_SURROGATE = re.compile("[\ud800-\udfff]")


def _as_the_library_reads_it(obj: dict[str, Any]) -> bool:
    """Would `Bundle.from_json(json.dumps(obj))` get past its JSON pre-checks with the same strings?

    Walks the parsed value as json.dumps writes it: every object and array counts as one container, and
    so does every '{' and '[' inside a string (keys included), as `anchor.bundle._precheck` counts
    characters of the text; a surrogate code point in any string means the library reads another
    string, or none at all.
    """
    containers = 0
    stack: list[Any] = [obj]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            containers += 1
            for key, item in value.items():
                stack.append(key)
                stack.append(item)
        elif isinstance(value, list):
            containers += 1
            stack.extend(value)
        elif isinstance(value, str):
            if not value.isascii() and _SURROGATE.search(value):
                return False
            if "{" in value or "[" in value:
                containers += value.count("{") + value.count("[")
        if containers > _MAX_CONTAINERS:
            return False
    return True


class BundleParser:
    def __init__(self, cache_size: int = 2048) -> None:
        self._cache: OrderedDict[tuple[str, str], BaseModel] = OrderedDict()
        self._size = cache_size
        self._lock = threading.Lock()

    def _section(self, model: type[BaseModel], value: Any) -> BaseModel:
        if not isinstance(value, dict):
            raise _Invalid
        # repr of JSON-parsed data (str, int, float, bool, None, list, dict) determines it exactly.
        key = (model.__name__, repr(value))
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        try:
            parsed = model.model_validate(value, by_alias=True, by_name=False)
        except ValidationError:
            raise _Invalid from None
        with self._lock:
            self._cache[key] = parsed
            if len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return parsed

    def parse(self, obj: Any, field: str = "bundle") -> Bundle:
        try:
            if not isinstance(obj, dict) or obj.get("mediaType") != MEDIA_TYPE:
                raise _Invalid
            if not _as_the_library_reads_it(obj):
                raise _Invalid
            data = dict(obj)
            data["batch"] = self._section(Batch, obj.get("batch"))
            data["anchor"] = self._section(Anchor, obj.get("anchor"))
            return Bundle.model_validate(data, by_alias=True, by_name=False)
        except (_Invalid, ValidationError, TypeError, ValueError):
            return load_bundle(obj, field)
