"""The HTTP client: retries that are safe because every event carries an idempotency key.

Standard library only for HTTP (``urllib``). A request is retried after a connection error,
a timeout, a 429 (after its ``Retry-After``) or a 502/503/504, with exponential backoff and
jitter, up to ``retries`` times; every other answer is final. Pushing is safe to retry:
each event without an ``idempotency_key`` gets one (a UUID4) before the first attempt, so a
retried push returns the original receipts instead of recording twice.
"""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sealtrail_client.proofs import Checkpoint, verify_proof

__all__ = ["Client", "SealtrailError"]

RETRY_STATUSES = {429, 502, 503, 504}


class SealtrailError(Exception):
    """An error answer of the service: its HTTP status and its JSON error envelope."""

    def __init__(self, status: int, code: str, message: str, details: Mapping[str, Any]):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = dict(details)


class Client:
    """A tenant's connection to a Sealtrail service.

    ``log_key`` is the log's public key (``GET /api/v1/log``, ``public_key``), the one
    thing proofs are checked against; pin it from a trusted source. Without it, the client
    reads it from the service on first use (trust on first use).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        log_key: str | None = None,
        timeout: float = 30.0,
        retries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 20.0,
        user_agent: str = "sealtrail-client-python/1.0",
    ) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise ValueError("base_url is an http or https address")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.log_key = log_key
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.user_agent = user_agent

    # -- HTTP --------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: Mapping[str, Any] | None = None,
        raw: bool = False,
    ) -> Any:
        """One API call with retries; the decoded JSON (or bytes with ``raw``)."""
        url = self.base_url + path
        if query:
            params = {k: v for k, v in query.items() if v is not None}
            url += "?" + urllib.parse.urlencode(params)
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {"Authorization": f"Bearer {self.api_key}", "User-Agent": self.user_agent}
        if data is not None:
            headers["Content-Type"] = "application/json"
        attempt = 0
        while True:
            # the scheme is http(s): checked when the client was made
            req = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as response:  # noqa: S310
                    payload = response.read()
                    return payload if raw else json.loads(payload or b"null")
            except urllib.error.HTTPError as exc:
                payload = exc.read()
                if exc.code in RETRY_STATUSES and attempt < self.retries:
                    self._sleep(attempt, exc.headers.get("Retry-After"))
                    attempt += 1
                    continue
                raise _error(exc.code, payload) from None
            except (urllib.error.URLError, TimeoutError, ConnectionError):
                if attempt >= self.retries:
                    raise
                self._sleep(attempt, None)
                attempt += 1

    def _sleep(self, attempt: int, retry_after: str | None) -> None:
        jitter = 0.5 + random.random() / 2  # noqa: S311 - spreading retries, not a secret
        delay = min(self.max_backoff, self.backoff * 2**attempt) * jitter
        if retry_after and retry_after.isdigit():
            delay = max(delay, float(retry_after))
        time.sleep(delay)

    # -- events ------------------------------------------------------------------------------

    def push(self, events: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Record one event or a batch; return the receipts (event id, leaf index, leaf hash).

        Events without an ``idempotency_key`` get one, so retries never record twice.
        """
        batch = [events] if isinstance(events, Mapping) else list(events)
        keyed = [
            dict(e) if e.get("idempotency_key") else {**e, "idempotency_key": str(uuid.uuid4())}
            for e in batch
        ]
        body: Any = keyed[0] if isinstance(events, Mapping) else {"events": keyed}
        answer = self.request("POST", "/api/v1/events", body=body)
        receipts: list[dict[str, Any]] = answer["receipts"]
        return receipts

    def event(self, event_id: str) -> dict[str, Any]:
        """The event and the exact record that was hashed into its leaf."""
        found: dict[str, Any] = self.request("GET", f"/api/v1/events/{_seg(event_id)}")
        return found

    def proof(
        self, event_id: str, *, tree_size: int | None = None, anchored: bool = False
    ) -> dict[str, Any]:
        """The event's inclusion proof (``SealtrailError`` 409 ``not_yet_checkpointed``
        until a checkpoint covers it: see :meth:`wait_for_proof`)."""
        query = {"tree_size": tree_size, "anchored": "true" if anchored else None}
        found: dict[str, Any] = self.request(
            "GET", f"/api/v1/events/{_seg(event_id)}/proof", query=query
        )
        return found

    def wait_for_proof(
        self, event_id: str, *, anchored: bool = False, timeout: float = 120.0
    ) -> dict[str, Any]:
        """The proof once a checkpoint (``anchored``: a confirmed on-chain anchor) covers the
        event, polling as the service's ``Retry-After`` says."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                proof = self.proof(event_id)
                anchor = proof.get("anchor")
                if not anchored or (anchor and anchor.get("status") == "confirmed"):
                    return proof
                wait = 1.0
            except SealtrailError as exc:
                if exc.code != "not_yet_checkpointed":
                    raise
                wait = float(exc.details.get("retry_after") or 1)
            if time.monotonic() + wait > deadline:
                raise TimeoutError(f"no {'anchored ' if anchored else ''}proof within {timeout}s")
            time.sleep(wait)

    def verify(self, event_id: str, proof: Mapping[str, Any] | None = None) -> Checkpoint:
        """Check the event's proof here: the record's hash, the inclusion proof, the
        checkpoint's signature with the log key, the consistency to the anchor's tree."""
        proof = proof if proof is not None else self.proof(event_id)
        record = self.event(event_id)["record"]
        return verify_proof(proof, self.public_key(), record=record)

    def public_key(self) -> str:
        """The log key proofs are checked against (fetched once if not given)."""
        if self.log_key is None:
            self.log_key = str(self.request("GET", "/api/v1/log")["public_key"])
        return self.log_key

    # -- evidence and settings ----------------------------------------------------------------

    def subject_events(self, subject: str) -> dict[str, Any]:
        """A subject's events in order."""
        found: dict[str, Any] = self.request("GET", f"/api/v1/subjects/{_seg(subject)}/events")
        return found

    def bundle(self, subject: str) -> dict[str, Any]:
        """The subject's evidence bundle (verify it with ``sealtrail-verify``)."""
        found: dict[str, Any] = self.request("GET", f"/api/v1/subjects/{_seg(subject)}/bundle")
        return found

    def certificate(self, subject: str, *, lang: str | None = None) -> bytes:
        """A new certificate of evidence (signed PDF) of the subject."""
        pdf: bytes = self.request(
            "GET", f"/api/v1/subjects/{_seg(subject)}/report.pdf", query={"lang": lang}, raw=True
        )
        return pdf

    def add_webhook(self, url: str, events: Sequence[str] | None = None) -> dict[str, Any]:
        """Register a webhook endpoint; the answer carries its secret (shown once)."""
        body: dict[str, Any] = {"url": url}
        if events is not None:
            body["events"] = list(events)
        found: dict[str, Any] = self.request("POST", "/api/v1/webhooks", body=body)
        return found


def _seg(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _error(status: int, payload: bytes) -> SealtrailError:
    try:
        envelope = json.loads(payload)["error"]
        return SealtrailError(
            status, str(envelope["code"]), str(envelope["message"]), envelope.get("details") or {}
        )
    except (ValueError, KeyError, TypeError):
        return SealtrailError(status, "http_error", payload[:200].decode("utf-8", "replace"), {})
