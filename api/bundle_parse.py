"""Proof bundles from request JSON, validated by the library's models with the batch-wide parts cached.

Every document of a batch carries the same `batch` (root, signature, certificates) and `anchor`
sections, and validating them (DER certificates, address checksums) is most of a bundle's validation
cost. Their validation depends on nothing but their content, so a validated `Batch`/`Anchor` is
reused for an identical section; the bundle itself (document, leaf, proof and the cross-checks) is
validated every time. Anything that does not validate takes the library's `Bundle.from_json` path,
so errors read exactly as `trustanchor verify` reports them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from pydantic import BaseModel, ValidationError

from anchor.bundle import MEDIA_TYPE, Anchor, Batch, Bundle

from .jsonbody import load_bundle


class _Invalid(Exception):
    pass


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
            data = dict(obj)
            data["batch"] = self._section(Batch, obj.get("batch"))
            data["anchor"] = self._section(Anchor, obj.get("anchor"))
            return Bundle.model_validate(data, by_alias=True, by_name=False)
        except (_Invalid, ValidationError, TypeError, ValueError):
            return load_bundle(obj, field)
