"""Run the real service (gunicorn, as ``make run`` does) for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Service:
    """A running gunicorn serving Sealtrail on its own instance home."""

    home: Path
    env: dict[str, str]
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.home / "server.log"

    @property
    def url(self) -> str:
        """Base URL of the service."""
        return f"http://127.0.0.1:{self.port}"

    def flask(self, *args: str) -> str:
        """Run a ``flask --app app`` command against this instance; return its output."""
        out = subprocess.run(
            [str(BIN / "flask"), "--app", "app", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if out.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed: {out.stdout}\n{out.stderr}")
        return out.stdout

    def start(self, timeout: float = 60) -> None:
        """Start gunicorn and wait until /healthz answers."""
        self.port = self.port or free_port()
        env = {**self.env, "PORT": str(self.port)}
        # private like everything else under the instance home (the child keeps writing it)
        log = os.fdopen(os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab")
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()  # the child has its own descriptor
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"service exited: {self.log_path.read_text()[-3000:]}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"service did not start: {self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the whole server (master and workers) with no chance to clean up."""
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        """Stop the server gracefully."""
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
            self.process = None


def service_env(home: Path, database_url: str, **extra: str) -> dict[str, Any]:
    """Environment for a service instance under ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EVIDENCE_", "DATABASE_URL"))}
    env.update(
        {
            "EVIDENCE_HOME": str(home),
            "DATABASE_URL": database_url,
            "EVIDENCE_CHECKPOINT_INTERVAL": "0.5",
            "WEB_CONCURRENCY": "2",
            "EVIDENCE_ANCHORING": "false",
            "EVIDENCE_RATE_LIMITS": "false",  # on, with low limits, in the tests about limits
            **extra,
        }
    )
    return env


@pytest.fixture(name="service")
def running_service(tmp_path: Path, database_url: str) -> Iterator[Service]:
    """A real gunicorn service on a fresh instance, on each database backend.

    Import it into a test module (``from tests.service import running_service``) to get the
    ``service`` fixture.
    """
    home = tmp_path / "instance"
    home.mkdir()
    svc = Service(home=home, env=service_env(home, database_url))
    svc.start()
    yield svc
    svc.stop()
