"""The initiator API over the Flask test client: lifecycle, illegal transitions, listing."""

from __future__ import annotations

import base64
import hashlib
import subprocess
from pathlib import Path
from typing import Any

import pytest

from signing.envelopes.service import RequestContext
from tests.envelopes.conftest import Mailbox, three_party_spec
from tests.envelopes.helpers import create, one_party_spec, sign_party

CTX = RequestContext("203.0.113.9", "pytest/1.0")


def _error(response: Any, status: int) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    return str(body["error"]["message"])


def test_create_get_and_list(
    client: Any, auth: dict[str, str], seal_id: str, contract_pdf: bytes
) -> None:
    r = create(client, auth, three_party_spec(seal_id), contract_pdf)
    assert r.status_code == 201, r.get_json()
    env = r.get_json()
    assert env["id"].startswith("env_") and env["status"] == "draft"
    assert env["documents"][0]["sha256_original"] == hashlib.sha256(contract_pdf).hexdigest()
    assert [p["order"] for p in env["parties"]] == [1, 2, 2]
    assert [p["status"] for p in env["parties"]] == ["pending"] * 3
    assert env["parties"][2]["kind"] == "organisation"
    assert client.get(f"/api/v1/envelopes/{env['id']}", headers=auth).get_json() == env
    # a JSON body with base64 documents works too
    spec = {
        **one_party_spec(),
        "documents": [
            {"name": "lease.pdf", "content_base64": base64.b64encode(contract_pdf).decode()}
        ],
    }
    r2 = client.post("/api/v1/envelopes", json=spec, headers=auth)
    assert r2.status_code == 201, r2.get_json()
    assert r2.get_json()["documents"][0]["name"] == "lease.pdf"
    listed = client.get("/api/v1/envelopes?limit=1", headers=auth).get_json()
    assert [e["id"] for e in listed["envelopes"]] == [r2.get_json()["id"]]
    nxt = client.get(f"/api/v1/envelopes?limit=1&after={listed['next_after']}", headers=auth)
    assert [e["id"] for e in nxt.get_json()["envelopes"]] == [env["id"]]
    assert nxt.get_json()["next_after"] is None
    client.post(f"/api/v1/envelopes/{env['id']}/send", headers=auth)
    sent = client.get("/api/v1/envelopes?status=sent", headers=auth).get_json()
    assert [e["id"] for e in sent["envelopes"]] == [env["id"]]
    drafts = client.get("/api/v1/envelopes?status=draft", headers=auth).get_json()
    assert [e["id"] for e in drafts["envelopes"]] == [r2.get_json()["id"]]
    assert client.get("/api/v1/envelopes?status=nope", headers=auth).status_code == 400


def test_other_tenant_sees_nothing(
    client: Any, auth: dict[str, str], instance: Any, contract_pdf: bytes
) -> None:
    from evidence_chain.tenants import create_tenant

    env = create(client, auth, one_party_spec(), contract_pdf).get_json()
    _, other = create_tenant(instance.engine, "Other")
    other_auth = {"Authorization": f"Bearer {other}"}
    for method, path in (
        ("get", ""),
        ("post", "/send"),
        ("post", "/withdraw"),
        ("delete", ""),
        ("get", "/documents/1"),
    ):
        r = getattr(client, method)(f"/api/v1/envelopes/{env['id']}{path}", headers=other_auth)
        assert r.status_code == 404, (method, path)
    assert client.get("/api/v1/envelopes", headers=other_auth).get_json()["envelopes"] == []
    assert client.get(f"/api/v1/envelopes/{env['id']}").status_code == 401


@pytest.mark.parametrize(
    ("spec_change", "needle"),
    [
        ({"title": ""}, "title"),
        ({"parties": []}, "parties"),
        ({"order": "random"}, "order"),
        ({"expires_in_days": 0}, "expires_in_days"),
        ({"colour": "red"}, "unknown field"),
    ],
)
def test_bad_specs_are_400(
    client: Any, auth: dict[str, str], contract_pdf: bytes, spec_change: Any, needle: str
) -> None:
    spec = {**one_party_spec(), **spec_change}
    assert needle in _error(create(client, auth, spec, contract_pdf), 400)


