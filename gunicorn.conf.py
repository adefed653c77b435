"""gunicorn settings for ``make run``: one initialisation in the master, then the workers."""

from __future__ import annotations

import os
from typing import Any

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
timeout = 120
graceful_timeout = 20
accesslog = "-"
errorlog = "-"


def on_starting(server: Any) -> None:
    """Create or upgrade the instance once, before any worker starts."""
    from evidence_chain.config import load_settings
    from evidence_chain.instance import initialise

    initialise(load_settings())
