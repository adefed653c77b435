"""WSGI entry point for production servers: the app and the scheduler, on one set of services.

Each gunicorn worker imports this module once: it builds the worker's services, serves
requests with them and competes to lead the scheduler with the same services (one engine, one
pool, one anchorer per process).
"""

from __future__ import annotations

import atexit
import logging

from app import create_app
from evidence_chain.config import load_settings
from evidence_chain.private_files import restrict_umask
from runtime import logs
from runtime.scheduler import SchedulerLeader
from runtime.services import build_services

logs.configure(logging.INFO)
restrict_umask()  # under any WSGI server: what this worker creates under EVIDENCE_HOME is private
# Built now, not on the first request: a worker refuses to start (ConfigurationError naming
# the file) on an instance that is not initialised or whose keys do not fit together.
services = build_services(load_settings())
app = create_app(services=services)
atexit.register(services.close)  # registered first, so it runs after the leader has stopped

if services.settings.scheduler_enabled:
    _leader = SchedulerLeader(services)
    _leader.start()
    atexit.register(_leader.stop)
