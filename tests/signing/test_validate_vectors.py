"""Every signed PDF of the vector manifest gets the verdict recorded for it.

For each signature we compare intact / valid / coverage / modification level with the values
recorded under pyHanko 0.38, and ``trusted`` with the upstream verdict: trusted with the
file's own self-signed anchors at the upstream frozen time when upstream says it is trusted,
and untrusted with no anchors otherwise. ``must_reject`` entries must come out valid = False
with a reason. Document time-stamps (recorded under pyHanko as "not a /Sig") must be reported
as document time-stamps, intact and valid.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import pytest
from cryptography import x509

from signing.validate import DocTimestampReport, SignatureReport, validate_pdf
from tests.signing.conftest import VECTORS

MANIFEST: dict[str, Any] = json.loads((VECTORS / "manifest.json").read_text(encoding="utf-8"))
FILES = MANIFEST["files"]


def _anchors(entry: dict[str, Any]) -> list[x509.Certificate]:
    out = []
    for sig in entry["signatures"]:
        for digest in sig.get("embedded_self_signed_cert_sha256") or []:
            pem = (VECTORS / "anchors" / f"{digest[:16]}.pem").read_bytes()
            out.append(x509.load_pem_x509_certificate(pem))
    return out


def _moment(entry: dict[str, Any]) -> dt.datetime | None:
    frozen = entry.get("upstream_frozen_time")
    if frozen and frozen[0].isdigit():
        return dt.datetime.fromisoformat(frozen).replace(tzinfo=dt.UTC)
    return None


def _items(report: Any) -> list[SignatureReport | DocTimestampReport]:
    return sorted([*report.signatures, *report.doc_timestamps], key=lambda r: r.index)


def test_manifest_covers_every_vector_file() -> None:
    on_disk = {p.relative_to(VECTORS).as_posix() for p in VECTORS.rglob("*.pdf")}
    assert on_disk == {f["path"] for f in FILES}


@pytest.mark.parametrize("entry", FILES, ids=[f["path"] for f in FILES])
def test_vector_verdicts(entry: dict[str, Any]) -> None:
    pdf = (VECTORS / entry["path"]).read_bytes()
    assert hashlib.sha256(pdf).hexdigest() == entry["sha256"]
    expected: dict[str, dict[str, Any]] = entry["expected"]
    wants_trust = any(e.get("trusted") is True for e in expected.values())
    anchors = _anchors(entry) if wants_trust else []
    report = validate_pdf(pdf, anchors, moment=_moment(entry) if wants_trust else None)
    items = _items(report)
    assert len(items) == len(entry["signatures"])
    for item, recorded in zip(items, entry["signatures"], strict=True):
        exp = expected.get(str(recorded["index"]), {})
        ph = recorded.get("pyhanko_0_38") or {}
        if "field" in recorded:
            assert item.field == recorded["field"]
        if "must_reject" in exp:
            assert isinstance(item, SignatureReport)
            assert not item.valid and not item.bottom_line
            assert item.reason
            continue
        if ph.get("msg") == "Signature object type must be /Sig":
            assert isinstance(item, DocTimestampReport)
            assert item.intact and item.valid
            continue
        assert isinstance(item, SignatureReport)
        assert item.intact == ph["intact"]
        assert item.valid == ph["valid"]
        assert item.coverage == ph["coverage"]
        assert item.modification_level == ph["mod"]
        assert item.docmdp_ok == ph["docmdp_ok"]
        assert item.md_algorithm == ph["md"]
        if "trusted" in exp:
            assert item.trusted == exp["trusted"]
        if "modification_level" in exp:
            assert item.modification_level == exp["modification_level"]
        if exp.get("bottom_line") is False:
            assert not item.bottom_line
        if "summary_contains" in exp:
            assert exp["summary_contains"] in item.summary()
