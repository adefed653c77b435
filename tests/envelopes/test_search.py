"""Searching envelopes over the API: Chinese names, status, dates, paging, tenants apart."""

from __future__ import annotations

from typing import Any

import pytest

from tests.envelopes.helpers import create


def _spec(title: str, name: str, email: str, organisation: str | None = None) -> dict[str, Any]:
    party: dict[str, Any] = {
        "name": name,
        "email": email,
        "order": 1,
        "fields": [{"kind": "signature", "page": 1, "x": 60, "y": 120}],
    }
    if organisation:
        party["organisation"] = organisation
    return {"title": title, "parties": [party]}


def _ids(client: Any, auth: dict[str, str], query: str) -> list[str]:
    r = client.get(f"/api/v1/envelopes?{query}", headers=auth)
    assert r.status_code == 200, r.get_data(as_text=True)
    return [e["id"] for e in r.get_json()["envelopes"]]


def test_search_by_text_status_date_and_party(
    client: Any, auth: dict[str, str], contract_pdf: bytes
) -> None:
    lease = create(
        client, auth, _spec("房屋租赁合同", "张伟", "zhang.wei@example.test"), contract_pdf
    ).get_json()
    supply = create(
        client,
        auth,
        _spec("Supply contract 2026-17", "Alice Zhang", "alice@example.test", "深圳示例科技"),
        contract_pdf,
    ).get_json()
    both = sorted([lease["id"], supply["id"]])
    # Chinese: a two-character name, a substring of a title, an organisation
    assert _ids(client, auth, "q=张伟") == [lease["id"]]
    assert _ids(client, auth, "q=租赁") == [lease["id"]]
    assert _ids(client, auth, "q=示例科技") == [supply["id"]]
    # any case, several words all required, email, the id itself
    assert _ids(client, auth, "q=SUPPLY+2026") == [supply["id"]]
    assert _ids(client, auth, "q=supply+租赁") == []
    assert _ids(client, auth, "q=zhang.wei@example") == [lease["id"]]
    assert _ids(client, auth, f"q={supply['id']}") == [supply["id"]]
    assert sorted(_ids(client, auth, "q=zhang")) == both
    # party looks in the parties only: the title's words do not count
    assert _ids(client, auth, "party=张伟") == [lease["id"]]
    assert _ids(client, auth, "party=租赁") == []
    # a wildcard of LIKE is a plain character
    assert _ids(client, auth, "q=%25") == []
    assert _ids(client, auth, "q=Supply%25contract") == []
    assert _ids(client, auth, "q=Supply_contract") == []
    # status, one or several
    assert client.post(f"/api/v1/envelopes/{lease['id']}/send", headers=auth).status_code == 200
    assert _ids(client, auth, "status=sent") == [lease["id"]]
    assert sorted(_ids(client, auth, "status=sent,draft")) == both
    assert _ids(client, auth, "q=张伟&status=draft") == []
    # dates: today counts whole, yesterday finds nothing
    today = lease["created_at"][:10]
    assert sorted(_ids(client, auth, f"from={today}&to={today}")) == both
    assert _ids(client, auth, "to=2000-01-01") == []
    assert sorted(_ids(client, auth, "from=2000-01-01T00:00:00%2B08:00")) == both


def test_paging_by_cursor_and_page(client: Any, auth: dict[str, str], contract_pdf: bytes) -> None:
    made = [
        create(
            client, auth, _spec(f"合同 {i}", "李娜", f"li{i}@example.test"), contract_pdf
        ).get_json()["id"]
        for i in range(3)
    ]
    newest_first = made[::-1]
    first = client.get("/api/v1/envelopes?q=李娜&limit=2", headers=auth).get_json()
    assert [e["id"] for e in first["envelopes"]] == newest_first[:2]
    assert first["envelopes"][0]["party_names"] == ["李娜"]
    # an envelope added meanwhile does not shift the next page
    create(client, auth, _spec("合同 new", "李娜", "new@example.test"), contract_pdf)
    second = client.get(
        f"/api/v1/envelopes?q=李娜&limit=2&cursor={first['next_cursor']}", headers=auth
    ).get_json()
    assert [e["id"] for e in second["envelopes"]] == newest_first[2:]
    assert second["next_cursor"] is None
    paged = client.get("/api/v1/envelopes?q=李娜&limit=2&page=2", headers=auth).get_json()
    assert paged["total"] == 4 and paged["page"] == 2
    assert [e["id"] for e in paged["envelopes"]] == newest_first[1:3]


def test_other_tenant_finds_nothing(
    client: Any, auth: dict[str, str], instance: Any, contract_pdf: bytes
) -> None:
    from evidence_chain.tenants import create_tenant

    env = create(client, auth, _spec("保密协议", "王芳", "wang@example.test"), contract_pdf)
    _, other = create_tenant(instance.engine, "Other")
    other_auth = {"Authorization": f"Bearer {other}"}
    assert _ids(client, other_auth, "q=王芳") == []
    assert _ids(client, other_auth, "q=" + env.get_json()["id"]) == []
    assert (
        client.get(
            f"/api/v1/envelopes?cursor={env.get_json()['id']}", headers=other_auth
        ).status_code
        == 404
    )


def test_a_deleted_draft_leaves_the_index(
    client: Any, auth: dict[str, str], contract_pdf: bytes
) -> None:
    env = create(client, auth, _spec("待删除草稿", "赵敏", "zhao@example.test"), contract_pdf)
    env_id = env.get_json()["id"]
    assert _ids(client, auth, "q=赵敏") == [env_id]
    assert client.delete(f"/api/v1/envelopes/{env_id}", headers=auth).status_code == 204
    assert _ids(client, auth, "q=赵敏") == []


def test_bad_input_is_a_400_envelope(client: Any, auth: dict[str, str]) -> None:
    for query, field in (
        ("status=nope", "status"),
        ("from=yesterday", "from"),
        ("to=2026-13-40", "to"),
        ("q=" + "x" * 201, "q"),
        ("party=%01", "party"),
        ("limit=0", "limit"),
        ("page=0", "page"),
        ("page=1&cursor=env_x", "page"),
        ("from=2026-02-01&to=2026-01-01", "from"),
    ):
        r = client.get(f"/api/v1/envelopes?{query}", headers=auth)
        assert r.status_code == 400, (query, r.get_data(as_text=True))
        assert r.get_json()["error"]["details"]["field"] == field, query


def test_sqlite_answers_longer_words_from_the_trigram_index(instance: Any) -> None:
    from signing.envelopes import search

    engine = instance.engine
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's plan depends on its statistics; the bench shows its times")
    with engine.connect() as conn:

        def plan(word: str) -> str:
            query = search.query(conn, 1, search.Filters(q=word))
            compiled = query.compile(conn, compile_kwargs={"literal_binds": True})
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
            return " | ".join(str(r[-1]) for r in rows)

        assert "envelope_fts VIRTUAL TABLE INDEX 0:L" in plan("租赁合同")
        assert "envelope_fts VIRTUAL TABLE INDEX 0:L" in plan("alice")
        # two characters, or a wildcard of its own: the index table is scanned
        assert "VIRTUAL TABLE INDEX 0:L" not in plan("张伟")
        assert "VIRTUAL TABLE INDEX 0:L" not in plan("a_b%c")
