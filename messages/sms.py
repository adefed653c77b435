"""An HTTP SMS gateway: one JSON POST a message (the contract is in docs/envelopes.md, SMS).

``POST EVIDENCE_SMS_URL`` with ``Authorization: Bearer EVIDENCE_SMS_TOKEN`` (when set) and
``{"to": "+8613800000000", "text": "…", "idempotency_key": "sealtrail-outbox-42"}``; any 2xx
is accepted. A 4xx other than 408 and 429 refuses the message for good (it is dead at once);
anything else (5xx, 408, 429, a timeout, a refused connection) is tried again later. The
gateway may see a message twice (delivery is at least once): the idempotency key is the same
on every attempt. Neither the token nor the text is ever logged.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from messages.errors import SendRefused

RETRIED_4XX = {408, 429}


@dataclass(frozen=True)
class SmsGateway:
    """Hands one text message at a time to the configured gateway."""

    url: str
    token: str | None = field(default=None, repr=False)
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if not self.url.startswith(("https://", "http://")):
            raise ValueError("EVIDENCE_SMS_URL is an http or https address")

    def send(self, to: str, subject: str, body: str, *, key: str = "") -> None:
        """Send ``body`` to the number ``to``; SendRefused if the gateway does not take it."""
        payload = json.dumps(
            {"to": to, "text": body, "idempotency_key": key}, ensure_ascii=False
        ).encode("utf-8")
        headers = {"Content-Type": "application/json", "User-Agent": "Sealtrail-SMS/1"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        # the scheme is http(s): checked when the gateway was configured
        request = urllib.request.Request(  # noqa: S310
            self.url, data=payload, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                answer.read()
        except urllib.error.HTTPError as exc:
            code = exc.code
            raise SendRefused(
                f"the gateway answered {code}",
                permanent=400 <= code < 500 and code not in RETRIED_4XX,
            ) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SendRefused(f"the gateway could not be reached ({type(exc).__name__})") from None
