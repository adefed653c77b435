"""Evidence bundles and certificates of evidence for a subject."""

from __future__ import annotations

from typing import Any

from flask import Flask

# Paths this module adds to the OpenAPI document (web/openapi.py merges them).
OPENAPI_PATHS: dict[str, Any] = {}


def init_app(app: Flask) -> None:
    """Register this module's routes and commands."""
