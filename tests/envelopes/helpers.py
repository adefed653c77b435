"""Helpers for driving envelopes through the Flask test client."""

from __future__ import annotations

import io
import json
from typing import Any

from tests.envelopes.conftest import Mailbox

UA = {"User-Agent": "pytest-signer/1.0"}


def create(client: Any, auth: dict[str, str], spec: dict[str, Any], *pdfs: bytes) -> Any:
    """POST a multipart envelope: ``documents`` files and the ``spec`` JSON part."""
    data: dict[str, Any] = {
        "spec": json.dumps(spec),
        "documents": [(io.BytesIO(pdf), f"doc{i + 1}.pdf") for i, pdf in enumerate(pdfs)],
    }
    return client.post(
        "/api/v1/envelopes", data=data, headers=auth, content_type="multipart/form-data"
    )


def sign_party(envelopes: Any, mailbox: Mailbox, address: str, **kw: Any) -> Any:
    """Drive one party through link, code and signature with the domain service."""
    from signing.envelopes.service import RequestContext

    ctx = RequestContext("203.0.113.9", "pytest-signer/1.0")
    token = mailbox.token(address, kw.pop("after_links", 0))
    before = len(mailbox.to(address))
    envelopes.open_link(token, ctx)
    envelopes.request_code(token, ctx)
    envelopes.verify_code(token, mailbox.code(address, before), ctx)
    return token, envelopes.sign(
        token,
        ctx,
        placements=kw.get("placements", {}),
        texts=kw.get("texts", {}),
        intent=True,
    )


def one_party_spec(**party: Any) -> dict[str, Any]:
    """A one-party envelope with a fixed signature field on page 1."""
    return {
        "title": "Lease 7",
        "parties": [
            {
                "name": "Dana Ng",
                "email": "dana@example.test",
                "fields": [{"kind": "signature", "page": 1, "x": 72, "y": 72}],
                **party,
            }
        ],
    }