def test_bad_parties_and_fields_are_400(
    client: Any, auth: dict[str, str], contract_pdf: bytes
) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"email": None}, "email or a phone"),
        ({"email": "not-an-address"}, "email"),
        ({"kind": "organisation"}, "seal"),
        ({"fields": [{"kind": "signature", "page": 9, "x": 1, "y": 1}]}, "page"),
        ({"fields": [{"kind": "signature", "page": 1, "x": 590, "y": 1}]}, "outside"),
        ({"fields": [{"kind": "date", "page": 1, "x": 10, "y": 10}]}, "signature or seal"),
        ({"fields": [{"kind": "seal", "page": 1, "x": 10, "y": 10}]}, "organisation"),
        ({"fields": [{"kind": "signature", "anywhere": True, "page": 1}]}, "anywhere"),
        ({"fields": [{"kind": "stamp", "page": 1, "x": 1, "y": 1}]}, "kind"),
    ]
    for party, needle in cases:
        assert needle in _error(create(client, auth, one_party_spec(**party), contract_pdf), 400)
    assert "PDF" in _error(create(client, auth, one_party_spec(), b"hello"), 400)
    r = client.post("/api/v1/envelopes", data=b"x", headers={**auth, "Content-Type": "text/plain"})
    assert r.status_code == 400


def test_every_illegal_transition_is_409_and_says_why(
    app: Any,
    client: Any,
    auth: dict[str, str],
    contract_pdf: bytes,
    mailbox: Mailbox,
    envelopes: Any,
) -> None:
    def post(env_id: str, action: str, **body: Any) -> Any:
        return client.post(f"/api/v1/envelopes/{env_id}/{action}", json=body or None, headers=auth)

    draft = create(client, auth, one_party_spec(), contract_pdf).get_json()["id"]
    assert "delete it instead" in _error(post(draft, "withdraw"), 409)
    assert "only a completed envelope can be voided" in _error(post(draft, "void", reason="x"), 409)
    assert "only a sent or in-progress" in _error(post(draft, "remind"), 409)

    sent = create(client, auth, one_party_spec(), contract_pdf).get_json()["id"]
    assert post(sent, "send").status_code == 200
    assert "already sent" in _error(post(sent, "send"), 409)
    assert "only a draft can be deleted" in _error(
        client.delete(f"/api/v1/envelopes/{sent}", headers=auth), 409
    )
    assert "withdraw it instead" in _error(post(sent, "void", reason="x"), 409)

    # completed: not withdrawn, not deleted, not sent; voided once
    sign_party(envelopes, mailbox, "dana@example.test")
    done = client.get(f"/api/v1/envelopes/{sent}", headers=auth).get_json()
    assert done["status"] == "completed"
    assert _error(post(sent, "withdraw"), 409) == (
        "a completed envelope cannot be withdrawn; void it instead "
        "(allowed for a completed envelope: void)"
    )
    refused = post(sent, "withdraw").get_json()["error"]
    assert refused["code"] == "conflict"
    assert refused["details"] == {"status": "completed", "action": "withdraw", "allowed": ["void"]}
    assert "only a draft" in _error(client.delete(f"/api/v1/envelopes/{sent}", headers=auth), 409)
    assert "already sent" in _error(post(sent, "send"), 409)
    assert "only a sent or in-progress" in _error(post(sent, "remind"), 409)
    assert "reason is required" in _error(post(sent, "void"), 400)
    assert post(sent, "void", reason="signed in error").status_code == 200
    assert "only a completed envelope can be voided" in _error(post(sent, "void", reason="x"), 409)
    assert "already voided" in _error(post(sent, "withdraw"), 409)

    # withdrawn: no second withdraw, no void, no send
    gone = create(client, auth, one_party_spec(), contract_pdf).get_json()["id"]
    post(gone, "send")
    assert post(gone, "withdraw", reason="wrong price").get_json()["status"] == "withdrawn"
    assert "already withdrawn" in _error(post(gone, "withdraw"), 409)
    assert "a withdrawn envelope allows no further action" in _error(post(gone, "send"), 409)
    assert "only a completed" in _error(post(gone, "void", reason="x"), 409)
    assert "already sent" in _error(post(gone, "send"), 409)

    # a draft can be deleted, then it is gone
    assert client.delete(f"/api/v1/envelopes/{draft}", headers=auth).status_code == 204
    assert client.get(f"/api/v1/envelopes/{draft}", headers=auth).status_code == 404


