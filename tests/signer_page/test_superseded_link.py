"""After a reminder, the old link says it was replaced by a newer one (410, in English and
Chinese), on every route of the signer page; the new link works; a link that never existed is
still a plain 404."""

from __future__ import annotations

import re
from typing import Any

from tests.signer_page.conftest import WHO, link_token

ALICE = "alice@example.com"


def test_an_old_link_after_a_reminder_says_it_was_replaced(
    client: Any, send_envelope: Any, envelopes: Any, tenant: Any, instance: Any
) -> None:
    sent = send_envelope()
    old = sent.tokens[ALICE]
    assert client.get(f"/sign/{old}").status_code == 200
    assert envelopes.remind(tenant[0], sent.envelope_id, WHO) == [
        p["id"] for p in envelopes.get(tenant[0], sent.envelope_id)["parties"][:1]
    ]
    new = link_token(instance.engine, ALICE)
    assert new != old

    r = client.get(f"/sign/{old}")
    html = r.get_data(as_text=True)
    assert r.status_code == 410
    assert r.mimetype == "text/html"
    assert "This signing link was replaced by a newer one" in html
    assert "most recent message" in html
    chinese = client.get(f"/sign/{old}", headers={"Accept-Language": "zh-CN"})
    assert chinese.status_code == 410
    assert "此签署链接已被新的链接取代" in chinese.get_data(as_text=True)
    assert "最近收到" in chinese.get_data(as_text=True)
    assert "not valid" not in html
    assert r.headers["X-Frame-Options"] == "DENY"
    # the page's other routes say the same, and nothing is done with the old link
    image = client.get(f"/sign/{old}/documents/1/pages/1.png")
    assert image.status_code == 410 and "replaced by a newer one" in image.get_data(as_text=True)

    assert client.get(f"/sign/{new}").status_code == 200


def test_the_service_names_the_replacement(
    send_envelope: Any, envelopes: Any, tenant: Any, instance: Any
) -> None:
    from evidence_chain.errors import GoneError

    sent = send_envelope()
    old = sent.tokens[ALICE]
    envelopes.remind(tenant[0], sent.envelope_id, WHO)
    try:
        envelopes.signer_view(old)
    except GoneError as exc:
        assert exc.code == "link_superseded"
        assert re.match(r"\d{4}-\d\d-\d\dT", exc.details["superseded_at"])
    else:
        raise AssertionError("the replaced link still opened the envelope")


def test_an_unknown_link_is_still_a_404(client: Any, send_envelope: Any) -> None:
    send_envelope()
    r = client.get("/sign/" + "x" * 43)
    assert r.status_code == 404
    assert "This signing link is not valid" in r.get_data(as_text=True)
