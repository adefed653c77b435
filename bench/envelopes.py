"""A two-party envelope from create to completed through the HTTP API (median of N), and
the signer page's load time (the page and its first page image, as a party first opens it).

Runs the real service (gunicorn, SQLite, no chain) mailing through a local aiosmtpd server;
the initiator uses the JSON API, each party the signer's page forms (CSRF token, code read
from the mail), exactly as in ``tests/envelopes/test_e2e.py``.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests
from aiosmtpd.controller import Controller

from tests.service import Service, free_port, service_env
from tests.signing.conftest import make_pdf

ROUNDS = 5
TARGET_SECONDS = 5.0
CODE = re.compile(r"signing code is (\d{6})")
LINK = re.compile(r"/sign/([A-Za-z0-9_-]+)")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PAGE_IMAGE = re.compile(r'<img[^>]+src="([^"]+/pages/1\.png[^"]*)"')


class _Inbox:
    def __init__(self) -> None:
        self.bodies: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        with self.lock:
            self.bodies.append((str(msg["To"]), body.get_content() if body else ""))
        return "250 OK"

    def find(self, to: str, pattern: re.Pattern[str], after: int) -> str:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with self.lock:
                mine = [b for t, b in self.bodies if t == to][after:]
            for body in mine:
                found = pattern.search(body)
                if found:
                    return found.group(1)
            time.sleep(0.01)
        raise RuntimeError(f"no mail to {to}")

    def count(self, to: str) -> int:
        with self.lock:
            return sum(1 for t, _ in self.bodies if t == to)


def _sign(url: str, inbox: _Inbox, to: str, links_before: int, loads: list[float]) -> None:
    token = inbox.find(to, LINK, links_before)
    http = requests.Session()
    t0 = time.perf_counter()
    page = http.get(f"{url}/sign/{token}", timeout=30)
    image = PAGE_IMAGE.search(page.text)
    if image is None:
        raise RuntimeError("signer page without a page image")
    http.get(url + image.group(1).replace("&amp;", "&"), timeout=30).raise_for_status()
    loads.append(time.perf_counter() - t0)  # the page and its first page image, first open
    found = CSRF.search(page.text)
    if found is None:
        raise RuntimeError(f"signer page without a form: {page.status_code}")
    form = {"csrf_token": found.group(1)}
    before = inbox.count(to)
    http.post(f"{url}/sign/{token}/code", data=form, timeout=30).raise_for_status()
    code = inbox.find(to, CODE, before)
    http.post(f"{url}/sign/{token}/verify", data={**form, "code": code}, timeout=30)
    done = http.post(f"{url}/sign/{token}/sign", data={**form, "intent": "yes"}, timeout=60)
    done.raise_for_status()


def run() -> list[str]:
    """Create, send and sign ROUNDS two-party envelopes; report the median wall time."""
    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    pdf = make_pdf(3)
    times: list[float] = []
    loads: list[float] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp) / "instance"
            home.mkdir()
            env = service_env(
                home,
                f"sqlite:///{home / 'sealtrail.db'}",
                EVIDENCE_SMTP_HOST="127.0.0.1",
                EVIDENCE_SMTP_PORT=str(port),
            )
            service = Service(home=home, env=env)
            service.start()
            try:
                key = service.flask("tenant", "create", "Bench").strip().splitlines()[-1]
                api = requests.Session()
                api.headers["Authorization"] = f"Bearer {key}"
                base = f"{service.url}/api/v1/envelopes"
                for i in range(ROUNDS + 1):  # the first round warms the workers up
                    a, b = f"a{i}@bench.test", f"b{i}@bench.test"
                    spec = {
                        "title": f"Bench {i}",
                        "order": "sequential",
                        "parties": [
                            {
                                "name": "Ann Bench",
                                "email": a,
                                "fields": [{"kind": "signature", "page": 3, "x": 60, "y": 80}],
                            },
                            {
                                "name": "Ben Bench",
                                "email": b,
                                "fields": [{"kind": "signature", "page": 3, "x": 300, "y": 80}],
                            },
                        ],
                    }
                    t0 = time.perf_counter()
                    made = api.post(
                        base,
                        files=[("documents", ("c.pdf", pdf, "application/pdf"))],
                        data={"spec": json.dumps(spec)},
                        timeout=60,
                    )
                    made.raise_for_status()
                    eid = made.json()["id"]
                    api.post(f"{base}/{eid}/send", timeout=60).raise_for_status()
                    _sign(service.url, inbox, a, 0, loads)
                    _sign(service.url, inbox, b, 0, loads)
                    status = api.get(f"{base}/{eid}", timeout=30).json()["status"]
                    if status != "completed":
                        raise RuntimeError(f"envelope {eid} ended {status}")
                    if i:
                        times.append(time.perf_counter() - t0)
            finally:
                service.stop()
    finally:
        controller.stop()
    median = statistics.median(times)
    print(
        f"   two-party envelope, create -> completed over HTTP: median {median:.2f} s "
        f"(min {min(times):.2f}, max {max(times):.2f}, n={len(times)}; aim < {TARGET_SECONDS} s)"
    )
    loads = loads[2:]  # the warm-up round's two parties
    p50 = statistics.median(loads) * 1000
    print(
        f"   signer page load (page + first page image, first open): p50 {p50:.0f} ms "
        f"(max {max(loads) * 1000:.0f} ms, n={len(loads)})"
    )
    return [] if median < TARGET_SECONDS else [f"envelopes: median {median:.2f} s"]
