"""A real Sealtrail service for the client libraries: gunicorn on SQLite, anchoring to the
embedded anvil chain every second, webhooks allowed to a receiver on this machine. Shared by
the Python and the TypeScript client's tests (the clients do not depend on the database)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.chain.anvil import anvil_available
from tests.chain.conftest import require_tool
from tests.service import Service, free_port, service_env
from tests.webhooks.conftest import Receiver, serve


@dataclass
class Running:
    """The service, a tenant's key, and a webhook receiver with its secret."""

    service: Service
    api_key: str
    receiver: Receiver


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    require_tool(anvil_available(), "node_modules/.bin/anvil")
    home: Path = tmp_path_factory.mktemp("clients") / "instance"
    home.mkdir()
    env = service_env(
        home,
        f"sqlite:///{home / 'sealtrail.db'}",
        EVIDENCE_ANCHORING="true",
        EVIDENCE_CHAIN_PORT=str(free_port()),
        EVIDENCE_ANCHOR_INTERVAL="1",
        EVIDENCE_CHAIN_WATCH_INTERVAL="0.5",
        EVIDENCE_WEBHOOK_ALLOW_PRIVATE="true",
    )
    svc = Service(home=home, env=env)
    svc.start()
    try:
        key = json.loads(svc.flask("tenant", "create", "客户端测试 Client tests", "--json"))
        with serve() as receiver:
            yield Running(svc, key["api_key"], receiver)
    finally:
        svc.stop()
