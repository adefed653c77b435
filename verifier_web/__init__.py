"""The browser verifier, built into one HTML file (``build/sealtrail-verifier.html``).

Its sources are the JavaScript modules under ``src/``; ``build.mjs`` makes the file and the
file is checked in. The service serves it at ``/verify/offline.html`` and attaches it to every
certificate of evidence beside the bundle; this module only finds it.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

__all__ = ["VERIFIER_ATTACHMENT", "VERIFIER_HTML", "content_security_policy", "verifier_html"]

VERIFIER_HTML = Path(__file__).resolve().parent / "build" / "sealtrail-verifier.html"
VERIFIER_ATTACHMENT = "sealtrail-verifier.html"
"""Name of the embedded file that carries the verifier inside a certificate of evidence."""


@cache
def verifier_html() -> bytes:
    """The built verifier page (read once: it changes only with a new release)."""
    return VERIFIER_HTML.read_bytes()


@cache
def content_security_policy() -> str:
    """The page's own Content-Security-Policy (its meta tag), for the HTTP header."""
    found = re.search(rb'http-equiv="Content-Security-Policy" content="([^"]+)"', verifier_html())
    if found is None:
        raise RuntimeError(f"{VERIFIER_HTML} has no Content-Security-Policy")
    return found.group(1).decode("ascii")
