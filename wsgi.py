"""WSGI entry point for production servers: the app and the scheduler, on one set of services.

Each gunicorn worker imports this module once: it builds the worker's services, serves
requests with them and competes to lead the scheduler with the same services (one engine, one
pool, one anchorer per process).
"""

from __future__ import annotations

import atexit

from app import create_app
from evidence_chain.config import load_settings
from runtime.scheduler import SchedulerLeader
from runtime.services import build_services

services = build_services(load_settings())
app = create_app(services=services)
atexit.register(services.close)  # registered first, so it runs after the leader has stopped

if services.settings.scheduler_enabled:
    _leader = SchedulerLeader(services)
    _leader.start()
    atexit.register(_leader.stop)
