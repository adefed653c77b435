"""One set of services per process, found one way, shared by the requests and the jobs."""

from __future__ import annotations

import threading
import time
from typing import Any

from runtime import services as runtime_services
from runtime.jobs import scheduled_jobs
from runtime.scheduler import SchedulerLeader
from runtime.services import Services
from web import context


def test_racing_requests_build_the_services_once(settings, monkeypatch):
    from app import create_app
    from runtime.setup import initialise

    initialise(settings)
    app = create_app(settings)
    built: list[Services] = []
    real = runtime_services.build_services

    def slow_build(*args: Any, **kwargs: Any) -> Services:
        time.sleep(0.2)  # every racing thread arrives while the first one is building
        result = real(*args, **kwargs)
        built.append(result)
        return result

    monkeypatch.setattr(runtime_services, "build_services", slow_build)
    found: list[Services] = []
    start = threading.Barrier(8)

    def ask() -> None:
        start.wait()
        found.append(context.services(app))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert len(built) == 1
        assert all(s is built[0] for s in found) and len(found) == 8
    finally:
        context.close(app)


def test_the_app_serves_with_the_services_it_was_given(settings):
    from app import create_app
    from runtime.services import build_services
    from runtime.setup import initialise

    initialise(settings)
    given = build_services(settings)
    app = create_app(services=given)
    try:
        assert context.services(app) is given
        assert context.settings(app) is given.settings
        response = app.test_client().get("/api/v1/log")
        assert response.get_json()["origin"] == given.ledger.key.origin
    finally:
        given.close()


def test_the_scheduler_runs_every_job_on_the_shared_services(instance):
    leader = SchedulerLeader(instance)
    assert leader.services is instance
    ids = [job.id for job in leader.jobs]
    assert ids == [
        "checkpoint",
        "webhooks",
        "envelope-expiry",
        "envelope-reminders",
    ]  # no anchoring
    assert [job.id for job in scheduled_jobs(instance)] == ids


def test_a_failing_job_is_logged_and_the_next_run_happens(instance, caplog, monkeypatch):
    def broken() -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(instance.ledger, "sign_checkpoint", broken)
    job = {job.id: job for job in scheduled_jobs(instance)}["checkpoint"]
    with caplog.at_level("ERROR"):
        assert job.func() is None
        assert job.func() is None
    assert sum("scheduled job broken failed" in r.getMessage() for r in caplog.records) == 2


def test_the_schema_check_reads_what_alembic_reads(settings):
    from alembic.runtime.migration import MigrationContext

    from evidence_chain import db
    from runtime.setup import initialise

    engine = db.make_engine(settings.database_url)
    try:
        assert db.current_revision(engine) is None  # an empty database has no schema yet
        initialise(settings)
        with engine.connect() as conn:
            alembic_current = MigrationContext.configure(conn).get_current_revision()
        assert db.current_revision(engine) == alembic_current
        assert db.head_revision() == db.alembic_head_revision() == alembic_current
    finally:
        engine.dispose()