def test_not_your_turn_and_declined(
    client: Any,
    auth: dict[str, str],
    seal_id: str,
    contract_pdf: bytes,
    mailbox: Mailbox,
    envelopes: Any,
) -> None:
    from evidence_chain.errors import GoneError

    env = create(client, auth, three_party_spec(seal_id), contract_pdf).get_json()
    client.post(f"/api/v1/envelopes/{env['id']}/send", headers=auth)
    alice = mailbox.token("alice@example.test")
    # Bob has no link before his turn; a reminder now goes to Alice only
    assert mailbox.to("bob@example.test") == []
    r = client.post(f"/api/v1/envelopes/{env['id']}/remind", headers=auth)
    assert r.get_json()["reminded"] == [env["parties"][0]["id"]]
    assert client.post(f"/api/v1/envelopes/{env['id']}/remind", headers=auth).status_code == 429
    with pytest.raises(Exception) as stale:
        envelopes.signer_view(alice)  # the reminder replaced the link
    assert stale.value.__class__.__name__ == "LinkSupersededError"
    assert isinstance(stale.value, GoneError)
    alice = mailbox.token("alice@example.test", 1)
    sign_party(envelopes, mailbox, "alice@example.test", after_links=1)
    bob = mailbox.token("bob@example.test")
    carol = mailbox.token("carol@example.test")
    # the parallel pair is notified together; Bob declines
    view = envelopes.decline(bob, "the delivery date is wrong", CTX)
    assert view.party_status == "declined" and view.envelope_status == "declined"
    detail = client.get(f"/api/v1/envelopes/{env['id']}", headers=auth).get_json()
    assert detail["status"] == "declined"
    assert detail["parties"][1]["decline_reason"] == "the delivery date is wrong"
    with pytest.raises(GoneError):
        envelopes.request_code(carol, CTX)
    assert client.get(f"/sign/{carol}").status_code == 410
    assert "already declined" in _error(
        client.post(f"/api/v1/envelopes/{env['id']}/withdraw", headers=auth), 409
    )
    with pytest.raises(GoneError):
        envelopes.download(alice, CTX)


def test_a_later_party_cannot_sign_before_its_turn(
    client: Any,
    auth: dict[str, str],
    contract_pdf: bytes,
    mailbox: Mailbox,
    envelopes: Any,
    instance: Any,
) -> None:
    from sqlalchemy import update

    from evidence_chain.errors import ConflictError
    from signing.envelopes.models import EnvelopeParty
    from signing.envelopes.store import hash_token

    spec = one_party_spec()
    spec["order"] = "sequential"
    spec["parties"].append(
        {
            "name": "Eve Ma",
            "email": "eve@example.test",
            "fields": [{"kind": "signature", "page": 1, "x": 300, "y": 72}],
        }
    )
    env = create(client, auth, spec, contract_pdf).get_json()
    client.post(f"/api/v1/envelopes/{env['id']}/send", headers=auth)
    # give Eve a link out of turn (as if it had leaked early) and let her pass the code step
    token = "early-link-for-eve-0123456789abcdef"
    table = EnvelopeParty.__table__  # type: ignore[attr-defined]
    with instance.engine.begin() as conn:
        conn.execute(
            update(table)
            .where(table.c.public_id == env["parties"][1]["id"])
            .values(token_hash=hash_token(token))
        )
    envelopes.request_code(token, CTX)
    envelopes.verify_code(token, mailbox.code("eve@example.test"), CTX)
    view = envelopes.signer_view(token)
    assert view.party_status == "waiting" and not view.your_turn
    assert view.waiting_for == ("Dana Ng",)  # the page names who signs first
    assert "Waiting for Dana Ng to sign" in client.get(f"/sign/{token}").get_data(as_text=True)
    with pytest.raises(ConflictError) as exc:
        envelopes.sign(token, CTX, placements={}, texts={}, intent=True)
    assert "not your turn" in exc.value.message


