"""The signer's page: a party opens its link, asks for a code, places its signature and signs."""

from __future__ import annotations

from typing import Any

from flask import Flask

# Paths this module adds to the OpenAPI document (web/openapi.py merges them).
OPENAPI_PATHS: dict[str, Any] = {}


def init_app(app: Flask) -> None:
    """Register this module's routes and commands."""
