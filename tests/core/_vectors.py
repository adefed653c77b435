"""Access to the vector files copied into tests/core/vectors (see SOURCES.md there)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VECTORS = Path(__file__).parent / "vectors"


def load_json(relative: str) -> Any:
    """Load one JSON vector file by its path under tests/core/vectors."""
    return json.loads((VECTORS / relative).read_text(encoding="utf-8"))


def unhex(value: str | None) -> bytes:
    """Decode the lowercase hex used by every vector file (None means zero bytes)."""
    return bytes.fromhex(value or "")
