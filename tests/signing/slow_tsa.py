"""A time-stamping authority over HTTP that holds requests until let go, to show what other
threads can do while one waits on it."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper

WAIT = 15.0
"""How long the other thread may take; far more than a validation needs."""


@dataclass
class SlowTsa:
    """The server's address and its two signals."""

    url: str = ""
    arrived: threading.Event = field(default_factory=threading.Event)
    go: threading.Event = field(default_factory=threading.Event)

    def timestamper(self) -> RequestsHTTPTimeStamper:
        """A pyHanko client of this server that waits for it longer than WAIT."""
        return RequestsHTTPTimeStamper(self.url, timeout=120)


@contextmanager
def serve_slow_tsa(respond: Callable[[bytes], bytes]) -> Iterator[SlowTsa]:
    """Serve ``respond`` (a TimeStampReq in, a TimeStampResp out) over HTTP, each request held
    until ``go`` is set."""
    state = SlowTsa()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.headers.get("Content-Type") != "application/timestamp-query":
                self.send_error(415)
                return
            state.arrived.set()
            state.go.wait(timeout=120)
            reply = respond(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/tsa"
    try:
        yield state
    finally:
        state.go.set()
        server.shutdown()
        server.server_close()


def while_waiting_on_the_tsa(
    slow: SlowTsa, work: Callable[[], Any], meanwhile: Callable[[], Any]
) -> tuple[Any, float]:
    """Run ``work`` (which asks ``slow``) in a thread; once its request is held there, run
    ``meanwhile`` in another. Return what ``work`` returned (or raised) and how long
    ``meanwhile`` took: WAIT when it could not finish while the request was held."""
    result: dict[str, Any] = {}

    def run_work() -> None:
        try:
            result["work"] = work()
        except Exception as exc:
            result["work"] = exc

    worker = threading.Thread(target=run_work)
    worker.start()
    assert slow.arrived.wait(timeout=120), "the time-stamp request never reached the TSA"
    started = time.monotonic()
    other = threading.Thread(target=meanwhile)
    other.start()
    other.join(timeout=WAIT)
    took = WAIT if other.is_alive() else time.monotonic() - started
    slow.go.set()  # let the time-stamp through now
    other.join(timeout=120)
    worker.join(timeout=120)
    return result.get("work"), took
