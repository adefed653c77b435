"""`GET /api/v1/subjects/{subject}/bundle` and `.../report.pdf` over HTTP (Flask test client)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from evidence_chain.tenants import create_tenant
from reports.service import get_report
from tests.reports.test_certificate import extract_attachment, pdf_pages, push_steps

SUBJECT = "orders/2026/17"  # subjects may contain '/'


def _without_time(bundle: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in bundle.items() if k != "generated_at"}


def test_bundle_endpoint_serves_the_subjects_evidence(
    client: Any, instance: Any, tenant: tuple[Any, str], auth: dict[str, str]
) -> None:
    push_steps(instance, tenant[0], SUBJECT, 3)
    r = client.get(f"/api/v1/subjects/{SUBJECT}/bundle", headers=auth)
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert "Content-Disposition" not in r.headers
    body = r.get_json()
    assert body["format"] == "sealtrail-evidence-bundle" and body["version"] == 1
    assert body["subject"] == SUBJECT and body["tenant"] == tenant[0].public_id
    assert [e["leaf_index"] for e in body["events"]] == [0, 1, 2]

    r = client.get(f"/api/v1/subjects/{SUBJECT}/bundle?download=1", headers=auth)
    assert r.status_code == 200
    disposition = r.headers["Content-Disposition"]
    assert disposition == 'attachment; filename="evidence-bundle-orders_2026_17.json"'
    assert _without_time(r.get_json()) == _without_time(body)

    r = client.get(f"/api/v1/subjects/{SUBJECT}/bundle?download=maybe", headers=auth)
    assert r.status_code == 400 and r.get_json()["error"]["details"]["field"] == "download"


def test_report_endpoint_issues_a_signed_report_with_the_bundle_inside(
    client: Any, instance: Any, tenant: tuple[Any, str], auth: dict[str, str], tmp_path: Path
) -> None:
    push_steps(instance, tenant[0], SUBJECT, 4)
    r = client.get(f"/api/v1/subjects/{SUBJECT}/report.pdf", headers=auth)
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    report_id = r.headers["X-Report-Id"]
    assert re.fullmatch(r"rpt_[a-z2-7]{26}", report_id)
    assert r.headers["X-Report-Verdict"] == "INCOMPLETE"  # no anchor on this instance
    assert report_id in r.headers["Content-Disposition"]
    pdf = r.get_data()
    stored = get_report(instance.engine, report_id)
    assert stored is not None and stored.subject == SUBJECT
    assert stored.pdf_sha256 == hashlib.sha256(pdf).hexdigest()

    attached = extract_attachment(pdf, tmp_path)
    assert attached == stored.bundle_json
    served = client.get(f"/api/v1/subjects/{SUBJECT}/bundle", headers=auth).get_json()
    assert _without_time(json.loads(attached)) == _without_time(served)

    pages = pdf_pages(pdf, tmp_path)
    assert report_id in pages[0] and SUBJECT in pages[0]

    again = client.get(f"/api/v1/subjects/{SUBJECT}/report.pdf", headers=auth)
    assert again.status_code == 200 and again.headers["X-Report-Id"] != report_id


def test_another_tenants_subject_is_not_found(
    client: Any, instance: Any, tenant: tuple[Any, str], auth: dict[str, str]
) -> None:
    push_steps(instance, tenant[0], SUBJECT, 1)
    _other, other_key = create_tenant(instance.engine, "Other Platform")
    other = {"Authorization": f"Bearer {other_key}"}
    for suffix in ("bundle", "report.pdf"):
        r = client.get(f"/api/v1/subjects/{SUBJECT}/{suffix}", headers=other)
        assert r.status_code == 404, suffix
        assert r.get_json()["error"]["code"] == "not_found"
        r = client.get(f"/api/v1/subjects/no-such-subject/{suffix}", headers=auth)
        assert r.status_code == 404, suffix
        r = client.get(f"/api/v1/subjects/{SUBJECT}/{suffix}")
        assert r.status_code == 401, suffix
    # Nothing was issued for the other tenant.
    with instance.engine.connect() as conn:
        from sqlalchemy import text

        assert conn.execute(text("SELECT count(*) FROM evidence_report")).scalar() == 0


def test_openapi_documents_both_paths(client: Any) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/api/v1/subjects/{subject}/bundle"]
    report = paths["/api/v1/subjects/{subject}/report.pdf"]["get"]
    assert "X-Report-Id" in report["responses"]["200"]["headers"]
