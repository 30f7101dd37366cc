"""The Trust Anchor agency service (FastAPI): `create_app(settings)`; `trustanchor serve` runs it."""

from __future__ import annotations

from typing import Any

__all__ = ["ServiceSettings", "create_app", "load_settings"]


def __getattr__(name: str) -> Any:
    # The `trustanchor` CLI imports api.cli for every command; the app and its framework load only when
    # asked for.
    if name == "create_app":
        from .app import create_app

        return create_app
    if name in ("ServiceSettings", "load_settings"):
        from . import settings

        return getattr(settings, name)
    raise AttributeError(f"module 'api' has no attribute {name!r}")
