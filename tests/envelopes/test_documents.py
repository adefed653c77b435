"""Several documents, "anywhere" fields, a parallel pair signing at the same moment."""

from __future__ import annotations

import io
import threading
import zipfile
from typing import Any

from signing.envelopes.service import InitiatorContext, RequestContext
from tests.envelopes.conftest import Mailbox
from tests.signing.conftest import make_pdf

CTX = RequestContext("203.0.113.8", "pytest/1.0")
WHO = InitiatorContext("stk_test", CTX)


def _ready(envelopes: Any, mailbox: Mailbox, address: str) -> str:
    token = mailbox.token(address)
    before = len(mailbox.to(address))
    envelopes.request_code(token, CTX)
    envelopes.verify_code(token, mailbox.code(address, before), CTX)
    return str(token)


def test_two_documents_anywhere_fields_and_archive_timestamps(
    envelopes: Any, tenant: Any, mailbox: Mailbox
) -> None:
    spec = {
        "title": "Framework agreement and annex",
        "order": "sequential",
        "parties": [
            {
                "name": "Hana Sato",
                "email": "hana@example.test",
                "fields": [
                    {"kind": "signature", "document": 1, "page": 1, "x": 60, "y": 60},
                    {"kind": "signature", "document": 2, "page": 1, "x": 60, "y": 60},
                ],
            },
            {
                "name": "Ivan Petrov",
                "email": "ivan@example.test",
                "fields": [
                    {"kind": "signature", "document": 1, "anywhere": True},
                    {"kind": "date", "document": 1, "anywhere": True},
                ],
            },
        ],
    }
    env = envelopes.create(
        tenant[0], spec, [("framework.pdf", make_pdf(2)), ("annex.pdf", make_pdf(1))], WHO
    )
    envelopes.send(tenant[0], env["id"], WHO)
    hana = _ready(envelopes, mailbox, "hana@example.test")
    envelopes.sign(hana, CTX, placements={}, texts={}, intent=True)
    ivan = _ready(envelopes, mailbox, "ivan@example.test")
    fields = {f.kind: f for f in envelopes.signer_view(ivan).fields}
    assert fields["signature"].anywhere and fields["signature"].page is None
    view = envelopes.sign(
        ivan,
        CTX,
        placements={fields["signature"].id: (2, 300, 200), fields["date"].id: (2, 300, 180)},
        texts={},
        intent=True,
    )
    assert view.envelope_status == "completed"
    placed = {f.kind: f for f in view.fields}
    assert (placed["signature"].page, placed["signature"].x, placed["signature"].y) == (2, 300, 200)
    assert placed["date"].value and len(placed["date"].value) == 10
    name, data = envelopes.download(ivan, CTX)
    assert name.endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        framework = zf.read("1-framework.pdf")
        annex = zf.read("2-annex.pdf")
    first = envelopes.signing.validate_document(framework)
    assert first.all_valid and len(first.signatures) == 2, first.summary()
    # Ivan placed his field freely, so Hana's first signature could not certify
    assert not any(s.docmdp for s in first.signatures), first.summary()
    assert first.doc_timestamps, first.summary()
    # Ivan does not sign the annex; at completion it gets the archive time-stamp anyway
    second = envelopes.signing.validate_document(annex)
    assert second.all_valid and len(second.signatures) == 1, second.summary()
    assert second.doc_timestamps, second.summary()


def test_a_parallel_pair_signing_at_once(envelopes: Any, tenant: Any, mailbox: Mailbox) -> None:
    spec = {
        "title": "Joint venture",
        "order": "parallel",
        "parties": [
            {
                "name": name,
                "email": f"{name.lower()}@example.test",
                "fields": [{"kind": "signature", "page": 1, "x": x, "y": 60}],
            }
            for name, x in (("Jun", 60), ("Kai", 250), ("Lea", 420))
        ],
    }
    env = envelopes.create(tenant[0], spec, [("jv.pdf", make_pdf(1))], WHO)
    envelopes.send(tenant[0], env["id"], WHO)
    tokens = [_ready(envelopes, mailbox, f"{n}@example.test") for n in ("jun", "kai", "lea")]
    errors: list[BaseException] = []
    start = threading.Barrier(len(tokens))

    def sign(token: str) -> None:
        try:
            start.wait()
            envelopes.sign(token, CTX, placements={}, texts={}, intent=True)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=sign, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    detail = envelopes.get(tenant[0], env["id"])
    assert detail["status"] == "completed"
    _, pdf = envelopes.download(tokens[0], CTX)
    report = envelopes.signing.validate_document(pdf)
    assert report.all_valid and len(report.signatures) == 3, report.summary()
    # the first of the three certified the document and reserved the others' fields
    assert sum(1 for s in report.signatures if s.docmdp) == 1, report.summary()


def test_text_and_names_in_any_script_are_drawn_in_the_signed_pdf(
    envelopes: Any, tenant: Any, mailbox: Mailbox, tmp_path: Any
) -> None:
    """A Latin name with a Chinese text value: every character is in the signed page's text."""
    import subprocess

    spec = {
        "title": "采购合同",
        "parties": [
            {
                "name": "Zoë Müller",
                "email": "zoe@example.test",
                "fields": [
                    {"kind": "signature", "page": 1, "x": 60, "y": 120},
                    {"kind": "text", "page": 1, "x": 60, "y": 90, "label": "Role"},
                ],
            }
        ],
    }
    env = envelopes.create(tenant[0], spec, [("c.pdf", make_pdf(1))], WHO)
    envelopes.send(tenant[0], env["id"], WHO)
    token = _ready(envelopes, mailbox, "zoe@example.test")
    text_field = next(f.id for f in envelopes.signer_view(token).fields if f.kind == "text")
    envelopes.sign(token, CTX, placements={}, texts={text_field: "买方代表 (Buyer)"}, intent=True)
    _name, pdf = envelopes.download(token, CTX)
    path = tmp_path / "signed.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "买方代表 (Buyer)" in text
    assert "Zoë Müller" in text
    assert envelopes.signing.validate_document(pdf).all_valid