def test_void_keeps_the_original_and_issues_a_void_copy(
    client: Any,
    auth: dict[str, str],
    contract_pdf: bytes,
    mailbox: Mailbox,
    envelopes: Any,
    tmp_path: Path,
) -> None:
    env = create(client, auth, one_party_spec(), contract_pdf).get_json()
    client.post(f"/api/v1/envelopes/{env['id']}/send", headers=auth)
    sign_party(envelopes, mailbox, "dana@example.test")
    signed = client.get(f"/api/v1/envelopes/{env['id']}/documents/1", headers=auth)
    assert signed.status_code == 200
    assert (
        client.get(
            f"/api/v1/envelopes/{env['id']}/documents/1?version=void", headers=auth
        ).status_code
        == 404
    )
    r = client.post(
        f"/api/v1/envelopes/{env['id']}/void", json={"reason": "duplicate of lease 6"}, headers=auth
    )
    body = r.get_json()
    assert body["status"] == "voided" and body["voided_reason"] == "duplicate of lease 6"
    doc = body["documents"][0]
    assert doc["sha256_current"] == hashlib.sha256(signed.data).hexdigest()  # original kept
    void = client.get(f"/api/v1/envelopes/{env['id']}/documents/1?version=void", headers=auth)
    assert hashlib.sha256(void.data).hexdigest() == doc["sha256_void"]
    assert void.data.startswith(signed.data)  # an incremental update of the signed original
    path = tmp_path / "void.pdf"
    path.write_bytes(void.data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    assert text.count(": duplicate of lease 6") == 2  # the banner on both pages
    assert text.count("VOID - voided on") == 2
    report = envelopes.signing.validate_document(void.data)
    # the archive time-stamp of completion and the VOID copy's own, both intact
    assert len(report.doc_timestamps) == 2, report.summary()
    # the stamped pages are a change the signatures do not allow: the copy is not the contract
    assert not report.all_valid
    assert all(s.intact for s in report.signatures)
    original = client.get(
        f"/api/v1/envelopes/{env['id']}/documents/1?version=original", headers=auth
    )
    assert original.data == contract_pdf


def test_openapi_lists_the_envelope_api(client: Any) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert set(paths["/api/v1/envelopes"]) == {"get", "post"}
    assert set(paths["/api/v1/envelopes/{id}"]) == {"get", "delete"}
    for action in ("send", "remind", "withdraw", "void"):
        assert "post" in paths[f"/api/v1/envelopes/{{id}}/{action}"]
    doc = paths["/api/v1/envelopes/{id}/documents/{n}"]["get"]
    versions = next(p for p in doc["parameters"] if p["name"] == "version")
    assert versions["schema"]["enum"] == ["current", "original", "void"]


def test_a_chinese_document_name_downloads_under_its_name(
    client: Any, auth: dict[str, str], contract_pdf: bytes
) -> None:
    spec = {
        **one_party_spec(),
        "documents": [
            {"name": "租赁合同.pdf", "content_base64": base64.b64encode(contract_pdf).decode()}
        ],
    }
    env = client.post("/api/v1/envelopes", json=spec, headers=auth).get_json()
    r = client.get(f"/api/v1/envelopes/{env['id']}/documents/1", headers=auth)
    disposition = r.headers["Content-Disposition"]
    disposition.encode("latin-1")  # a real server sends only Latin-1 headers
    assert 'filename="____.pdf"' in disposition
    assert "filename*=UTF-8''%E7%A7%9F%E8%B5%81%E5%90%88%E5%90%8C.pdf" in disposition
