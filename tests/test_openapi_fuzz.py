"""Schema-driven requests (schemathesis) against the real service under gunicorn.

Every operation of ``/api/v1/openapi.json`` gets the same bounded number of generated
requests (valid ones, and ones that break the schema), from a fixed seed (Hypothesis
``derandomize``), sent over HTTP with a tenant's API key so the authenticated operations are
reached past the key check. Each answer must be no 5xx, a status the document lists for that
operation, of a documented content type, and a body that matches the documented schema. Every
failure is collected (not only the first) and reported together.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.transport.serialization import serialize_binary

from tests.service import Service, service_env

pytestmark = pytest.mark.slow


@schemathesis.serializer("application/timestamp-query")
def _timestamp_query(_ctx: Any, value: Any) -> bytes:
    """An RFC 3161 request is bytes on the wire, like a PDF."""
    return serialize_binary(value)


# Examples per operation: requests that fit the schema, and requests that break it (each
# must be refused with a documented 4xx, never a 5xx).
EXAMPLES = {GenerationMode.POSITIVE: 20, GenerationMode.NEGATIVE: 8}
# Registration resolves a webhook's host name: the generated URLs use names the machine knows
# without asking a DNS server (and literal addresses), so the run sends nothing off this host.
WEBHOOK_URLS = (
    "http://localhost/hook",
    "https://localhost:8443/x",
    "http://127.0.0.1:9/",
    "http://[::1]/",
    "http://[fe80::1%25eth0]/",
    "http://10.0.0.1/",
    "ftp://localhost/",
    "http://user:pw@localhost/",
    "not a url",
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzzed_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, str]]:
    """A service on SQLite with one tenant, a few events, a checkpoint and a seal."""
    home = tmp_path_factory.mktemp("fuzz") / "instance"
    home.mkdir()
    svc = Service(home=home, env=service_env(home, f"sqlite:///{home / 'sealtrail.db'}"))
    svc.start()
    try:
        key = svc.flask("tenant", "create", "Schema Fuzz").strip().splitlines()[-1]
        headers = {"Authorization": f"Bearer {key}"}
        now = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
        events = [{"type": "t", "subject": f"s{i}", "occurred_at": now} for i in range(3)]
        r = requests.post(
            f"{svc.url}/api/v1/events", json={"events": events}, headers=headers, timeout=30
        )
        assert r.status_code == 201, r.text
        deadline = time.monotonic() + 30  # the checkpoint job runs every 0.5 s here
        while requests.get(f"{svc.url}/api/v1/checkpoints/latest", timeout=5).status_code != 200:
            assert time.monotonic() < deadline, "no checkpoint within 30 s"
            time.sleep(0.2)
        seal = requests.post(
            f"{svc.url}/api/v1/seals", json={"text": "Fuzz Ltd"}, headers=headers, timeout=30
        )
        assert seal.status_code == 201, seal.text
        yield svc, key
    finally:
        svc.stop()


def _describe(exc: BaseException) -> str:
    parts = [str(exc)]
    for sub in getattr(exc, "exceptions", ()):
        parts.append(f"{getattr(sub, 'title', type(sub).__name__)}: {sub}")
    return "\n    ".join(parts)


def _local_webhook_url(case: Any) -> Any:
    if isinstance(case.body, dict) and isinstance(case.body.get("url"), str):
        case.body["url"] = WEBHOOK_URLS[len(case.body["url"]) % len(WEBHOOK_URLS)]
    return case


def test_every_operation_answers_within_its_schema(fuzzed_service: tuple[Service, str]) -> None:
    svc, key = fuzzed_service
    schema = schemathesis.openapi.from_url(f"{svc.url}/api/v1/openapi.json")
    session = requests.Session()
    headers = {"Authorization": f"Bearer {key}"}
    failures: dict[str, list[str]] = {}
    sent: dict[str, int] = {}

    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 40

    def exercise_for(label: str) -> Any:
        def exercise(case: Any) -> None:
            response = case.call(base_url=svc.url, session=session, headers=headers, timeout=60)
            sent[label] += 1
            try:
                case.validate_response(response, checks=CHECKS)
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis raises a group
                found = failures.setdefault(label, [])
                if len(found) < 3:
                    found.append(_describe(exc)[:900])

        return exercise

    for operation in operations:
        sent[operation.label] = 0
        for mode, examples in EXAMPLES.items():
            strategy = operation.as_strategy(generation_mode=mode).map(_local_webhook_url)
            run = settings(
                max_examples=examples,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )(given(case=strategy)(exercise_for(operation.label)))
            try:
                run()
            except Unsatisfiable:
                # nothing to break: an operation without parameters or body
                assert mode is GenerationMode.NEGATIVE, operation.label

    total = sum(sent.values())
    print(f"schemathesis: {total} requests over {len(sent)} operations")
    assert total >= len(operations) * 5
    assert not failures, "\n\n".join(
        f"{label}\n  " + "\n  ".join(found) for label, found in failures.items()
    )
    log = svc.log_path.read_text()
    assert "Traceback" not in log, log[-3000:]
