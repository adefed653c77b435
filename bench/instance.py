"""A fresh instance for an in-process benchmark: its own home, no scheduler, no anchoring."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from evidence_chain.config import load_settings
from evidence_chain.tenants import TenantRef, create_tenant
from runtime.services import Services, build_services
from runtime.setup import initialise


def postgres_schema(url: str, schema: str) -> str:
    """``url`` pointed at a schema of its own, emptied now (a run leaves it for the next
    run to drop, so its data can be looked at afterwards)."""
    from sqlalchemy import create_engine, text

    from evidence_chain.config import normalize_database_url

    base = normalize_database_url(url)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@contextmanager
def fresh(extra: dict[str, str] | None = None) -> Iterator[tuple[Services, TenantRef]]:
    """An initialised instance in a temporary home with one tenant; closed afterwards.

    ``extra`` adds settings by their environment names (``DATABASE_URL``, say).
    """
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            {"EVIDENCE_HOME": tmp, "EVIDENCE_SCHEDULER": "false", "EVIDENCE_ANCHORING": "false"}
            | (extra or {})
        )
        initialise(settings)
        inst = build_services(settings)
        tenant, _ = create_tenant(inst.engine, "Bench")
        try:
            yield inst, tenant
        finally:
            inst.close()
