"""Integers in paths and query strings: out of range is a 400 ``invalid_request`` naming the
parameter and its bounds, never a 500 (a number past 2^63-1 used to overflow the database
driver); and the OpenAPI states the bounds of every integer parameter."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from tests.test_api import assert_error
from web.params import MAX_INT

TOO_BIG = str(MAX_INT + 1)  # 9223372036854775808


def _push_and_checkpoint(client: Any, auth: dict[str, str], instance: Any, n: int = 2) -> None:
    for i in range(n):
        event = {
            "type": "t",
            "subject": f"s{i}",
            "occurred_at": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
        }
        assert client.post("/api/v1/events", json=event, headers=auth).status_code == 201
        instance.ledger.sign_checkpoint()


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/checkpoints/{TOO_BIG}",
        f"/api/v1/proofs/consistency?first=1&second={TOO_BIG}",
        f"/api/v1/proofs/consistency?first={TOO_BIG}&second=2",
        f"/api/v1/anchors/{TOO_BIG}",
        f"/api/v1/anchors?before={TOO_BIG}",
    ],
)
def test_audit_overflows_are_400(
    client: Any, auth: dict[str, str], instance: Any, url: str
) -> None:
    _push_and_checkpoint(client, auth, instance)  # checkpoints at 1 and 2 exist
    error = assert_error(client.get(url), 400, "invalid_request")
    assert error["details"]["maximum"] == MAX_INT
    assert str(MAX_INT) in error["message"]


def test_the_largest_value_is_an_ordinary_answer(client: Any, auth: dict[str, str]) -> None:
    assert_error(client.get(f"/api/v1/checkpoints/{MAX_INT}"), 404, "not_found")
    ok = client.get(f"/api/v1/anchors?before={MAX_INT}")
    assert ok.status_code == 200 and ok.get_json()["anchors"] == []


def _integer_parameters(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            for param in [*item.get("parameters", []), *op.get("parameters", [])]:
                if param["schema"].get("type") == "integer":
                    found.append((method, path, param))
    return found


def test_openapi_bounds_every_integer_parameter(client: Any) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    found = _integer_parameters(doc)
    assert len(found) >= 12, found
    for method, path, param in found:
        schema = param["schema"]
        assert isinstance(schema.get("minimum"), int), (method, path, param["name"])
        assert isinstance(schema.get("maximum"), int), (method, path, param["name"])
        assert schema["maximum"] <= MAX_INT


def test_every_integer_parameter_is_range_checked(client: Any, auth: dict[str, str]) -> None:
    """Each integer parameter of the OpenAPI, one past its maximum and one below its minimum."""
    doc = client.get("/api/v1/openapi.json").get_json()
    checked = 0
    for method, path, param in _integer_parameters(doc):
        schema = param["schema"]
        for bad in (schema["maximum"] + 1, schema["minimum"] - 1, "12abc"):
            url = re.sub(r"\{[^}]+\}", lambda m: "x", path)
            if param["in"] == "path":
                url = path.replace("{" + param["name"] + "}", str(bad))
                url = re.sub(r"\{[^}]+\}", "x", url)
                if bad == "12abc" or (isinstance(bad, int) and bad < 0):
                    continue  # not a number in a path: no route (404)
            else:
                url = f"{url}?{param['name']}={bad}"
            response = client.open(url, method=method.upper(), headers=auth)
            error = assert_error(response, 400, "invalid_request")
            assert error["details"]["field"] == param["name"], url
            assert error["details"]["minimum"] == schema["minimum"], url
            assert error["details"]["maximum"] == schema["maximum"], url
            checked += 1
    assert checked >= 30


def test_signer_page_image_width_is_bounded(client: Any) -> None:
    response = client.get(f"/sign/nope/documents/1/pages/{TOO_BIG}.png")
    assert response.status_code == 400
    assert response.mimetype == "text/html"
