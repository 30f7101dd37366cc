"""The Trust Anchor agency service (FastAPI): `create_app(settings)`; `trustanchor serve` runs it."""

from .app import create_app
from .settings import ServiceSettings, load_settings

__all__ = ["ServiceSettings", "create_app", "load_settings"]
