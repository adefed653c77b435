"""Every periodic job of an instance, one line each; the scheduler leader runs them.

Jobs are idempotent (a takeover by another process, or a run after a crash, does no harm) and
each one's failure is logged and retried at its next interval, never fatal to the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from runtime.services import Services

log = logging.getLogger(__name__)

WEBHOOK_INTERVAL = 2.0
"""Seconds between webhook delivery runs (each sends bounded batches for up to about 10 s)."""
MAIL_INTERVAL = 5.0
"""Seconds between mail delivery runs (new mail also leaves at once, from the process that
queued it; this job sends the retries and whatever a crashed process left)."""
ENVELOPE_EXPIRY_INTERVAL = 60.0
ENVELOPE_REMINDER_INTERVAL = 300.0
"""How often the reminder job looks (each envelope says how often its parties are reminded)."""
"""Seconds between envelope expiry runs (expiry is also checked lazily on access)."""


@dataclass(frozen=True)
class Job:
    """A periodic job: its id, function and interval in seconds."""

    id: str
    func: Callable[[], Any]
    seconds: float


def scheduled_jobs(services: Services) -> list[Job]:
    """The jobs every instance runs (anchoring ones only with anchoring enabled)."""
    settings = services.settings
    jobs = [
        Job("checkpoint", logged(services.ledger.sign_checkpoint), settings.checkpoint_interval)
    ]
    if services.anchorer is not None:
        jobs.append(Job("anchor", logged(services.anchorer.anchor_job), settings.anchor_interval))
        jobs.append(
            Job("anchor-watch", logged(services.anchorer.watch_job), settings.watch_interval)
        )
    jobs.append(Job("webhooks", logged(services.webhooks.drain), WEBHOOK_INTERVAL))
    if services.mail is not None:
        jobs.append(Job("mail", logged(services.mail.drain), MAIL_INTERVAL))
    jobs.append(
        Job("envelope-expiry", logged(services.envelopes.expire_due), ENVELOPE_EXPIRY_INTERVAL)
    )
    jobs.append(
        Job(
            "envelope-reminders",
            logged(services.envelopes.remind_due),
            ENVELOPE_REMINDER_INTERVAL,
        )
    )
    return jobs


def logged(func: Callable[[], Any]) -> Callable[[], Any]:
    """``func``, its failures logged (with the traceback) instead of raised."""

    def run() -> Any:
        try:
            return func()
        except Exception:
            log.exception(
                "scheduled job %s failed; it runs again at its next interval", func.__name__
            )
            return None

    run.__name__ = func.__name__
    return run
