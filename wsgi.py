"""WSGI entry point for production servers: the app, plus the scheduler (one leader)."""

from __future__ import annotations

import atexit

from app import create_app, get_instance
from runtime.scheduler import SchedulerLeader

app = create_app()

if app.config["SEALTRAIL_SETTINGS"].scheduler_enabled:
    _leader = SchedulerLeader(get_instance(app))
    _leader.start()
    atexit.register(_leader.stop)
