"""The certificate as a Chinese or an English court reads it (pdftotext on the signed PDF):
its language, the organisation by name, API actors by their key's name, documents counted as
documents and versions, event names never broken inside a word, a development chain named
as such, and every issued certificate found in the log."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from pathlib import Path
from typing import Any

import pytest

from evidence_chain.core.bundle import BundleVerdict, Check
from evidence_chain.events import parse_event
from evidence_chain.tenant_settings import update_settings
from evidence_chain.tenants import issue_key
from reports.certificate import ReportInfo, render_certificate
from reports.service import report_subject
from tests.reports.test_certificate import SEAL_NAME, SUBJECT, issue, pdf_pages, push_contract

LONG_TYPES = [
    "envelope.party_identity_verified_by_sms_one_time_code",
    "envelope.organisation_seal_application_approved_by_administrator",
]


def _push_long_names(instance: Any, tenant: Any, key_prefix: str) -> None:
    events = [
        parse_event(
            {
                "type": kind,
                "subject": SUBJECT,
                "occurred_at": "2026-11-20T10:00:00Z",
                "actor": {"role": "initiator", "api_key_prefix": key_prefix},
                "data": {"step": i},
            }
        )
        for i, kind in enumerate(LONG_TYPES)
    ]
    instance.ledger.append(tenant.id, tenant.public_id, events)
    instance.ledger.sign_checkpoint()


def assert_never_split_inside_a_word(name: str, text: str) -> None:
    """Every piece of ``name`` in the text layer starts and ends where a word of it does (at
    its ends, or next to a dot or an underscore), and its first and last pieces are there."""
    pieces = [w for w in text.split() if len(w) >= 4 and w in name]
    assert pieces, name
    for piece in pieces:
        at = name.index(piece)
        end = at + len(piece)
        assert at == 0 or name[at - 1] in "._", (name, piece)
        assert end == len(name) or name[end - 1] in "._", (name, piece)
    assert any(name.startswith(p) for p in pieces) and any(name.endswith(p) for p in pieces)


@pytest.fixture
def named_key(instance: Any, tenant: Any) -> str:
    info, _key = issue_key(instance.engine, tenant[0].id, "合同系统 Contract platform")
    return info.prefix


def test_a_chinese_certificate_for_a_chinese_tenant(
    app: Any, instance: Any, tenant: Any, named_key: str, tmp_path: Path
) -> None:
    ref = tenant[0]
    update_settings(
        instance.engine, instance.ledger, ref.id, {"language": "zh", "time_zone": "Asia/Shanghai"}
    )
    push_contract(app, instance, ref)
    _push_long_names(instance, ref, named_key)
    issued = issue(app, instance, ref)
    pages = pdf_pages(issued.pdf, tmp_path)
    text = "\n".join(pages)
    first = pages[0]
    # the first page in both languages, for a court reading either
    assert "证据证书 / Certificate of evidence" in first
    assert "这是什么 / What this is" in first and "合同 / The contract" in first
    assert "机构 / Organisation" in first and ref.name in first
    assert ref.public_id in first  # the account beside the name, never instead of it
    # the rest in Chinese, times in Shanghai with UTC beside
    for heading in ("1. 文件", "2. 参与方", "3. 时间线", "4. 证明", "5. 锚定及如何自行核验"):
        assert heading in text
    assert "2026-11-20 16:30:00 Asia/Shanghai" in text and "(08:30:00 UTC)" in text
    assert "第 1 页，共" in pages[0] and "1. Documents" not in text
    # API actors by their key's name; documents by documents and versions
    assert "API 密钥 合同系统 Contract platform" in text
    assert "2 份文件，共 3 个版本" in first and "2 documents in 3 versions" in first
    # no event name broken inside a word (the timeline's column is narrow)
    for kind in LONG_TYPES:
        assert_never_split_inside_a_word(kind, text)
    assert SEAL_NAME in first


def test_lang_chooses_the_language_and_english_is_the_default(
    client: Any, auth: Any, app: Any, instance: Any, tenant: Any, tmp_path: Path
) -> None:
    push_contract(app, instance, tenant[0])
    english = client.get(f"/api/v1/subjects/{SUBJECT}/report.pdf", headers=auth)
    assert english.status_code == 200
    text = "\n".join(pdf_pages(english.data, tmp_path))
    assert "1. Documents" in text and "3. Timeline" in text and "1. 文件" not in text
    assert "page 1 of" in text and "2026-11-20 08:30:00 UTC" in text
    chinese = client.get(f"/api/v1/subjects/{SUBJECT}/report.pdf?lang=zh", headers=auth)
    assert "1. 文件" in "\n".join(pdf_pages(chinese.data, tmp_path))
    bad = client.get(f"/api/v1/subjects/{SUBJECT}/report.pdf?lang=fr", headers=auth)
    assert bad.status_code == 400 and bad.get_json()["error"]["details"]["field"] == "lang"


def test_every_issued_certificate_is_in_the_log(
    app: Any, instance: Any, tenant: Any, client: Any
) -> None:
    ref = tenant[0]
    push_contract(app, instance, ref)
    issued = issue(app, instance, ref)
    report_id = issued.report.report_id
    (event,) = instance.ledger.subject_events(ref.id, report_subject(report_id))
    data = event.record["data"]
    assert event.record["type"] == "report.issued"
    assert data["sha256"] == hashlib.sha256(issued.pdf).hexdigest()
    assert data["report_id"] == report_id and data["of_subject"] == SUBJECT
    # anyone holding the PDF finds, by its hash, that this service issued it
    instance.ledger.sign_checkpoint()
    page = client.get(f"/verify?document={data['sha256']}")
    assert page.status_code == 200 and "report.issued" in page.get_data(as_text=True)


def _bundle(chain_id: int) -> dict[str, Any]:
    record = {
        "type": "envelope.completed",
        "occurred_at": "2026-11-20T08:30:00.000000Z",
        "actor": {"role": "system"},
        "data": {},
    }
    return {
        "subject": "contract-1",
        "tenant": "tn_0123456789abcdef",
        "events": [{"event_id": "e1", "leaf_index": 0, "leaf_hash": "ab" * 32, "record": record}],
        "documents": [],
        "checkpoint": {"tree_size": 1, "root": "ab" * 32, "note": "x"},
        "log": {"origin": "o", "verifier_key": "k", "log_id": "0x00"},
        "anchor": {"chain_id": chain_id, "block_number": 7, "tree_size": 1, "root": "ab" * 32},
    }


@pytest.mark.parametrize(("chain_id", "development"), [(31337, True), (1, False)])
def test_a_development_chain_is_named_as_such(
    chain_id: int, development: bool, tmp_path: Path
) -> None:
    info = ReportInfo(
        report_id="rpt_test",
        issued_at=dt.datetime(2026, 11, 24, tzinfo=dt.UTC),
        verify_url="http://127.0.0.1/verify?report=rpt_test",
        service_url="http://127.0.0.1",
        issuer="Sealtrail evidence service",
        organisation="Acme",
    )
    verdict = BundleVerdict((Check("records", True, "ok"),), "VERIFIED")
    pdf = render_certificate(_bundle(chain_id), verdict, info)
    first = " ".join(pdf_pages(pdf, tmp_path)[0].split())
    assert ("Development chain" in first) is development
    assert ("开发链" in first) is development
    assert ("public blockchain, where nobody" in first) is not development


def test_the_verify_page_says_this_service_issued_the_certificate(
    app: Any, instance: Any, tenant: Any, client: Any
) -> None:
    push_contract(app, instance, tenant[0])
    issued = issue(app, instance, tenant[0])
    instance.ledger.sign_checkpoint()
    said = "this service logged the issue of this certificate"
    by_id = client.get(f"/verify?report={issued.report.report_id}").get_data(as_text=True)
    assert said in by_id and "report.issued" in by_id
    uploaded = client.post(
        "/api/v1/verify", data={"file": (io.BytesIO(issued.pdf), "certificate.pdf")}
    ).get_json()
    assert uploaded["kind"] == "report" and any(said in n for n in uploaded["notes"])
    (entry,) = uploaded["log"]
    assert entry["event_type"] == "report.issued" and entry["proof_ok"] is True
    # a certificate this service never issued (another file) has no such entry
    other = client.post(
        "/api/v1/verify", data={"file": (io.BytesIO(issued.pdf + b"\n"), "copy.pdf")}
    ).get_json()
    assert other["log"] == [] and not any(said in n for n in other["notes"])
