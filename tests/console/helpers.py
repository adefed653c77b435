"""Helpers of the console tests: forms with their CSRF token, people made by the CLI."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
LINK = re.compile(r"https?://\S+/app/set-password/([A-Za-z0-9_-]+)")
PASSWORD = "correct horse battery staple"


def csrf(client: Any, path: str = "/app/login") -> str:
    """The CSRF token of the client's browser session, read from a page's form."""
    page = client.get(path)
    found = CSRF.search(page.get_data(as_text=True))
    assert found, page.get_data(as_text=True)[:500]
    return found.group(1)


def tenant_with_owner(app: Any, name: str, email: str) -> str:
    """Create a tenant with its owner by the CLI; return the set-password link's token."""
    out = app.test_cli_runner().invoke(args=["tenant", "create", name, "--owner", email])
    assert out.exit_code == 0, out.output
    found = LINK.search(out.output)
    assert found, out.output
    return found.group(1)


def set_password(client: Any, token: str, password: str = PASSWORD) -> Any:
    """Choose a password from a set-password link."""
    page = client.get(f"/app/set-password/{token}")
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    token_csrf = CSRF.search(page.get_data(as_text=True))
    assert token_csrf
    return client.post(
        f"/app/set-password/{token}",
        data={"csrf_token": token_csrf.group(1), "password": password, "confirm": password},
    )


def login(client: Any, email: str, password: str = PASSWORD, **headers: str) -> Any:
    """Post the login form."""
    return client.post(
        "/app/login",
        data={"csrf_token": csrf(client), "email": email, "password": password},
        headers=headers,
    )


def owner_client(app: Any, name: str, email: str) -> Any:
    """A logged-in test client of a new tenant's owner."""
    client = app.test_client()
    assert set_password(client, tenant_with_owner(app, name, email)).status_code == 303
    assert login(client, email).status_code == 303
    return client


def person_id(instance: Any, email: str) -> str:
    """The public id of the person with ``email``."""
    from people.models import PERSON

    with instance.engine.connect() as conn:
        return str(
            conn.execute(select(PERSON.c.public_id).where(PERSON.c.email == email)).scalar_one()
        )


def person_records(instance: Any) -> list[dict[str, Any]]:
    """Every evidence record of a person subject, in log order."""
    import json

    from evidence_chain.models import LedgerEntry

    table = LedgerEntry.__table__  # type: ignore[attr-defined]
    with instance.engine.connect() as conn:
        rows = conn.execute(
            select(table.c.record)
            .where(table.c.subject.like("person:%"))
            .order_by(table.c.leaf_index)
        ).all()
    return [json.loads(r.record) for r in rows]
