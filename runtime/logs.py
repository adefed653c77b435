"""Where the process's log lines go: the service logs at INFO, commands only at WARNING.

Log lines go to stderr either way; a command's answer alone goes to stdout.
"""

from __future__ import annotations

import logging

from evidence_chain import redact

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(level: int = logging.INFO) -> None:
    """Send the process's log to stderr at ``level``, unless something (gunicorn's master
    before a worker, a test harness, an embedding application) already set up the log."""
    root = logging.getLogger()
    if root.handlers:
        return
    logging.basicConfig(level=level, format=FORMAT)
    # Signer-link tokens, API keys and URL credentials never reach the log.
    redact.install_on_loggers(root)
    # The scheduler's own per-run lines every few seconds drown the service's log.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
