"""Fixtures for webhooks: a real HTTP receiver that checks signatures, a fake clock, tenants.

The receiver verifies every request with the snippet published in docs/webhooks.md (extracted
and executed here), so the documented verification is the one the tests rely on. Receivers
listen on loopback addresses, so the instance here allows private webhook targets
(``EVIDENCE_WEBHOOK_ALLOW_PRIVATE``); a test module overrides ``allow_private`` to check the
default, which refuses them.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from evidence_chain.config import Settings
from evidence_chain.tenants import TenantRef, create_tenant
from webhooks.service import WebhookService

DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def docs_verifier() -> Callable[..., bool]:
    """The ``verify_signature`` function of the Python snippet in docs/webhooks.md."""
    text = DOCS.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    snippet = next(b for b in blocks if "def verify_signature" in b)
    namespace: dict[str, Any] = {}
    exec(compile(snippet, str(DOCS), "exec"), namespace)  # noqa: S102 - our own documentation
    verify: Callable[..., bool] = namespace["verify_signature"]
    return verify


class Clock:
    """A settable clock for the service (and the receiver's tolerance check).

    It starts a second ahead of the real clock, so events queued in real time are due at once.
    """

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += timedelta(seconds=seconds)


@dataclass
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    answered: int

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A local HTTP server that records requests and answers with scripted status codes."""

    url: str
    secret: str | None = None
    other_secrets: list[str] = field(default_factory=list)
    now: Callable[[], float] = time.time
    tolerance: int = 300
    script: list[int] = field(default_factory=list)
    default: int = 200
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def verified(self) -> list[Received]:
        """The requests whose signature verified."""
        return [r for r in self.received if r.verified]


@pytest.fixture
def allow_private() -> bool:
    """The instance's ``EVIDENCE_WEBHOOK_ALLOW_PRIVATE``: on, as the receivers are local."""
    return True


@pytest.fixture
def settings(settings: Settings, allow_private: bool) -> Settings:
    """The shared test settings, with ``EVIDENCE_WEBHOOK_ALLOW_PRIVATE`` set as asked."""
    return settings.with_overrides(webhook_allow_private=allow_private)


@contextmanager
def serve(host: str = "127.0.0.1", port: int = 0) -> Generator[Receiver, None, None]:
    """Run a receiver on ``host:port`` (a free port by default) until the block ends."""
    verify = docs_verifier()
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if state.delay:
                time.sleep(state.delay)
            keys = ([state.secret] if state.secret else []) + state.other_secrets
            ok = any(
                verify(
                    key,
                    self.headers.get("Sealtrail-Signature", ""),
                    body,
                    tolerance=state.tolerance,
                    now=state.now(),
                )
                for key in keys
            )
            with state.lock:
                code = state.script.pop(0) if state.script else state.default
                if not ok:
                    code = 400
                state.received.append(
                    Received(self.path, dict(self.headers.items()), body, bool(ok), code)
                )
            try:
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except (BrokenPipeError, ConnectionResetError):
                return  # the sender gave up waiting (a timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://{host}:{server.server_address[1]}/hooks/sealtrail"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A receiver on a free local port; it verifies with ``receiver.secret`` once set."""
    with serve() as state:
        yield state


@pytest.fixture
def clock() -> Clock:
    """A fake clock, starting now."""
    return Clock()


def webhook_service(services: Any, **kwargs: Any) -> WebhookService:
    """Another webhook service on the instance's database and master key (tuned by ``kwargs``)."""
    kwargs.setdefault("allow_private", services.settings.webhook_allow_private)
    return WebhookService(services.engine, services.master_key, **kwargs)


@pytest.fixture
def service(instance: Any, clock: Clock) -> WebhookService:
    """The app's webhook service, on the fake clock, with deterministic jitter."""
    import random

    svc = webhook_service(instance, clock=clock, rng=random.Random(5), timeout=2.0)
    instance.webhooks = svc  # what the app's requests and jobs use from now on
    return svc


@pytest.fixture
def other_tenant(instance: Any) -> tuple[TenantRef, dict[str, str]]:
    """A second tenant and its authorization headers."""
    ref, key = create_tenant(instance.engine, "Other Platform")
    return ref, {"Authorization": f"Bearer {key}"}


def follow(receiver: Receiver, clock: Clock) -> None:
    """Make the receiver judge timestamps by the service's fake clock."""
    receiver.now = lambda: clock().timestamp()
