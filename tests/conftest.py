"""Shared fixtures: every database-backed test runs on SQLite and, when
``EVIDENCE_TEST_DATABASE_URL`` is set, on PostgreSQL too (each test in a schema of its own)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from evidence_chain.config import Settings, load_settings, normalize_database_url
from runtime.setup import initialise

PG_URL = os.environ.get("EVIDENCE_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgres"] if PG_URL else [])


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sealtrail.db'}"
        return
    assert PG_URL
    base = normalize_database_url(PG_URL)
    schema = "t_" + uuid.uuid4().hex[:16]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        _trigram_in_public(conn)
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options=-csearch_path%3D{schema}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _trigram_in_public(conn: Any) -> None:
    """Keep ``pg_trgm`` in ``public``: made inside one test's schema, it would go when that
    schema is dropped, and take the search indexes of every other test's schema with it."""
    from sqlalchemy.exc import DBAPIError

    for _ in range(3):
        try:
            home = conn.execute(
                text(
                    "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n"
                    " ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
                )
            ).scalar()
            if home is None:
                conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
            elif home != "public":
                conn.execute(text("ALTER EXTENSION pg_trgm SET SCHEMA public"))
            return
        except DBAPIError:  # another worker made or moved it at the same moment
            continue


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings of a fresh instance under a temporary home, scheduler off."""
    home = tmp_path / "home"
    return load_settings(
        {
            "EVIDENCE_HOME": str(home),
            "DATABASE_URL": database_url,
            "EVIDENCE_SCHEDULER": "false",
            "EVIDENCE_LOG_ORIGIN": "sealtrail.test/log",
            "EVIDENCE_ANCHORING": "false",
            # Tests that are not about rate limits make many requests from one address; the
            # limit tests (tests/test_rate_limits.py) turn them on with low limits.
            "EVIDENCE_RATE_LIMITS": "false",
        }
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[Any]:
    """An initialised application on a fresh instance."""
    from app import create_app
    from web import context

    initialise(settings)
    application = create_app(settings)
    application.config["TESTING"] = True
    yield application
    context.close(application)


@pytest.fixture
def instance(app: Any) -> Any:
    """The services of the test instance, as the app's requests find them."""
    from web.context import services

    return services(app)


@pytest.fixture
def client(app: Any) -> Any:
    """A Flask test client."""
    return app.test_client()


@pytest.fixture
def tenant(instance: Any) -> tuple[Any, str]:
    """A tenant and its API key."""
    from evidence_chain.tenants import create_tenant

    return create_tenant(instance.engine, "Acme Signing Platform")


@pytest.fixture
def auth(tenant: tuple[Any, str]) -> dict[str, str]:
    """Authorization headers of the test tenant."""
    return {"Authorization": f"Bearer {tenant[1]}"}
