"""Every endpoint that reads JSON refuses a hostile body the same way: a 400, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

DEEP = "[" * 100_000 + "]" * 100_000
DUPLICATE = '{"reason": "a", "reason": "b"}'

JSON_ENDPOINTS = [
    "/api/v1/events",
    "/api/v1/seals",
    "/api/v1/envelopes",
    "/api/v1/envelopes/env_unknown/withdraw",
    "/api/v1/webhooks",
]


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
@pytest.mark.parametrize("body", [DEEP, DUPLICATE, "{not json"], ids=["deep", "duplicate", "bad"])
def test_json_endpoints_refuse_bad_bodies_with_400(
    client: Any, auth: dict[str, str], path: str, body: str
) -> None:
    resp = client.post(path, data=body, headers={**auth, "Content-Type": "application/json"})
    assert resp.status_code == 400, (path, resp.status_code, resp.get_data(as_text=True)[:300])
    error = resp.get_json()["error"]
    assert error["code"] in ("invalid_request", "not_canonicalizable")
    assert "JSON" in error["message"] or "json" in error["message"]


def test_a_form_field_of_json_is_read_by_the_same_parser(client: Any, auth: dict[str, str]) -> None:
    """The multipart ``spec`` of an envelope and the ``placements`` of a signature."""
    import io

    from tests.signing.conftest import make_pdf

    pdf = make_pdf(1)
    resp = client.post(
        "/api/v1/envelopes",
        data={"spec": DEEP, "documents": [(io.BytesIO(pdf), "c.pdf")]},
        headers=auth,
        content_type="multipart/form-data",
    )
    assert resp.status_code == 400 and resp.get_json()["error"]["details"]["field"] == "spec"
    resp = client.post(
        "/api/v1/documents/sign",
        data={"placements": DEEP, "seal_id": "x", "document": (io.BytesIO(pdf), "c.pdf")},
        headers=auth,
        content_type="multipart/form-data",
    )
    assert resp.status_code == 400, resp.get_data(as_text=True)[:300]
    assert resp.get_json()["error"]["details"]["field"] == "placements"
